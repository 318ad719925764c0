import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

@testable import ShiplogStore

@Suite struct IntegrityTests {
    let dir = TemporaryDirectory()

    func filledLog(_ count: Int = 5) async throws -> (SQLiteEventLog, String) {
        let path = dir.path("log.db")
        let log = try SQLiteEventLog(path: path)
        for i in 1...count { _ = try await log.append([makeEvent("e\(i)", minute: i, version: "v\(i)")]) }
        return (log, path)
    }

    @Test func updateAndDeleteAreRefusedByTheSchema() async throws {
        let (_, path) = try await filledLog()
        let update = sqlite3(path, "UPDATE events SET service = 'evil' WHERE seq = 2;")
        #expect(update.status != 0)
        #expect(update.output.contains("append-only; UPDATE is refused"))
        let delete = sqlite3(path, "DELETE FROM events WHERE seq = 2;")
        #expect(delete.status != 0)
        #expect(delete.output.contains("append-only; DELETE is refused"))
        #expect(sqlite3(path, "SELECT count(*), max(service) FROM events;").output == "5|api\n")
    }

    @Test func verifyNamesTheFirstChangedRow() async throws {
        let (log, path) = try await filledLog()
        let tamper = sqlite3(
            path,
            """
            DROP TRIGGER events_refuse_update;
            UPDATE events SET event = replace(event, '"v3"', '"v9"') WHERE seq = 3;
            UPDATE events SET event = replace(event, '"v4"', '"v8"') WHERE seq = 4;
            """
        )
        #expect(tamper.status == 0, "\(tamper.output)")
        let report = try await log.verify()
        #expect(report.brokenSequence == 3)
        #expect(report.rowsChecked == 2)
        #expect(report.schemaProblems == ["trigger events_refuse_update is missing: the log is not append-only"])
    }

    @Test func verifyCatchesARehashedRowThroughTheNextLink() async throws {
        // An attacker who rewrites row 2 and recomputes its hash still breaks row 3's link.
        let (log, path) = try await filledLog()
        let rows = try await log.events(after: 0, limit: 10)
        var forged = rows[1].event
        forged.version = "forged"
        let prev = bytes(hex: column(path, "hex(hash)", row: 1))
        let newHash = hex(HashChain.hash(previous: prev, canonical: forged.canonicalJSON, envelope: envelope(path, row: 2)))
        let escaped = forged.canonicalJSON.replacingOccurrences(of: "'", with: "''")
        let tamper = sqlite3(
            path,
            """
            DROP TRIGGER events_refuse_update;
            UPDATE events SET event = '\(escaped)', hash = X'\(newHash)' WHERE seq = 2;
            """
        )
        #expect(tamper.status == 0, "\(tamper.output)")
        let report = try await log.verify()
        #expect(report.brokenSequence == 3)
    }

    func column(_ path: String, _ expression: String, row: Int) -> String {
        sqlite3(path, "SELECT \(expression) FROM events WHERE seq = \(row);").output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func bytes(hex text: String) -> [UInt8] {
        let chars = Array(text.utf8)
        return stride(from: 0, to: chars.count, by: 2).map { UInt8(String(decoding: chars[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    /// A row's envelope as stored, read with the sqlite3 shell.
    func envelope(_ path: String, row: Int) -> HashChain.Envelope {
        HashChain.Envelope(
            receivedNs: Int64(column(path, "received_ns", row: row))!,
            format: column(path, "format", row: row),
            contentDigest: column(path, "content_digest", row: row),
            raw: bytes(hex: column(path, "hex(raw)", row: row))
        )
    }

    /// Every stored column is covered: the receive time, format, content digest (which a
    /// retry compares) and raw body cannot change unseen either.
    @Test(arguments: [
        "received_ns = received_ns + 1", "format = 'cli'", "content_digest = '\(String(repeating: "0", count: 64))'",
        "raw = X'7B7D'",
    ])
    func verifyCatchesAChangeToAnyColumn(_ change: String) async throws {
        let (log, path) = try await filledLog()
        let tamper = sqlite3(path, "DROP TRIGGER events_refuse_update; UPDATE events SET \(change) WHERE seq = 3;")
        #expect(tamper.status == 0, "\(tamper.output)")
        let report = try await log.verify()
        #expect(report.brokenSequence == 3, "\(change)")
    }

    /// Rewriting a row as the older chain version (which covers less) is refused.
    @Test func verifyRefusesAnOlderChainAfterANewerOne() async throws {
        let (log, path) = try await filledLog()
        let prev = bytes(hex: column(path, "hex(hash)", row: 2))
        let v1 = hex(HashChain.hash(previous: prev, canonical: column(path, "event", row: 3), envelope: nil))
        _ = sqlite3(path, "DROP TRIGGER events_refuse_update; UPDATE events SET chain = 1, raw = X'7B7D', hash = X'\(v1)' WHERE seq = 3;")
        let report = try await log.verify()
        #expect(report.brokenSequence == 3)
        #expect(report.brokenReason?.contains("chain version 1 after rows of version 2") == true, "\(report.brokenReason ?? "")")
    }

    /// The append-only guards are checked statement for statement, not by name.
    @Test(arguments: [
        "CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events WHEN 0 BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only; UPDATE is refused'); END;",
        "CREATE TRIGGER events_refuse_update BEFORE UPDATE OF seq ON events BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only; UPDATE is refused'); END;",
    ])
    func verifyRefusesAWeakenedTrigger(_ replacement: String) async throws {
        let (log, path) = try await filledLog()
        #expect(sqlite3(path, "DROP TRIGGER events_refuse_update; \(replacement)").status == 0)
        let report = try await log.verify()
        #expect(report.schemaProblems.count == 1)
        #expect(report.schemaProblems.first?.contains("events_refuse_update was altered") == true, "\(report.schemaProblems)")
        #expect(sqlite3(path, "UPDATE events SET service = 'evil' WHERE seq = 2;").status == 0, "the weakened trigger lets the change through")
    }

    @Test func verifyRefusesATriggerThatIsNotShiplogs() async throws {
        let (log, path) = try await filledLog()
        #expect(sqlite3(path, "CREATE TRIGGER events_sneak AFTER INSERT ON events BEGIN SELECT 1; END;").status == 0)
        #expect(try await log.verify().schemaProblems == ["trigger events_sneak on events is not shiplog's"])
    }

    /// A pinned head reveals what a valid shorter chain hides.
    @Test func aPinnedHeadRevealsACutTail() async throws {
        let (log, path) = try await filledLog()
        let intact = try SQLiteEventLog.verifyFile(path: path)
        let head = try #require(intact.head)
        #expect(head.sequence == 5 && head.hash == column(path, "lower(hex(hash))", row: 5))
        #expect(try SQLiteEventLog.verifyFile(path: path, head: head).isIntact)
        try log.close()
        _ = sqlite3(path, "DROP TRIGGER events_refuse_delete; DELETE FROM events WHERE seq >= 4; " + Schema.appendOnlyTriggers[1].sql + ";")
        #expect(try SQLiteEventLog.verifyFile(path: path).isIntact, "without a pin, a prefix verifies")
        let cut = try SQLiteEventLog.verifyFile(path: path, head: head)
        #expect(cut.brokenSequence == 5)
        #expect(cut.brokenReason?.contains("ends at row 3") == true, "\(cut.brokenReason ?? "")")
        let other = try SQLiteEventLog.verifyFile(path: path, head: (3, String(repeating: "a", count: 64)))
        #expect(other.brokenReason?.contains("not the pinned") == true)
    }

    /// verify reads a file it does not know without changing a byte of it.
    @Test func verifyRefusesAFileThatIsNotAnEventLogAndChangesNothing() throws {
        let path = dir.path("other.db")
        #expect(sqlite3(path, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello');").status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: StoreError.self) { try SQLiteEventLog.verifyFile(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(sqlite3(path, "PRAGMA journal_mode;").output == "delete\n")
    }

    @Test func verifyCatchesIndexedColumnsThatDisagreeWithTheEvent() async throws {
        let (log, path) = try await filledLog()
        _ = sqlite3(path, "DROP TRIGGER events_refuse_update; UPDATE events SET environment = 'staging' WHERE seq = 4;")
        #expect(try await log.verify().brokenSequence == 4)
    }

    @Test func verifyCatchesADeletedRow() async throws {
        let (log, path) = try await filledLog()
        _ = sqlite3(path, "DROP TRIGGER events_refuse_delete; DELETE FROM events WHERE seq = 2;")
        let report = try await log.verify()
        #expect(report.brokenSequence == 3)
        #expect(report.brokenReason?.contains("missing") == true)
    }

    @Test func aNewerDatabaseIsRefusedClearly() async throws {
        let (log, path) = try await filledLog()
        try log.close()
        #expect(sqlite3(path, "INSERT INTO grdb_migrations VALUES ('v9-from-the-future');").status == 0)
        do {
            _ = try SQLiteEventLog(path: path)
            Issue.record("opened a newer database")
        } catch let error as StoreError {
            #expect("\(error)".contains("written by a newer shiplog"))
            #expect("\(error)".contains("v9-from-the-future"))
        }
    }

    @Test func mustExistRefusesAMissingFile() {
        #expect(throws: StoreError.self) { try SQLiteEventLog(path: dir.path("nope.db"), options: .init(mustExist: true)) }
        #expect(!FileManager.default.fileExists(atPath: dir.path("nope.db")))
    }

    @Test func walAndFullSyncAreOn() async throws {
        let (_, path) = try await filledLog(1)
        #expect(sqlite3(path, "PRAGMA journal_mode;").output == "wal\n")
    }
}
