import ArgumentParser

@main
struct Shiplog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shiplog",
        abstract: "Records deployments, promotions, rollbacks and incidents, and turns them into DORA metrics.",
        version: ShiplogVersion.current,
        subcommands: [Serve.self, Events.self, Status.self, Report.self, Explain.self, Gate.self, Verify.self, Backup.self, Migrate.self]
    )
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record, list and import events.",
        subcommands: [EventsList.self, EventsRecord.self, EventsImport.self, EventsExport.self]
    )
}

enum ShiplogVersion {
    static let current = "0.1.0"
}
