import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// The CLI as a user runs it: the built binary, a real database file.
@Suite struct CLITests {
    let dir = TemporaryDirectory()
    var db: String { dir.path("shiplog.db") }

    @Test func recordListAndVerify() throws {
        let r1 = try shiplog([
            "events", "record", "--db", db, "--type", "deployment.succeeded", "--service", "checkout",
            "--env", "production", "--version", "1.4.2", "--commit", "9f1c2e7d00aa", "--actor", "alice",
            "--time", "2026-01-01T10:00:00Z", "--annotation", "team=payments", "--change", "abc@2025-12-31T09:00:00Z",
        ])
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(r1.stdout == "recorded event 1\n")
        try shiplog([
            "events", "record", "--db", db, "--type", "deployment.succeeded", "--service", "web", "--env", "staging",
            "--time", "2026-01-01T11:00:00Z",
        ])
        let list = try shiplog(["events", "list", "--db", db])
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("TIME"))
        #expect(lines[1].contains("web") && lines[1].contains("staging"), "newest first")
        #expect(lines[2].contains("checkout") && lines[2].contains("1.4.2") && lines[2].contains("9f1c2e7d00aa") && lines[2].contains("alice"))

        let json = try shiplog(["events", "list", "--db", db, "--env", "production", "--format", "json"])
        let records = try JSONValue.parse(json.stdout).arrayValue ?? []
        #expect(records.count == 1)
        #expect(records[0]["event"]?["annotations"]?["team"] == .string("payments"))
        #expect(records[0]["event"]?["changes"]?.arrayValue?.first?["time"] == .string("2025-12-31T09:00:00Z"))
        #expect(records[0]["format"] == .string("cli"))

        let ndjson = try shiplog(["events", "list", "--db", db, "--format", "ndjson", "--limit", "1"])
        #expect(ndjson.stdout.split(separator: "\n").count == 1)

        let verify = try shiplog(["verify", "--db", db])
        #expect(verify.status == 0)
        #expect(verify.stdout.hasPrefix("ok: 2 rows verify"))
    }

    /// Commands that only read open the file read-only: they leave it byte for byte as it
    /// was, and a file an older shiplog wrote is not migrated by them (a write does that).
    @Test func readingCommandsNeverWriteTheLog() throws {
        for (id, env, minute) in [("r0", "dev", "00"), ("r1", "staging", "10"), ("r2", "production", "20")] {
            let r = try shiplog([
                "events", "record", "--db", db, "--id", id, "--type", "deployment.succeeded", "--service", "checkout",
                "--env", env, "--version", "1.0", "--time", "2026-01-01T10:\(minute):00Z",
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
        /// A file's content (an empty write-ahead log and none hold the same: nothing).
        func digest(_ path: String) -> String {
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)), !data.isEmpty else { return "nothing" }
            return data.base64EncodedString()
        }
        // A writing process folds its write-ahead log into the file as it closes: the read-only
        // processes after it do not each have to scan it.
        #expect(digest(db + "-wal") == "nothing", "the WAL is emptied when events record ends")
        let before = [db, db + "-wal"].map(digest)
        let reads: [[String]] = [
            ["events", "list", "--db", db], ["status", "--db", db], ["report", "--db", db, "--env", "production"],
            ["explain", "--db", db, "--service", "checkout", "--env", "production"],
            ["gate", "--db", db, "--service", "checkout", "--env", "production", "--version", "1.0"],
            ["events", "export", "--db", db], ["verify", "--db", db],
        ]
        for arguments in reads {
            let r = try shiplog(arguments)
            #expect(r.status == 0, "\(arguments.prefix(2).joined(separator: " ")): \(r.stderr)")
        }
        #expect([db, db + "-wal"].map(digest) == before, "not a byte written")

        // As if an older shiplog had written the file: its newest migration not yet applied.
        let newest = try runTool(["sqlite3", db, "SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!newest.isEmpty)
        #expect(try runTool(["sqlite3", db, "DELETE FROM grdb_migrations WHERE identifier = '\(newest)'"]).status == 0)
        let older = [db, db + "-wal"].map(digest)
        let status = try shiplog(["status", "--db", db])
        #expect(status.status != 0)
        #expect(status.stderr.contains("written by an older shiplog"), "\(status.stderr)")
        #expect([db, db + "-wal"].map(digest) == older, "a read does not migrate")
    }

    @Test func aBuildIsRecordedWithoutAnEnvironmentAndListedByType() throws {
        let build = try shiplog([
            "events", "record", "--db", db, "--type", "artifact.published", "--service", "checkout",
            "--artifact", "ghcr.io/acme/checkout@sha256:" + String(repeating: "c", count: 64), "--version", "1.4.2",
            "--commit", "9f1c2e7", "--commit-time", "2026-01-09T08:00:00Z", "--time", "2026-01-09T09:00:00Z",
        ])
        #expect(build.status == 0, "\(build.stderr)")
        #expect(
            try shiplog([
                "events", "record", "--db", db, "--type", "deployment.succeeded", "--service", "checkout", "--env", "production",
                "--artifact", "ghcr.io/acme/checkout@sha256:" + String(repeating: "c", count: 64), "--time", "2026-01-09T10:00:00Z",
            ]).status == 0
        )
        let listed = try shiplog(["events", "list", "--db", db, "--type", "artifact.published", "--format", "json"])
        let records = try JSONValue.parse(listed.stdout).arrayValue ?? []
        #expect(records.count == 1)
        #expect(records.first?["event"]?["environment"] == nil)
        #expect(records.first?["event"]?["commit"] == .string("9f1c2e7"))
        let table = try shiplog(["events", "list", "--db", db, "--type", "artifact.published"])
        #expect(table.stdout.contains("artifact.published") && table.stdout.contains("1.4.2"))
        // The production deployment names only the image: the report shows its lead time (1 h).
        let report = try shiplog(["report", "--db", db, "--window", "3650d", "--format", "json"])
        let row = try JSONValue.parse(report.stdout).arrayValue?.first
        #expect(row?["leadTimeMedianSeconds"]?.doubleValue == 7200, "\(report.stdout)")
        let bad = try shiplog(["events", "record", "--db", db, "--type", "artifact.published", "--service", "checkout", "--commit", "x"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("artifact or a version"), "\(bad.stderr)")
        #expect(rowCount(db) == 2)
    }

    @Test func databaseFromEnvironmentAndDefault() throws {
        let env = ["SHIPLOG_DB": db]
        #expect(try shiplog(["events", "record", "--type", "deployment.started", "--service", "a", "--env", "dev"], environment: env).status == 0)
        #expect(rowCount(db) == 1)
        // Default: ./shiplog.db in the working directory.
        let cwd = TemporaryDirectory()
        #expect(try shiplog(["events", "record", "--type", "deployment.started", "--service", "a", "--env", "dev"], in: cwd).status == 0)
        #expect(rowCount(cwd.path("shiplog.db")) == 1)
    }

    @Test func retriedRecordIsADuplicateAndChangedContentConflicts() throws {
        let args = [
            "events", "record", "--db", db, "--type", "deployment.succeeded", "--service", "a", "--env", "dev", "--id", "run-7", "--version", "1",
        ]
        #expect(try shiplog(args).stdout == "recorded event 1\n")
        let retry = try shiplog(args)
        #expect(retry.status == 0)
        #expect(retry.stdout == "duplicate of event 1 (nothing recorded)\n")
        var changed = args
        changed[changed.count - 1] = "2"
        let conflict = try shiplog(changed)
        #expect(conflict.status != 0)
        #expect(conflict.stderr.contains("id \"run-7\" is already recorded (sequence 1) with different content"))
        #expect(rowCount(db) == 1)
    }

    @Test func invalidRecordSaysWhatIsWrongAndWritesNothing() throws {
        let r = try shiplog([
            "events", "record", "--db", db, "--type", "deploy", "--service", "bad name", "--env", "dev",
            "--commit-time", "tuesday",
        ])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--type: unknown type \"deploy\""))
        #expect(r.stderr.contains("--service: \"bad name\" is not a valid name"))
        #expect(r.stderr.contains("--commit-time: \"tuesday\""))
        #expect(r.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: db), "nothing written, not even an empty database")

        let future = try shiplog([
            "events", "record", "--db", db, "--type", "deployment.started", "--service", "a", "--env", "dev",
            "--time", "2100-01-01T00:00:00Z",
        ])
        #expect(future.status != 0)
        #expect(future.stderr.contains("more than 5 minutes in the future"))
    }

    @Test func listFiltersAndErrors() throws {
        let file = dir.write("events.ndjson", ndjson(120, prefix: "f") + ndjson(30, prefix: "g", env: "dev"))
        #expect(try shiplog(["events", "import", "--db", db, file]).status == 0)
        let prod = try shiplog(["events", "list", "--db", db, "--env", "production", "--limit", "500", "--format", "ndjson"])
        #expect(prod.stdout.split(separator: "\n").count == 120)
        let limited = try shiplog(["events", "list", "--db", db, "--limit", "5", "--format", "ndjson"])
        #expect(limited.stdout.split(separator: "\n").count == 5)
        let svc = try shiplog(["events", "list", "--db", db, "--service", "svc3", "--env", "dev", "--format", "ndjson"])
        #expect(svc.stdout.split(separator: "\n").count == 4)  // g3, g10, g17, g24
        let window = try shiplog([
            "events", "list", "--db", db, "--env", "production", "--since", "2026-01-01T01:00:00Z",
            "--until", "2026-01-01T01:30:00Z", "--format", "ndjson",
        ])
        #expect(window.stdout.split(separator: "\n").count == 30)
        let recent = try shiplog(["events", "list", "--db", db, "--since", "7d"])
        #expect(recent.status == 0)
        #expect(recent.stderr.contains("no events match"))

        let bad = try shiplog(["events", "list", "--db", db, "--since", "last tuesday"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--since last tuesday"))
        let badType = try shiplog(["events", "list", "--db", db, "--type", "deploy"])
        #expect(badType.status != 0)
        let missing = try shiplog(["events", "list", "--db", dir.path("nope.db")])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no event log at"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("nope.db")))
    }

    @Test func importValidatesEverythingFirst() throws {
        var lines = ndjson(50, prefix: "ok").split(separator: "\n").map(String.init)
        lines.insert(#"{"type":"deployment.succeeded","service":"a"}"#, at: 10)
        lines.insert("", at: 20)
        lines.insert("{not json", at: 30)
        let file = dir.write("bad.ndjson", lines.joined(separator: "\n"))
        let r = try shiplog(["events", "import", "--db", db, file])
        #expect(r.status != 0)
        #expect(r.stderr.contains("line 11: environment: required"))
        #expect(r.stderr.contains("line 31: : invalid JSON"))
        #expect(r.stderr.contains("nothing was written"))
        #expect(!FileManager.default.fileExists(atPath: db) || rowCount(db) == 0)
    }

    @Test func importIsRepeatableAndReadsStandardInput() throws {
        let text = ndjson(200, prefix: "s")
        let first = try shiplog(["events", "import", "--db", db, "-"], stdin: text)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("imported 200 events (200 new, 0 duplicates)"))
        let again = try shiplog(["events", "import", "--db", db, "-"], stdin: text)
        #expect(again.stdout.contains("(0 new, 200 duplicates)"))
        #expect(rowCount(db) == 200)
        // A changed line that reuses an id is a conflict; nothing of the file is written.
        let changed =
            ndjson(3, prefix: "new") + #"{"id":"s5","type":"deployment.failed","service":"x","environment":"dev","time":"2026-01-01T00:00:00Z"}"#
            + "\n"
        let conflict = try shiplog(["events", "import", "--db", db, "-"], stdin: changed)
        #expect(conflict.status != 0)
        #expect(conflict.stderr.contains("line 4: id \"s5\" is already recorded"))
        #expect(rowCount(db) == 200)
        let inFile = try shiplog(["events", "import", "--db", db, "-"], stdin: ndjson(2, prefix: "d") + ndjson(1, prefix: "d", env: "dev"))
        #expect(inFile.status != 0)
        #expect(inFile.stderr.contains("line 3: id \"d0\" was used on line 1 with different content"))
        #expect(try shiplog(["verify", "--db", db]).status == 0)
    }

    @Test func importChecksTheWholeInputBeforeItsFirstWrite() throws {
        // The input is checked 10,000 lines at a time: what a later batch holds still stops it all.
        let failed = #""type":"deployment.failed","service":"x","environment":"dev","time":"2026-01-01T00:00:00Z"}"#
        var lines = ndjson(25_000, prefix: "b").split(separator: "\n").map(String.init)
        lines[23_999] = #"{"id":"b1","# + failed
        let inFile = try shiplog(["events", "import", "--db", db, dir.write("dup.ndjson", lines.joined(separator: "\n"))])
        #expect(inFile.status != 0)
        #expect(inFile.stderr.contains(#"line 24000: id "b1" was used on line 2 with different content; nothing was written"#), "\(inFile.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db), "a log that did not exist is not created")

        #expect(try shiplog(["events", "import", "--db", db, "-"], stdin: ndjson(10, prefix: "b")).status == 0)
        var later = ndjson(25_000, prefix: "c").split(separator: "\n").map(String.init)
        later[21_000] = #"{"id":"b3","# + failed
        let stored = try shiplog(["events", "import", "--db", db, dir.write("stored.ndjson", later.joined(separator: "\n"))])
        #expect(stored.status != 0)
        #expect(stored.stderr.contains(#"line 21001: id "b3" is already recorded (sequence 4) with different content"#), "\(stored.stderr)")
        #expect(rowCount(db) == 10)

        var invalid = ndjson(25_000, prefix: "i").split(separator: "\n").map(String.init)
        invalid[24_999] = #"{"id":"i-bad","type":"deployment.succeeded"}"#
        let bad = try shiplog(["events", "import", "--db", db, dir.write("invalid.ndjson", invalid.joined(separator: "\n"))])
        #expect(bad.stderr.contains("line 25000: service: required"), "\(bad.stderr)")
        #expect(rowCount(db) == 10)

        // A line past the bound is refused by its number, without holding it whole.
        let long = dir.write(
            "long.ndjson",
            ndjson(3, prefix: "l") + #"{"id":"l9","type":"deployment.succeeded","service":"a","environment":"dev","version":""#
                + String(repeating: "x", count: 5 << 20) + "\"}\n" + ndjson(3, prefix: "m")
        )
        let tooLong = try shiplog(["events", "import", "--db", db, long])
        #expect(tooLong.status != 0)
        #expect(tooLong.stderr.contains("line 4: longer than 4194304 bytes (one event per line); nothing was written"), "\(tooLong.stderr)")
        #expect(rowCount(db) == 10)
    }

    @Test func importReadsAPipeTwice() throws {
        // Standard input from a pipe is kept in a temporary file for the second pass. Blank
        // lines count in line numbers; the last line needs no newline.
        let file = dir.write("piped.ndjson", "\n" + ndjson(25_000, prefix: "p") + "\n\n" + ndjson(1, prefix: "q").dropLast())
        let piped = try runProgram("/bin/sh", ["-c", "cat \"$1\" | \"$2\" events import --db \"$3\" -", "sh", file, shiplogBinary, db])
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout.contains("imported 25001 events (25001 new, 0 duplicates)"), "\(piped.stdout)")
        #expect(rowCount(db) == 25_001)
        #expect(sqlite3(db, "SELECT event_id FROM events WHERE seq = 25001").output == "q0\n")
        let again = try runProgram("/bin/sh", ["-c", "cat \"$1\" | \"$2\" events import --db \"$3\" -", "sh", file, shiplogBinary, db])
        #expect(again.stdout.contains("(0 new, 25001 duplicates)"), "\(again.stdout)")
        let broken = try runProgram(
            "/bin/sh",
            ["-c", "{ cat \"$1\"; echo; echo '{oops'; } | \"$2\" events import --db \"$3\" -", "sh", file, shiplogBinary, db]
        )
        #expect(broken.stderr.contains("line 25005: : invalid JSON"), "\(broken.stderr)")
        #expect(rowCount(db) == 25_001)
    }

    @Test func importShowsProgressOnATerminalOnly() throws {
        // Under a pseudo-terminal (util-linux `script`), each pass draws its bar to the end;
        // with standard error redirected, nothing but the result is written.
        let script = "/usr/bin/script"
        #expect(FileManager.default.isExecutableFile(atPath: script), "needs \(script) (Debian package bsdutils)")
        let file = dir.write("progress.ndjson", ndjson(25_000, prefix: "t"))
        let command = "\"\(shiplogBinary)\" events import --db \"\(db)\" \"\(file)\""
        let onTerminal = try runProgram(script, ["-qec", command, "/dev/null"])
        #expect(onTerminal.status == 0, "\(onTerminal.stdout) \(onTerminal.stderr)")
        let drawn = onTerminal.stdout.split(whereSeparator: \.isNewline).map(String.init)
        let checking = drawn.filter { $0.hasPrefix("checking ") }
        #expect(checking.count >= 2 && checking.last?.hasSuffix(" 100%") == true, "\(checking)")
        #expect(drawn.contains { $0.hasPrefix("importing ") && $0.hasSuffix(" 100% 25000/25000") }, "\(drawn.suffix(6))")
        #expect(drawn.contains { $0.hasPrefix("imported 25000 events (25000 new, 0 duplicates)") })

        let redirected = try shiplog(["events", "import", "--db", db, file])
        #expect(redirected.status == 0)
        #expect(redirected.stderr.isEmpty, "no progress without a terminal: \(redirected.stderr)")
        #expect(redirected.stdout.contains("imported 25000 events (0 new, 25000 duplicates)"), "\(redirected.stdout)")
    }

    /// A local `status` or `report` that had to apply many events leaves a snapshot beside
    /// the file, so the next one applies only what came after it; the figures are the same
    /// either way and the log itself is never written.
    @Test func localFiguresRefreshTheSnapshotAfterALongReplay() throws {
        let file = dir.write("many.ndjson", ndjson(12_000, prefix: "s"))
        #expect(try shiplog(["events", "import", "--db", db, file]).status == 0)
        let snapshot = db + ".snapshot"
        #expect(!FileManager.default.fileExists(atPath: snapshot))
        let logBefore = try Data(contentsOf: URL(fileURLWithPath: db))

        let replayed = try shiplog(["status", "--db", db, "--format", "json"])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(FileManager.default.fileExists(atPath: snapshot), "12,000 events applied: the snapshot is saved")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == logBefore, "the log is not written")
        let saved = try Data(contentsOf: URL(fileURLWithPath: snapshot))

        // From the snapshot: the same answer, and a snapshot that fits is left as it is.
        let restored = try shiplog(["status", "--db", db, "--format", "json"])
        #expect(restored.stdout == replayed.stdout)
        #expect(try Data(contentsOf: URL(fileURLWithPath: snapshot)) == saved)
        let report = ["report", "--db", db, "--window", "3650d", "--format", "json"]
        let fromSnapshot = try shiplog(report)
        try FileManager.default.removeItem(atPath: snapshot)
        let fromReplay = try shiplog(report)
        #expect(fromSnapshot.status == 0 && fromReplay.status == 0, "\(fromSnapshot.stderr) \(fromReplay.stderr)")
        #expect(fromSnapshot.stdout == fromReplay.stdout)
        #expect(fromReplay.stdout.contains("\"service\":\"svc0\""), "\(fromReplay.stdout.prefix(300))")

        // A few events after it are applied on top, without a new snapshot.
        let more = dir.write("more.ndjson", ndjson(10, prefix: "t", env: "staging"))
        #expect(try shiplog(["events", "import", "--db", db, more]).status == 0)
        let refreshed = try Data(contentsOf: URL(fileURLWithPath: snapshot))
        let withMore = try shiplog(["status", "--db", db, "--format", "json"])
        #expect(withMore.stdout.contains("\"environment\":\"staging\""), "\(withMore.stdout.prefix(300))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: snapshot)) == refreshed)
    }

    @Test func importHoldsABatchNotTheWholeInput() throws {
        // Peak memory grows with a transaction, not with the input: 100,000 events in
        // transactions of 2,000 stay far below what holding them all takes (about 2 KiB each).
        let file = dir.write("big.ndjson", ndjson(100_000, prefix: "m"))
        let r = try runProgram(
            "/usr/bin/time",
            ["-f", "peak %M KB", shiplogBinary, "events", "import", "--db", db, "--transaction-size", "2000", file]
        )
        #expect(r.status == 0, "\(r.stderr) (needs GNU time at /usr/bin/time, Debian package time)")
        let peak = r.stderr.split(separator: "\n").last.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) }
        #expect(peak.map { $0 < 120_000 } == true, "peak RSS \(peak.map { "\($0) KB" } ?? r.stderr)")
        #expect(rowCount(db) == 100_000)
    }

    @Test func twoProcessesImportingAtOnceLoseNothing() throws {
        let a = dir.write("a.ndjson", ndjson(20_000, prefix: "a"))
        let b = dir.write("b.ndjson", ndjson(20_000, prefix: "b"))
        // Small transactions make the two writers interleave on the file's write lock.
        let processes = [a, b].map { file -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: shiplogBinary)
            p.arguments = ["events", "import", "--db", db, "--transaction-size", "500", file]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            return p
        }
        _ = try shiplog(["events", "record", "--db", db, "--type", "deployment.started", "--service", "x", "--env", "dev"])
        for p in processes { try p.run() }
        for p in processes { p.waitUntilExit() }
        #expect(processes.map(\.terminationStatus) == [0, 0])
        #expect(rowCount(db) == 40_001)
        let verify = try shiplog(["verify", "--db", db])
        #expect(verify.status == 0, "\(verify.stderr)")
        // Sequences are dense: 1…40001.
        #expect(sqlite3(db, "SELECT min(seq), max(seq) FROM events").output == "1|40001\n")
    }

    @Test func verifyNamesTheFirstBrokenRowAndFails() throws {
        #expect(try shiplog(["events", "import", "--db", db, dir.write("e.ndjson", ndjson(10, prefix: "v"))]).status == 0)
        #expect(try shiplog(["verify", "--db", db]).status == 0)
        _ = sqlite3(db, "DROP TRIGGER events_refuse_update; UPDATE events SET event = replace(event, '1.6', '6.6') WHERE seq = 7;")
        let r = try shiplog(["verify", "--db", db])
        #expect(r.status == 1)
        #expect(r.stderr.contains("broken at row 7"))
        #expect(r.stderr.contains("schema: trigger events_refuse_update is missing"))
    }

    @Test func recordFromAKubernetesDeployment() throws {
        let deployment = """
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "checkout-api", "namespace": "shop", "labels": {"app.kubernetes.io/name": "checkout"},
                          "annotations": {"deployment.kubernetes.io/revision": "7", "kubernetes.io/change-cause": "bump to 1.4.2"}},
             "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "ghcr.io/acme/checkout:1.4.2"}]}}}}
            """
        let r = try shiplog(["events", "record", "--db", db, "--from-kubernetes", "-", "--env", "production", "--actor", "argo"], stdin: deployment)
        #expect(r.status == 0, "\(r.stderr)")
        let record = try JSONValue.parse(try shiplog(["events", "list", "--db", db, "--format", "json"]).stdout).arrayValue?.first
        let event = record?["event"]
        #expect(record?["format"] == .string("kubernetes"))
        #expect(event?["type"] == .string("deployment.succeeded"))
        #expect(event?["service"] == .string("checkout"))
        #expect(event?["environment"] == .string("production"))
        #expect(event?["namespace"] == .string("shop"))
        #expect(event?["workload"] == .string("checkout-api"))
        #expect(event?["revision"] == .string("7"))
        #expect(event?["changeCause"] == .string("bump to 1.4.2"))
        #expect(event?["version"] == .string("1.4.2"))
        #expect(event?["actor"] == .string("argo"))
        #expect(sqlite3(db, "SELECT raw FROM events").output.contains("\"kind\": \"Deployment\""), "the Deployment is kept as the raw body")

        let noEnv = try shiplog(["events", "record", "--db", db, "--from-kubernetes", "-"], stdin: deployment)
        #expect(noEnv.status != 0)
        #expect(noEnv.stderr.contains("--env: required"))
        let notADeployment = try shiplog(
            ["events", "record", "--db", db, "--env", "dev", "--from-kubernetes", "-"],
            stdin: #"{"kind":"Pod","metadata":{"name":"x"}}"#
        )
        #expect(notADeployment.status != 0)
        #expect(notADeployment.stderr.contains("expected kind Deployment, not Pod"))
        #expect(rowCount(db) == 1)
    }

    /// A backup taken while a server keeps writing: the copy holds a prefix of the log (the
    /// same rows, the same hash at its last row), verifies on its own, and was never visible
    /// half-written under its name.
    @Test func backupWhileAServerWrites() async throws {
        let server = try ServerProcess(db: db)
        let url = server.baseURL + "/api/v1/events"
        #expect(try await http("POST", url, body: ndjson(50, prefix: "before-"), contentType: "application/x-ndjson").status == 201)
        let writer = Task {
            for batch in 0..<20 {
                _ = try await http("POST", url, body: ndjson(25, prefix: "during-\(batch)-"), contentType: "application/x-ndjson")
            }
        }
        let copy = dir.path("backup.db")
        let backup = try shiplog(["backup", "--db", db, copy])
        try await writer.value
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(server.stop(SIGTERM) == 0)

        let copied = rowCount(copy)
        #expect(copied >= 50 && copied <= rowCount(db))
        #expect(rowCount(db) == 550)
        #expect(!FileManager.default.fileExists(atPath: copy + ".partial"))
        let sameRows = "SELECT group_concat(event_id || ':' || hex(hash), ',') FROM (SELECT * FROM events WHERE seq <= \(copied) ORDER BY seq)"
        #expect(sqlite3(copy, sameRows).output == sqlite3(db, sameRows).output)
        let head = sqlite3(db, "SELECT lower(hex(hash)) FROM events WHERE seq = \(copied)").output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(backup.stdout == "backed up \(copied) events to \(copy); the copy verifies; head hash \(head)\n")
        let verify = try shiplog(["verify", "--db", copy])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("ok: \(copied) rows verify"))
        // Restored: a server on the copy starts and holds exactly its rows.
        let restored = try ServerProcess(db: copy)
        #expect(try await http("GET", restored.baseURL + "/readyz").body["lastSequence"] == .number(String(copied)))
        #expect(restored.stop(SIGTERM) == 0)

        // Never over an existing file, never from a server, never from nothing.
        let again = try shiplog(["backup", "--db", db, copy])
        #expect(again.status != 0)
        #expect(again.stderr.contains("the file exists; choose a new name"))
        #expect(rowCount(copy) == copied)
        let remote = try shiplog(["backup", dir.path("remote.db")], environment: ["SHIPLOG_SERVER": "http://127.0.0.1:9"])
        #expect(remote.status != 0)
        #expect(remote.stderr.contains("backup copies a local database"))
        let missing = try shiplog(["backup", "--db", dir.path("none.db"), dir.path("never.db")])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no event log at"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("never.db")))
        #expect(!FileManager.default.fileExists(atPath: dir.path("remote.db")))
    }

    @Test func helpIsEverywhere() throws {
        for args in [
            ["--help"], ["events", "--help"], ["events", "list", "--help"], ["events", "record", "--help"],
            ["events", "import", "--help"], ["verify", "--help"], ["serve", "--help"], ["backup", "--help"],
        ] {
            let r = try shiplog(args)
            #expect(r.status == 0)
            #expect(r.stdout.contains("USAGE"))
        }
        let completion = try shiplog(["--generate-completion-script", "bash"])
        #expect(completion.stdout.contains("_shiplog"))
    }
}

/// A child appending in a loop is killed with SIGKILL again and again; every append it
/// reported as done must be in the log, and the chain must verify.
@Suite struct CrashTests {
    @Test func everyAcknowledgedAppendSurvivesSIGKILL() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("crash.db")
        let acked = dir.path("acked")
        _ = FileManager.default.createFile(atPath: acked, contents: nil)
        var next = 0
        for round in 0..<12 {
            // Each round: a shell loop records events and writes each id after shiplog acknowledged it.
            let script = """
                i=\(next)
                while true; do
                  "$SHIPLOG" events record --db "$DB" --type deployment.succeeded --service crash --env prod --id "k$i" --version "$i" >/dev/null 2>&1 && echo "k$i" >> "$ACKED"
                  i=$((i+1))
                done
                """
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", script]
            p.environment = ["SHIPLOG": shiplogBinary, "DB": db, "ACKED": acked, "PATH": "/usr/bin:/bin"]
            try p.run()
            // At least one acknowledgement per round (however slow the machine), then a kill
            // at a varying moment of a later append.
            let before = lines(acked)
            let deadline = Date().addingTimeInterval(30)
            while lines(acked) == before, Date() < deadline { usleep(10_000) }
            try #require(lines(acked) > before, "round \(round): the loop made no progress in 30 s")
            usleep(UInt32(50_000 + (round * 37_000) % 250_000))
            // SIGKILL the shiplog child mid-append, then the loop, then any child it started meanwhile.
            killMatching(db)
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            killMatching(db)
            next += 1000
        }
        let acknowledged = Set(((try? String(contentsOfFile: acked, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init))
        #expect(acknowledged.count >= 12, "every round made progress")
        let stored = storedIDs(db)
        #expect(acknowledged.subtracting(stored).isEmpty, "acknowledged but lost: \(acknowledged.subtracting(stored).sorted())")
        let verify = try shiplog(["verify", "--db", db])
        #expect(verify.status == 0, "\(verify.stderr)")
    }
}

/// The number of lines in a file (0 when it cannot be read).
func lines(_ path: String) -> Int {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
}

/// SIGKILLs every process whose command line mentions `pattern` and waits for pkill.
func killMatching(_ pattern: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
    p.arguments = ["-KILL", "-f", pattern]
    try? p.run()
    p.waitUntilExit()
}

/// Two processes that create the same new database at once both succeed (one of them would
/// otherwise meet the other's switch to WAL mode: "database is locked").
@Suite struct ConcurrentCreationTests {
    @Test func twoRecordsOnANewDatabaseBothSucceed() async throws {
        let dir = TemporaryDirectory()
        let (failures, rows) = try await offThread { () throws -> ([String], [Int]) in
            var failures: [String] = []
            var rows: [Int] = []
            for round in 1...40 {
                let db = dir.path("new-\(round).db")
                let processes = ["a", "b"].map { k in
                    let p = Process()
                    p.executableURL = URL(fileURLWithPath: shiplogBinary)
                    p.arguments = [
                        "events", "record", "--db", db, "--type", "deployment.succeeded", "--service", "s", "--env", "prod",
                        "--id", "\(round)-\(k)", "--version", "1",
                    ]
                    p.standardOutput = FileHandle.nullDevice
                    p.standardError = FileHandle(forWritingAtPath: dir.write("err-\(round)-\(k)", ""))
                    return (k, p)
                }
                for (_, p) in processes { try p.run() }
                for (k, p) in processes {
                    p.waitUntilExit()
                    if p.terminationStatus != 0 {
                        failures.append(
                            "round \(round) \(k): " + ((try? String(contentsOfFile: dir.path("err-\(round)-\(k)"), encoding: .utf8)) ?? "")
                        )
                    }
                }
                rows.append(rowCount(db))
            }
            return (failures, rows)
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(rows == Array(repeating: 2, count: 40), "rows per round")
    }
}
