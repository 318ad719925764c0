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
    @Option(help: "Events per transaction.") var transactionSize = 50_000

    func run() async throws {
        if log.serverURL != nil {
            throw CLIError("events import writes to a local database (--db); to load a server, post NDJSON to /api/v1/events")
        }
        guard transactionSize >= 1 else { throw CLIError("--transaction-size must be at least 1") }
        let started = Date()
        let input = try readInput()
        let lines = Self.numberedLines(input)
        guard !lines.isEmpty else { throw CLIError("\(file): no events (expected one JSON event per line)") }
        let (events, rows) = try await Self.validate(lines, input: input)
        let store = try await log.openDatabase()
        do {
            try await Self.write(events, rows: rows, lines: lines, input: input, into: store, transactionSize: transactionSize, started: started)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    static func write(
        _ events: [PreparedEvent],
        rows: Set<Int>,
        lines: [(number: Int, range: Range<Int>)],
        input: [UInt8],
        into store: any EventDatabase,
        transactionSize: Int,
        started: Date
    ) async throws {
        if let conflict = try await store.firstConflict(in: events, exactRows: rows) {
            guard case let .conflict(index, id, existing) = conflict else { throw CLIError("\(conflict)") }
            throw CLIError(
                "line \(lines[index].number): id \"\(id)\" is already recorded (sequence \(existing)) with different content; nothing was written"
            )
        }
        let progress = ProgressBar(total: events.count)
        let wasEmpty = try await store.lastSequence() == 0
        let result = try await store.importEvents(events, transactionSize: transactionSize) { progress.update($0) }
        progress.finish()
        let head = try await store.headHash() ?? "none"
        let seconds = Date().timeIntervalSince(started)
        print("imported \(events.count) events (\(result.created) new, \(result.duplicates) duplicates) in \(String(format: "%.2f", seconds)) s")
        var headLine = "head hash \(head)"
        if wasEmpty, let exported = Self.lastExportedHash(lines, input: input) {
            headLine += exported == head ? " (the export's)" : " (the export's last row has \(exported))"
        }
        print(headLine)
    }

    func readInput() throws -> [UInt8] {
        if file == "-" {
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("cannot read \(file)")
        }
        return Array(data)
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

    /// The chain hash the last line states, when it is a row of an export.
    static func lastExportedHash(_ lines: [(number: Int, range: Range<Int>)], input: [UInt8]) -> String? {
        guard let last = lines.last, let json = try? JSONValue.parse(input[last.range]) else { return nil }
        return json["hash"]?.stringValue
    }

    /// The non-blank lines with their 1-based line numbers.
    static func numberedLines(_ input: [UInt8]) -> [(number: Int, range: Range<Int>)] {
        var result: [(Int, Range<Int>)] = []
        var start = 0
        var number = 1
        for i in 0...input.count where i == input.count || input[i] == 0x0A {
            if input[start..<i].contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                result.append((number, start..<i))
            }
            number += 1
            start = i + 1
        }
        return result
    }

    /// Validates every line, on every core; throws listing the bad lines. `rows`: the indices
    /// of the lines that are rows of an export (their ids must hold the same stored event).
    static func validate(_ lines: [(number: Int, range: Range<Int>)], input: [UInt8]) async throws -> (events: [PreparedEvent], rows: Set<Int>) {
        let now = Timestamp.now()
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = (lines.count + workers - 1) / workers
        let results = await withTaskGroup(of: (Int, [PreparedEvent], [String], [Int]).self) { group in
            for w in 0..<workers {
                let range = (w * chunk)..<min(lines.count, (w + 1) * chunk)
                if range.isEmpty { continue }
                group.addTask {
                    var prepared: [PreparedEvent] = []
                    prepared.reserveCapacity(range.count)
                    var errors: [String] = []
                    var rows: [Int] = []
                    for i in range {
                        let (number, bytes) = (lines[i].number, input[lines[i].range])
                        switch Self.prepare(bytes, now: now) {
                        case .success(let p):
                            if errors.isEmpty { prepared.append(p.event) }
                            if p.isRow { rows.append(i) }
                        case .failure(let e):
                            if errors.count < 20 {
                                errors.append("line \(number): " + e.errors.map(\.description).joined(separator: "; "))
                            } else if errors.count == 20 {
                                errors.append("…")
                            }
                        }
                    }
                    return (w, prepared, errors, rows)
                }
            }
            var all: [(Int, [PreparedEvent], [String], [Int])] = []
            for await r in group { all.append(r) }
            return all.sorted { $0.0 < $1.0 }
        }
        let errors = results.flatMap(\.2)
        if !errors.isEmpty {
            throw CLIError("invalid events; nothing was written:\n" + errors.prefix(21).joined(separator: "\n"))
        }
        let events = results.flatMap(\.1)
        // The same id twice in one file must carry the same content.
        var seen: [String: (Int, String)] = [:]
        seen.reserveCapacity(events.count)
        for (i, e) in events.enumerated() {
            if let (first, digest) = seen[e.id] {
                if digest != e.contentDigest {
                    throw CLIError(
                        "line \(lines[i].number): id \"\(e.id)\" was used on line \(lines[first].number) with different content; nothing was written"
                    )
                }
            } else {
                seen[e.id] = (i, e.contentDigest)
            }
        }
        return (events, Set(results.flatMap(\.3)))
    }
}

/// A one-line progress bar on a terminal's standard error; silent otherwise.
final class ProgressBar: Sendable {
    let total: Int
    let enabled = isatty(STDERR_FILENO) == 1
    private let lastDrawn = Mutex(Date.distantPast)

    init(total: Int) { self.total = total }

    func update(_ done: Int) {
        let due = lastDrawn.withLock { last in
            guard Date().timeIntervalSince(last) > 0.1 || done == total else { return false }
            last = Date()
            return true
        }
        guard enabled, due else { return }
        let width = 30
        let filled = total == 0 ? width : done * width / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let percent = total == 0 ? 100 : done * 100 / total
        FileHandle.standardError.write(Data("\rimporting \(bar) \(percent)% \(done)/\(total)".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
