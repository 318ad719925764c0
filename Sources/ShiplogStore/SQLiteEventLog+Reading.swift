import Foundation
import GRDB
import ShiplogModel

/// Reading: history pages, rows in sequence order, one pair's or service's events.
extension SQLiteEventLog {
    public func lastSequence() async throws -> Int64 {
        try await database.read(Self.lastSequence)
    }

    static func lastSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0
    }

    public func page(_ query: EventQuery) async throws -> EventPage {
        try await database.read { db in try Self.page(query, db: db) }
    }

    /// Synchronous form of `page(_:)` for the CLI.
    public func pageNow(_ query: EventQuery) throws -> EventPage {
        try database.read { db in try Self.page(query, db: db) }
    }

    static func page(_ query: EventQuery, db: Database) throws -> EventPage {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let env = query.environment {
            conditions.append("environment = ?")
            arguments += [env]
        }
        if let service = query.service {
            conditions.append("service = ?")
            arguments += [service]
        }
        if let type = query.type {
            conditions.append("type = ?")
            arguments += [type.rawValue]
        }
        if let since = query.since {
            conditions.append("time_ns >= ?")
            arguments += [since.nanoseconds]
        }
        if let until = query.until {
            conditions.append("time_ns < ?")
            arguments += [until.nanoseconds]
        }
        if let cursor = query.cursor {
            conditions.append("(time_ns < ? OR (time_ns = ? AND seq < ?))")
            arguments += [cursor.time.nanoseconds, cursor.time.nanoseconds, cursor.sequence]
        }
        let limit = max(1, min(query.limit, EventQuery.maxLimit))
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT \(EventRow.columns) FROM events \(whereClause)
            ORDER BY time_ns DESC, seq DESC LIMIT \(limit + 1)
            """
        let rows = try EventRow.fetchAll(db, sql: sql, arguments: arguments)
        let events = try rows.prefix(limit).map { try $0.decoded() }
        var next: EventCursor? = nil
        if rows.count > limit, let last = events.last {
            next = EventCursor(time: last.event.time!, sequence: last.sequence)
        }
        return EventPage(events: events, next: next)
    }

    public func events(after sequence: Int64, limit: Int) async throws -> [StoredEvent] {
        if let cached = recent.rows(after: sequence, limit: limit) { return cached }
        return try await database.read { db in
            try EventRow.decodeInParallel(
                EventRow.fetchAll(
                    db,
                    sql: "SELECT \(EventRow.columns) FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                    arguments: [sequence, limit]
                )
            )
        }
    }

    public func pairEvents(service: String, environment: String, after position: LogPosition?, through: Int64) async throws -> [StoredEvent] {
        let after = position ?? LogPosition(time: .min, sequence: .min)
        return try await database.read { db in
            try EventRow.decodeInParallel(
                EventRow.fetchAll(
                    db,
                    sql: """
                        SELECT \(EventRow.columns) FROM events
                        WHERE service = ? AND environment = ? AND seq <= ? AND (time_ns > ? OR (time_ns = ? AND seq > ?))
                        ORDER BY time_ns, seq
                        """,
                    arguments: [service, environment, through, after.time, after.time, after.sequence]
                )
            )
        }
    }

    public func serviceEvents(_ service: String) async throws -> [StoredEvent] {
        try await database.read { db in
            try EventRow.decodeInParallel(
                EventRow.fetchAll(
                    db,
                    sql: "SELECT \(EventRow.columns) FROM events WHERE service = ? ORDER BY time_ns, seq",
                    arguments: [service]
                )
            )
        }
    }

    public func rowHash(_ sequence: Int64) async throws -> String? {
        try await database.read { db in try Self.rowHash(db, sequence) }.map { hex($0) }
    }

    public func rawBody(_ sequence: Int64) async throws -> [UInt8]? {
        try await database.read { db in try Data.fetchOne(db, sql: "SELECT raw FROM events WHERE seq = ?", arguments: [sequence]) }.map { Array($0) }
    }
}
