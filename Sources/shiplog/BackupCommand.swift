import ArgumentParser
import ShiplogStore

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the event log to a new file while it is in use, and verify the copy.",
        discussion: """
            The copy holds every event committed when the backup began; a server can keep \
            writing meanwhile. It is written beside DESTINATION first and renamed into place \
            once complete, so DESTINATION is never a torn copy. Record the head hash it \
            prints somewhere else: `shiplog verify` on a later copy shows the same hash at \
            that row unless history was rewritten.
            """
    )

    @OptionGroup var log: LogOptions

    @Argument(help: ArgumentHelp("The new file to write (must not exist).", valueName: "destination"), completion: .file())
    var destination: String

    func run() async throws {
        if log.serverURL != nil {
            throw CLIError("backup copies a local database (--db); run it where the file is, e.g. kubectl exec into the shiplog pod")
        }
        if log.isPostgres {
            throw CLIError(
                "backup copies an SQLite file; for PostgreSQL use the database's own tools: pg_dump --format=custom (a copy), or continuous archiving for point-in-time recovery (see docs/deploy.md). `shiplog events export` also writes every row"
            )
        }
        let store = try log.openLog(mustExist: true)
        let result = try store.backup(to: destination)
        try store.close()
        print("backed up \(result.events) events to \(destination); the copy verifies; head hash \(result.headHash ?? "(empty log)")")
    }
}
