import ShiplogModel
import ShiplogStore
import ShiplogTestSupport
import Testing

@testable import ShiplogMetrics

/// Each definition of PRODUCT.md §3 pinned down by a small history whose figures are worked
/// out by hand in the comments. Times are minutes after 2026-01-01T00:00Z.
@Suite struct DefinitionTests {
    /// now = t0 + 10 days, so every event below is inside the 30d window.
    let now = at(10 * 1440).nanoseconds

    static var failures: History {
        var h = History()
        h.succeeded(0, version: "1")  // d1
        h.failed(10, version: "2")  // d2: failed rollout → failed
        h.succeeded(20, version: "3")  // d3: live when incident A opens → failed
        h.incident(.incidentOpened, 30, id: "A")
        h.succeeded(40, version: "4")  // d4: healthy life? A is still open at 40 but opened before d4 → not failed
        h.incident(.incidentResolved, 50, id: "A")
        h.succeeded(60, version: "5")  // d5: rolled back → failed
        h.rolledBack(70, version: "4")  // rb: live when B and C open → failed once
        h.incident(.incidentOpened, 80, id: "B")
        h.incident(.incidentOpened, 85, id: "C")
        h.incident(.incidentOpened, 86, id: "B")  // B again: not a new incident
        return h
    }

    @Test func failedDeployments() async throws {
        let (metrics, _, _) = try await ingest(Self.failures.events)
        let p = try #require(metrics.projection.pair("api", "production"))
        #expect(p.deployments == 6)  // d1…d5 and the rollback
        #expect(p.failures == 4)  // d2, d3, d5, rb — each once
        #expect(p.rollbacks == 1)
        #expect(p.incidents == 3)  // A, B, C
        #expect(p.openIncidents == ["B", "C"])
        #expect(p.isDegraded)
        #expect(p.liveVersion == "4")  // the rollback is live
        #expect(p.deploymentLog.map(\.failed) == [false, true, true, false, true, true])
        let f = p.figures(window: Window(label: "30d", seconds: 30 * 86_400), now: now)
        #expect(f.changeFailureRatio == 4.0 / 6.0)
    }

    static var leadTimes: History {
        var h = History()
        h.merged(-60, commit: "c1")
        h.succeeded(0, version: "1", commit: "c1")  // c1: 60 min from its merge → 3600 s
        h.succeeded(10, version: "2", commit: "c2", commitTime: -20)  // c2: explicit, 30 min → 1800 s
        h.succeeded(20, version: "2", commit: "c2", commitTime: -20)  // redeploy: no sample
        h.rolledBack(30, version: "1")  // rollback: no sample
        h.succeeded(40, version: "3", commit: "c3")  // c3: merged later (below), 5 min → 300 s
        h.succeeded(50, version: "4")  // no change at all: without lead time
        h.add(.deploymentSucceeded, 60) {  // c4 known (15 min → 900 s), c5 unknown
            $0.version = "5"
            $0.changes = [Change(commit: "c4", time: at(45)), Change(commit: "c5")]
        }
        h.merged(35, commit: "c3")
        return h
    }

    @Test func leadTime() async throws {
        let (metrics, _, _) = try await ingest(Self.leadTimes.events)
        let p = try #require(metrics.projection.pair("api", "production"))
        #expect(p.leadTimes.map(\.seconds) == [3600, 1800, 300, 900])
        #expect(p.withoutLeadTime == 1, "only the deployment that ships no change at all")
        #expect(p.leadTimeHistogram.count == 4)
        #expect(p.leadTimeHistogram.sum == 6600)
        // Buckets: 300 ≤ 300, 900 ≤ 900, 1800 ≤ 1800, 3600 ≤ 3600.
        #expect(p.leadTimeHistogram.cumulative.prefix(5) == [0, 1, 2, 3, 4])
        let f = p.figures(window: Window(label: "30d", seconds: 30 * 86_400), now: now)
        #expect(f.leadTimeMedian == 1350, "mean of the middle two of 300, 900, 1800, 3600")
    }

    @Test func aChangeMergedAfterTheDeploymentStillGivesItsLeadTime() async throws {
        var h = History()
        h.succeeded(40, version: "3", commit: "c3")
        let (metrics, log, _dir) = try await ingest(h.events)
        _ = _dir
        #expect(metrics.projection.pair("api", "production")?.withoutLeadTime == 1)
        var m = History()
        m.merged(35, commit: "c3")
        m.events[0].id = "merge-c3"
        let prepared = PreparedEvent(m.events[0], raw: [], format: .native, receivedAt: at(100))
        _ = try await log.append([prepared])
        try await metrics.applyNewRows(from: log)
        let p = try #require(metrics.projection.pair("api", "production"))
        #expect(p.leadTimes.map(\.seconds) == [300])
        #expect(p.withoutLeadTime == 0)
    }

    static var episodes: History {
        var h = History()
        h.succeeded(0, version: "1")
        h.incident(.incidentOpened, 10, id: "A")  // degraded from 10 …
        h.incident(.incidentResolved, 40, id: "A")  // … to 40: 1800 s
        h.failed(50, version: "2")  // degraded from 50 …
        h.succeeded(70, version: "2")  // … to 70: 1200 s
        h.succeeded(80, version: "3")
        h.rolledBack(95, version: "2")  // healthy rollback: 80 → 95: 900 s
        h.incident(.incidentOpened, 100, id: "B")  // degraded from 100 …
        h.failed(110, version: "4")
        h.incident(.incidentResolved, 120, id: "B")  // still degraded: the last attempt failed
        h.succeeded(130, version: "4")  // … to 130: 1800 s
        h.incident(.incidentOpened, 140, id: "C")  // open episode: no sample
        return h
    }

    @Test func failureEpisodesAndTimeToRestore() async throws {
        let (metrics, _, _) = try await ingest(Self.episodes.events)
        let p = try #require(metrics.projection.pair("api", "production"))
        #expect(p.restoreTimes.map(\.seconds) == [1800, 1200, 900, 1800])
        #expect(p.isDegraded)
        #expect(p.degradedSince == at(140).nanoseconds)
        #expect(p.openIncidents.count == 1)
        let f = p.figures(window: Window(label: "30d", seconds: 30 * 86_400), now: now)
        #expect(f.timeToRestoreMedian == 1500, "mean of 1200 and 1800")
        #expect(p.restoreHistogram.count == 4)
        #expect(p.restoreHistogram.sum == 5700)
    }

    static var promotions: History {
        var h = History()
        let x = "ghcr.io/acme/api@sha256:aaaa"
        h.succeeded(0, env: "dev", version: "1.0", artifact: x)
        h.succeeded(30, env: "staging", version: "1.0", artifact: x)  // staging ← dev: 1800 s
        h.succeeded(35, env: "staging", version: "1.0", artifact: x)  // redeploy: no promotion
        h.succeeded(90, env: "production", version: "1.0", artifact: x)  // production ← staging: 3600 s
        h.succeeded(100, env: "dev", version: "1.1")  // Y: identified by version
        h.succeeded(120, env: "production", version: "1.1")  // skipped staging: unverified
        return h
    }

    @Test func promotionsUnverifiedAndPending() async throws {
        let (metrics, _, _) = try await ingest(Self.promotions.events)
        let projection = metrics.projection
        let dev = try #require(projection.pair("api", "dev"))
        let staging = try #require(projection.pair("api", "staging"))
        let production = try #require(projection.pair("api", "production"))
        #expect(dev.promotionDurations.isEmpty, "nothing is promoted into the first environment")
        #expect(staging.promotionDurations.map(\.seconds) == [1800])
        #expect(production.promotionDurations.map(\.seconds) == [3600])
        #expect(staging.unverifiedPromotions == 0)
        #expect(production.unverifiedPromotions == 1)
        // Pending: 1.1 is live in dev since minute 100 and never reached staging.
        let pendingStaging = try #require(projection.pending(PairKey(service: "api", environment: "staging"), now: at(160).nanoseconds))
        #expect(pendingStaging.version == "1.1")
        #expect(pendingStaging.seconds == 3600)
        // Staging's live artifact (X) already succeeded in production: 0.
        #expect(projection.pending(PairKey(service: "api", environment: "production"), now: at(160).nanoseconds)?.seconds == 0)
        let gate = Gate(Self.promotions)
        #expect(gate("production", "1.0") == .passed(["dev", "staging"]))
        #expect(gate("production", "sha256:aaaa") == .passed(["dev", "staging"]))
        #expect(gate("production", "1.1") == .missing("staging"))
        #expect(gate("staging", "1.2") == .missing("dev"))
        #expect(gate("dev", "9") == .passed([]))
        #expect(gate("qa", "1.0") == .notInPipeline(["dev", "staging", "production"]))
    }

    @Test func rework() async throws {
        var h = History()
        h.succeeded(0, version: "1")
        h.succeeded(10, version: "2", hotfix: true)
        h.succeeded(20, version: "3")
        h.rolledBack(30, version: "2")
        let (metrics, _, _) = try await ingest(h.events)
        let p = try #require(metrics.projection.pair("api", "production"))
        #expect(p.rework == 2)
        #expect(p.figures(window: Window(label: "7d", seconds: 7 * 86_400), now: at(60).nanoseconds).reworkRatio == 0.5)
    }

    @Test func windowsAndMedians() async throws {
        var h = History()
        let day = 1440.0
        let nowMinutes = 100 * day
        h.succeeded(nowMinutes - 40 * day, version: "1", commit: "a", commitTime: nowMinutes - 40 * day - 10)  // lead 600
        h.failed(nowMinutes - 8 * day, version: "2")
        h.succeeded(nowMinutes - 8 * day + 60, version: "2", commit: "b", commitTime: nowMinutes - 8 * day)  // lead 3600; episode 3600
        h.succeeded(nowMinutes - 1 * day, version: "3", commit: "c", commitTime: nowMinutes - 1 * day - 20)  // lead 1200
        let (metrics, _, _) = try await ingest(h.events)
        let p = try #require(metrics.projection.pair("api", "production"))
        let now = at(nowMinutes).nanoseconds
        let w7 = p.figures(window: Window.exported[0], now: now)
        let w30 = p.figures(window: Window.exported[1], now: now)
        let w90 = p.figures(window: Window.exported[2], now: now)
        #expect([w7.deployments, w30.deployments, w90.deployments] == [1, 3, 4])
        #expect(w7.leadTimeMedian == 1200)
        #expect(w30.leadTimeMedian == 2400, "mean of 1200 and 3600")
        #expect(w90.leadTimeMedian == 1200, "middle of 600, 1200, 3600")
        #expect(w7.changeFailureRatio == 0)
        #expect(w30.changeFailureRatio == 1.0 / 3.0)
        #expect(w7.timeToRestoreMedian.isNaN, "no episode ended in the last 7 days")
        #expect(w30.timeToRestoreMedian == 3600)
        // A deployment exactly at now − window is out ("after now − window").
        let edge = p.figures(window: Window(label: "1d", seconds: 86_400), now: at(nowMinutes).nanoseconds)
        #expect(edge.deployments == 0)
        let empty = PairState(key: PairKey(service: "x", environment: "y")).figures(window: Window.exported[0], now: now)
        #expect(empty.changeFailureRatio == 0)
        #expect(empty.reworkRatio == 0)
        #expect(empty.leadTimeMedian.isNaN)
    }

    @Test func medianDefinition() {
        #expect(median([]).isNaN)
        #expect(median([5]) == 5)
        #expect(median([3, 1]) == 2)
        #expect(median([9, 1, 5]) == 5)
        #expect(median([4, 1, 3, 2]) == 2.5)
    }
}

/// Every figure depends only on the set of events, never on the order they arrived in.
@Suite struct OrderIndependenceTests {
    static let histories: [(String, History)] =
        [
            ("failures", DefinitionTests.failures), ("leadTimes", DefinitionTests.leadTimes),
            ("episodes", DefinitionTests.episodes), ("promotions", DefinitionTests.promotions),
        ] + PipelineDefinitionTests.histories

    static var combined: [Event] {
        var all: [Event] = []
        for (name, h) in histories {
            for var e in h.events {
                e.id = name + "-" + e.id!
                e.service = name
                all.append(e)
            }
        }
        return all
    }

    @Test(arguments: [UInt64(1), 7, 42, 1234, 99_999])
    func shuffledAndDuplicatedDeliveryGivesTheSameFigures(seed: UInt64) async throws {
        let events = Self.combined
        let (inOrder, _, _) = try await ingest(events)
        let (shuffledOnce, _, _) = try await ingest(events, order: shuffled(events.count, seed: seed), twice: true)
        let expected = fingerprint(inOrder.projection)
        let actual = fingerprint(shuffledOnce.projection)
        #expect(expected.keys.sorted() == actual.keys.sorted())
        for key in expected.keys.sorted() {
            #expect(expected[key] == actual[key], "\(key.service)/\(key.environment)")
        }
        #expect(shuffledOnce.projection.recomputations > 0, "late events were recomputed")
        let now = at(30 * 1440).nanoseconds
        #expect(inOrder.render(format: .text, now: now).doraPart == shuffledOnce.render(format: .text, now: now).doraPart)
    }

    /// The same history posted as batches (a backfill), shuffled or newest first, gives the
    /// same figures; a batch's late events cost one recomputation per pair it touches, not
    /// one per event.
    @Test(arguments: [(UInt64(1), 5), (7, 13), (42, 1_000)])
    func batchesInAnyOrderGiveTheSameFiguresWithFewRecomputations(seed: UInt64, batchSize: Int) async throws {
        let events = Self.combined
        let (inOrder, _, _) = try await ingest(events)
        let expected = fingerprint(inOrder.projection)
        let pairs = Set(events.compactMap { e in e.environment.map { PairKey(service: e.service, environment: $0) } }).count
        for order in [shuffled(events.count, seed: seed), Array(events.indices.reversed())] {
            let (batched, _, _) = try await ingest(events, order: order, batchSize: batchSize)
            let actual = fingerprint(batched.projection)
            #expect(expected.keys.sorted() == actual.keys.sorted())
            for key in expected.keys.sorted() {
                #expect(expected[key] == actual[key], "\(key.service)/\(key.environment), batches of \(batchSize)")
            }
            let batches = (events.count + batchSize - 1) / batchSize
            #expect(batched.projection.recomputations <= batches * pairs, "at most once per pair and batch")
        }
    }

    /// A batch in which a merge makes staging stale (it shipped that commit without a time),
    /// and which then promotes a new artifact to staging and production: production must be
    /// judged against staging with that artifact in it, as when the events come one by one.
    @Test func aStalePairHoldsBackTheLaterEnvironmentsOfTheBatch() async throws {
        var history = History()
        history.succeeded(10, env: "dev", version: "1", commit: "c1")
        history.succeeded(20, env: "staging", version: "1", commit: "c1")
        history.merged(5, commit: "c1")
        history.succeeded(30, env: "dev", version: "2")
        history.succeeded(40, env: "staging", version: "2")
        history.succeeded(50, env: "production", version: "2")
        let oneByOne = try await ingest(history.events).0
        let batched = try await ingest(history.events, order: [0, 1, 3, 2, 4, 5], batchSize: 3).0
        #expect(fingerprint(batched.projection) == fingerprint(oneByOne.projection))
        #expect(batched.projection.pair("api", "production")?.unverifiedPromotions == 0)
    }

    /// The worst case of the old behaviour: one pair, 300 deployments posted newest first in
    /// one batch. Applied in time order, none of them is late.
    @Test func aBackfillPostedNewestFirstIsNotRecomputedPerEvent() async throws {
        var history = History()
        for i in 0..<300 { history.succeeded(Double(i), version: "1.\(i)") }
        let (metrics, _, _) = try await ingest(history.events, order: Array((0..<300).reversed()), batchSize: 300)
        #expect(metrics.projection.recomputations == 0)
        #expect(metrics.projection.pair("api", "production")?.deploymentLog.count == 300)
        #expect(fingerprint(metrics.projection) == fingerprint(try await ingest(history.events).0.projection))
    }

    @Test func valuesSurviveARestart() async throws {
        let events = Self.combined
        let (live, log, _dir) = try await ingest(events, order: shuffled(events.count, seed: 3))
        _ = _dir
        let restarted = try await LiveMetrics.restored(from: log, snapshots: nil, pipeline: .standard, version: "test")
        #expect(fingerprint(live.projection) == fingerprint(restarted.projection))
        // Replay in time order recomputes only a pair that later news reaches (argoMerge's dev:
        // the production sync adds a timed commit to the image dev deployed), once.
        #expect(restarted.projection.recomputations <= 3, "one pipeline at most")
    }
}

extension String {
    /// The exposition without shiplog's self-metrics (which count recomputations and requests).
    var doraPart: String {
        guard let r = range(of: "# HELP shiplog_build_info") else { return self }
        return String(self[..<r.lowerBound])
    }
}
