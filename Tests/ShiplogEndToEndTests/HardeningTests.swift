import Foundation
import ShiplogModel
import ShiplogTestSupport
import Synchronization
import Testing

/// Set once, read from anywhere.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// What one client must never do to the server: stall it, exhaust it, or replay into it.
/// Through the built binary on loopback, as an attacker or a careless client would.
@Suite struct HardeningTests {
    let dir = TemporaryDirectory()
    var db: String { dir.path("hardening.db") }

    /// shiplog's DELETE guard as it was, put back by someone who cut the log's tail.
    let restoredDeleteTrigger = """
        CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only; DELETE is refused'); END;
        """

    /// One sample of a family without labels from a scrape.
    func sample(_ server: ServerProcess, _ name: String) async throws -> Double? {
        let text = try await http("GET", server.baseURL + "/metrics").text
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    func deployments(services: Range<Int>, prefix: String) -> String {
        services.map { i in
            #"{"id":"\#(prefix)-\#(i)","type":"deployment.succeeded","service":"\#(prefix)-svc-\#(i)","environment":"production","version":"1","time":"2026-03-01T00:00:00Z"}"#
        }.joined(separator: "\n") + "\n"
    }

    /// A body of 12,000 events for new services (36,000 pairs) used to hold the metrics lock
    /// that every request took, for about a minute; the liveness probe (3 s in
    /// deploy/base/statefulset.yaml) would have restarted the pod. Every probe sent while the
    /// body is applied must answer within that.
    @Test func probesAnswerWhileAHugeBodyIsApplied() async throws {
        let server = try ServerProcess(db: db, arguments: ["--max-body", "\(8 << 20)", "--max-pairs", "50000"])
        let body = dir.write("body.ndjson", deployments(services: 0..<12_000, prefix: "new"))
        let done = Flag()
        let url = server.baseURL
        let post = Task {
            defer { done.set() }
            return try await offThread {
                try runTool([
                    "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "300", "-H", "Content-Type: application/x-ndjson",
                    "--data-binary", "@" + body, url + "/api/v1/events",
                ])
            }
        }
        var probes: [Double] = []
        var answeredDuringPost = 0
        repeat {
            // Timed by curl, a process of its own: the test process's threads are shared with
            // the other tests.
            let probe = try runTool([
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "--max-time", "60", server.baseURL + "/healthz",
            ])
            let parts = probe.stdout.split(separator: " ")
            #expect(parts.first == "200", "\(probe.stdout)")
            probes.append(parts.count == 2 ? Double(parts[1]) ?? 99 : 99)
            if !done.isSet { answeredDuringPost += 1 }
            try await Task.sleep(for: .milliseconds(50))
        } while !done.isSet
        let posted = try await post.value
        #expect(posted.stdout == "201", "\(posted.stdout)")
        #expect(answeredDuringPost > 0, "the POST ran long enough to probe during it")
        #expect(probes.allSatisfy { $0 < 3 }, "slowest probe \(probes.max() ?? 0) s of \(probes.count)")
        #expect(try await sample(server, "shiplog_pairs") == 36_000)
        #expect(rowCount(db) == 12_000)
    }

    /// Label cardinality is bounded: beyond --max-pairs an append is refused whole, with 422.
    @Test func pairsBeyondTheLimitAreRefusedWhole() async throws {
        let server = try ServerProcess(db: db, arguments: ["--max-pairs", "10"])
        // Three services in the pipeline: nine pairs.
        let first = try await http(
            "POST",
            server.baseURL + "/api/v1/events",
            body: deployments(services: 0..<3, prefix: "a"),
            contentType: "application/x-ndjson"
        )
        #expect(first.status == 201)
        #expect(try await sample(server, "shiplog_pairs") == 9)
        #expect(try await sample(server, "shiplog_pairs_limit") == 10)
        // One service more than room for: refused, and the valid event beside it is not written.
        let batch =
            "["
            + #"{"id":"a-again","type":"deployment.succeeded","service":"a-svc-0","environment":"staging","version":"2","time":"2026-03-02T00:00:00Z"}"#
            + ","
            + #"{"id":"b-0","type":"deployment.succeeded","service":"b","environment":"production","version":"1","time":"2026-03-02T00:00:00Z"}"#
            + "]"
        let refused = try await http("POST", server.baseURL + "/api/v1/events", body: batch)
        #expect(refused.status == 422, "\(refused.text)")
        #expect(refused.body["limit"] == .number("10"))
        #expect(refused.body["error"]?.stringValue?.contains("--max-pairs") == true, "\(refused.text)")
        #expect(refused.body["error"]?.stringValue?.contains("b/") == true, "names a pair it would create: \(refused.text)")
        #expect(rowCount(db) == 3, "all or nothing")
        // A pair outside the pipeline fits exactly; events of existing pairs always do.
        let tenth = #"{"id":"c-0","type":"deployment.succeeded","service":"c","environment":"qa","version":"1","time":"2026-03-02T00:00:00Z"}"#
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: tenth).status == 201)
        let existing =
            #"{"id":"a-1-again","type":"deployment.succeeded","service":"a-svc-1","environment":"staging","version":"2","time":"2026-03-02T00:00:00Z"}"#
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: existing).status == 201)
        #expect(try await sample(server, "shiplog_pairs") == 10)
        let metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_events_ingested_total{source="native",outcome="rejected"} 2"#), "the refused batch is counted")
    }

    @Test func theDefaultPairLimitIsTenThousand() async throws {
        let server = try ServerProcess(db: db)
        #expect(try await sample(server, "shiplog_pairs_limit") == 10_000)
        #expect(try await sample(server, "shiplog_pairs") == 0)
        let unlimited = try ServerProcess(db: dir.path("unlimited.db"), arguments: ["--max-pairs", "0"])
        #expect(try await sample(unlimited, "shiplog_pairs_limit") == nil, "0: no limit, no limit gauge")
    }

    /// Clients that connect and stall are answered 408 or closed, and cannot hold every
    /// connection: a probe gets through once they are dropped.
    @Test func stalledClientsAreDropped() async throws {
        let server = try ServerProcess(
            db: db,
            arguments: [
                "--header-timeout", "1s", "--body-timeout", "1s", "--idle-timeout", "2s", "--max-connections", "20",
            ]
        )
        let silent = try RawConnection(port: server.port)
        let halfHeaders = try RawConnection(port: server.port)
        halfHeaders.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        let promisedBody = try RawConnection(port: server.port)
        promisedBody.send("POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"id\":")

        let headerAnswer = try #require(halfHeaders.readUntilClosed(within: 10), "half headers: still open after 10 s")
        #expect(headerAnswer.hasPrefix("HTTP/1.1 408"), "\(headerAnswer)")
        #expect(headerAnswer.contains("headers"), "\(headerAnswer)")
        let bodyAnswer = try #require(promisedBody.readUntilClosed(within: 10), "promised body: still open after 10 s")
        #expect(bodyAnswer.hasPrefix("HTTP/1.1 408"), "\(bodyAnswer)")
        #expect(bodyAnswer.contains("body"), "\(bodyAnswer)")
        #expect(silent.readUntilClosed(within: 10) == "", "a silent connection is closed after the idle timeout")
        #expect(rowCount(db) == 0)

        // More stalled connections than the cap: the probe waits for them to be dropped, then answers.
        let hogs = try (0..<40).map { _ in try RawConnection(port: server.port) }
        let probe = try await http("GET", server.baseURL + "/healthz")
        #expect(probe.status == 200)
        for hog in hogs { #expect(hog.readUntilClosed(within: 15) != nil, "every stalled connection is closed") }

        // A client that keeps up is served on one kept-alive connection.
        let client = try RawConnection(port: server.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let both = try #require(client.readUntilClosed(within: 10))
        #expect(both.components(separatedBy: "HTTP/1.1 200").count == 3, "\(both)")
    }

    @Test func timeoutsOutOfRangeAreRefusedAtStart() throws {
        for (option, value) in [("--header-timeout", "0s"), ("--body-timeout", "2d"), ("--idle-timeout", "soon")] {
            let r = try shiplog(["serve", "--db", db, "--port", "0", option, value])
            #expect(r.status != 0)
            #expect(r.stderr.contains(option) && r.stderr.contains("1s to 1d"), "\(r.stderr)")
        }
    }

    /// The signature covers the body, not X-GitHub-Delivery: a captured signed body sent again
    /// under new delivery ids is a duplicate, not a new deployment.
    @Test func aSignedGitHubBodyCannotBeReplayed() async throws {
        let server = try ServerProcess(db: db, arguments: ["--github-secret", "s3cret"])
        let body = try Files.fixture("github/deployment_status/payload.json")
        let signature = try runTool(
            [
                "python3", "-c",
                "import hmac,hashlib,sys; print('sha256=' + hmac.new(b's3cret', sys.stdin.buffer.read(), hashlib.sha256).hexdigest())",
            ],
            stdin: body
        ).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var statuses: [Int] = []
        for delivery in ["first", "replay-1", "replay-2", "replay-3"] {
            let r = try await http(
                "POST",
                server.baseURL + "/api/v1/webhooks/github",
                body: body,
                headers: [
                    "X-GitHub-Event": "deployment_status", "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature,
                ]
            )
            statuses.append(r.status)
        }
        #expect(statuses == [201, 200, 200, 200])
        #expect(rowCount(db) == 1)
        let metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(metrics.contains(#"shiplog_deployments_total{service="Hello-World",environment="production"} 1"#))
    }

    /// A malformed chunk size is the client's error, not the server's.
    @Test func aMalformedChunkIsABadRequest() async throws {
        let server = try ServerProcess(db: db)
        let client = try RawConnection(port: server.port)
        client.send(
            "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
        )
        let answer = try #require(client.readUntilClosed(within: 15))
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
        #expect(rowCount(db) == 0)
        let metrics = try await http("GET", server.baseURL + "/metrics").text
        #expect(!metrics.contains(#"code="500""#), "no server error counted")
    }

    /// A byte order mark in front of the body is ignored, whatever the body's shape.
    @Test func aByteOrderMarkChangesNothing() async throws {
        let server = try ServerProcess(db: db)
        let object =
            #"{"id":"bom-1","type":"deployment.succeeded","service":"api","environment":"production","version":"1","time":"2026-03-01T00:00:00Z"}"#
        let lone = try await http("POST", server.baseURL + "/api/v1/events", bytes: [0xEF, 0xBB, 0xBF] + Array(object.utf8))
        #expect(lone.status == 201)
        #expect(lone.body["id"] == .string("bom-1"), "a lone object gets a lone result: \(lone.text)")
        let array = try await http(
            "POST",
            server.baseURL + "/api/v1/events",
            bytes: [0xEF, 0xBB, 0xBF] + Array("[\(object.replacingOccurrences(of: "bom-1", with: "bom-2"))]".utf8)
        )
        #expect(array.status == 201)
        #expect(array.body["results"]?.arrayValue?.count == 1, "\(array.text)")
        #expect(sqlite3(db, "SELECT count(*) FROM events WHERE hex(raw) LIKE 'EFBBBF%'").output == "0\n", "the mark is not stored")
    }

    /// The loopback check resolves the name: a name that looks like 127.x but is not is refused.
    @Test func aHostIsLoopbackOnlyWhenEveryAddressIs() throws {
        let r = try shiplog(["serve", "--db", db, "--host", "127.attacker.test", "--port", "0"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("refusing to listen on 127.attacker.test without a write token"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func verifyReadsOnlyAndRefusesWhatIsNotALog() throws {
        let other = dir.path("notes.db")
        #expect(sqlite3(other, "CREATE TABLE notes (body TEXT);").status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        let r = try shiplog(["verify", "--db", other])
        #expect(r.status != 0)
        #expect(r.stderr.contains("is not a shiplog event log"), "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: other)) == before)
        #expect(sqlite3(other, "SELECT name FROM sqlite_master").output == "notes\n", "no table added")
        let server = try shiplog(["verify", "--server", "http://127.0.0.1:1"])
        #expect(server.status != 0)
        #expect(server.stderr.contains("--server is not supported"), "\(server.stderr)")
    }

    /// verify prints the head; --head fails once rows after it are cut off.
    @Test func verifyWithAPinnedHeadCatchesACutTail() throws {
        for i in 1...4 {
            #expect(
                try shiplog([
                    "events", "record", "--db", db, "--type", "deployment.succeeded", "--service", "api", "--env", "dev", "--version", "\(i)", "--id",
                    "e\(i)",
                ]).status == 0
            )
        }
        let ok = try shiplog(["verify", "--db", db])
        #expect(ok.status == 0)
        let head = try #require(ok.stdout.components(separatedBy: "; head ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(head.hasPrefix("4:") && head.count == 66, "\(ok.stdout)")
        #expect(try shiplog(["verify", "--db", db, "--head", head]).status == 0)
        #expect(sqlite3(db, "DROP TRIGGER events_refuse_delete; DELETE FROM events WHERE seq = 4; " + restoredDeleteTrigger).status == 0)
        #expect(try shiplog(["verify", "--db", db]).stdout.hasPrefix("ok: 3 rows verify"), "a prefix is a valid chain")
        let cut = try shiplog(["verify", "--db", db, "--head", head])
        #expect(cut.status == 1)
        #expect(cut.stderr.contains("the pinned head is row 4, but the log ends at row 3"), "\(cut.stderr)")
        let bad = try shiplog(["verify", "--db", db, "--head", "four"])
        #expect(bad.status != 0 && bad.stderr.contains("expected SEQ:HASH"), "\(bad.stderr)")
    }

    /// The running server knows the newest row it has seen: a log cut below it fails verification.
    @Test func theServerReportsALogThatShrank() async throws {
        let server = try ServerProcess(db: db, arguments: ["--verify-interval", "1s"])
        for i in 1...3 {
            let e =
                #"{"id":"s\#(i)","type":"deployment.succeeded","service":"api","environment":"production","version":"\#(i)","time":"2026-03-01T00:00:0\#(i)Z"}"#
            #expect(try await http("POST", server.baseURL + "/api/v1/events", body: e).status == 201)
        }
        #expect(try await eventually(within: 20) { try await sample(server, "shiplog_event_log_verified") == 1 })
        #expect(sqlite3(db, "DROP TRIGGER events_refuse_delete; DELETE FROM events WHERE seq = 3; " + restoredDeleteTrigger).status == 0)
        #expect(try await eventually(within: 20) { try await sample(server, "shiplog_event_log_verified") == 0 })
        #expect(server.stderr.contains("has seen row 3"), "\(server.stderr.suffix(500))")
    }
}
