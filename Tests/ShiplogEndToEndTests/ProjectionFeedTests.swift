import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// The metrics are fed from the log in sequence order: an answer means the figures show the
/// event, and events the server stamps are never late however the requests interleave.
@Suite struct ProjectionFeedTests {
    let dir = TemporaryDirectory()

    func sample(_ server: ServerProcess, _ prefix: String) async throws -> String? {
        let text = try await http("GET", server.baseURL + "/metrics").text
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// Each POST of a new service is answered only once a scrape started after it shows the
    /// service: 4 clients at once, 40 services each.
    @Test func aScrapeAfterTheAnswerShowsTheEvent() async throws {
        let server = try ServerProcess(db: dir.path("feed.db"))
        try await withThrowingTaskGroup(of: [String].self) { group in
            for client in 0..<4 {
                group.addTask {
                    var missing: [String] = []
                    for i in 0..<40 {
                        let service = "feed-\(client)-\(i)"
                        let posted = try await http(
                            "POST",
                            server.baseURL + "/api/v1/events",
                            body: #"{"type":"deployment.succeeded","service":"\#(service)","environment":"production","version":"1"}"#
                        )
                        guard posted.status == 201 else { throw HarnessError("POST answered \(posted.status): \(posted.text)") }
                        let prefix = #"shiplog_deployments_total{service="\#(service)",environment="production"} "#
                        if try await sample(server, prefix) != "1" { missing.append(service) }
                    }
                    return missing
                }
            }
            var missing: [String] = []
            for try await m in group { missing += m }
            #expect(missing.isEmpty, "answered, but not yet in the scrape that followed: \(missing)")
        }
        #expect(server.stop(SIGTERM) == 0)
    }

    /// 400 events without a `time` for one service, posted 16 at a time: the server stamps
    /// them in the order it writes them, so none is late (no pair rebuilt) and the log's time
    /// order is its sequence order. Each has an id, so that a request the HTTP client sends
    /// again on a fresh connection (libcurl does, when a kept-alive one fails) is a duplicate
    /// rather than a second event.
    @Test func serverStampedEventsForOnePairAreNeverLate() async throws {
        let db = dir.path("stamps.db")
        let server = try ServerProcess(db: db)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<16 {
                group.addTask {
                    for i in 0..<25 {
                        let posted = try await http(
                            "POST",
                            server.baseURL + "/api/v1/events",
                            body:
                                #"{"id":"stamp-\#(client)-\#(i)","type":"deployment.succeeded","service":"one","environment":"production","version":"\#(client).\#(i)"}"#
                        )
                        guard posted.status == 201 || posted.status == 200 else {
                            throw HarnessError("POST answered \(posted.status): \(posted.text)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await sample(server, #"shiplog_deployments_total{service="one",environment="production"} "#) == "400")
        #expect(try await sample(server, "shiplog_projection_recomputations_total ") == "0")
        #expect(server.stop(SIGTERM) == 0)
        let disorder = sqlite3(db, "SELECT count(*) FROM events a JOIN events b ON b.seq = a.seq + 1 WHERE b.time_ns < a.time_ns")
        #expect(disorder.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "stamped times follow the sequence")
        #expect(rowCount(db) == 400)
    }
}
