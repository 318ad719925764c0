import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ShiplogMetrics
import ShiplogModel
import ShiplogServer
import ShiplogStore
import Testing

/// The routes' status codes and bodies, in process (HummingbirdTesting's router framework):
/// a real SQLite log in a temporary directory, the application's own services running (the
/// metrics feed among them), no socket.
@Suite struct RouteTests {
    /// Runs `body` against a fresh application on a fresh log.
    func withApplication(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shiplog-routes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try SQLiteEventLog(path: dir.appendingPathComponent("r.db").path)
        defer { try? log.close() }
        let metrics = try await LiveMetrics.restored(from: log, snapshots: nil, pipeline: .standard, version: "test")
        var configuration = ServerConfiguration()
        configuration.verifyInterval = nil
        configuration.snapshotEvery = 0
        var logger = Logger(label: "route-tests")
        logger.logLevel = .error
        let app = try buildApplication(configuration: configuration, log: log, snapshots: nil, metrics: metrics, logger: logger)
        try await app.test(.router, body)
    }

    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONValue.parse(Array(response.body.readableBytesView))
    }

    func post(_ client: any TestClientProtocol, _ body: String, contentType: String = "application/json") async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/events", method: .post, headers: [.contentType: contentType], body: ByteBuffer(string: body))
    }

    let event = #"{"id":"r1","type":"deployment.succeeded","service":"api","environment":"production","version":"1"}"#

    @Test func anEventIsCreatedOnceThenADuplicateThenAConflict() async throws {
        try await withApplication { client in
            let created = try await post(client, event)
            #expect(created.status == .created)
            #expect(try json(created)["sequence"]?.intValue == 1)
            #expect(try json(created)["status"]?.stringValue == "created")
            let again = try await post(client, event)
            #expect(again.status == .ok)
            #expect(try json(again)["status"]?.stringValue == "duplicate")
            let other = try await post(client, event.replacingOccurrences(of: #""version":"1""#, with: #""version":"2""#))
            #expect(other.status == .conflict)
            #expect(try json(other)["field"]?.stringValue == "id")
        }
    }

    @Test func aBatchIsAnsweredWithOneResultPerEvent() async throws {
        try await withApplication { client in
            let second = event.replacingOccurrences(of: "r1", with: "r2")
            let response = try await post(client, "[\(event),\(second)]")
            #expect(response.status == .created)
            let results = try json(response)["results"]?.arrayValue ?? []
            #expect(results.map { $0["id"]?.stringValue } == ["r1", "r2"])
            let ndjson = try await post(client, "\(event)\n\(second)\n", contentType: "application/x-ndjson")
            #expect(ndjson.status == .ok, "both are duplicates")
        }
    }

    @Test func badBodiesAreRefusedWithTheirReason() async throws {
        try await withApplication { client in
            let invalid = try await post(client, #"{"type":"deployment.succeeded","service":"bad name","environment":"production"}"#)
            #expect(invalid.status == .badRequest)
            #expect(try json(invalid)["field"]?.stringValue == "service")
            let form = try await post(client, event, contentType: "application/x-www-form-urlencoded")
            #expect(form.status == .unsupportedMediaType)
            #expect(try json(form)["field"]?.stringValue == "Content-Type")
            let batch = try await post(client, "[\(event), {\"type\":\"nope\"}]")
            #expect(batch.status == .badRequest)
            #expect(try json(batch)["events"]?.arrayValue?.first?["index"]?.intValue == 1)
            let page = try await client.execute(uri: "/api/v1/events", method: .get)
            #expect(try json(page)["events"]?.arrayValue?.isEmpty == true, "nothing was written")
        }
    }

    @Test func historyQueriesAreChecked() async throws {
        try await withApplication { client in
            _ = try await post(client, event)
            let page = try await client.execute(uri: "/api/v1/events?environment=production&limit=10", method: .get)
            #expect(page.status == .ok)
            #expect(try json(page)["events"]?.arrayValue?.count == 1)
            for (query, field) in [
                ("limit=0", "limit"), ("since=tuesday", "since"), ("type=nope", "type"), ("colour=red", "colour"), ("cursor=zz", "cursor"),
            ] {
                let refused = try await client.execute(uri: "/api/v1/events?\(query)", method: .get)
                #expect(refused.status == .badRequest, "\(query)")
                #expect(try json(refused)["field"]?.stringValue == field, "\(query)")
            }
        }
    }

    /// The answer waits for the metrics: the scrape right after it has the series.
    @Test func theScrapeAfterAnAnswerShowsTheEvent() async throws {
        try await withApplication { client in
            #expect(try await post(client, event).status == .created)
            let scrape = try await client.execute(uri: "/metrics", method: .get)
            #expect(scrape.status == .ok)
            #expect(String(buffer: scrape.body).contains(#"shiplog_deployments_total{service="api",environment="production"} 1"#))
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
        }
    }

    @Test func explainNamesWhatIsMissing() async throws {
        try await withApplication { client in
            let missing = try await client.execute(uri: "/api/v1/explain?environment=production", method: .get)
            #expect(missing.status == .badRequest)
            #expect(try json(missing)["field"]?.stringValue == "service")
            let unknown = try await client.execute(uri: "/api/v1/explain?service=api&environment=production", method: .get)
            #expect(unknown.status == .notFound)
        }
    }
}
