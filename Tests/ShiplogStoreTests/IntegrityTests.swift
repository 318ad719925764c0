import Foundation
import Testing
import ShiplogModel
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
        let tamper = sqlite3(path, """
            DROP TRIGGER events_refuse_update;
            UPDATE events SET event = replace(event, '"v3"', '"v9"') WHERE seq = 3;
            UPDATE events SET event = replace(event, '"v4"', '"v8"') WHERE seq = 4;
            """)
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
        let row1Hash = sqlite3(path, "SELECT hex(hash) FROM events WHERE seq = 1;").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let prev = stride(from: 0, to: row1Hash.count, by: 2).map { i -> UInt8 in
            let s = row1Hash.index(row1Hash.startIndex, offsetBy: i)
            return UInt8(row1Hash[s..<row1Hash.index(s, offsetBy: 2)], radix: 16)!
        }
        let newHash = hex(SQLiteEventLog.chainHash(previous: prev, canonical: forged.canonicalJSON))
        let escaped = forged.canonicalJSON.replacingOccurrences(of: "'", with: "''")
        let tamper = sqlite3(path, """
            DROP TRIGGER events_refuse_update;
            UPDATE events SET event = '\(escaped)', hash = X'\(newHash)' WHERE seq = 2;
            """)
        #expect(tamper.status == 0, "\(tamper.output)")
        let report = try await log.verify()
        #expect(report.brokenSequence == 3)
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
