import ArgumentParser
import ShiplogStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the hash chain and the append-only schema of the event log.",
        discussion: "Exits 0 when every row verifies; otherwise names the first broken row and exits 1."
    )

    @OptionGroup var log: LogOptions

    func run() async throws {
        let store = try log.openLog(mustExist: true)
        let report = try store.verifyNow()
        for problem in report.schemaProblems { printError("schema: \(problem)") }
        if let seq = report.brokenSequence {
            printError("broken at row \(seq): \(report.brokenReason ?? "")")
            printError("\(report.rowsChecked) rows before it verify")
            throw ExitCode.failure
        }
        if !report.schemaProblems.isEmpty { throw ExitCode.failure }
        print("ok: \(report.rowsChecked) rows verify; head hash \(try store.headHash() ?? "(empty log)")")
    }
}
