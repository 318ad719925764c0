import Crypto
import Logging
import PostgresNIO
import ShiplogStore

/// Every schema migration of the PostgreSQL log, registered in one place, in order, and
/// recorded in `shiplog_migrations`. Migrations never rewrite events.
enum PostgresSchema {
    /// The function the append-only triggers call, as created; `verify` checks its body.
    static let refuseChangeBody = """
        BEGIN
            RAISE EXCEPTION 'shiplog: the event log is append-only; % is refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        """

    /// The triggers on `events`, by name, with their `pg_trigger.tgtype` bits: before each
    /// row's UPDATE or DELETE (1 row | 2 before | 8 delete | 16 update), and before TRUNCATE
    /// (2 before | 32 truncate, per statement).
    static let appendOnlyTriggers: [(name: String, type: Int16)] = [
        ("events_refuse_update_delete", 27),
        ("events_refuse_truncate", 34),
    ]

    /// One advisory lock key for migrations, another for periodic verification.
    static let migrationLock: Int64 = 0x5368_6970_6c6f_6701
    static let verificationLock: Int64 = 0x5368_6970_6c6f_6702

    struct Migration {
        var id: String
        var statements: [String]
    }

    static let migrations: [Migration] = [
        Migration(
            id: "v1-event-log",
            statements: [
                """
                CREATE TABLE events (
                    seq            bigint   PRIMARY KEY,
                    event_id       text     NOT NULL UNIQUE,
                    type           text     NOT NULL,
                    service        text     NOT NULL,
                    environment    text,
                    time_ns        bigint   NOT NULL,
                    received_ns    bigint   NOT NULL,
                    format         text     NOT NULL,
                    content_digest text     NOT NULL,
                    event          text     NOT NULL,
                    raw            bytea    NOT NULL,
                    hash           bytea    NOT NULL,
                    chain          smallint NOT NULL
                )
                """,
                "CREATE INDEX events_by_time ON events (time_ns, seq)",
                "CREATE INDEX events_by_environment ON events (environment, time_ns, seq)",
                "CREATE INDEX events_by_service ON events (service, time_ns, seq)",
                // The newest row: locked FOR UPDATE by each committing transaction, so writers
                // on any number of replicas take turns for the step that numbers and hashes rows.
                """
                CREATE TABLE chain_head (
                    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
                    seq      bigint  NOT NULL,
                    hash     bytea   NOT NULL,
                    stamp_ns bigint  NOT NULL
                )
                """,
                "INSERT INTO chain_head (seq, hash, stamp_ns) VALUES (0, '\\x', -9223372036854775808)",
                "CREATE TABLE snapshot_key (key bytea NOT NULL)",
                // What the replica that last walked the chain found (insert-only).
                """
                CREATE TABLE verifications (
                    verified_ns     bigint  NOT NULL,
                    rows_checked    bigint  NOT NULL,
                    broken_seq      bigint,
                    problems        text    NOT NULL
                )
                """,
                """
                CREATE FUNCTION shiplog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $shiplog$
                \(refuseChangeBody)
                $shiplog$
                """,
                """
                CREATE TRIGGER events_refuse_update_delete BEFORE UPDATE OR DELETE ON events
                    FOR EACH ROW EXECUTE FUNCTION shiplog_refuse_change()
                """,
                """
                CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
                    FOR EACH STATEMENT EXECUTE FUNCTION shiplog_refuse_change()
                """,
            ]
        )
    ]

    /// Applies the migrations the database lacks, under an advisory lock (replicas starting
    /// together take turns); refuses a database that a newer shiplog migrated.
    static func migrate(_ connection: PostgresConnection, location: String, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { tx in
            try await tx.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await tx.query(
                "CREATE TABLE IF NOT EXISTS shiplog_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger
            )
            var applied: Set<String> = []
            for try await id in try await tx.query("SELECT id FROM shiplog_migrations", logger: logger).decode(String.self) {
                applied.insert(id)
            }
            let unknown = applied.subtracting(migrations.map(\.id))
            if !unknown.isEmpty {
                throw StoreError.newerSchema(path: location, unknown: unknown.sorted())
            }
            for migration in migrations where !applied.contains(migration.id) {
                for statement in migration.statements {
                    try await tx.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                if migration.id == "v1-event-log" {
                    let key = SymmetricKey(size: .bits256).withUnsafeBytes { ByteBuffer(bytes: $0) }
                    try await tx.query("INSERT INTO snapshot_key (key) VALUES (\(key))", logger: logger)
                }
                try await tx.query("INSERT INTO shiplog_migrations (id) VALUES (\(migration.id))", logger: logger)
            }
        }
    }

    /// A statement's words, for comparing function bodies whatever their layout.
    static func normalized(_ sql: String) -> String {
        sql.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
