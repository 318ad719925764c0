import Testing
import ShiplogModel
@testable import ShiplogStore

@Suite struct QueryTests {
    let dir = TemporaryDirectory()

    @Test func pagesReturnEveryEventOnceNewestFirst() async throws {
        let log = try SQLiteEventLog(path: dir.path("q.db"))
        // 95 events over 30 distinct minutes: many ties on time, broken by sequence.
        let events = (0..<95).map { makeEvent("q\($0)", env: $0 % 3 == 0 ? "dev" : "production", minute: ($0 * 7) % 30) }
        _ = try log.importEvents(events)
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

    @Test func filters() async throws {
        let log = try SQLiteEventLog(path: dir.path("q.db"))
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

    @Test func cursorTokensRoundTripAndRejectJunk() {
        let c = EventCursor(time: t0, sequence: 42)
        #expect(EventCursor(token: c.token) == c)
        #expect(EventCursor(token: "zz") == nil)
        #expect(EventCursor(token: "") == nil)
        #expect(EventCursor(token: "abc") == nil)
    }
}
