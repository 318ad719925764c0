import ArgumentParser
import ShiplogStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain and the append-only schema of the event log.",
        discussion: """
            Reads the file without changing it (a file that is not a shiplog event log is \
            refused). Exits 0 when every row verifies and prints the head (SEQ:HASH); \
            otherwise names the first broken row and exits 1. A log cut at its end is still \
            a valid chain: record the head elsewhere and pass it back with --head, which fails \
            unless row SEQ still has that hash.
            """
    )

    @OptionGroup var log: LogOptions
    @Option(help: ArgumentHelp("A head recorded earlier (what verify printed): fail unless row SEQ has HASH.", valueName: "SEQ:HASH"))
    var head: String?

    func validate() throws {
        if log.server != nil {
            throw ValidationError("verify reads the database file itself; --server is not supported (run it where the file is, or on a backup)")
        }
        if let head, pinnedHead(head) == nil {
            throw ValidationError("--head \(head): expected SEQ:HASH, like 1234:9f86d081884c7d65… (the head verify printed)")
        }
    }

    func pinnedHead(_ text: String) -> (sequence: Int64, hash: String)? {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let sequence = Int64(parts[0]), sequence > 0, parts[1].count == 64,
            parts[1].allSatisfy(\.isHexDigit)
        else { return nil }
        return (sequence, String(parts[1]))
    }

    func run() async throws {
        let pinned = head.flatMap(pinnedHead)
        let report: VerifyReport
        if log.isPostgres {
            let store = try await log.openDatabase(readOnly: true)
            do {
                report = try await store.verifyChain(pinned: pinned)
                try await store.close()
            } catch {
                try? await store.close()
                throw error
            }
        } else {
            report = try SQLiteEventLog.verifyFile(path: log.databasePath, head: pinned)
        }
        for problem in report.schemaProblems { printError("schema: \(problem)") }
        if let seq = report.brokenSequence {
            printError("broken at row \(seq): \(report.brokenReason ?? "")")
            printError("\(min(report.rowsChecked, seq - 1)) rows before it verify")
            throw ExitCode.failure
        }
        if !report.schemaProblems.isEmpty { throw ExitCode.failure }
        let headText = report.head.map { "\($0.sequence):\($0.hash)" } ?? "(empty log)"
        print("ok: \(report.rowsChecked) rows verify; head \(headText)")
    }
}
