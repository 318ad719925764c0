import ArgumentParser
import Foundation
import ShiplogAPI
import ShiplogModel
import ShiplogStore

struct EventsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show history, newest first by time (ties by sequence)."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, ndjson
    }

    @OptionGroup var log: LogOptions
    @Option(name: [.customLong("env"), .customLong("environment")], help: "Only this environment.") var env: String?
    @Option(help: "Only this service.") var service: String?
    @Option(help: "Only this event type.", completion: .list(EventType.allCases.map(\.rawValue))) var type: String?
    @Option(help: "From this time on: a span back from now (30m, 12h, 7d, 2w) or RFC 3339.") var since: String?
    @Option(help: "Before this time: a span back from now or RFC 3339.") var until: String?
    @Option(help: "At most this many events.") var limit = EventsList.defaultLimit
    @Option(help: "table, json or ndjson.") var format = EventsList.defaultFormat

    static let defaultLimit = 50
    static let defaultFormat = Format.table

    func query() throws -> EventQuery {
        guard limit >= 1 else { throw CLIError("--limit must be at least 1") }
        do {
            return try EventQuery(environment: env, service: service, type: type, since: since, until: until, now: .now())
        } catch {
            let option = error.field == "environment" ? "env" : error.field
            let value = [("env", env), ("service", service), ("type", type), ("since", since), ("until", until)].first { $0.0 == option }?.1 ?? ""
            throw CLIError("--\(option) \(value): \(error.detail)")
        }
    }

    func run() async throws {
        var q = try query()
        var events: [StoredEvent] = []
        if let client = try log.client {
            var cursor: String? = nil
            repeat {
                var params: [(String, String)] = [("limit", String(min(EventQuery.maxLimit, limit - events.count)))]
                if let env { params.append(("environment", env)) }
                if let service { params.append(("service", service)) }
                if let type { params.append(("type", type)) }
                if let s = q.since { params.append(("since", s.rfc3339)) }
                if let u = q.until { params.append(("until", u.rfc3339)) }
                if let cursor { params.append(("cursor", cursor)) }
                let (status, body) = try await client.send("GET", "api/v1/events", query: params)
                guard status == 200 else { throw CLIError(ServerClient.errorText(status, body)) }
                guard let page = ServerClient.decoded(HistoryPage.self, body) else {
                    throw CLIError("the server sent a page of history this client cannot read")
                }
                for record in page.events {
                    guard let e = record.stored else { throw CLIError("the server sent an event this client cannot read") }
                    events.append(e)
                }
                cursor = page.next
            } while cursor != nil && events.count < limit
        } else {
            let store = try await log.openDatabase(readOnly: true)
            repeat {
                q.limit = min(EventQuery.maxLimit, limit - events.count)
                let page = try await store.page(q)
                events += page.events
                q.cursor = page.next
            } while q.cursor != nil && events.count < limit
            try await store.close()
        }
        switch format {
        case .json:
            print(JSONValue.array(events.map(\.jsonValue)).canonicalJSON())
        case .ndjson:
            for e in events { print(e.jsonValue.canonicalJSON()) }
        case .table:
            printTable(events)
        }
    }

    func printTable(_ events: [StoredEvent]) {
        let header = ["TIME", "SEQ", "TYPE", "SERVICE", "ENVIRONMENT", "VERSION", "COMMIT", "ACTOR"]
        let rows = events.map { s -> [String] in
            let e = s.event
            return [
                e.time?.rfc3339 ?? "", String(s.sequence), e.type.rawValue, e.service, e.environment ?? "-",
                e.version ?? e.incident?.id ?? "-", e.commit.map { String($0.prefix(12)) } ?? "-", e.actor ?? "-",
            ]
        }
        if rows.isEmpty {
            printError("no events match")
            return
        }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], min(cell.count, 40)) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let cell = c.count > 40 ? String(c.prefix(39)) + "…" : c
                return i == cells.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[i] - cell.count))
            }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }
}
