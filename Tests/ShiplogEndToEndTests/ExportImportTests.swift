import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// `shiplog events export` and `events import` of its file: the same rows (events, raw
/// bodies, formats, receive times, idempotency digests) and the same head hash, for rows of
/// every source format.
@Suite struct ExportImportTests {
    let dir = TemporaryDirectory()

    /// Every column of every row, in sequence order.
    func rows(_ db: String) -> String {
        sqlite3(
            db,
            "SELECT seq, event_id, type, service, environment, time_ns, received_ns, format, content_digest, event, hex(raw), hex(hash) FROM events ORDER BY seq"
        ).output
    }

    func signature(_ body: String, secret: String) throws -> String {
        let file = dir.write("body-\(UUID().uuidString)", body)
        let r = try runTool([
            "python3", "-c",
            "import hmac,hashlib,sys; print('sha256=' + hmac.new(sys.argv[1].encode(), open(sys.argv[2],'rb').read(), hashlib.sha256).hexdigest())",
            "s3cret", file,
        ])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A log with rows of every format: through the server's routes and the CLI.
    func logOfEveryFormat(_ db: String) async throws {
        let server = try ServerProcess(db: db, arguments: ["--github-secret", "s3cret"])
        let base = server.baseURL
        #expect(
            try await http(
                "POST",
                base + "/api/v1/events",
                body:
                    #"{"id":"n1","type":"artifact.published","service":"checkout","artifact":"ghcr.io/acme/checkout@sha256:\#(String(repeating: "1", count: 64))","commit":"c1","commitTime":"2026-11-01T10:00:00+01:00"}"#
            ).status == 201
        )
        #expect(
            try await http("POST", base + "/api/v1/cdevents", body: try Files.fixture("cdevents/v0.5.1/conformance/service_deployed.json")).status
                == 201
        )
        for (event, path) in [("deployment", "github/deployment/payload.json"), ("deployment_status", "github/deployment_status/payload.json")] {
            let body = try Files.fixture(path)
            let r = try await http(
                "POST",
                base + "/api/v1/webhooks/github",
                body: body,
                headers: [
                    "X-GitHub-Event": event, "X-GitHub-Delivery": UUID().uuidString, "X-Hub-Signature-256": try signature(body, secret: "s3cret"),
                ]
            )
            #expect(r.status == 201, "\(event): \(r.text)")
        }
        #expect(
            try await http("POST", base + "/api/v1/webhooks/argocd", body: try Files.fixture("argocd/captured/002.json"), contentType: nil).status
                == 201
        )
        let alert =
            #"{"version":"4","status":"firing","receiver":"shiplog","alerts":[{"status":"firing","labels":{"alertname":"X","service":"checkout","environment":"production"},"startsAt":"2026-11-01T10:00:00Z","fingerprint":"f00"}]}"#
        #expect(try await http("POST", base + "/api/v1/webhooks/alertmanager", body: alert).status == 201)
        let incident = try await http("POST", base + "/api/v1/webhooks/pagerduty", body: try Files.fixture("pagerduty/zulip/triggered_v3.json"))
        #expect(incident.status == 201, "\(incident.text)")
        let flux =
            #"{"involvedObject":{"kind":"Kustomization","name":"checkout","namespace":"shop"},"metadata":{"revision":"main@sha1:\#(String(repeating: "a", count: 40))","env":"production"},"severity":"info","reason":"ReconciliationSucceeded","message":"applied","reportingController":"kustomize-controller","timestamp":"2026-11-01T10:00:00Z"}"#
        #expect(try await http("POST", base + "/api/v1/webhooks/flux", body: flux).status == 201)
        let gitlab = try await http("POST", base + "/api/v1/webhooks/gitlab", body: try Files.fixture("gitlab/go-gitlab/deployment.json"))
        #expect(gitlab.status == 201, "\(gitlab.text)")
        #expect(server.stop() == 0)
        let deployment =
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"checkout","namespace":"shop","annotations":{"deployment.kubernetes.io/revision":"7"}},"spec":{"template":{"spec":{"containers":[{"name":"app","image":"ghcr.io/acme/checkout:1.4.2"}]}}}}"#
        #expect(try shiplog(["events", "record", "--db", db, "--from-kubernetes", "-", "--env", "production"], stdin: deployment).status == 0)
        #expect(
            try shiplog([
                "events", "record", "--db", db, "--id", "cli-1", "--type", "deployment.succeeded", "--service", "checkout", "--env", "dev",
                "--message", "ünïcode ✓",
            ]).status == 0
        )
    }

    @Test(.timeLimit(.minutes(2)))
    func anExportImportedIntoAnEmptyLogReproducesIt() async throws {
        let original = dir.path("original.db")
        let copy = dir.path("copy.db")
        try await logOfEveryFormat(original)
        let exportFile = dir.path("export.ndjson")
        let exported = try shiplog(["events", "export", "--db", original, exportFile])
        #expect(exported.status == 0, "\(exported.stderr)")
        let head = try #require(
            sqlite3(original, "SELECT hex(hash) FROM events ORDER BY seq DESC LIMIT 1").output.trimmingCharacters(in: .whitespacesAndNewlines)
                .lowercased().nilIfEmpty
        )
        #expect(exported.stderr.contains("head hash \(head)"))
        let lines = try String(contentsOfFile: exportFile, encoding: .utf8).split(separator: "\n")
        let formats = Set(try lines.map { try JSONValue.parse(String($0))["format"]?.stringValue ?? "" })
        #expect(formats == Set(SourceFormat.allCases.map(\.rawValue)), "rows of every source format")
        // The same export on standard output.
        #expect(try shiplog(["events", "export", "--db", original, "-"]).stdout == (try String(contentsOfFile: exportFile, encoding: .utf8)))

        let imported = try shiplog(["events", "import", "--db", copy, exportFile])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("head hash \(head) (the export's)"), "\(imported.stdout)")
        #expect(rows(copy) == rows(original), "every column of every row")
        #expect(!rows(copy).isEmpty)
        #expect(try shiplog(["verify", "--db", copy]).status == 0)

        // Into a log that has the rows: all duplicates, nothing written.
        let again = try shiplog(["events", "import", "--db", copy, exportFile])
        #expect(again.status == 0)
        #expect(again.stdout.contains("(0 new, \(lines.count) duplicates)"))
        #expect(rows(copy) == rows(original))

        // A row whose id the log holds with other content: refused, nothing written.
        let tampered = lines.map(String.init).map { $0.replacingOccurrences(of: "ünïcode ✓", with: "changed") }
        #expect(tampered != lines.map(String.init))
        let extra = #"{"id":"new-1","type":"deployment.succeeded","service":"checkout","environment":"staging"}"#
        let conflict = try shiplog(["events", "import", "--db", copy, dir.write("tampered.ndjson", ([extra] + tampered).joined(separator: "\n"))])
        #expect(conflict.status != 0)
        #expect(conflict.stderr.contains("cli-1") && conflict.stderr.contains("different content"), "\(conflict.stderr)")
        #expect(rows(copy) == rows(original))

        // The idempotency digests came along: a retried post without a time is a duplicate.
        let server = try ServerProcess(db: copy)
        let retry = try await http(
            "POST",
            server.baseURL + "/api/v1/events",
            body:
                #"{"id":"n1","type":"artifact.published","service":"checkout","artifact":"ghcr.io/acme/checkout@sha256:\#(String(repeating: "1", count: 64))","commit":"c1","commitTime":"2026-11-01T10:00:00+01:00"}"#
        )
        #expect(retry.status == 200, "\(retry.text)")
        // And the copy's figures are the original's.
        let copied = try await http("GET", server.baseURL + "/metrics").text
        server.stop()
        let first = try ServerProcess(db: original)
        let originalMetrics = try await http("GET", first.baseURL + "/metrics").text
        let differ = Set(copied.doraLines).symmetricDifference(originalMetrics.doraLines)
        #expect(differ.isEmpty, "\(differ.sorted())")
        #expect(copied.contains("shiplog_deployments_total"))
    }

    @Test func historyListedAsNDJSONImportsAgain() throws {
        let db = dir.path("listed.db")
        let other = dir.path("other.db")
        #expect(try shiplog(["events", "import", "--db", db, dir.write("h.ndjson", ndjson(20, prefix: "h"))]).status == 0)
        let listed = try shiplog(["events", "list", "--db", db, "--format", "ndjson", "--limit", "100"])
        #expect(listed.stdout.split(separator: "\n").count == 20)
        let imported = try shiplog(["events", "import", "--db", other, "-"], stdin: listed.stdout)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(rowCount(other) == 20)
        #expect(
            sqlite3(other, "SELECT event_id, event FROM events ORDER BY event_id").output
                == sqlite3(db, "SELECT event_id, event FROM events ORDER BY event_id").output
        )
        // A row with an unknown field is refused with its line and field.
        let bad = try shiplog(
            ["events", "import", "--db", dir.path("bad.db"), "-"],
            stdin: #"{"event":{"id":"a","type":"deployment.succeeded","service":"s","environment":"e","time":"2026-01-01T00:00:00Z"},"colour":"red"}"#
        )
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("line 1") && bad.stderr.contains("colour"), "\(bad.stderr)")
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }

    /// The DORA families of an exposition (self-metrics count this process's requests).
    var doraLines: [Substring] {
        split(separator: "\n").filter {
            !$0.contains("shiplog_http_") && !$0.contains("shiplog_events_ingested") && !$0.contains("snapshot") && !$0.contains("verif")
                && !$0.contains("pending") && !$0.contains("shiplog_window_")
        }
    }
}
