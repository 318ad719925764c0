import Foundation
import GRDB
import ShiplogModel
import ShiplogTestSupport
import Testing

@testable import ShiplogStore

@Suite struct AppendTests {
    let dir = TemporaryDirectory()

    /// Besides the normalized event (the contract suite), the row keeps the body it came from.
    @Test func theRawBodyIsKeptByteForByte() async throws {
        let log = try SQLiteEventLog(path: dir.path("a.db"))
        var event = makeEvent("e1", version: "1")
        event.raw = Array(#"{ "id": "e1",  "type": "deployment.succeeded", "extra": [1, 2] }"#.utf8)
        _ = try await log.append([event])
        let raw = sqlite3(dir.path("a.db"), "SELECT raw FROM events WHERE seq = 1").output
        #expect(raw == String(decoding: event.raw, as: UTF8.self) + "\n")
    }

    /// Commits do not wait for the disk (`synchronous = NORMAL`, also after reopening), so the
    /// acknowledgement must: an append returns only after a sync of the WAL that began after
    /// its commit. Here the sync is held back: the row is committed (readers see it), the
    /// append stays unanswered until the sync is let through.
    @Test func acknowledgedOnlyAfterTheWALIsSynced() async throws {
        let gate = DispatchSemaphore(value: 0)
        let syncing = DispatchSemaphore(value: 0)
        var options = SQLiteEventLog.Options()
        options.syncFile = { fd in
            syncing.signal()
            gate.wait()
            return fdatasync(fd)
        }
        let log = try SQLiteEventLog(path: dir.path("a.db"), options: options)
        #expect(try log.synchronousMode() == 1)
        let answered = Flag()
        let append = Task {
            let outcome = try await log.append([makeEvent("e1")])
            answered.set()
            return outcome
        }
        await waitOn(syncing)
        #expect(try await log.lastSequence() == 1, "committed before the sync")
        try await Task.sleep(for: .milliseconds(200))
        #expect(!answered.isSet, "answered before the WAL was synced")
        #expect(log.walSyncs == 0)
        gate.signal()
        #expect(try await append.value == [.created(1)])
        #expect(log.walSyncs == 1)
        try log.close()
        let reopened = try SQLiteEventLog(path: dir.path("a.db"))
        #expect(try reopened.synchronousMode() == 1)
    }

    /// A failed sync may have lost the dirty pages, and retrying it could report success for
    /// data that is gone: the append fails, and so does every later one, without writing.
    /// Another process holding the write lock past the busy timeout: the append fails with
    /// an error that says so (the server answers it 503, retry later), writes nothing, and
    /// the next append after the lock is released succeeds. An import says the same.
    @Test func aWriteLockHeldTooLongIsExplained() async throws {
        let path = dir.path("a.db")
        let log = try SQLiteEventLog(path: path, options: .init(busyTimeout: 0.2))
        _ = try await log.append([makeEvent("l1")])
        let other = try lockHolder(path)
        try await other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        await #expect {
            try await log.append([makeEvent("l2", minute: 1)])
        } throws: { error in
            guard case StoreError.locked(_, let seconds) = error else { return false }
            return seconds == 0.2 && "\(error)".contains("held the write lock")
        }
        #expect(throws: StoreError.self) { try log.importEventsNow([makeEvent("l3", minute: 2)]) }
        try await other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        #expect(try await log.append([makeEvent("l2", minute: 1)]) == [.created(2)])
        #expect(try await log.lastSequence() == 2)
    }

    /// A connection of "another process" that may keep a transaction open between accesses.
    func lockHolder(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// An import that fails after some transactions says how far it got.
    @Test func anImportStoppedPartWaySaysHowFarItGot() throws {
        let path = dir.path("a.db")
        let log = try SQLiteEventLog(path: path, options: .init(busyTimeout: 0.2))
        let events = (0..<4).map { makeEvent("i\($0)", minute: $0) }
        let other = try lockHolder(path)
        var transactions = 0
        #expect {
            _ = try log.importEventsNow(events, transactionSize: 2) { _ in
                transactions += 1
                // After the first transaction, another process takes the write lock.
                try? other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            }
        } throws: { error in
            guard case StoreError.importStopped(2, 4, StoreError.locked) = error else { return false }
            return "\(error)".contains("The first 2 of 4 events were imported")
        }
        #expect(transactions == 1)
        try other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        let again = try log.importEventsNow(events, transactionSize: 2)
        #expect(again == .init(created: 2, duplicates: 2))
    }

    @Test func aFailedSyncRefusesTheAppendAndEveryLaterWrite() async throws {
        var options = SQLiteEventLog.Options()
        options.syncFile = { _ in
            errno = EIO
            return -1
        }
        let log = try SQLiteEventLog(path: dir.path("a.db"), options: options)
        await #expect(throws: StoreError.self) { try await log.append([makeEvent("e1")]) }
        let later = await #expect(throws: StoreError.self) { try await log.append([makeEvent("e2")]) }
        #expect("\(later!)".contains("could not sync the write-ahead log"))
        #expect("\(later!)".contains("Input/output error"))
        #expect(try await log.lastSequence() == 1, "e1 was committed (never acknowledged); e2 was not written")
        #expect(log.walSyncs == 1)
    }

    @Test func anImportIsSyncedBeforeItReturns() async throws {
        let log = try SQLiteEventLog(path: dir.path("a.db"))
        let events = (1...5).map { makeEvent("i\($0)", minute: $0) }
        let result = try log.importEventsNow(events, transactionSize: 2)
        #expect(result.created == 5)
        #expect(log.walSyncs == 3, "one sync per transaction")
    }

    @Test func concurrentAppendsShareTransactions() async throws {
        let log = try SQLiteEventLog(path: dir.path("a.db"))
        let outcomes = try await appendConcurrently(log, count: 200)
        #expect(Set(outcomes.map(\.sequence)) == Set(1...200))
        let stats = await log.groupCommitStatistics()
        #expect(stats.transactions < 200, "group commit writes many submissions per transaction")
        #expect(stats.largestGroup > 1)
        #expect(try await log.verify().rowsChecked == 200)
    }

    @Test func withoutGroupCommitEachSubmissionIsOneTransaction() async throws {
        let log = try SQLiteEventLog(path: dir.path("a.db"), options: .init(groupCommit: false))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 { group.addTask { _ = try await log.append([makeEvent("n\(i)")]) } }
            try await group.waitForAll()
        }
        #expect(await log.groupCommitStatistics().transactions == 20)
        #expect(try await log.lastSequence() == 20)
    }

    @Test func valuesSurviveReopening() async throws {
        let path = dir.path("a.db")
        do {
            let log = try SQLiteEventLog(path: path)
            _ = try await log.append([makeEvent("p1"), makeEvent("p2")])
            try log.close()
        }
        let log = try SQLiteEventLog(path: path)
        #expect(try await log.lastSequence() == 2)
        #expect(try await log.append([makeEvent("p1")]) == [.duplicate(1)])
        #expect(try await log.append([makeEvent("p3")]) == [.created(3)])
        #expect(try await log.verify().isIntact)
    }

    @Test func importWritesInTransactionsAndSkipsDuplicates() throws {
        let log = try SQLiteEventLog(path: dir.path("a.db"))
        let events = (0..<1000).map { makeEvent("i\($0)", minute: $0) }
        var progress: [Int] = []
        let result = try log.importEventsNow(events, transactionSize: 300) { progress.append($0) }
        #expect(result.created == 1000)
        #expect(progress == [300, 600, 900, 1000])
        let again = try log.importEventsNow(events, transactionSize: 300)
        #expect(again.duplicates == 1000)
        #expect(try log.firstConflict(in: [makeEvent("i5", minute: 5)]) == nil)
        #expect(try log.firstConflict(in: [makeEvent("new"), makeEvent("i5", minute: 6)]) == .conflict(index: 1, id: "i5", existing: 6))
        #expect(try log.verifyNow().rowsChecked == 1000)
    }
}
