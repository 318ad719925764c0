import ShiplogModel
import ShiplogStore
import ShiplogTestSupport
import Testing

@testable import ShiplogMetrics

/// An explanation lists exactly the events behind the projection's figures.
@Suite struct ExplanationTests {
    let window = Window(label: "30d", seconds: 30 * 86_400)
    let now = at(10 * 1440)

    func explain(_ log: SQLiteEventLog, _ key: PairKey) async throws -> Explanation {
        Explanation(
            service: key.service,
            environment: key.environment,
            window: window,
            now: now,
            pipeline: .standard,
            serviceEvents: try await log.serviceEvents(key.service)
        )
    }

    /// Every pair of every hand-worked history, posted shuffled: the explanation's figures
    /// are the projection's, and it lists one item per counted thing.
    @Test func everyFigureIsTheSumOfWhatTheExplanationLists() async throws {
        let events = OrderIndependenceTests.combined
        let (metrics, log, _dir) = try await ingest(events, order: shuffled(events.count, seed: 9))
        _ = _dir
        let projection = metrics.projection
        #expect(projection.pairs.count > 10)
        for (key, pair) in projection.pairs where pair.lastTime != .min {
            let x = try await explain(log, key)
            let f = pair.figures(window: window, now: now.nanoseconds)
            let label = "\(key.service)/\(key.environment)"
            #expect(
                x.figures == f || (x.figures.leadTimeMedian.isNaN && f.leadTimeMedian.isNaN)
                    || (x.figures.timeToRestoreMedian.isNaN && f.timeToRestoreMedian.isNaN),
                "\(label)"
            )
            #expect(x.deployments.count == f.deployments, "\(label)")
            #expect(x.deployments.filter { $0.failedBy != nil }.count == f.failures, "\(label)")
            #expect(x.deployments.filter { $0.rework != nil }.count == f.rework, "\(label)")
            #expect(x.leadTimes.map(\.seconds).sorted() == pair.leadTimes.map(\.seconds).sorted(), "\(label)")
            #expect(x.withoutLeadTime.count == pair.withoutLeadTime, "\(label)")
            #expect(x.episodes.compactMap(\.seconds).sorted() == pair.restoreTimes.map(\.seconds).sorted(), "\(label)")
            #expect(x.episodes.allSatisfy { $0.openedBy != nil } && x.episodes.allSatisfy { $0.end == nil || $0.closedBy != nil }, "\(label)")
            #expect(x.promotions.compactMap(\.seconds).sorted() == pair.promotionDurations.map(\.seconds).sorted(), "\(label)")
            #expect(x.promotions.filter { $0.seconds == nil }.count == pair.unverifiedPromotions, "\(label)")
        }
    }

    @Test func eachKindOfFigureNamesItsEvents() async throws {
        let (_, log, _dir) = try await ingest(
            PipelineDefinitionTests.argoCD.events
                + PipelineDefinitionTests.nestedEpisodes.events.map { e in
                    var e = e
                    e.id = "n-" + e.id!
                    e.environment = "staging"
                    return e
                }
        )
        _ = _dir
        let production = try await explain(log, PairKey(service: "api", environment: "production"))
        // The Argo CD sync ships app1 through its image: the build states the time and ties it.
        let lead = try #require(production.leadTimes.first)
        #expect(production.leadTimes.count == 1)
        #expect(lead.commit == "app1")
        #expect(lead.seconds == 80 * 60)
        #expect(lead.deployment.id == "e2")
        #expect(lead.commitTimeFrom.id == "e0")
        #expect(lead.tiedToArtifactBy?.id == "e0")
        #expect(lead.commitTimeFrom.type == .artifactPublished)

        let staging = try await explain(log, PairKey(service: "api", environment: "staging"))
        // v2 (n-e1) failed by incident A (n-e2), live then; the rollback by incident B (n-e5); v3 failed itself.
        #expect(staging.deployments.map(\.event.id) == ["n-e0", "n-e1", "n-e4", "n-e7", "n-e8"])
        #expect(staging.deployments.map { $0.failedBy?.id } == [nil, "n-e2", "n-e5", "n-e7", nil])
        #expect(staging.deployments.map(\.rework) == [nil, nil, "rollback", nil, nil])
        // 10 → 30 opened by the rolled-back deployment, closed by the rollback; 50 → 70 by B and v3's success.
        #expect(staging.episodes.map { $0.openedBy?.id } == ["n-e1", "n-e5"])
        #expect(staging.episodes.map { $0.closedBy?.id } == ["n-e4", "n-e8"])
        #expect(staging.episodes.map(\.seconds) == [1200, 1200])
    }

    @Test func promotionsNameTheFirstSuccessBefore() async throws {
        let (_, log, _dir) = try await ingest(DefinitionTests.promotions.events)
        _ = _dir
        let x = try await explain(log, PairKey(service: "api", environment: "production"))
        #expect(x.promotions.map(\.deployment.id) == ["e3", "e5"])
        #expect(x.promotions.map { $0.previous?.id } == ["e1", nil], "1.0 first succeeded in staging with e1; 1.1 skipped staging")
        #expect(x.promotions.map(\.seconds) == [3600, nil])
        let json = x.jsonValue
        #expect(json["promotions"]?.arrayValue?.last?["unverified"] == .bool(true))
        #expect(json["figures"]?["deployments"]?.intValue == 2)
    }
}
