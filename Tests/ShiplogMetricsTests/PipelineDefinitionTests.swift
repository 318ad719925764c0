import ShiplogModel
import ShiplogStore
import ShiplogTestSupport
import Testing

@testable import ShiplogMetrics

/// The §3 rules that real promotion pipelines exercise: changes that travel with the
/// artifact, the earliest stated commit time, failures and episodes around rollbacks and
/// repeated incident reports, rework during an incident, the Kubernetes identity. Each
/// history is worked out by hand, then checked in every arrival order that matters: as
/// posted, reversed, shuffled, each teaching event last, in batches, and after a restart
/// from a snapshot. Times are minutes after 2026-01-01T00:00Z.
@Suite struct PipelineDefinitionTests {
    static let image = "ghcr.io/acme/api@sha256:" + String(repeating: "ab", count: 32)

    /// The seed's GitHub Actions workflow: build once, the dev step passes the commit and its
    /// time, staging and production pass only the image.
    static var githubActions: History {
        var h = History()
        h.succeeded(10, env: "dev", version: "1.0", commit: "c1", commitTime: -30, artifact: image)
        h.succeeded(40, env: "staging", version: "1.0", artifact: image)
        h.succeeded(90, env: "production", version: "1.0", artifact: image)  // 90 − (−30) = 120 min
        return h
    }

    /// Argo CD: the build records the artifact and its commit; each sync names a config-repo
    /// revision (no commit time) and the image.
    static var argoCD: History {
        var h = History()
        h.published(0, artifact: image, commit: "app1", commitTime: -20)
        h.succeeded(15, env: "dev", version: "1.0", commit: "cfg-a", artifact: image)  // 35 min
        h.succeeded(60, env: "production", version: "1.0", commit: "cfg-b", artifact: image)  // 80 min
        return h
    }

    /// The same, and the production manifest commit's merge is recorded: dev deployed the
    /// image too, so dev ships cfg-b as well (0 min: merged after dev's deployment).
    static var argoCDWithManifestMerge: History {
        var h = argoCD
        h.merged(50, commit: "cfg-b")
        return h
    }

    /// A commit's time is the earliest any event of the service states for it.
    static var earliestCommitTime: History {
        var h = History()
        h.succeeded(60, env: "staging", version: "2", commit: "c2", commitTime: 30)  // says 30 …
        h.merged(20, commit: "c2")  // … the merge says 20: 40 min
        h.succeeded(70, env: "production", version: "2", commit: "c2", commitTime: 50)  // 70 − 20 = 50 min
        return h
    }

    /// v1 ok, v2 failed, roll back to v1: one failure (v2), one episode from 10 to 20.
    static var rollbackAfterAFailure: History {
        var h = History()
        h.succeeded(0, version: "1")
        h.failed(10, version: "2")
        h.rolledBack(20, version: "1")
        return h
    }

    /// CDEvents' incident.detected then incident.reported for one incident.
    static var incidentReportedTwice: History {
        var h = History()
        h.succeeded(0, version: "1")  // live when A opens → failed
        h.incident(.incidentOpened, 10, id: "A")
        h.succeeded(20, version: "2")  // while A is open: rework, not failed
        h.incident(.incidentOpened, 30, id: "A")  // A again: nothing new
        h.incident(.incidentResolved, 40, id: "A")  // episode 10 → 40
        return h
    }

    /// An incident inside a rollback's interval, and an interval that touches the next one.
    static var nestedEpisodes: History {
        var h = History()
        h.succeeded(0, version: "1")
        h.succeeded(10, version: "2")  // rolled back from → failed (once)
        h.incident(.incidentOpened, 15, id: "A")
        h.incident(.incidentResolved, 20, id: "A")
        h.rolledBack(30, version: "1")  // healthy rollback: 10 → 30 holds 15 → 20
        h.incident(.incidentOpened, 50, id: "B")  // the rollback is live → failed
        h.incident(.incidentResolved, 60, id: "B")  // 50 → 60 …
        h.failed(60, version: "3")  // … touches 60 → 70: one episode 50 → 70
        h.succeeded(70, version: "3")
        return h
    }

    /// The identity comes from deployments only, the most recent one that names it.
    static var identity: History {
        var h = History()
        h.add(.deploymentSucceeded, 0) {
            $0.version = "1"
            $0.namespace = "shop"
            $0.workload = "api"
        }
        h.add(.changeMerged, 10, env: "production") {
            $0.commit = "c9"
            $0.namespace = "elsewhere"
        }
        h.add(.incidentOpened, 20) {
            $0.incident = Incident(id: "X")
            $0.namespace = "ops"
        }
        h.add(.deploymentStarted, 30) { $0.namespace = "canary" }
        return h
    }

    static let histories: [(String, History)] = [
        ("gha", githubActions), ("argo", argoCD), ("argoMerge", argoCDWithManifestMerge), ("earliest", earliestCommitTime),
        ("rollback", rollbackAfterAFailure), ("reported", incidentReportedTwice),
        ("nested", nestedEpisodes), ("identity", identity),
    ]

    static func pair(_ m: LiveMetrics, _ env: String = "production") throws -> PairState {
        try #require(m.projection.pair("api", env))
    }

    @Test func productionInheritsTheCommitTheDevStepNamed() async throws {
        let (m, _, _) = try await ingest(Self.githubActions.events)
        for (env, minutes) in [("dev", 40.0), ("staging", 70), ("production", 120)] {
            let p = try Self.pair(m, env)
            #expect(p.leadTimes.map(\.seconds) == [minutes * 60], "\(env)")
            #expect(p.withoutLeadTime == 0, "\(env)")
        }
        let text = m.render(format: .text, now: at(200).nanoseconds)
        #expect(text.contains(#"shiplog_deployments_without_lead_time_total{service="api",environment="production"} 0"#))
        #expect(text.contains(#"shiplog_lead_time_seconds_count{service="api",environment="production"} 1"#))
    }

    @Test func anArgoCDSyncShipsTheApplicationCommitOfItsImage() async throws {
        let (m, _, _) = try await ingest(Self.argoCD.events)
        #expect(try Self.pair(m, "dev").leadTimes.map(\.seconds) == [35 * 60], "app1, not the manifest edit")
        #expect(try Self.pair(m).leadTimes.map(\.seconds) == [80 * 60])
        #expect(try Self.pair(m).withoutLeadTime == 0)
        #expect(m.projection.pair("api", "staging")?.deployments == 0, "the build creates no deployment")
    }

    @Test func aCommitAddedToAnImageReachesEveryEnvironmentThatDeployedIt() async throws {
        let (m, _, _) = try await ingest(Self.argoCDWithManifestMerge.events)
        #expect(try Self.pair(m, "dev").leadTimes.map(\.seconds).sorted() == [0, 35 * 60])
        #expect(try Self.pair(m).leadTimes.map(\.seconds).sorted() == [10 * 60, 80 * 60], "cfg-b: 60 − 50")
        // The merge arrives first, the production sync last: dev is recomputed once it learns.
        let late = try await ingest(Self.argoCDWithManifestMerge.events, order: [0, 1, 3, 2])
        #expect(fingerprint(late.0.projection) == fingerprint(m.projection))
    }

    @Test func theEarliestStatedCommitTimeWins() async throws {
        let (m, _, _) = try await ingest(Self.earliestCommitTime.events)
        #expect(try Self.pair(m, "staging").leadTimes.map(\.seconds) == [40 * 60])
        #expect(try Self.pair(m).leadTimes.map(\.seconds) == [50 * 60])
    }

    @Test func aRollbackAfterAFailedDeploymentFailsOnlyThatOne() async throws {
        let (m, _, _) = try await ingest(Self.rollbackAfterAFailure.events)
        let p = try Self.pair(m)
        #expect(p.deploymentLog.map(\.failed) == [false, true, false], "the rollback's target v1 stays healthy")
        #expect(p.failures == 1)
        #expect(p.rollbacks == 1)
        #expect(p.restoreTimes.map(\.seconds) == [600])
        #expect(!p.isDegraded)
    }

    @Test func anIncidentReportedAgainChangesNoFigure() async throws {
        let (m, _, _) = try await ingest(Self.incidentReportedTwice.events)
        let p = try Self.pair(m)
        #expect(p.deploymentLog.map(\.failed) == [true, false], "v2 is not failed by the second report")
        #expect(p.failures == 1)
        #expect(p.incidents == 1)
        #expect(p.deploymentLog.map(\.rework) == [false, true], "v2 was deployed while A was open")
        #expect(p.rework == 1)
        #expect(p.restoreTimes.map(\.seconds) == [1800])
    }

    @Test func nestedAndTouchingIntervalsAreOneEpisodeEach() async throws {
        let (m, _, _) = try await ingest(Self.nestedEpisodes.events)
        let p = try Self.pair(m)
        #expect(p.restoreTimes.map(\.seconds) == [1200, 1200], "10 → 30 and 50 → 70")
        #expect(p.episodeStarts == [at(10).nanoseconds, at(50).nanoseconds])
        #expect(p.restoreHistogram.count == 2)
        #expect(p.restoreHistogram.sum == 2400)
        #expect(p.deploymentLog.map(\.failed) == [false, true, true, true, false])
        #expect(p.failures == 3)
    }

    @Test func theKubernetesIdentityComesFromDeploymentsOnly() async throws {
        let (m, _, _) = try await ingest(Self.identity.events)
        let p = try Self.pair(m)
        #expect(p.namespace == "shop")
        #expect(p.workload == "api")
    }

    // MARK: Arrival orders

    /// Indices of the events that teach something other events use: builds, merges, and
    /// deployments that name a commit time.
    static func teaching(_ events: [Event]) -> [Int] {
        events.indices.filter { i in
            let e = events[i]
            return e.type == .artifactPublished || e.type == .changeMerged || e.shippedChanges.contains { $0.time != nil }
        }
    }

    /// As posted, reversed, shuffled with three seeds, and each teaching event moved last.
    static func orders(_ n: Int, teaching: [Int]) -> [[Int]] {
        var orders = [Array(0..<n), Array((0..<n).reversed()), shuffled(n, seed: 3), shuffled(n, seed: 17), shuffled(n, seed: 2026)]
        for t in teaching { orders.append((0..<n).filter { $0 != t } + [t]) }
        return orders
    }

    @Test(arguments: histories.map(\.0))
    func everyArrivalOrderGivesTheSameFigures(name: String) async throws {
        let events = Self.histories.first { $0.0 == name }!.1.events
        let now = at(10 * 1440).nanoseconds
        let (expected, _, _) = try await ingest(events)
        let want = fingerprint(expected.projection)
        let identity = expected.projection.pairs.mapValues { [$0.namespace, $0.workload] }
        for order in Self.orders(events.count, teaching: Self.teaching(events)) {
            for batched in [false, true] {
                let (m, log, _dir) =
                    batched
                    ? try await ingest(events, order: order, batchSize: 2)
                    : try await ingest(events, order: order)
                #expect(fingerprint(m.projection) == want, "\(name) in order \(order)\(batched ? ", batches of 2" : "")")
                #expect(m.projection.pairs.mapValues { [$0.namespace, $0.workload] } == identity, "\(name) in order \(order)")
                #expect(m.render(format: .text, now: now).doraPart == expected.render(format: .text, now: now).doraPart)
                // A restart from the snapshot of this state, and a replay of the whole log.
                let restored = try Projection(snapshot: m.projection.snapshotBytes(), pipeline: .standard)
                #expect(fingerprint(restored) == want)
                let replayed = try await LiveMetrics.restored(from: log, snapshots: nil, pipeline: .standard, version: "test")
                #expect(fingerprint(replayed.projection) == want, "\(name): replay after order \(order)")
                _ = _dir
            }
        }
    }

    /// A build recorded after the deployments that name its image recomputes exactly the
    /// pairs that deployed it, once each.
    @Test func aLateBuildRecomputesOnlyThePairsThatDeployedItsImage() async throws {
        var h = Self.argoCD
        h.service = "other"
        h.succeeded(5, env: "dev", version: "9")  // another service: untouched
        let events = h.events
        let (m, _, _) = try await ingest(events, order: [1, 2, 3, 0])
        // dev and production deployed the image; staging, which never had it, is left alone
        // (its first successes did not change, so nothing after it is rebuilt for it).
        #expect(m.projection.recomputations == 2, "api's dev and production, once each")
        #expect(try Self.pair(m).leadTimes.map(\.seconds) == [80 * 60])
    }
}
