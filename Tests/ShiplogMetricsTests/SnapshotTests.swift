import Testing
import ShiplogModel
import ShiplogStore
@testable import ShiplogMetrics

/// A restart from a snapshot must give exactly the state a replay of the whole log gives.
@Suite struct SnapshotTests {
    /// The state a fresh replay of the whole log builds.
    static func replayed(_ log: SQLiteEventLog, pipeline: Pipeline = .standard) throws -> MetricsService {
        let service = MetricsService(pipeline: pipeline, version: "test") { key in
            try log.pairEventsNow(service: key.service, environment: key.environment)
        }
        try service.replay(log)
        return service
    }

    static func expectSameState(_ a: Projection, _ b: Projection) {
        #expect(a.sortedKeys == b.sortedKeys)
        for key in a.sortedKeys {
            // Which commits without a known time a pair has seen depends on arrival order (a
            // commit added to an image it deployed is only noted once its time is known);
            // everything else, and every figure, is the same.
            var x = a.pairs[key], y = b.pairs[key]
            x?.commitsReached = []
            y?.commitsReached = []
            #expect(x == y, "\(key.service)/\(key.environment)")
        }
        #expect(a.knowledge == b.knowledge)
        #expect(a.lastSequence == b.lastSequence)
    }

    @Test func bytesRoundTripExactly() async throws {
        let events = OrderIndependenceTests.combined
        let (live, _, _dir) = try await ingest(events, order: shuffled(events.count, seed: 11))
        _ = _dir
        let bytes = live.projection.snapshotBytes()
        let restored = try Projection(snapshot: bytes, pipeline: .standard)
        Self.expectSameState(live.projection, restored)
        #expect(restored.recomputations == live.projection.recomputations)
        #expect(restored.snapshotBytes() == bytes, "encoding is deterministic")
    }

    @Test func aRestartFromTheSnapshotAppliesOnlyWhatFollows() async throws {
        let events = OrderIndependenceTests.combined
        let order = shuffled(events.count, seed: 5)
        let half = order.count / 2
        // The first half is ingested and snapshotted; the rest (with events late for pairs the
        // snapshot holds) arrives afterwards.
        let (live, log, _dir) = try await ingest(events, order: Array(order[..<half]))
        _ = _dir
        let saved = try #require(try await live.saveSnapshot(to: log))
        #expect(saved.sequence == Int64(half))
        #expect(try await live.saveSnapshot(to: log) == nil, "nothing new since the last snapshot")
        for i in order[half...] {
            let e = events[i]
            let prepared = PreparedEvent(e, raw: Array(e.canonicalJSON.utf8), format: .native, receivedAt: at(100_000))
            if case .created(let seq) = try await log.append([prepared])[0] {
                try live.apply([StoredEvent(sequence: seq, event: prepared.event, receivedAt: prepared.receivedAt, format: .native)])
            }
        }

        let restarted = try MetricsService(log: log, pipeline: .standard, version: "test")
        let restore = try #require(restarted.restored)
        #expect(restore.snapshotSequence == Int64(half))
        #expect(restore.replayed == events.count - half)
        let full = try Self.replayed(log)
        Self.expectSameState(full.projection, restarted.projection)
        let now = at(30 * 1440).nanoseconds
        #expect(full.render(format: ExpositionFormat.text, now: now).doraPart == restarted.render(format: ExpositionFormat.text, now: now).doraPart)
        #expect(fingerprint(live.projection) == fingerprint(restarted.projection))
    }

    @Test func aSnapshotIsOnlyTakenWithoutGaps() async throws {
        let events = OrderIndependenceTests.combined
        let (live, log, _dir) = try await ingest(Array(events.prefix(4)))
        _ = _dir
        // Rows 5 and 6 are appended, but only 6 has reached the projection so far.
        var stored: [StoredEvent] = []
        for e in events[4..<6] {
            let prepared = PreparedEvent(e, raw: Array(e.canonicalJSON.utf8), format: .native, receivedAt: at(100_000))
            let seq = try await log.append([prepared])[0].sequence
            stored.append(StoredEvent(sequence: seq, event: prepared.event, receivedAt: prepared.receivedAt, format: .native))
        }
        try live.apply([stored[1]])
        #expect(try await live.saveSnapshot(to: log) == nil, "row 5 is not applied yet")
        try live.apply([stored[0]])
        #expect(try await live.saveSnapshot(to: log)?.sequence == 6)
        #expect(try await live.saveSnapshot(to: log, minimumNewEvents: 1) == nil)
    }

    /// A row this server never applies (appended by another process) leaves a gap for good:
    /// the bookkeeping stops growing and no snapshot is taken after it.
    /// Rows another process writes to the log (an import into the server's database) are
    /// applied by `catchUp` once they have been there for one call, interleaved with the
    /// server's own appends, and the result is what a replay of the whole log gives.
    @Test func rowsWrittenByAnotherProcessAreCaughtUp() async throws {
        let events = OrderIndependenceTests.combined
        let half = events.count / 2
        let (live, log, dir) = try await ingest(Array(events[..<half]))
        try live.restore(from: log)
        #expect(try live.catchUp(from: log) == 0)

        // "Another process": its own connection to the file, appending without telling `live`.
        let other = try SQLiteEventLog(path: dir.path("m.db"))
        for e in events[half...] {
            _ = try await other.append([PreparedEvent(e, raw: Array(e.canonicalJSON.utf8), format: .cli, receivedAt: at(100_000))])
        }
        // The server's own append after them, applied at once as usual.
        var own = Event(id: "own", type: .deploymentSucceeded, service: "api", environment: "dev", time: at(5))
        own.version = "own"
        let prepared = PreparedEvent(own, raw: Array(own.canonicalJSON.utf8), format: .native, receivedAt: at(100_000))
        let sequence = try await log.append([prepared])[0].sequence
        try live.apply([StoredEvent(sequence: sequence, event: prepared.event, receivedAt: prepared.receivedAt, format: .native)])

        // Rows newer than the previous call may still be on their way: not yet.
        #expect(try live.catchUp(from: log) == 0)
        #expect(try live.catchUp(from: log) == events.count - half)
        Self.expectSameState(try Self.replayed(log).projection, live.projection)
        #expect(try live.catchUp(from: log) == 0, "nothing twice")
        #expect(try await live.saveSnapshot(to: log) != nil, "no gap is left: snapshots go on")
    }

    /// Rows applied beyond a gap are kept as ranges: an import's worth of rows (the gap)
    /// with any number of the server's own rows after it costs one range, and the gap
    /// closes in one step. Only separate gaps count towards giving up.
    @Test func gapsAreRangesAndOnlyManySeparateGapsGiveUp() {
        var state = MetricsService.State(projection: Projection(pipeline: .standard))
        state.markApplied(1)
        for sequence in Int64(100_002)...1_000_000 { state.markApplied(sequence) }
        #expect(state.applied.through == 1)
        #expect(state.applied.ahead == [100_002...1_000_000])
        for sequence in Int64(2)...100_001 { state.markApplied(sequence) }
        #expect(state.applied.through == 1_000_000)
        #expect(state.applied.isContiguous)

        for gap in 1...MetricsService.State.largestGapCount { state.markApplied(1_000_000 + Int64(gap) * 2) }
        #expect(!state.gaveUp)
        state.markApplied(1_000_000 + Int64(MetricsService.State.largestGapCount + 1) * 2)
        #expect(state.gaveUp)
        #expect(state.applied.isContiguous, "nothing kept once given up")
        state.markApplied(1_000_001)
        #expect(state.applied.through == 1_000_000, "once given up, the watermark stays")
    }

    /// The ranges hold exactly the set of inserted rows, in any insertion order.
    @Test(arguments: [UInt64(3), 17, 2026])
    func appliedSequencesMatchASet(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var applied = AppliedSequences()
        var model = Set<Int64>()
        for _ in 0..<3_000 {
            let sequence = Int64.random(in: 1...1_500, using: &generator)
            applied.insert(sequence)
            model.insert(sequence)
            let through = (0...).lazy.map(Int64.init).first { !model.contains($0 + 1) }!
            #expect(applied.through == through)
            let ahead = applied.ahead.flatMap { Array($0) }
            #expect(Set(ahead) == model.filter { $0 > through }, "after \(sequence)")
        }
        #expect((Int64(1)...1_500).allSatisfy { applied.contains($0) == model.contains($0) })
        #expect(zip(applied.ahead, applied.ahead.dropFirst()).allSatisfy { $0.upperBound + 1 < $1.lowerBound }, "disjoint, not adjacent, ascending")
    }

    @Test func aSnapshotThatDoesNotFitIsIgnored() async throws {
        let events = OrderIndependenceTests.combined
        let (live, log, _dir) = try await ingest(events)
        _ = _dir
        try await live.saveSnapshot(to: log)

        // Another pipeline: the snapshot's promotions were judged against other environments.
        let other = try #require(Pipeline(parsing: "staging,production"))
        let restarted = try MetricsService(log: log, pipeline: other, version: "test")
        #expect(restarted.restored?.snapshotSequence == nil)
        #expect(restarted.restored?.snapshotProblem?.contains("projection-v\(ProjectionSnapshot.formatVersion) dev,staging,production") == true)
        Self.expectSameState(try Self.replayed(log, pipeline: other).projection, restarted.projection)

        // Turned off: the whole log is replayed.
        let withoutSnapshot = try MetricsService(log: log, pipeline: .standard, version: "test", useSnapshot: false)
        #expect(withoutSnapshot.restored?.snapshotSequence == nil)
        #expect(withoutSnapshot.restored?.replayed == events.count)
    }

    @Test func damagedBytesAreRefusedNotTrusted() async throws {
        let (live, _, _dir) = try await ingest(OrderIndependenceTests.combined)
        _ = _dir
        let bytes = live.projection.snapshotBytes()
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
            #expect(throws: ProjectionSnapshot.DecodingError.self) { try Projection(snapshot: Array(bytes[..<length]), pipeline: .standard) }
        }
        #expect(throws: ProjectionSnapshot.DecodingError.self) { try Projection(snapshot: bytes + [0], pipeline: .standard) }
        var otherVersion = bytes
        otherVersion[ProjectionSnapshot.magic.count] = 0x7E
        #expect(throws: ProjectionSnapshot.DecodingError.self) { try Projection(snapshot: otherVersion, pipeline: .standard) }
    }

    @Test func stableHashIsTheSameInEveryProcess() {
        // FNV-1a test vectors.
        #expect(stableHash("") == 0xcbf2_9ce4_8422_2325)
        #expect(stableHash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(stableHash("foobar") == 0x8594_4171_f739_67e8)
    }
}
