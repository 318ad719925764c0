import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// The PostgreSQL backend as operators run it: several `shiplog serve` replicas on one
/// database, a replica killed mid-load, the database restarted, `psql` trying to change rows,
/// and logs moved between SQLite and PostgreSQL.
@Suite struct PostgresTests {
    let dir = TemporaryDirectory()

    /// The base URLs of the replicas running now; a killed one is replaced by a new process.
    actor Replicas {
        var servers: [ServerProcess]
        init(_ servers: [ServerProcess]) { self.servers = servers }
        func url(_ i: Int) -> String { servers[i % servers.count].baseURL }
        func replace(_ i: Int, with server: ServerProcess) -> ServerProcess {
            let old = servers[i]
            servers[i] = server
            return old
        }
    }

    func event(_ id: String, _ i: Int) -> String {
        #"{"id":"\#(id)","type":"deployment.succeeded","service":"svc\#(i % 5)","environment":"\#(["dev", "staging", "production"][i % 3])","version":"1.\#(i)","time":"2026-01-01T00:\#(String(format: "%02d", i / 60 % 60)):\#(String(format: "%02d", i % 60))Z"}"#
    }

    @Test func replicasShareOneGapFreeChainWhileOneIsKilled() async throws {
        let db = try await offThread { try TestPostgres.freshDatabase() }
        let started = try await offThread { try (0..<3).map { _ in try ServerProcess(db: db) } }
        let replicas = Replicas(started)
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            // Four clients posting unique ids round the replicas; a post that finds its replica
            // gone (killed) goes to the next one, with the same id.
            for client in 0..<4 {
                group.addTask {
                    var acked: [String] = []
                    for i in 0..<60 {
                        let id = "c\(client)-\(i)"
                        var attempt = client + i
                        while true {
                            let url = await replicas.url(attempt)
                            if let r = try? await http("POST", url + "/api/v1/events", body: event(id, i)), r.status == 201 || r.status == 200 {
                                acked.append(id)
                                break
                            }
                            attempt += 1
                        }
                    }
                    return acked
                }
            }
            // The same ids raced on two replicas at once: one creates, the other finds a duplicate.
            group.addTask {
                var acked: [String] = []
                for i in 0..<30 {
                    let id = "race-\(i)"
                    async let a = try? http("POST", await replicas.url(0) + "/api/v1/events", body: event(id, i))
                    async let b = try? http("POST", await replicas.url(1) + "/api/v1/events", body: event(id, i))
                    let answers = await [a, b].compactMap { $0 }
                    let statuses = answers.map(\.status).sorted()
                    if statuses == [200, 201] || statuses == [201] || statuses == [200] { acked.append(id) }
                    #expect(!statuses.contains(201) || statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
                    let sequences = Set(answers.compactMap { $0.body["sequence"]?.intValue })
                    #expect(sequences.count <= 1, "both answers name the one row")
                }
                return acked
            }
            // kill -9 the third replica twice mid-load, and start a new one in its place.
            group.addTask {
                for _ in 0..<2 {
                    try await Task.sleep(for: .milliseconds(700))
                    let replacement = try await offThread { try ServerProcess(db: db) }
                    let killed = await replicas.replace(2, with: replacement)
                    _ = try await offThread { killed.stop(SIGKILL) }
                }
                return []
            }
            var all: [String] = []
            for try await acked in group { all += acked }
            return all
        }
        #expect(acknowledged.count >= 240)

        // Every acknowledged event is stored, once; the sequence has no gap; the chain verifies.
        let stored = Set(try TestPostgres.psql(db, "SELECT event_id FROM events").output.split(separator: "\n").map(String.init))
        #expect(
            Set(acknowledged).subtracting(stored).isEmpty,
            "acknowledged but missing: \(Set(acknowledged).subtracting(stored).sorted().prefix(5))"
        )
        #expect(try TestPostgres.psql(db, "SELECT count(*) = max(seq) AND min(seq) = 1 FROM events").output == "t")
        #expect(try TestPostgres.psql(db, "SELECT count(*) = count(DISTINCT event_id) FROM events").output == "t")
        let verified = try shiplog(["verify", "--db", db])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("ok: \(stored.count) rows verify"))

        // Every replica serves what a fresh replay of the whole log gives.
        let fresh = try await offThread { try ServerProcess(db: db, arguments: ["--snapshot-every", "0"]) }
        let replayed = try await http("GET", fresh.baseURL + "/metrics").text.doraPart.withoutPending
        #expect(replayed.contains(#"shiplog_deployments_total{service="svc0",environment="production"}"#))
        for i in 0..<3 {
            let url = await replicas.url(i)
            let same = try await eventually(within: 20) {
                try await http("GET", url + "/metrics").text.doraPart.withoutPending == replayed
            }
            #expect(same, "replica \(i) differs from a replay")
        }
    }

    /// The clients' view of a load: acknowledged ids, and the answers that were not 2xx.
    actor Outcomes {
        var acknowledged: [String] = []
        var refusals: [HTTPResult] = []
        var failedRequests = 0
        var running = true
        func ack(_ id: String) { acknowledged.append(id) }
        func refuse(_ r: HTTPResult) { if refusals.count < 1000 { refusals.append(r) } }
        func fail() { failedRequests += 1 }
        func stop() { running = false }
    }

    /// PostgreSQL itself stops twice mid-load (a fast shutdown, then a crash-like immediate
    /// one) and comes back: the replicas answer 503 while it is away, turn unready and stay
    /// alive, and recover without a restart; nothing acknowledged is lost.
    @Test(.timeLimit(.minutes(5)))
    func theDatabaseRestartsMidLoad() async throws {
        let postgres = try await offThread { try PrivatePostgres() }
        let db = postgres.url
        let replicas = try await offThread { try (0..<2).map { _ in try ServerProcess(db: db) } }
        let outcomes = Outcomes()
        let clients = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        var i = 0
                        while await outcomes.running, !Task.isCancelled {
                            let id = "pg-\(client)-\(i)"
                            let url = replicas[(client + i) % replicas.count].baseURL
                            do {
                                let r = try await http("POST", url + "/api/v1/events", body: event(id, i))
                                if r.status == 201 || r.status == 200 {
                                    await outcomes.ack(id)
                                } else {
                                    await outcomes.refuse(r)
                                    try? await Task.sleep(for: .milliseconds(50))
                                }
                            } catch {
                                await outcomes.fail()
                            }
                            i += 1
                        }
                    }
                }
            }
        }
        // Whatever happens below, the clients stop and no replica outlives the test.
        defer {
            clients.cancel()
            for server in replicas where server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) }
        }
        func acknowledgedCount() async -> Int { await outcomes.acknowledged.count }
        func progresses(within seconds: Double) async throws -> Bool {
            let before = await acknowledgedCount()
            return try await eventually(within: seconds) { await acknowledgedCount() > before + 20 }
        }
        // A loaded machine can take a while to start two replicas on a new database: the load
        // is judged once both are ready, and a failure says what the clients saw meanwhile.
        for server in replicas {
            let ready = try await eventually(within: 120) { try await http("GET", server.baseURL + "/readyz").status == 200 }
            #expect(ready, "replica ready: \(server.stderr.suffix(500))")
        }
        let started = try await progresses(within: 60)
        let seen = (await outcomes.refusals.suffix(3).map { "\($0.status) \($0.text.prefix(200))" }, await outcomes.failedRequests)
        #expect(started, "the load is recorded; last refusals \(seen.0), \(seen.1) requests unanswered")

        for immediately in [false, true] {
            try await offThread { postgres.stop(immediately: immediately) }
            for server in replicas {
                let ready = try await http("GET", server.baseURL + "/readyz")
                #expect(ready.status == 503, "unready while the database is away: \(ready.text)")
                #expect(try await http("GET", server.baseURL + "/healthz").status == 200, "alive while the database is away")
                let refused = try await http("POST", server.baseURL + "/api/v1/events", body: event("while-down-\(immediately)", 0))
                #expect(refused.status == 503, "\(refused.status) \(refused.text)")
                #expect(refused.headers["retry-after"] == "5")
                #expect(refused.body["error"]?.stringValue?.contains("database") == true, "\(refused.text)")
            }
            try await offThread { try postgres.start() }
            // The pool reconnects by itself: the same processes record again.
            #expect(try await progresses(within: 60), "recording resumes after the database is back (immediate stop: \(immediately))")
            for server in replicas {
                #expect(try await http("GET", server.baseURL + "/readyz").status == 200)
            }
        }
        await outcomes.stop()
        await clients.value
        for server in replicas { #expect(server.process.isRunning, "no replica restarted: \(server.stderr.suffix(500))") }

        let acknowledged = await outcomes.acknowledged
        let refusals = await outcomes.refusals
        #expect(refusals.allSatisfy { $0.status == 503 }, "only 503s while the database was away: \(Set(refusals.map(\.status)))")
        #expect(!refusals.isEmpty, "some requests came while the database was away")
        #expect(await outcomes.failedRequests == 0, "every request was answered, none timed out or was cut")
        let stored = Set(try TestPostgres.psql(db, "SELECT event_id FROM events").output.split(separator: "\n").map(String.init))
        let lost = Set(acknowledged).subtracting(stored)
        #expect(lost.isEmpty, "acknowledged but missing: \(lost.sorted().prefix(5))")
        #expect(!stored.contains("while-down-false") && !stored.contains("while-down-true"), "a 503 wrote nothing")
        #expect(
            try TestPostgres.psql(db, "SELECT count(*) = max(seq) AND min(seq) = 1 AND count(*) = count(DISTINCT event_id) FROM events").output == "t"
        )
        let verified = try shiplog(["verify", "--db", db])
        #expect(verified.status == 0, "\(verified.stderr)")

        // Both replicas follow the log again (LISTEN re-established, or polling) and agree.
        let fresh = try await offThread { try ServerProcess(db: db, arguments: ["--snapshot-every", "0"]) }
        let replayed = try await http("GET", fresh.baseURL + "/metrics").text.doraPart.withoutPending
        for server in replicas {
            let same = try await eventually(within: 20) {
                try await http("GET", server.baseURL + "/metrics").text.doraPart.withoutPending == replayed
            }
            #expect(same, "a replica differs from a replay after the restarts")
        }
        withExtendedLifetime(postgres) {}
    }

    @Test func psqlCannotChangeRowsAndASuperusersTamperingIsFound() async throws {
        let db = try await offThread { try TestPostgres.freshDatabase() }
        let recorded = try shiplog(["events", "import", "--db", db, "-"], stdin: ndjson(5, prefix: "t"))
        #expect(recorded.status == 0, "\(recorded.stderr)")
        for statement in ["UPDATE events SET service = 'x' WHERE seq = 2", "DELETE FROM events WHERE seq = 5", "TRUNCATE events"] {
            let refused = try TestPostgres.psql(db, statement)
            #expect(refused.status != 0, "\(statement) was allowed")
            #expect(refused.output.contains("append-only"), "\(refused.output)")
        }
        #expect(try TestPostgres.psql(db, "SELECT count(*) FROM events").output == "5")
        #expect(try shiplog(["verify", "--db", db]).status == 0)

        // A superuser can drop the trigger and rewrite a row: verify names the row and the trigger.
        let tampered = try TestPostgres.psql(
            db,
            "DROP TRIGGER events_refuse_update_delete ON events; UPDATE events SET event = replace(event, '1.3', '9.3') WHERE seq = 4"
        )
        #expect(tampered.status == 0, "\(tampered.output)")
        let verified = try shiplog(["verify", "--db", db])
        #expect(verified.status == 1)
        #expect(verified.stderr.contains("broken at row 4"), "\(verified.stderr)")
        #expect(verified.stderr.contains("trigger events_refuse_update_delete is missing"), "\(verified.stderr)")
    }

    @Test func sqliteToPostgresAndBackKeepsTheHeadHash() async throws {
        let sqlite = dir.path("source.db")
        let imported = try shiplog(["events", "import", "--db", sqlite, "-"], stdin: ndjson(300, prefix: "m"))
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try shiplog(["events", "record", "--db", sqlite, "--type", "deployment.succeeded", "--service", "api", "--env", "dev"]).status == 0)
        let head = try shiplog(["verify", "--db", sqlite]).stdout
        let db = try await offThread { try TestPostgres.freshDatabase() }

        let there = try shiplog(["migrate", "--from", sqlite, "--to", db, "--transaction-size", "70"])
        #expect(there.status == 0, "\(there.stderr)")
        #expect(there.stdout.contains("migrated 301 events"))
        #expect(try shiplog(["verify", "--db", db]).stdout == head)
        let again = try shiplog(["migrate", "--from", sqlite, "--to", db])
        #expect(again.status != 0)
        #expect(again.stderr.contains("already holds 301 events"))

        let back = dir.path("back.db")
        #expect(try shiplog(["migrate", "--from", db, "--to", back]).status == 0)
        #expect(try shiplog(["verify", "--db", back]).stdout == head)

        // Export and import work the same way, and the CLI reads PostgreSQL like a file.
        let exported = dir.path("rows.ndjson")
        #expect(try shiplog(["events", "export", "--db", db, exported]).status == 0)
        let copy = try await offThread { try TestPostgres.freshDatabase() }
        let reimported = try shiplog(["events", "import", "--db", copy, exported])
        #expect(reimported.status == 0, "\(reimported.stderr)")
        #expect(try shiplog(["verify", "--db", copy]).stdout == head)
        let fromFile = try shiplog(["events", "list", "--db", sqlite, "--env", "production", "--limit", "5", "--format", "ndjson"]).stdout
        let fromPostgres = try shiplog(["events", "list", "--db", copy, "--env", "production", "--limit", "5", "--format", "ndjson"]).stdout
        #expect(fromFile == fromPostgres)
        #expect(fromFile.split(separator: "\n").count == 5)
        #expect(
            try shiplog(["report", "--db", sqlite, "--window", "3650d", "--format", "json"]).stdout
                == shiplog(["report", "--db", copy, "--window", "3650d", "--format", "json"]).stdout
        )
        let backup = try shiplog(["backup", "--db", copy, dir.path("b.db")])
        #expect(backup.status != 0)
        #expect(backup.stderr.contains("pg_dump"))
    }

    @Test func aBadDatabaseURLIsAClearError() throws {
        let bad = try shiplog(["events", "list", "--db", "postgres://u@127.0.0.1:5432/x?sslmode=sometimes"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("sslmode=sometimes"))
        let unreachable = try shiplog(["events", "list", "--db", "postgres://u:secret@127.0.0.1:1/x?sslmode=disable"])
        #expect(unreachable.status != 0)
        #expect(unreachable.stderr.contains("unavailable"), "\(unreachable.stderr)")
        #expect(!unreachable.stderr.contains("secret"), "the password is never printed")
    }
}
