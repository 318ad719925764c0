import PostgresNIO
import ShiplogModel
import ShiplogStore

/// Reading: history pages, rows in sequence order, one pair's or service's events.
extension PostgresEventLog {
    public func lastSequence() async throws -> Int64 {
        try await bounded("reading the newest row") {
            try await self.client.query("SELECT coalesce(max(seq), 0)::bigint FROM events").decode(Int64.self).first { _ in true } ?? 0
        }
    }

    public func events(after sequence: Int64, limit: Int) async throws -> [StoredEvent] {
        if let cached = recent.rows(after: sequence, limit: limit) { return cached }
        return try await rows("SELECT \(unescaped: EventRow.columns) FROM events WHERE seq > \(sequence) ORDER BY seq LIMIT \(limit)")
    }

    public func pairEvents(service: String, environment: String, after position: LogPosition?, through: Int64) async throws -> [StoredEvent] {
        let after = position ?? LogPosition(time: .min, sequence: .min)
        return try await rows(
            """
            SELECT \(unescaped: EventRow.columns) FROM events
            WHERE service = \(service) AND environment = \(environment) AND seq <= \(through)
              AND (time_ns > \(after.time) OR (time_ns = \(after.time) AND seq > \(after.sequence)))
            ORDER BY time_ns, seq
            """
        )
    }

    public func serviceEvents(_ service: String) async throws -> [StoredEvent] {
        try await rows("SELECT \(unescaped: EventRow.columns) FROM events WHERE service = \(service) ORDER BY time_ns, seq")
    }

    public func rowHash(_ sequence: Int64) async throws -> String? {
        try await storedHash(sequence).map { hex($0) }
    }

    public func rawBody(_ sequence: Int64) async throws -> [UInt8]? {
        try await bounded("reading a row's raw body") {
            try await self.client.query("SELECT raw FROM events WHERE seq = \(sequence)").decode(ByteBuffer.self).first { _ in true }
                .map { Array(buffer: $0) }
        }
    }

    /// The chain hash stored with row `sequence`; nil when there is no such row.
    func storedHash(_ sequence: Int64) async throws -> [UInt8]? {
        try await bounded("reading a row's hash") {
            try await self.client.query("SELECT hash FROM events WHERE seq = \(sequence)").decode(ByteBuffer.self).first { _ in true }
                .map { Array(buffer: $0) }
        }
    }

    public func headHash() async throws -> String? {
        try await bounded("reading the newest row") {
            try await self.client.query("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").decode(ByteBuffer.self).first { _ in true }
                .map { hex(Array(buffer: $0)) }
        }
    }

    public func page(_ query: EventQuery) async throws -> EventPage {
        var conditions: [String] = []
        var binds = PostgresBindings()
        func bind(_ condition: (String) -> String, _ value: some PostgresDynamicTypeEncodable) {
            binds.append(value)
            conditions.append(condition("$\(binds.count)"))
        }
        if let env = query.environment { bind({ "environment = \($0)" }, env) }
        if let service = query.service { bind({ "service = \($0)" }, service) }
        if let type = query.type { bind({ "type = \($0)" }, type.rawValue) }
        if let since = query.since { bind({ "time_ns >= \($0)" }, since.nanoseconds) }
        if let until = query.until { bind({ "time_ns < \($0)" }, until.nanoseconds) }
        if let cursor = query.cursor {
            binds.append(cursor.time.nanoseconds)
            let time = "$\(binds.count)"
            binds.append(cursor.sequence)
            conditions.append("(time_ns < \(time) OR (time_ns = \(time) AND seq < $\(binds.count)))")
        }
        let limit = max(1, min(query.limit, EventQuery.maxLimit))
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(EventRow.columns) FROM events \(whereClause) ORDER BY time_ns DESC, seq DESC LIMIT \(limit + 1)"
        let found = try await rows(PostgresQuery(unsafeSQL: sql, binds: binds))
        let events = Array(found.prefix(limit))
        var next: EventCursor? = nil
        if found.count > limit, let last = events.last {
            next = EventCursor(time: last.event.time!, sequence: last.sequence)
        }
        return EventPage(events: events, next: next)
    }

    /// Runs a query selecting `EventRow.columns` and decodes its rows on every core.
    func rows(_ query: PostgresQuery) async throws -> [StoredEvent] {
        let fetched = try await bounded("reading events") {
            var rows: [EventRow] = []
            for try await (sequence, event, receivedNs, format) in try await self.client.query(query).decode((Int64, String, Int64, String).self) {
                rows.append(EventRow(sequence: sequence, event: event, receivedNs: receivedNs, format: format))
            }
            return rows
        }
        return try EventRow.decodeInParallel(fetched)
    }
}
