import Mustache
import ShiplogMetrics
import ShiplogModel
import ShiplogStore

extension WebView {
    /// The history page's filters as the person typed them (shown again in the form).
    public struct HistoryFilters: Sendable {
        public var environment: String
        public var service: String
        public var type: String
        public var since: String
        public var until: String
        public var limit: String
        public var cursor: String

        public init(
            environment: String = "",
            service: String = "",
            type: String = "",
            since: String = "",
            until: String = "",
            limit: String = "",
            cursor: String = ""
        ) {
            self.environment = environment
            self.service = service
            self.type = type
            self.since = since
            self.until = until
            self.limit = limit
            self.cursor = cursor
        }

        var queryItems: [(String, String?)] {
            [("environment", environment), ("service", service), ("type", type), ("since", since), ("until", until), ("limit", limit)]
        }
    }

    struct HistoryView {
        var filters: HistoryFilters
        var typeOptions: [OptionView]
        var environmentNames: [String]
        var serviceNames: [String]
        var problem: String?
        var empty: Bool
        var events: [EventView]
        var firstURL: String?
        var nextURL: String?
    }

    struct EventView {
        var sequence: String
        var type: String
        var typeClass: String
        var service: String
        var environment: String?
        var version: String?
        var actor: String?
        var link: String?
        var message: String?
        var time: TimeView
        var receivedAt: String
        var format: String
        var json: String
    }

    /// The history: the log's events newest first with the API's filters, a page at a time;
    /// `problem` instead of a page when the filters were refused.
    public func historyPage(
        page: EventPage?,
        problem: String?,
        filters: HistoryFilters,
        projection: Projection,
        signedIn: Bool
    ) -> String {
        let events = (page?.events ?? []).map { stored in
            let e = stored.event
            return EventView(
                sequence: String(stored.sequence),
                type: e.type.rawValue,
                typeClass: e.type.rawValue.replacingDots(),
                service: e.service,
                environment: e.environment,
                version: e.version ?? Formatting.shortDigest(e.artifact),
                actor: e.actor ?? e.source,
                link: Formatting.safeLink(e.url ?? e.incident?.url),
                message: e.message ?? e.incident?.title,
                time: TimeView(e.time?.nanoseconds ?? stored.receivedAt.nanoseconds),
                receivedAt: Formatting.utc(stored.receivedAt.nanoseconds),
                format: stored.format.rawValue,
                json: Formatting.prettyJSON(stored.jsonValue)
            )
        }
        let view = HistoryView(
            filters: filters,
            typeOptions: EventType.allCases.map { OptionView($0.rawValue, selected: $0.rawValue == filters.type) },
            environmentNames: environmentNames(projection),
            serviceNames: projection.services,
            problem: problem,
            empty: events.isEmpty,
            events: events,
            firstURL: filters.cursor.isEmpty ? nil : "/history" + Query.string(filters.queryItems),
            nextURL: page?.next.map { "/history" + Query.string(filters.queryItems + [("cursor", $0.token)]) }
        )
        return self.page("History", section: .history, signedIn: signedIn, main: Templates.render("history", view))
    }
}

extension String {
    fileprivate func replacingDots() -> String {
        String(unicodeScalars.map { $0 == "." || $0 == "_" ? "-" : Character($0) })
    }
}

// Lookups without reflection, as for the board: a page holds up to 1,000 events.

extension WebView.EventView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "sequence": sequence
        case "type": type
        case "typeClass": typeClass
        case "service": service
        case "environment": environment
        case "version": version
        case "actor": actor
        case "link": link
        case "message": message
        case "time": time
        case "receivedAt": receivedAt
        case "format": format
        case "json": json
        default: nil
        }
    }
}
