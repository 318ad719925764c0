import Crypto
import Foundation
import GRDB

/// Every schema migration, registered in one place, in order. Migrations never rewrite events.
enum Schema {
    /// The triggers that make `events` append-only, as created; `verify` checks that these,
    /// and no others, are on the table, statement for statement.
    static let appendOnlyTriggers: [(name: String, sql: String)] = [
        (
            "events_refuse_update",
            """
            CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only; UPDATE is refused'); END
            """
        ),
        (
            "events_refuse_delete",
            """
            CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only; DELETE is refused'); END
            """
        ),
    ]

    /// A statement's words, for comparing schema text whatever its layout.
    static func normalized(_ sql: String) -> String {
        sql.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// What a file holds of shiplog's schema, read with two plain queries: every process
    /// that opens a log asks, and GRDB's migrator answers by introspecting the whole schema
    /// (about 1.5 ms of a CLI command's start).
    struct State {
        /// Whether the file has an `events` table.
        var hasEvents: Bool
        /// The migrations applied to the file (none when it has no migrations table).
        var applied: Set<String>

        init(_ db: Database) throws {
            let tables = try Set(
                String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('events', 'grdb_migrations')")
            )
            hasEvents = tables.contains("events")
            applied = tables.contains("grdb_migrations") ? try Set(String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")) : []
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-event-log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE events (
                        seq            INTEGER PRIMARY KEY,
                        event_id       TEXT    NOT NULL UNIQUE,
                        type           TEXT    NOT NULL,
                        service        TEXT    NOT NULL,
                        environment    TEXT,
                        time_ns        INTEGER NOT NULL,
                        received_ns    INTEGER NOT NULL,
                        format         TEXT    NOT NULL,
                        content_digest TEXT    NOT NULL,
                        event          TEXT    NOT NULL,
                        raw            BLOB    NOT NULL,
                        hash           BLOB    NOT NULL
                    );
                    CREATE INDEX events_by_time ON events(time_ns, seq);
                    CREATE INDEX events_by_environment ON events(environment, time_ns, seq);
                    CREATE INDEX events_by_service ON events(service, time_ns, seq);
                    """
            )
            for trigger in appendOnlyTriggers { try db.execute(sql: trigger.sql) }
        }
        // Adding a column with a default rewrites no row (and fires no UPDATE trigger).
        migrator.registerMigration("v2-chain-envelope") { db in
            try db.execute(sql: "ALTER TABLE events ADD COLUMN chain INTEGER NOT NULL DEFAULT 1")
        }
        // The key that authenticates `<database>.snapshot`: a snapshot edited outside shiplog
        // (payload changed, checksum recomputed) does not carry this database's code.
        migrator.registerMigration("v3-snapshot-key") { db in
            try db.execute(sql: "CREATE TABLE snapshot_key (key BLOB NOT NULL)")
            let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            try db.execute(sql: "INSERT INTO snapshot_key (key) VALUES (?)", arguments: [key])
        }
        return migrator
    }
}
