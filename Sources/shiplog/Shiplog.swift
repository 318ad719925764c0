import ArgumentParser

/// Every command names itself in its configuration: without a name, ArgumentParser derives it
/// with `String(describing:)` of the type, whose dynamic casts scan every protocol conformance
/// of this large binary, for every command, on every start (half of `--version`'s time).
@main
struct Shiplog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shiplog",
        abstract: "Records deployments, promotions, rollbacks and incidents, and turns them into DORA metrics.",
        version: ShiplogVersion.current,
        subcommands: [Serve.self, Events.self, Status.self, Report.self, Explain.self, Gate.self, Verify.self, Backup.self, Migrate.self]
    )

    /// `events list` as people type it skips ArgumentParser's start-up work (`QuickParse`).
    static func main() async {
        guard var command = QuickParse.command(Array(CommandLine.arguments.dropFirst())) else {
            await main(nil)
            return
        }
        do {
            try await command.run()
        } catch {
            exit(withError: error)
        }
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Record, list and import events.",
        subcommands: [EventsList.self, EventsRecord.self, EventsImport.self, EventsExport.self]
    )
}

enum ShiplogVersion {
    static let current = "0.1.0"
}
