import ShiplogModel
import ShiplogStore
import ShiplogTestSupport
import Testing

@testable import ShiplogMetrics

/// A restart from a snapshot must give exactly the state a replay of the whole log gives.
@Suite struct SnapshotTests {
    /// The state a fresh replay of the whole log builds.
    static func replayed(_ log: SQLiteEventLog, pipeline: Pipeline = .standard) async throws -> LiveMetrics {
        try await LiveMetrics.restored(from: log, snapshots: nil, pipeline: pipeline, version: "test")
    }

    static func expectSameState(_ a: Projection, _ b: Projection) {
        #expect(a.sortedKeys == b.sortedKeys)
        for key in a.sortedKeys {
            // Which commits without a known time a pair has seen depends on arrival order (a
            // commit added to an image it deployed is only noted once its time is known);
            // everything else, and every figure, is the same.
            var x = a.pairs[key]
            var y = b.pairs[key]
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
            _ = try await log.append([prepared])
            try await live.applyNewRows(from: log)
        }

        let restarted = try await LiveMetrics.restored(from: log, snapshots: log, pipeline: .standard, version: "test")
        let restore = try #require(restarted.restored)
        #expect(restore.snapshotSequence == Int64(half))
        #expect(restore.replayed == events.count - half)
        let full = try await Self.replayed(log)
        Self.expectSameState(full.projection, restarted.projection)
        let now = at(30 * 1440).nanoseconds
        #expect(full.render(format: ExpositionFormat.text, now: now).doraPart == restarted.render(format: ExpositionFormat.text, now: now).doraPart)
        #expect(fingerprint(live.projection) == fingerprint(restarted.projection))
    }

    /// A snapshot covers the rows applied so far, whatever the log holds beyond them.
    @Test func aSnapshotIsTakenAtTheNewestAppliedRow() async throws {
        let events = OrderIndependenceTests.combined
        let (live, log, _dir) = try await ingest(Array(events.prefix(4)))
        _ = _dir
        // Rows 5 and 6 are appended, but not applied yet.
        for e in events[4..<6] {
            _ = try await log.append([PreparedEvent(e, raw: Array(e.canonicalJSON.utf8), format: .native, receivedAt: at(100_000))])
        }
        #expect(try await live.saveSnapshot(to: log)?.sequence == 4)
        #expect(try await live.applyNewRows(from: log) == 2)
        #expect(try await live.saveSnapshot(to: log)?.sequence == 6)
        #expect(try await live.saveSnapshot(to: log, minimumNewEvents: 1) == nil)
    }

    /// Rows another process writes to the log (an import into the server's database) are
    /// applied in sequence order with the server's own, and the result is what a replay of
    /// the whole log gives.
    @Test func rowsWrittenByAnotherProcessAreApplied() async throws {
        let events = OrderIndependenceTests.combined
        let half = events.count / 2
        let (_, log, dir) = try await ingest(Array(events[..<half]))
        let live = try await LiveMetrics.restored(from: log, snapshots: log, pipeline: .standard, version: "test")
        #expect(try await live.applyNewRows(from: log) == 0)

        // "Another process": its own connection to the file, appending without telling `live`.
        let other = try SQLiteEventLog(path: dir.path("m.db"))
        for e in events[half...] {
            _ = try await other.append([PreparedEvent(e, raw: Array(e.canonicalJSON.utf8), format: .cli, receivedAt: at(100_000))])
        }
        #expect(live.appliedThrough == Int64(half))
        // The server's own append after them: its rows and the other process's, in order.
        var own = Event(id: "own", type: .deploymentSucceeded, service: "api", environment: "dev", time: at(5))
        own.version = "own"
        _ = try await log.append([PreparedEvent(own, raw: Array(own.canonicalJSON.utf8), format: .native, receivedAt: at(100_000))])
        #expect(log.committed.value == Int64(events.count + 1), "the commit signal covers the other process's rows")
        #expect(try await live.applyNewRows(from: log) == events.count - half + 1)
        Self.expectSameState(try await Self.replayed(log).projection, live.projection)
        #expect(try await live.applyNewRows(from: log) == 0, "nothing twice")
        #expect(try await live.saveSnapshot(to: log) != nil)
    }

    @Test func aSnapshotThatDoesNotFitIsIgnored() async throws {
        let events = OrderIndependenceTests.combined
        let (live, log, _dir) = try await ingest(events)
        _ = _dir
        try await live.saveSnapshot(to: log)

        // Another pipeline: the snapshot's promotions were judged against other environments.
        let other = try #require(Pipeline(parsing: "staging,production"))
        let restarted = try await LiveMetrics.restored(from: log, snapshots: log, pipeline: other, version: "test")
        #expect(restarted.restored?.snapshotSequence == nil)
        #expect(restarted.restored?.snapshotProblem?.contains("projection-v\(ProjectionSnapshot.formatVersion) dev,staging,production") == true)
        Self.expectSameState(try await Self.replayed(log, pipeline: other).projection, restarted.projection)

        // Turned off: the whole log is replayed.
        let withoutSnapshot = try await LiveMetrics.restored(from: log, snapshots: log, pipeline: .standard, version: "test", useSnapshot: false)
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

    /// Bytes of a real snapshot changed in turn, to values that spell something else
    /// (another flag, a longer varint, a broken UTF-8 sequence, keys out of order): each
    /// result is refused or is itself the writer's encoding of what it decodes to.
    @Test func onlyTheWritersOwnEncodingDecodes() async throws {
        let (live, _, _dir) = try await ingest(OrderIndependenceTests.combined)
        _ = _dir
        let bytes = live.projection.snapshotBytes()
        var decoded = 0
        // About 120 offsets spread over the whole snapshot (every one takes minutes in a
        // debug build; the snapshot fuzzer tries them all).
        for offset in stride(from: ProjectionSnapshot.magic.count, to: bytes.count, by: max(1, bytes.count / 120)) {
            for value: UInt8 in [0, 1, 2, 0x80, 0xC3, 0xFF, bytes[offset] ^ 1] where value != bytes[offset] {
                var changed = bytes
                changed[offset] = value
                guard let projection = try? Projection(snapshot: changed, pipeline: .standard) else { continue }
                decoded += 1
                #expect(projection.snapshotBytes() == changed, "byte \(offset) set to \(value)")
            }
        }
        #expect(decoded > 0, "some changes are other valid states (a count, a time)")
        // The format version (5) spelled with two bytes instead of one.
        var longer = bytes
        longer.replaceSubrange(ProjectionSnapshot.magic.count..<ProjectionSnapshot.magic.count + 1, with: [0x8A, 0x00])
        #expect(throws: ProjectionSnapshot.DecodingError.self) { try Projection(snapshot: longer, pipeline: .standard) }
    }

    /// An artifact keeps its first commit apart from the rest; which one came first depends on
    /// the arrival order, what the service knows does not.
    @Test func anArtifactKeepsEveryCommitWhicheverCameFirst() {
        func deployed(_ commits: [String]) -> Event {
            var h = History()
            h.add(.deploymentSucceeded, 0) {
                $0.version = "7"
                $0.changes = commits.map { Change(commit: $0) }
            }
            return h.events[0]
        }
        var inOne = ServiceKnowledge()
        _ = inOne.learn(from: deployed(["c1", "c2", "c3"]))
        var inTwo = ServiceKnowledge()
        let first = inTwo.learn(from: deployed(["c3"]))
        let second = inTwo.learn(from: deployed(["c1", "c3", "c2"]))
        #expect(first.artifactChanges.map(\.commit) == [NameKey("c3")])
        #expect(second.artifactChanges.map(\.commit) == [NameKey("c1"), NameKey("c2")], "c3 was known")
        let all = Set(["c1", "c2", "c3"].map(NameKey.init))
        #expect(inOne.commits(ofArtifact: NameKey("7")).map { Set($0.all) } == all)
        #expect(inTwo.commits(ofArtifact: NameKey("7")).map { Set($0.all) } == all)
        #expect(inOne == inTwo)
        _ = inTwo.learn(from: deployed(["c4"]))
        #expect(inOne != inTwo)
        #expect(inOne.commits(ofArtifact: NameKey("8")) == nil)
    }

    @Test func nameKeysAreSHA256AndTheSameInEveryProcess() {
        // SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 ...
        #expect(NameKey("abc") == NameKey(high: 0xba78_16bf_8f01_cfea, low: 0x4141_40de_5dae_2223))
        #expect(NameKey("1.4.2") != NameKey("1.4.3"))
    }
}
