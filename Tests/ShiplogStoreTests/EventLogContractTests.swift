import ShiplogModel
import ShiplogPostgres
import ShiplogTestSupport
import Testing

@testable import ShiplogStore

/// One `EventLog` implementation under test: how to open a fresh, empty log in a directory.
struct Backend: Sendable, CustomTestStringConvertible {
    let name: String
    let open: @Sendable (_ directory: String) async throws -> any EventLog

    var testDescription: String { name }

    /// Every backend; each must pass this suite. PostgreSQL gets a new database per test on
    /// the server `SHIPLOG_TEST_POSTGRES_URL` names.
    static let all = [
        Backend(name: "SQLite") { try SQLiteEventLog(path: $0 + "/contract.db") },
        Backend(name: "PostgreSQL") { _ in
            let url = try await offThread { try TestPostgres.freshDatabase() }
            // Generous: the whole suite starts at once on two cores.
            return try await PostgresEventLog.open(try PostgresURL(url), timeout: .seconds(120), listen: false)
        },
    ]
}

/// What every event log must do, whatever holds it: sequences, idempotency, all-or-nothing
/// batches, concurrent appends that succeed or fail on their own, pages, filters, verify.
/// Backend-specific behaviour (files, syncs, locks, group-commit statistics) is tested
/// beside each backend.
@Suite struct EventLogContractTests {
    let dir = TemporaryDirectory()

    @Test(arguments: Backend.all)
    func appendsWithIncreasingSequencesAndReadsBack(_ backend: Backend) async throws {
        let log = try await backend.open(dir.path(""))
        #expect(try await log.lastSequence() == 0)
        #expect(try await log.append([makeEvent("e1", version: "1")]) == [.created(1)])
        #expect(try await log.append([makeEvent("e2", minute: 1), makeEvent("e3", minute: 2)]) == [.created(2), .created(3)])
        #expect(try await log.lastSequence() == 3)
        let stored = try await log.events(after: 0, limit: 10)
        #expect(stored.map(\.sequence) == [1, 2, 3])
        #expect(stored[0].event == makeEvent("e1", version: "1").event)
        #expect(stored[0].format == .native)
        #expect(stored[0].receivedAt == makeEvent("e1").receivedAt)
        #expect(try await log.events(after: 1, limit: 1).map(\.sequence) == [2])
        #expect(try await log.verify().isIntact)
        #expect(log.writeFailure == nil)
    }

    @Test(arguments: Backend.all)
    func sameIdSameContentIsADuplicate(_ backend: Backend) async throws {
        let log = try await backend.open(dir.path(""))
        _ = try await log.append([makeEvent("e1")])
        // What the store fills in itself (the receive time) is not part of the comparison.
        var retry = makeEvent("e1")
        retry.receivedAt = retry.receivedAt.adding(seconds: 30)
        #expect(try await log.append([retry]) == [.duplicate(1)])
        #expect(try await log.lastSequence() == 1)
    }

    @Test(arguments: Backend.all)
    func sameIdOtherContentConflictsAndWritesNothing(_ backend: Backend) async throws {
        let log = try await backend.open(dir.path(""))
        _ = try await log.append([makeEvent("e1", version: "1")])
        await #expect(throws: AppendError.conflict(index: 1, id: "e1", existing: 1)) {
            try await log.append([makeEvent("e2"), makeEvent("e1", version: "2"), makeEvent("e3")])
        }
        #expect(try await log.lastSequence() == 1, "the batch is all or nothing")
        // The chain continues correctly after a rolled-back batch.
        #expect(try await log.append([makeEvent("e4")]) == [.created(2)])
        #expect(try await log.verify().isIntact)
    }

    @Test(arguments: Backend.all)
    func duplicateIdsInsideOneBatch(_ backend: Backend) async throws {
        let log = try await backend.open(dir.path(""))
        #expect(try await log.append([makeEvent("x"), makeEvent("x")]) == [.created(1), .duplicate(1)])
        await #expect(throws: AppendError.self) {
            try await log.append([makeEvent("y"), makeEvent("y", version: "other")])
        }
        #expect(try await log.lastSequence() == 1)
    }

    @Test(arguments: Backend.all)
    func concurrentAppendsGetDistinctSequences(_ backend: Backend) async throws {
        let log = try await backend.open(dir.path(""))
        let outcomes = try await appendConcurrently(log, count: 200)
        #expect(Set(outcomes.map(\.sequence)) == Set(1...200))
        #expect(try await log.verify().rowsChecked == 200)
    }

    @Test(arguments: Backend.all)
    func aConflictAmongConcurrentAppendsFailsOnlyItsOwn(_ backend: Backend) async throws {
        let log = try await backend.open(dir.path(""))
        _ = try await log.append([makeEvent("taken", version: "1")])
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<50 {
                group.addTask {
                    let event = i == 25 ? makeEvent("taken", version: "2") : makeEvent("g\(i)")
                    do {
                        _ = try await log.append([event])
                        return (i, true)
                    } catch { return (i, false) }
                }
            }
            var r: [Int: Bool] = [:]
            for await (i, ok) in group { r[i] = ok }
            return r
        }
        #expect(results.filter { !$0.value }.map(\.key) == [25])
        #expect(try await log.lastSequence() == 50)
        #expect(try await log.verify().isIntact)
    }

    @Test(arguments: Backend.all)
    func pagesReturnEveryEventOnceNewestFirst(_ backend: Backend) async throws {
        let log = try await backend.open(dir.path(""))
        // 95 events over 30 distinct minutes: many ties on time, broken by sequence.
        let events = (0..<95).map { makeEvent("q\($0)", env: $0 % 3 == 0 ? "dev" : "production", minute: ($0 * 7) % 30) }
        for start in stride(from: 0, to: events.count, by: 20) {
            _ = try await log.append(Array(events[start..<min(start + 20, events.count)]))
        }
        var seen: [Int64] = []
        var query = EventQuery(limit: 10)
        var pages = 0
        repeat {
            let page = try await log.page(query)
            seen += page.events.map(\.sequence)
            query.cursor = page.next
            pages += 1
        } while query.cursor != nil
        #expect(pages == 10)
        #expect(seen.count == 95)
        #expect(Set(seen).count == 95)
        let all = try await log.events(after: 0, limit: 100)
        let expected = all.sorted { a, b in
            a.event.time! != b.event.time! ? a.event.time! > b.event.time! : a.sequence > b.sequence
        }.map(\.sequence)
        #expect(seen == expected)
    }

    @Test(arguments: Backend.all)
    func filters(_ backend: Backend) async throws {
        let log = try await backend.open(dir.path(""))
        _ = try await log.append([
            makeEvent("a", service: "api", env: "dev", minute: 1),
            makeEvent("b", service: "api", env: "production", minute: 2),
            makeEvent("c", .deploymentFailed, service: "web", env: "production", minute: 3),
            makeEvent("d", service: "web", env: "production", minute: 4),
        ])
        func ids(_ q: EventQuery) async throws -> [String] { try await log.page(q).events.map { $0.event.id! } }
        #expect(try await ids(EventQuery(environment: "production")) == ["d", "c", "b"])
        #expect(try await ids(EventQuery(service: "api")) == ["b", "a"])
        #expect(try await ids(EventQuery(type: .deploymentFailed)) == ["c"])
        #expect(try await ids(EventQuery(since: t0.adding(seconds: 120))) == ["d", "c", "b"])
        #expect(try await ids(EventQuery(until: t0.adding(seconds: 120))) == ["a"])
        #expect(try await ids(EventQuery(environment: "production", service: "web", limit: 1)) == ["d"])
        #expect(try await log.page(EventQuery(environment: "production", service: "web", limit: 1)).next != nil)
        #expect(try await log.page(EventQuery(environment: "production", service: "web", limit: 2)).next == nil)
    }
}
