import ArgumentParser
import Foundation
import ShiplogModel
import ShiplogSources
import ShiplogStore
import Synchronization

struct EventsImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Backfill events from NDJSON (one native event per line, or the rows of an export).",
        discussion: """
            Every line is validated first; if any is bad, the bad lines are listed and nothing \
            is written. Then events are written in large transactions. Lines whose id is already \
            in the log with the same content are skipped as duplicates, so an import can be re-run.
            A line may be a native event or a row as `events export` (or `events list --format \
            ndjson`) writes it; an export imported into an empty log reproduces it, with the same \
            head hash.
            """
    )

    @OptionGroup var log: LogOptions
    @Argument(
        help: ArgumentHelp("The NDJSON file, or - for standard input.", valueName: "file"),
        completion: .file(extensions: ["ndjson", "jsonl", "json"])
    )
    var file: String
    @Option(help: "Events per transaction (a transaction also holds at most 16 MiB of input).") var transactionSize = 20_000

    func run() async throws {
        if log.serverURL != nil {
            throw CLIError("events import writes to a local database (--db); to load a server, post NDJSON to /api/v1/events")
        }
        guard transactionSize >= 1 else { throw CLIError("--transaction-size must be at least 1") }
        let started = Date()
        let input = try NDJSONInput(path: file)
        // A log that does not exist yet holds no conflicting ids: it is created once the input has passed.
        let existing = log.isPostgres || FileManager.default.fileExists(atPath: log.databasePath)
        var store = existing ? try await log.openDatabase() : nil
        do {
            let checked = try await Self.check(input, against: store)
            if store == nil { store = try await log.openDatabase() }
            try await Self.write(input, checked: checked, into: store!, transactionSize: transactionSize, started: started)
            try await store!.close()
        } catch {
            try? await store?.close()
            throw error
        }
    }

    /// What the first pass over the input found: every line valid, no id reused with other content.
    struct Checked {
        var now: Timestamp
        var count: Int
        var lastLine: [UInt8]
    }

    /// An event's id and content digest, compact, for finding an id reused in the same input.
    private struct IdFingerprint: Hashable {
        var a: UInt64
        var b: UInt64
        /// Two unrelated 64-bit hashes: the standard library's and FNV-1a.
        init(_ id: String) {
            a = UInt64(bitPattern: Int64(id.hashValue))
            b = id.utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        }
    }

    /// The first pass: validates every line (listing up to 20 bad ones), then checks that no id
    /// is used twice with different content, in the input or against the log. Holds one batch
    /// of events at a time and a few bytes per event.
    static func check(_ input: NDJSONInput, against store: (any EventDatabase)?) async throws -> Checked {
        var checked = Checked(now: Timestamp.now(), count: 0, lastLine: [])
        var errors: [String] = []
        var moreErrors = false
        var inFileConflict: String?
        var storeConflict: String?
        var seen: [IdFingerprint: (digest: UInt64, line: Int)] = [:]
        let progress = ProgressBar(total: input.size ?? 0, label: "checking", showsCount: false)
        try await eachBatch(of: input.reader(), maxLines: 10_000, now: checked.now) { batch, validated, bytesRead in
            progress.update(bytesRead)
            checked.count += batch.lines.count
            if let last = batch.lines.last { checked.lastLine = Array(batch.bytes[last.range]) }
            for error in validated.errors {
                if errors.count < 20 { errors.append(error) } else { moreErrors = true }
            }
            if validated.moreErrors || moreErrors {
                moreErrors = true
                return false
            }
            guard errors.isEmpty, inFileConflict == nil else { return true }
            for (event, line) in zip(validated.events, batch.lines) {
                let key = IdFingerprint(event.id)
                let digest = UInt64(event.contentDigest.prefix(16), radix: 16) ?? 0
                if let first = seen[key] {
                    if first.digest != digest {
                        inFileConflict =
                            "line \(line.number): id \"\(event.id)\" was used on line \(first.line) with different content; nothing was written"
                        return true
                    }
                } else {
                    seen[key] = (digest, line.number)
                }
            }
            if storeConflict == nil, let store, let conflict = try await store.firstConflict(in: validated.events, exactRows: validated.rows) {
                guard case let .conflict(index, id, existing) = conflict else { throw CLIError("\(conflict)") }
                storeConflict = recordedConflict(line: batch.lines[index].number, id: id, existing: existing) + "; nothing was written"
            }
            return true
        }
        progress.finish()
        if !errors.isEmpty {
            throw CLIError("invalid events; nothing was written:\n" + (errors + (moreErrors ? ["…"] : [])).joined(separator: "\n"))
        }
        if let conflict = inFileConflict ?? storeConflict { throw CLIError(conflict) }
        guard checked.count > 0 else { throw CLIError("\(input.name): no events (expected one JSON event per line)") }
        return checked
    }

    /// The second pass: validates the input again, a batch ahead of the writes, and writes a
    /// transaction per batch.
    static func write(_ input: NDJSONInput, checked: Checked, into store: any EventDatabase, transactionSize: Int, started: Date) async throws {
        let progress = ProgressBar(total: checked.count, label: "importing", showsCount: true)
        let wasEmpty = try await store.lastSequence() == 0
        var result = ImportResult()
        var written = 0
        try await eachBatch(of: input.reader(), maxLines: transactionSize, now: checked.now) { batch, validated, _ in
            guard validated.errors.isEmpty, validated.events.count == batch.lines.count, written + batch.lines.count <= checked.count else {
                throw stopped(CLIError("\(input.name) changed while it was imported"), written: written, of: checked.count, lines: batch.lines)
            }
            do {
                let done = written
                let r = try await store.importEvents(validated.events, transactionSize: transactionSize) { progress.update(done + $0) }
                result.created += r.created
                result.duplicates += r.duplicates
            } catch {
                throw stopped(error, written: written, of: checked.count, lines: batch.lines)
            }
            written += batch.lines.count
            return true
        }
        progress.finish()
        guard written == checked.count else {
            throw stopped(CLIError("\(input.name) changed while it was imported"), written: written, of: checked.count, lines: [])
        }
        let head = try await store.headHash() ?? "none"
        let seconds = Date().timeIntervalSince(started)
        print("imported \(written) events (\(result.created) new, \(result.duplicates) duplicates) in \(String(format: "%.2f", seconds)) s")
        var headLine = "head hash \(head)"
        if wasEmpty, let exported = (try? JSONValue.parse(checked.lastLine[...]))?["hash"]?.stringValue {
            headLine += exported == head ? " (the export's)" : " (the export's last row has \(exported))"
        }
        print(headLine)
    }

    /// An error of the second pass, saying how much of the input is in the log by then.
    static func stopped(_ error: any Error, written: Int, of total: Int, lines: [(number: Int, range: Range<Int>)]) -> any Error {
        switch error {
        case let StoreError.importStopped(imported, _, reason):
            return StoreError.importStopped(imported: written + imported, of: total, reason: explained(reason, lines: lines))
        case _ where written == 0:
            let reason = explained(error, lines: lines)
            return reason is CLIError ? CLIError("\(reason); nothing was written") : reason
        default:
            return StoreError.importStopped(imported: written, of: total, reason: explained(error, lines: lines))
        }
    }

    private static func explained(_ error: any Error, lines: [(number: Int, range: Range<Int>)]) -> any Error {
        guard case let AppendError.conflict(index, id, existing) = error, lines.indices.contains(index) else { return error }
        return CLIError(recordedConflict(line: lines[index].number, id: id, existing: existing))
    }

    private static func recordedConflict(line: Int, id: String, existing: Int64) -> String {
        "line \(line): id \"\(id)\" is already recorded (sequence \(existing)) with different content"
    }

    /// Reads and validates batch after batch, validating the next one while `body` handles
    /// the last (with the bytes read so far); stops when `body` returns false.
    static func eachBatch(
        of reader: NDJSONReader,
        maxLines: Int,
        now: Timestamp,
        _ body: (NDJSONBatch, ValidatedBatch, Int) async throws -> Bool
    ) async throws {
        var reader = reader
        func validating(_ batch: NDJSONBatch?) -> Task<ValidatedBatch, Never>? {
            batch.map { b in Task.detached { await validate(b, now: now) } }
        }
        var batch = try reader.next(maxLines: maxLines)
        var pending = validating(batch)
        defer { pending?.cancel() }
        while let current = batch, let task = pending {
            let validated = await task.value
            let bytesRead = reader.bytesRead
            batch = try reader.next(maxLines: maxLines)
            pending = validating(batch)
            guard try await body(current, validated, bytesRead) else { return }
        }
    }

    /// A batch's lines as events; `rows`: the indices of those that are rows of an export
    /// (their ids must hold the same stored event). `events` is empty once a line is bad.
    struct ValidatedBatch: Sendable {
        var events: [PreparedEvent] = []
        var rows: Set<Int> = []
        var errors: [String] = []
        /// More than 20 lines are bad.
        var moreErrors = false
    }

    /// Validates a batch on every core.
    static func validate(_ batch: NDJSONBatch, now: Timestamp) async -> ValidatedBatch {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = max(1, (batch.lines.count + workers - 1) / workers)
        let parts = await withTaskGroup(of: (Int, ValidatedBatch).self) { group in
            for (w, first) in stride(from: 0, to: batch.lines.count, by: chunk).enumerated() {
                group.addTask {
                    var part = ValidatedBatch()
                    part.events.reserveCapacity(chunk)
                    for i in first..<min(batch.lines.count, first + chunk) {
                        let line = batch.lines[i]
                        switch Self.prepare(batch.bytes[line.range], now: now) {
                        case .success(let p):
                            if part.errors.isEmpty { part.events.append(p.event) }
                            if p.isRow { part.rows.insert(i) }
                        case .failure(let e):
                            if part.errors.count < 20 {
                                part.errors.append("line \(line.number): " + e.errors.map(\.description).joined(separator: "; "))
                            } else {
                                part.moreErrors = true
                            }
                        }
                    }
                    return (w, part)
                }
            }
            var all: [(Int, ValidatedBatch)] = []
            for await part in group { all.append(part) }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var result = ValidatedBatch()
        for part in parts {
            result.errors += part.errors
            result.moreErrors = result.moreErrors || part.moreErrors
            result.rows.formUnion(part.rows)
            result.events += part.events
        }
        if !result.errors.isEmpty { result.events = [] }
        return result
    }

    /// A native event, or a row of an export or of `events list --format ndjson` (`isRow`).
    static func prepare(_ bytes: ArraySlice<UInt8>, now: Timestamp) -> Result<(event: PreparedEvent, isRow: Bool), EventValidationError> {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            return .failure(EventValidationError(errors: [FieldError(field: "", message: error.description)]))
        }
        if ExportedRow.isRow(json) { return ExportedRow.prepare(json).map { ($0, true) } }
        return Event.validate(json, now: now).map { (PreparedEvent($0, raw: Array(bytes), format: .native, receivedAt: now), false) }
    }
}

/// A one-line progress bar on a terminal's standard error; silent otherwise, and with no total.
final class ProgressBar: Sendable {
    let total: Int
    let label: String
    /// Whether to show `done/total` after the percentage (events, not bytes).
    let showsCount: Bool
    let enabled: Bool
    private let lastDrawn = Mutex(Date.distantPast)

    init(total: Int, label: String, showsCount: Bool) {
        self.total = total
        self.label = label
        self.showsCount = showsCount
        enabled = total > 0 && isatty(STDERR_FILENO) == 1
    }

    func update(_ done: Int) {
        guard enabled else { return }
        let due = lastDrawn.withLock { last in
            guard Date().timeIntervalSince(last) > 0.1 || done == total else { return false }
            last = Date()
            return true
        }
        guard due else { return }
        let width = 30
        let filled = min(width, done * width / total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let count = showsCount ? " \(done)/\(total)" : ""
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(min(100, done * 100 / total))%\(count)".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
