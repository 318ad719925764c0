import ShiplogModel
import ShiplogStore
import ShiplogTestSupport
import Testing

@testable import ShiplogMetrics

/// The histories where a gate or a figure could be fooled: a digest and its version as one
/// artifact (PRODUCT.md §1), *Passed* (§3), and `commitTime` belonging to `commit` alone.
@Suite struct ArtifactAndGateTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)
    static let image = "ghcr.io/acme/checkout@" + digest

    /// The README's tour: CI records the digest with version 1.4.2 and the commit; every
    /// environment deploys the digest only.
    static var tour: History {
        var h = History()
        h.service = "checkout"
        h.add(.artifactPublished, 0) {
            $0.artifact = image
            $0.version = "1.4.2"
            $0.commit = "9f1c2e7"
            $0.commitTime = at(-60)
        }
        h.succeeded(10, env: "dev", artifact: image)
        h.succeeded(40, env: "staging", artifact: image)
        h.succeeded(100, env: "production", artifact: image)
        return h
    }

    @Test func theTourPassesItsGateAndShowsTheVersion() async throws {
        let h = Self.tour
        // Before production: the gate is asked by version, and by digest or image alike.
        let gate = Gate(History(events: Array(h.events.prefix(3)), service: "checkout"))
        #expect(gate("production", "1.4.2") == .passed(["dev", "staging"]))
        #expect(gate("production", Self.digest) == .passed(["dev", "staging"]))
        #expect(gate("production", Self.image) == .passed(["dev", "staging"]))
        #expect(gate("production", "1.4.3") == .missing("dev"))

        let (metrics, _, _) = try await ingest(h.events)
        let projection = metrics.projection
        let staging = try #require(projection.pair("checkout", "staging"))
        let production = try #require(projection.pair("checkout", "production"))
        #expect(production.liveVersion == "1.4.2", "people see the version the digest is known by")
        #expect(staging.promotionDurations.map(\.seconds) == [1800])
        #expect(production.promotionDurations.map(\.seconds) == [3600])
        #expect(production.unverifiedPromotions == 0 && staging.unverifiedPromotions == 0)
        #expect(production.leadTimes.map(\.seconds) == [160 * 60], "the commit CI recorded for the digest")
        #expect(projection.pending(PairKey(service: "checkout", environment: "production"), now: at(200).nanoseconds)?.seconds == 0)
    }

    /// dev names only the version, staging only the digest; the build that ties them arrives last.
    @Test func namesTiedLaterAreOneArtifactWhicheverArrivesFirst() async throws {
        var h = History()
        h.succeeded(10, env: "dev", version: "2.0.0")
        h.succeeded(40, env: "staging", artifact: Self.image)
        h.add(.artifactPublished, 0) {
            $0.artifact = Self.image
            $0.version = "2.0.0"
            $0.commit = "c1"
            $0.commitTime = at(-20)
        }
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [1, 0, 2]] {
            let (metrics, _, _) = try await ingest(h.events, order: order)
            let staging = try #require(metrics.projection.pair("api", "staging"))
            #expect(staging.unverifiedPromotions == 0, "order \(order)")
            #expect(staging.promotionDurations.map(\.seconds) == [1800], "order \(order)")
            #expect(staging.liveVersion == "2.0.0", "order \(order)")
            #expect(staging.leadTimes.map(\.seconds) == [60 * 60], "order \(order)")
            #expect(metrics.projection.pending(PairKey(service: "api", environment: "staging"), now: at(90).nanoseconds)?.seconds == 0)
        }
        #expect(Gate(h)("production", "2.0.0") == .passed(["dev", "staging"]))
        #expect(Gate(h)("production", Self.digest) == .passed(["dev", "staging"]))
    }

    static func ref(_ h: History, _ index: Int) -> Explanation.Ref {
        Explanation.Ref(StoredEvent(sequence: Int64(index + 1), event: h.events[index], receivedAt: at(100_000), format: .native))
    }

    @Test func aVersionRolledBackFromDoesNotPass() {
        var h = History()
        h.succeeded(0, env: "dev", version: "1")
        h.succeeded(1, env: "dev", version: "2")
        h.succeeded(10, env: "staging", version: "1")
        h.succeeded(20, env: "staging", version: "2")
        h.rolledBack(30, env: "staging", version: "1")  // index 4: from 2 back to 1
        let gate = Gate(h)
        #expect(gate("production", "2") == .failed("staging", by: Self.ref(h, 4)))
        #expect(gate("production", "1") == .passed(["dev", "staging"]), "the version a rollback returned to has passed")
    }

    @Test func aFailedAttemptRetriedSuccessfullyHasPassed() {
        var h = History()
        h.succeeded(0, env: "dev", version: "3")
        h.failed(10, env: "staging", version: "3")
        #expect(Gate(h)("production", "3") == .failed("staging", by: Self.ref(h, 1)), "its latest deployment failed")
        h.succeeded(20, env: "staging", version: "3")
        #expect(Gate(h)("production", "3") == .passed(["dev", "staging"]))
    }

    @Test func anIncidentDuringItsLifeFailsIt() {
        var h = History()
        h.succeeded(0, env: "dev", version: "4")
        h.succeeded(10, env: "staging", version: "4")
        h.incident(.incidentOpened, 15, id: "INC-1", env: "staging")  // index 2
        h.incident(.incidentResolved, 25, id: "INC-1", env: "staging")
        #expect(Gate(h)("production", "4") == .failed("staging", by: Self.ref(h, 2)))
        // Deployed again after the incident: its latest deployment has a healthy life.
        h.succeeded(30, env: "staging", version: "4")
        #expect(Gate(h)("production", "4") == .passed(["dev", "staging"]))
        // An incident in dev fails it there too, and dev is named first.
        h.incident(.incidentOpened, 35, id: "INC-2", env: "dev")
        #expect(Gate(h)("production", "4") == .failed("dev", by: Self.ref(h, 5)))
    }

    @Test func aVersionSupersededWithoutFailureHasPassed() {
        var h = History()
        h.succeeded(0, env: "dev", version: "5")
        h.succeeded(10, env: "dev", version: "6")
        #expect(Gate(h)("staging", "5") == .passed(["dev"]))
        #expect(Gate(h)("staging", "7") == .missing("dev"))
    }

    /// A deployment naming `commit` with `commitTime` and `changes` without times: the entries
    /// of `changes` are shipped, and none of them inherits the `commitTime`.
    @Test func commitTimeBelongsToCommitAlone() async throws {
        var h = History()
        h.add(.deploymentSucceeded, 60) {
            $0.version = "8"
            $0.commit = "c0"
            $0.commitTime = at(0)
            $0.changes = [Change(commit: "c1"), Change(commit: "c2", time: at(30))]
        }
        let (metrics, _, _) = try await ingest(h.events)
        let p = try #require(metrics.projection.pair("api", "production"))
        #expect(p.leadTimes.map(\.seconds) == [1800], "c2 only: c1 has no time of its own")
        #expect(p.withoutLeadTime == 0)
        // c0's time is still a fact about c0: a later deployment shipping c0 uses it.
        h.add(.deploymentSucceeded, 120) {
            $0.version = "9"
            $0.commit = "c0"
        }
        let (again, _, _) = try await ingest(h.events)
        #expect(try #require(again.projection.pair("api", "production")).leadTimes.map(\.seconds).sorted() == [1800, 7200])
    }

    /// An incident id opened again after it was resolved is a new incident (only an id that
    /// is already open opens nothing new).
    @Test func anIncidentReopenedAfterItsResolutionCounts() async throws {
        var h = History()
        h.succeeded(0, version: "1")
        h.incident(.incidentOpened, 10, id: "argocd-health")
        h.incident(.incidentResolved, 20, id: "argocd-health")
        h.incident(.incidentOpened, 30, id: "argocd-health")
        h.incident(.incidentOpened, 31, id: "argocd-health")
        h.incident(.incidentResolved, 40, id: "argocd-health")
        let (metrics, _, _) = try await ingest(h.events)
        let p = try #require(metrics.projection.pair("api", "production"))
        #expect(p.incidents == 2)
        #expect(p.restoreTimes.map(\.seconds) == [600, 600])
    }
}
