import ArgumentParser
import Foundation
import Logging
import ShiplogModel
import ShiplogPostgres
import ShiplogStore

/// Where events are read from and written to: a local database file or a shiplog server.
struct LogOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The event log: an SQLite file, or a PostgreSQL URL like postgres://user@host:5432/shiplog?sslmode=require (env SHIPLOG_DB).",
            valueName: "path-or-url"
        ),
        completion: .file(extensions: ["db"])
    )
    var db: String?

    @Option(
        name: .long,
        help: ArgumentHelp("A shiplog server to use instead of a local file (env SHIPLOG_SERVER; token from SHIPLOG_TOKEN).", valueName: "url")
    )
    var server: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With a server: how long to keep trying while it cannot be reached or answers 503 (a restart, a rollout), like 30s or 2m; 0 tries once.",
            valueName: "span"
        )
    )
    var retryFor = LogOptions.defaultRetryFor

    static let defaultRetryFor = "60s"

    var databasePath: String {
        db ?? ProcessInfo.processInfo.environment["SHIPLOG_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./shiplog.db"
    }

    /// The server to talk to, when one is named by flag or environment (a `--db` flag wins over the environment).
    var serverURL: String? {
        if let server { return server }
        if db != nil { return nil }
        return ProcessInfo.processInfo.environment["SHIPLOG_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var client: ServerClient? {
        get throws {
            guard let url = serverURL else { return nil }
            let retry = try interval(retryFor, option: "--retry-for", like: "30s or 2m") ?? .zero
            return try ServerClient(base: url, token: ProcessInfo.processInfo.environment["SHIPLOG_TOKEN"], retryFor: retry)
        }
    }

    /// Whether the log is a PostgreSQL database rather than a file.
    var isPostgres: Bool { PostgresURL.isPostgres(databasePath) }

    /// The SQLite file (for what only a file has: backups).
    func openLog(mustExist: Bool = false) throws -> SQLiteEventLog {
        try SQLiteEventLog(path: databasePath, options: .init(mustExist: mustExist))
    }

    /// The log `--db` names: an SQLite file or a PostgreSQL database. `readOnly`: for the
    /// commands that only read (an SQLite file is then opened read-only: nothing is written
    /// to it, not even a migration).
    func openDatabase(mustExist: Bool = false, readOnly: Bool = false) async throws -> any EventDatabase {
        try await openEventDatabase(databasePath, mustExist: mustExist, readOnly: readOnly)
    }
}

/// Opens an SQLite file or, for a `postgres://` URL, a PostgreSQL database (whose schema is
/// created or migrated on first use).
func openEventDatabase(
    _ location: String,
    mustExist: Bool = false,
    readOnly: Bool = false,
    snapshotPath: String? = nil,
    listen: Bool = false
) async throws
    -> any EventDatabase
{
    guard PostgresURL.isPostgres(location) else {
        return try SQLiteEventLog(path: location, options: .init(mustExist: mustExist, readOnly: readOnly))
    }
    let url: PostgresURL
    do {
        url = try PostgresURL(location)
    } catch {
        throw CLIError(error.description)
    }
    var logger = Logger(label: "shiplog.postgres")
    logger.logLevel = .critical
    return try await PostgresEventLog.open(url, snapshotPath: snapshotPath, listen: listen, logger: logger)
}

/// Something the user did wrong: printed to stderr without a stack of context, exit 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A span option like `10s` or `1h`; `0` means none (nil).
func interval(_ text: String, option: String, like examples: String) throws -> Duration? {
    if text == "0" { return nil }
    guard let span = TimeSpan(text), span.seconds > 0 else {
        throw CLIError("\(option) \(text): expected a span like \(examples), or 0")
    }
    return .seconds(span.seconds)
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A connection deadline: a span from 1s to 1d, like 10s or 2m.
func timeout(_ text: String, option: String) throws -> Duration {
    guard let span = TimeSpan(text), span.seconds >= 1, span.seconds <= 86_400 else {
        throw CLIError("\(option) \(text): expected a span from 1s to 1d, like 10s or 2m")
    }
    return .seconds(span.seconds)
}
