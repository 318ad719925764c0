import Dispatch
import Foundation
import Synchronization

/// Makes committed transactions durable by syncing the write-ahead log file, off the writer.
///
/// The writer connection commits with `synchronous = NORMAL`: a commit writes its WAL frames
/// but does not wait for the disk. Every commit then asks this for a sync, and its appends
/// are acknowledged only once a sync that *started after the commit returned* has finished.
/// That is what `synchronous = FULL` guarantees, but the writer no longer waits: it writes
/// the next transaction while the disk syncs the previous ones, and one sync serves every
/// commit that finished before it began (a second stage of group commit).
///
/// A failed sync cannot be retried safely (the kernel may have dropped the dirty pages), so
/// it poisons the log: that sync's waiters and every later write fail until a restart.
final class WALSync: Sendable {
    typealias Waiter = @Sendable (Result<Void, any Error>) -> Void
    /// `fdatasync`, or a stand-in that tests make fail.
    typealias SyncFile = @Sendable (Int32) -> Int32

    private let file: WALFile
    private let batcher: Batcher<Waiter>

    /// - Parameter walPath: the database's `-wal` file.
    init(walPath: String, syncFile: @escaping SyncFile) {
        let file = WALFile(path: walPath, syncFile: syncFile)
        self.file = file
        batcher = Batcher(label: "shiplog.wal-sync") { waiters in
            let result = file.sync()
            for waiter in waiters { waiter(result) }
        }
    }

    /// Calls `done` once everything committed before this call is on disk, or with the error
    /// that prevented it. `done` runs on the sync thread.
    func afterNextSync(_ done: @escaping Waiter) {
        batcher.submit(done)
    }

    /// Blocks until everything committed so far is on disk.
    func syncNow() throws {
        let finished = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, any Error>>(.success(()))
        afterNextSync { result in
            outcome.withLock { $0 = result }
            finished.signal()
        }
        finished.wait()
        try outcome.withLock { $0 }.get()
    }

    /// The sync failure that poisoned the log, if any.
    var failure: (any Error)? { file.health.withLock { $0.failure } }

    /// Throws the sync failure that poisoned the log, if any.
    func checkHealthy() throws {
        if let failure { throw failure }
    }

    /// How many syncs have finished (for tests).
    var completedSyncs: Int { file.health.withLock { $0.syncs } }
}

/// The WAL file as the sync thread sees it.
private final class WALFile: @unchecked Sendable {
    let path: String
    let syncFile: WALSync.SyncFile
    let health = Mutex<(failure: (any Error)?, syncs: Int)>((nil, 0))
    /// Opened at the first sync; only touched by `sync()`, which runs on one serial queue.
    private var descriptor: Int32 = -1

    init(path: String, syncFile: @escaping WALSync.SyncFile) {
        self.path = path
        self.syncFile = syncFile
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    func sync() -> Result<Void, any Error> {
        if let failure = health.withLock({ $0.failure }) { return .failure(failure) }
        let result = Result { try syncWAL() }
        health.withLock { h in
            h.syncs += 1
            if case .failure(let error) = result { h.failure = error }
        }
        return result
    }

    /// Syncs the file now at `path`. The pool keeps the WAL open, so SQLite reuses (and
    /// truncates) it rather than replacing it; should it ever be replaced, the inode check
    /// notices and the new file is synced too.
    private func syncWAL() throws {
        for _ in 0..<2 {
            if descriptor < 0 {
                descriptor = open(path, O_RDONLY | O_CLOEXEC)
                if descriptor < 0 {
                    // No WAL file: nothing was committed through it.
                    if errno == ENOENT { return }
                    throw StoreError.walSyncFailed(path: path, reason: String(cString: strerror(errno)))
                }
            }
            var code: Int32
            repeat { code = syncFile(descriptor) } while code != 0 && errno == EINTR
            if code != 0 {
                throw StoreError.walSyncFailed(path: path, reason: String(cString: strerror(errno)))
            }
            var opened = stat()
            var current = stat()
            if fstat(descriptor, &opened) == 0, stat(path, &current) == 0,
                opened.st_ino == current.st_ino, opened.st_dev == current.st_dev
            {
                return
            }
            close(descriptor)
            descriptor = -1
        }
    }
}
