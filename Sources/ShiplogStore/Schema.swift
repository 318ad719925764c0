import GRDB

/// Every schema migration, registered in one place, in order. Migrations never rewrite events.
enum Schema {
    /// Names of the triggers that make `events` append-only; `verify` checks they are there.
    static let appendOnlyTriggers = ["events_refuse_update", "events_refuse_delete"]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-event-log") { db in
            try db.execute(sql: """
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
                CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
                BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only; UPDATE is refused'); END;
                CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
                BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only; DELETE is refused'); END;
                """)
        }
        return migrator
    }
}
