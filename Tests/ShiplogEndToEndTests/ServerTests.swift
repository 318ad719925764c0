import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// `shiplog serve` as a user runs it: the built binary on loopback, real HTTP.
@Suite struct ServerTests {
    let dir = TemporaryDirectory()
    var db: String { dir.path("server.db") }

    func event(_ id: String?, env: String = "production", version: String = "1", time: String? = "2026-01-01T00:00:00Z") -> String {
        var fields = [#""type":"deployment.succeeded""#, #""service":"api""#, #""environment":"\#(env)""#, #""version":"\#(version)""#]
        if let id { fields.append(#""id":"\#(id)""#) }
        if let time { fields.append(#""time":"\#(time)""#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    @Test func ingestStatusCodes() async throws {
        let server = try ServerProcess(db: db)
        let url = server.baseURL + "/api/v1/events"

        let created = try await http("POST", url, body: event("e1"))
        #expect(created.status == 201)
        #expect(created.body["sequence"]?.intValue == 1)
        #expect(created.body["status"] == .string("created"))
        #expect(created.headers["content-type"] == "application/json")

        let duplicate = try await http("POST", url, body: event("e1"))
        #expect(duplicate.status == 200)
        #expect(duplicate.body["sequence"]?.intValue == 1)
        #expect(duplicate.body["status"] == .string("duplicate"))

        let conflict = try await http("POST", url, body: event("e1", version: "2"))
        #expect(conflict.status == 409)
        #expect(conflict.body["field"] == .string("id"))
        #expect(conflict.body["error"]?.stringValue?.contains("different content") == true)

        let invalid = try await http("POST", url, body: #"{"type":"deployment.succeeded","service":"api"}"#)
        #expect(invalid.status == 400)
        #expect(invalid.body["field"] == .string("environment"))
        #expect(invalid.body["events"]?.arrayValue?.first?["message"] == .string("required"))

        let notJSON = try await http("POST", url, body: "{nope")
        #expect(notJSON.status == 400)
        #expect(notJSON.body["error"]?.stringValue?.contains("invalid JSON") == true)

        let batch = try await http(
            "POST",
            url,
            body: "[\(event("b1")), {\"type\":\"x\",\"service\":\"api\",\"environment\":\"dev\"}, \(event("b3")), {\"service\":\"a b\"}]"
        )
        #expect(batch.status == 400)
        let details = batch.body["events"]?.arrayValue ?? []
        #expect(details.compactMap { $0["index"]?.intValue } == [1, 3, 3])
        #expect(details.compactMap { $0["field"]?.stringValue } == ["type", "type", "service"])

        let mixed = try await http("POST", url, body: "[\(event("e1")), \(event("m2"))]")
        #expect(mixed.status == 201)
        #expect(mixed.body["results"]?.arrayValue?.map { $0["status"] } == [.string("duplicate"), .string("created")])

        let ndjson = try await http("POST", url, body: event("n1") + "\n\n" + event("n2") + "\n", contentType: "application/x-ndjson")
        #expect(ndjson.status == 201)
        #expect(ndjson.body["results"]?.arrayValue?.count == 2)

        // Media types are case-insensitive and may carry parameters and blanks.
        let spelled = try await http("POST", url, body: event("n3") + "\n", contentType: " Application/X-NDJSON ;charset=UTF-8")
        #expect(spelled.status == 201)
        #expect(spelled.body["results"]?.arrayValue?.count == 1)

        let wrongType = try await http("POST", url, body: "type=deployment", contentType: "application/x-www-form-urlencoded")
        #expect(wrongType.status == 415)
        #expect(wrongType.body["error"]?.stringValue?.contains("Content-Type application/x-www-form-urlencoded") == true)
        #expect(wrongType.body["field"] == .string("Content-Type"))
        #expect(wrongType.body["error"]?.stringValue?.contains("send application/json") == true)

        let tooLarge = try await http("POST", url, bytes: Array(repeating: 0x20, count: (1 << 20) + 1))
        #expect(tooLarge.status == 413)
        #expect(tooLarge.body["error"]?.stringValue?.contains("at most 1048576") == true)

        let future = try await http("POST", url, body: event("f1", time: "2100-01-01T00:00:00Z"))
        #expect(future.status == 400)
        #expect(future.body["field"] == .string("time"))

        let missing = try await http("GET", server.baseURL + "/api/v1/nothing")
        #expect(missing.status == 404)
        #expect(missing.body["error"] != nil)

        // Every error above wrote nothing: e1, m2, n1, n2, n3.
        #expect(rowCount(db) == 5)
        #expect(server.stop() == 0)
        #expect(try shiplog(["verify", "--db", db]).status == 0)
    }

    /// Spans and windows too large for nanosecond arithmetic are refused, never a crash.
    @Test func hugeSpansAreRefusedWithTheirRange() async throws {
        let server = try ServerProcess(db: db)
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: event("a")).status == 201)
        for (query, field) in [
            ("api/v1/events?since=106752d", "since"), ("api/v1/events?until=9223372037s", "until"),
            ("api/v1/events?since=99999999999999999999d", "since"), ("api/v1/report?window=106752d", "window"),
            ("api/v1/explain?service=api&environment=production&window=106752d", "window"),
        ] {
            let r = try await http("GET", server.baseURL + "/" + query)
            #expect(r.status == 400, "\(query): \(r.status)")
            #expect(r.body["field"] == .string(field), "\(query)")
            #expect(r.body["error"]?.stringValue?.contains("d") == true, "\(query): names the range: \(r.text)")
        }
        let since = try await http("GET", server.baseURL + "/api/v1/events?since=106752d")
        #expect(since.body["error"]?.stringValue?.contains("36500d") == true)
        #expect(try await http("GET", server.baseURL + "/api/v1/events?since=36500d").status == 200, "the longest span works")
        #expect(try await http("GET", server.baseURL + "/healthz").status == 200, "still up")
        let cli = try shiplog(["events", "list", "--db", db, "--since", "106752d"])
        #expect(cli.status != 0)
        #expect(cli.stderr.contains("--since 106752d") && cli.stderr.contains("36500d"), "\(cli.stderr)")
        let report = try shiplog(["report", "--db", db, "--window", "106752d"])
        #expect(report.status != 0)
        #expect(report.stderr.contains("3650d"), "\(report.stderr)")
    }

    /// A body of many bad items gets an answer of bounded size: the first 100 and a count.
    @Test func manyBadEventsGetABoundedAnswer() async throws {
        let server = try ServerProcess(db: db)
        let body = "[" + Array(repeating: "{}", count: 300_000).joined(separator: ",") + "]"
        #expect(body.utf8.count < 1 << 20)
        let r = try await http("POST", server.baseURL + "/api/v1/events", body: body)
        #expect(r.status == 400)
        #expect(r.body["error"]?.stringValue == "300000 of 300000 events are invalid; nothing was written; the first 100 are listed")
        let indices = Set((r.body["events"]?.arrayValue ?? []).compactMap { $0["index"]?.intValue })
        #expect(indices == Set(0..<100))
        #expect(r.text.utf8.count < 64 * 1024, "\(r.text.utf8.count) bytes")
        let few = try await http("POST", server.baseURL + "/api/v1/events", body: "[{}, \(event("ok"))]")
        #expect(few.body["error"]?.stringValue == "1 of 2 events are invalid; nothing was written")
        #expect(rowCount(db) == 0)
    }

    /// A token with a stray newline or space would start a server that refuses every write.
    @Test func aTokenWithWhitespaceIsRefusedAtStart() throws {
        for (flag, value) in [("--write-token", "wt\n"), ("--read-token", " rt"), ("--github-secret", "s 3")] {
            let r = try shiplog(["serve", "--db", db, "--port", "0", flag, value])
            #expect(r.status != 0, "\(flag)")
            #expect(r.stderr.contains("whitespace"), "\(flag): \(r.stderr)")
        }
        let env = try shiplog(["serve", "--db", db, "--port", "0"], environment: ["SHIPLOG_WRITE_TOKEN": "wt\n"])
        #expect(env.status != 0)
        #expect(env.stderr.contains("write token contains whitespace"), "\(env.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db), "refused before the database is created")
    }

    @Test func bodyLimitIsConfigurable() async throws {
        let server = try ServerProcess(db: db, arguments: ["--max-body", "2048"])
        let big = "[" + (0..<40).map { event("x\($0)") }.joined(separator: ",") + "]"
        #expect(big.utf8.count > 2048)
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: big).status == 413)
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: event("small")).status == 201)
    }

    @Test func historyPagesReturnEachEventOnce() async throws {
        let server = try ServerProcess(db: db)
        let url = server.baseURL + "/api/v1/events"
        // 137 events over 20 distinct times (many ties), posted as NDJSON in three bodies.
        var lines: [String] = []
        for i in 0..<137 {
            lines.append(
                event(
                    "p\(i)",
                    env: i % 4 == 0 ? "dev" : "production",
                    version: "\(i)",
                    time: "2026-01-01T00:\(String(format: "%02d", i % 20)):00Z"
                )
            )
        }
        for chunk in stride(from: 0, to: lines.count, by: 50) {
            let body = lines[chunk..<min(chunk + 50, lines.count)].joined(separator: "\n")
            #expect(try await http("POST", url, body: body, contentType: "application/x-ndjson").status == 201)
        }
        var ids: [String] = []
        var times: [String] = []
        var cursor: String? = nil
        var pages = 0
        repeat {
            let page = try await http("GET", url + "?limit=10" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(page.status == 200)
            for e in page.body["events"]?.arrayValue ?? [] {
                ids.append(e["event"]?["id"]?.stringValue ?? "")
                times.append(e["event"]?["time"]?.stringValue ?? "")
            }
            cursor = page.body["next"]?.stringValue
            pages += 1
        } while cursor != nil && pages < 100
        #expect(pages == 14)
        #expect(ids.count == 137)
        #expect(Set(ids).count == 137)
        #expect(times == times.sorted(by: >), "newest first")

        let dev = try await http("GET", url + "?environment=dev&limit=1000")
        #expect(dev.body["events"]?.arrayValue?.count == 35)
        #expect(dev.body["next"] == nil)
        let window = try await http("GET", url + "?environment=production&since=2026-01-01T00:05:00Z&until=2026-01-01T00:06:00Z")
        // i ≡ 5 (mod 20): 5, 25, …, 125, all odd, so all in production.
        #expect(window.body["events"]?.arrayValue?.count == 7)
        let typed = try await http("GET", url + "?type=deployment.failed")
        #expect(typed.body["events"]?.arrayValue?.isEmpty == true)

        for (query, field) in [
            ("limit=0", "limit"), ("limit=1001", "limit"), ("type=deploy", "type"), ("since=yesterday", "since"),
            ("cursor=zzz", "cursor"), ("environment=a%20b", "environment"), ("colour=red", "colour"),
        ] {
            let bad = try await http("GET", url + "?" + query)
            #expect(bad.status == 400, "\(query)")
            #expect(bad.body["field"] == .string(field), "\(query)")
        }
    }

    @Test func manyConcurrentClients() async throws {
        let server = try ServerProcess(db: db)
        let url = server.baseURL + "/api/v1/events"
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for client in 0..<32 {
                group.addTask {
                    var s: [Int] = []
                    for i in 0..<25 {
                        s.append(try await http("POST", url, body: event("c\(client)-\(i)", time: nil)).status)
                    }
                    return s
                }
            }
            var all: [Int] = []
            for try await s in group { all += s }
            return all
        }
        #expect(statuses.count == 800)
        #expect(statuses.allSatisfy { $0 == 201 })
        server.stop()
        #expect(rowCount(db) == 800)
        #expect(sqlite3(db, "SELECT min(seq), max(seq), count(DISTINCT seq) FROM events").output == "1|800|800\n")
        #expect(try shiplog(["verify", "--db", db]).status == 0)
    }

    @Test func acknowledgedEventsSurviveKill9() async throws {
        let acked = AckedIDs()
        for round in 0..<3 {
            let server = try ServerProcess(db: db)
            let url = server.baseURL + "/api/v1/events"
            // Clients post in parallel until the server dies under them.
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for client in 0..<16 {
                        group.addTask {
                            for i in 0..<10_000 {
                                let id = "r\(round)-c\(client)-\(i)"
                                guard let r = try? await http("POST", url, body: event(id, time: nil)) else { return }
                                if r.status == 201 || r.status == 200 { await acked.add(id) }
                            }
                        }
                    }
                }
            }
            // Kill mid-load: once this round has had at least 40 acknowledgements (a loaded
            // machine may need a while), plus a little more time.
            let before = await acked.ids.count
            _ = try await eventually(within: 20) { await acked.ids.count >= before + 40 }
            try await Task.sleep(for: .milliseconds(100 + round * 150))
            server.stop(SIGKILL)
            await load.value
        }
        let acknowledged = await acked.ids
        #expect(acknowledged.count > 100, "the load made progress")
        let stored = storedIDs(db)
        #expect(acknowledged.subtracting(stored).isEmpty, "lost: \(acknowledged.subtracting(stored).prefix(5))")
        let verify = try shiplog(["verify", "--db", db])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    /// A failed `fdatasync` (made so by `scripts/disk-shim.c` while a trigger file exists):
    /// the append it was for is not acknowledged, every later write is refused without being
    /// written, and both probes fail so that Kubernetes restarts the process. A restart on a
    /// healthy disk finds the committed row and a valid chain.
    @Test func aFailedSyncRefusesWritesAndFailsTheProbes() async throws {
        let scratch = TemporaryDirectory()
        let shim = try buildDiskShim(in: scratch)
        let trigger = scratch.path("fail-syncs")
        let server = try ServerProcess(db: db, environment: ["LD_PRELOAD": shim, "SYNC_FAIL_IF": trigger])
        let url = server.baseURL + "/api/v1/events"
        #expect(try await http("POST", url, body: event("s1")).status == 201)
        #expect(try await http("GET", server.baseURL + "/healthz").status == 200)

        _ = FileManager.default.createFile(atPath: trigger, contents: nil)
        let failed = try await http("POST", url, body: event("s2"))
        #expect(failed.status == 500)
        #expect(failed.body["error"]?.stringValue?.contains("could not sync the write-ahead log") == true, "\(failed.text)")
        try FileManager.default.removeItem(atPath: trigger)
        // Even with syncs working again: a sync that failed once cannot be trusted.
        let refused = try await http("POST", url, body: event("s3"))
        #expect(refused.status == 500)
        #expect(refused.body["error"]?.stringValue?.contains("until shiplog restarts") == true, "\(refused.text)")
        for probe in ["/healthz", "/readyz"] {
            let r = try await http("GET", server.baseURL + probe)
            #expect(r.status == 503, "\(probe)")
            #expect(r.body["status"]?.stringValue == "failing", "\(probe): \(r.text)")
        }
        server.stop()

        let restarted = try ServerProcess(db: db)
        #expect(try await http("GET", restarted.baseURL + "/healthz").status == 200)
        // s2 was committed before its sync failed (never acknowledged); s3 was never written.
        #expect(storedIDs(db) == ["s1", "s2"])
        #expect(try await http("POST", restarted.baseURL + "/api/v1/events", body: event("s3")).status == 201)
        restarted.stop()
        let verify = try shiplog(["verify", "--db", db])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    /// A full disk (writes to files fail with ENOSPC while a trigger file exists): the POST
    /// gets 507 naming the full disk and nothing is written, the process stays healthy, and
    /// once there is room again writes succeed and the chain verifies. The CLI, writing to the
    /// same database meanwhile, says the same.
    @Test func aFullDiskRefusesWritesUntilThereIsRoom() async throws {
        let scratch = TemporaryDirectory()
        let shim = try buildDiskShim(in: scratch)
        let trigger = scratch.path("disk-full")
        let shimmed = ["LD_PRELOAD": shim, "WRITE_FULL_IF": trigger]
        let server = try ServerProcess(db: db, environment: shimmed)
        let url = server.baseURL + "/api/v1/events"
        #expect(try await http("POST", url, body: event("f1")).status == 201)

        _ = FileManager.default.createFile(atPath: trigger, contents: nil)
        for body in [event("f2"), "[\(event("f3")),\(event("f4"))]"] {
            let full = try await http("POST", url, body: body)
            #expect(full.status == 507, "\(full.text)")
            #expect(full.body["error"]?.stringValue?.contains("is full; nothing was recorded") == true, "\(full.text)")
        }
        // Not a reason to restart: reads and the probes keep working.
        for probe in ["/healthz", "/readyz"] {
            #expect(try await http("GET", server.baseURL + probe).status == 200, "\(probe)")
        }
        #expect(try await http("GET", url).body["events"]?.arrayValue?.count == 1)
        // The CLI writing to the same database on that disk.
        let record = try shiplog(
            ["events", "record", "--db", db, "--type", "deployment.started", "--service", "api", "--env", "dev", "--id", "f6"],
            environment: shimmed
        )
        #expect(record.status != 0)
        #expect(record.stderr.contains("is full; nothing was recorded"), "\(record.stderr)")

        try FileManager.default.removeItem(atPath: trigger)
        #expect(try await http("POST", url, body: event("f5")).status == 201)
        #expect(try await http("POST", url, body: event("f2")).status == 201, "the refused event can be sent again")
        #expect(server.stop(SIGTERM) == 0)
        #expect(storedIDs(db) == ["f1", "f5", "f2"])
        let verify = try shiplog(["verify", "--db", db])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    /// `scripts/disk-shim.c`, built with the machine's C compiler (or Swift's clang).
    func buildDiskShim(in scratch: TemporaryDirectory) throws -> String {
        let shim = scratch.path("disk-shim.so")
        let compiler = try runTool(["sh", "-c", "command -v cc || command -v clang"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let compiled = try runTool([
            compiler.isEmpty ? "cc" : compiler, "-shared", "-fPIC", "-O2", "-o", shim,
            Files.repository.appendingPathComponent("scripts/disk-shim.c").path, "-ldl",
        ])
        try #require(compiled.status == 0, "cannot build the disk shim: \(compiled.stdout)")
        return shim
    }

    @Test func tokensGuardWritesAndReads() async throws {
        let server = try ServerProcess(db: db, arguments: ["--read-token", "r3ad"], environment: ["SHIPLOG_WRITE_TOKEN": "wr1te"])
        let url = server.baseURL + "/api/v1/events"
        let anonymous = try await http("POST", url, body: event("t1"))
        #expect(anonymous.status == 401)
        #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(anonymous.body["error"]?.stringValue?.contains("write token") == true)
        #expect(try await http("POST", url, body: event("t1"), headers: ["Authorization": "Bearer wrong"]).status == 401)
        #expect(try await http("POST", url, body: event("t1"), headers: ["Authorization": "Bearer r3ad"]).status == 401)
        #expect(try await http("POST", url, body: event("t1"), headers: ["Authorization": "Bearer wr1te"]).status == 201)
        #expect(try await http("GET", url).status == 401)
        #expect(try await http("GET", url, headers: ["Authorization": "Bearer r3ad"]).status == 200)
        #expect(try await http("GET", url, headers: ["Authorization": "Bearer wr1te"]).status == 200)
        #expect(try await http("GET", server.baseURL + "/healthz").status == 200)
        #expect(try await http("GET", server.baseURL + "/readyz").status == 200)
        #expect(rowCount(db) == 1)

        // The CLI against the server, with the token from the environment.
        let env = ["SHIPLOG_SERVER": server.baseURL, "SHIPLOG_TOKEN": "wr1te"]
        let record = try shiplog(
            ["events", "record", "--type", "deployment.failed", "--service", "api", "--env", "dev", "--id", "cli-1"],
            environment: env
        )
        #expect(record.status == 0, "\(record.stderr)")
        #expect(record.stdout == "recorded event 2\n")
        let list = try shiplog(["events", "list", "--format", "ndjson"], environment: env)
        #expect(list.stdout.split(separator: "\n").count == 2)
        let denied = try shiplog(
            ["events", "record", "--type", "deployment.failed", "--service", "api", "--env", "dev"],
            environment: ["SHIPLOG_SERVER": server.baseURL]
        )
        #expect(denied.status != 0)
        #expect(denied.stderr.contains("server answered 401"))
    }

    /// A CI step that records while shiplog restarts: the CLI keeps trying (`--retry-for`)
    /// until the server is back, and the event is recorded once. With `--retry-for 0` it
    /// fails at once, naming the server.
    @Test func theCLIWaitsForARestartingServer() async throws {
        // The port the second server must take again comes from below the kernel's ephemeral
        // range (32768 and up), where the other tests' servers (`--port 0`) never land.
        var started: (server: ServerProcess, port: Int)?
        for _ in 0..<20 where started == nil {
            let candidate = Int.random(in: 20_000..<32_000)
            if let server = try? ServerProcess(db: db, arguments: ["--port", String(candidate)]) { started = (server, candidate) }
        }
        let (first, port) = try #require(started, "no free port between 20000 and 32000")
        #expect(first.stop(SIGTERM) == 0)
        let env = ["SHIPLOG_SERVER": "http://127.0.0.1:\(port)"]
        let arguments = ["events", "record", "--type", "deployment.succeeded", "--service", "api", "--env", "dev", "--id", "during-restart"]
        let once = try shiplog(arguments + ["--retry-for", "0"], environment: env)
        #expect(once.status != 0)
        #expect(once.stderr.contains("cannot reach http://127.0.0.1:\(port)"), "\(once.stderr)")

        let record = Task { try await offThread { try shiplog(arguments + ["--retry-for", "30s"], environment: env) } }
        try await Task.sleep(for: .seconds(1.5))
        let second = try ServerProcess(db: db, arguments: ["--port", String(port)])
        let result = try await record.value
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "recorded event 1\n")
        #expect(result.stderr.contains("retrying in"), "it said that it waits: \(result.stderr)")
        #expect(second.stop(SIGTERM) == 0)
        #expect(storedIDs(db) == ["during-restart"])
    }

    /// Behind a proxy that answers 503 (no shiplog pod ready): the CLI retries, honouring
    /// Retry-After, and when `--retry-for` runs out it reports the last answer as it was.
    @Test func theCLIRetriesA503AndThenReportsIt() async throws {
        let scratch = TemporaryDirectory()
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        proxy.arguments = [
            "-c",
            """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    body = b'{"error":"no endpoints available for service shiplog"}'
                    self.send_response(503); self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                def log_message(self, *args): pass
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            open(sys.argv[1], "w").write(str(s.server_port))
            s.serve_forever()
            """, scratch.path("port"),
        ]
        try proxy.run()
        // SIGKILL: the test process ignores SIGTERM, and a child inherits that.
        defer {
            kill(proxy.processIdentifier, SIGKILL)
            proxy.waitUntilExit()
        }
        #expect(try await eventually(within: 10) { FileManager.default.fileExists(atPath: scratch.path("port")) && lines(scratch.path("port")) == 1 })
        let port = try String(contentsOfFile: scratch.path("port"), encoding: .utf8)
        let started = Date()
        let record = try shiplog([
            "events", "record", "--server", "http://127.0.0.1:\(port)", "--retry-for", "3s",
            "--type", "deployment.succeeded", "--service", "api", "--env", "dev", "--id", "behind-proxy",
        ])
        #expect(record.status != 0)
        #expect(record.stderr.contains("answered 503; retrying in 1.0 seconds"), "\(record.stderr)")
        #expect(record.stderr.contains("server answered 503: no endpoints available for service shiplog"), "\(record.stderr)")
        #expect(Date().timeIntervalSince(started) >= 2, "it waited for the server")
    }

    @Test func refusesNonLoopbackWithoutAToken() throws {
        let r = try shiplog(["serve", "--db", db, "--host", "0.0.0.0", "--port", "0"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("refusing to listen on 0.0.0.0 without a write token"))
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func sigtermStopsGracefully() async throws {
        let server = try ServerProcess(db: db)
        #expect(try await http("POST", server.baseURL + "/api/v1/events", body: event("g1")).status == 201)
        #expect(server.stop(SIGTERM) == 0)
        #expect(server.stderr.contains("stopped; event log closed"))
        #expect(server.stderr.contains("method=POST path=/api/v1/events status=201"), "one log line per request")
        #expect(rowCount(db) == 1)
    }
}

actor AckedIDs {
    var ids = Set<String>()
    func add(_ id: String) { ids.insert(id) }
}
