import Mustache
import ShiplogMetrics
import ShiplogModel

extension WebView {
    /// The promotion board (the home page): services × pipeline environments.
    public func boardPage(projection: Projection, service: String?, now: Int64, signedIn: Bool) -> String {
        struct Board {
            var serviceOptions: [OptionView]
            var refreshURL: String
            var refreshMilliseconds: Int
            var cells: String
        }
        let board = Board(
            serviceOptions: projection.services.map { OptionView($0, selected: $0 == service) },
            refreshURL: "/board/cells" + Query.string([("service", service)]),
            refreshMilliseconds: refreshSeconds * 1000,
            cells: boardCells(projection: projection, service: service, now: now)
        )
        return page("Promotions", section: .board, signedIn: signedIn, main: Templates.render("board", board))
    }

    struct BoardCells {
        var readAt: TimeView
        var refreshSeconds: Int
        var empty: Bool
        var filtered: Bool
        var environments: [String]
        var rows: [BoardRow]
    }

    struct BoardRow {
        var service: String
        var historyURL: String
        var cells: [BoardCell]
    }

    struct BoardCell {
        var environment: String
        var historyURL: String
        var version: String?
        var versionText: String
        var deployed: Bool
        var digest: String?
        var artifact: String?
        var since: TimeView?
        var deployedBy: String?
        var degraded: Bool
        var incidentText: String?
        var unverified: Bool
        var previousEnvironment: String
        var pending: Bool
        var pendingVersion: String
        var pendingFrom: String
        var waitingSeconds: String
        var waitingText: String
    }

    /// The board's table and when it was read: what the page fetches again every few seconds.
    public func boardCells(projection: Projection, service: String?, now: Int64) -> String {
        let services = projection.services.filter { service == nil || $0 == service }
        let rows = services.map { name in
            BoardRow(
                service: name,
                historyURL: "/history" + Query.string([("service", name)]),
                cells: pipeline.environments.map { cell(projection, PairKey(service: name, environment: $0), now: now) }
            )
        }
        let view = BoardCells(
            readAt: TimeView(now),
            refreshSeconds: refreshSeconds,
            empty: rows.isEmpty,
            filtered: service != nil,
            environments: pipeline.environments,
            rows: rows
        )
        return Templates.render("boardCells", view)
    }

    func cell(_ projection: Projection, _ key: PairKey, now: Int64) -> BoardCell {
        let p = projection.pair(key.service, key.environment)
        let live = p?.liveVersion ?? p?.liveArtifact
        var cell = BoardCell(
            environment: key.environment,
            historyURL: "/history" + Query.string([("service", key.service), ("environment", key.environment)]),
            version: live,
            versionText: p?.liveVersion ?? Formatting.shortDigest(p?.liveArtifact) ?? p?.liveArtifact ?? "unknown version",
            deployed: p?.liveSince != nil,
            digest: Formatting.shortDigest(p?.liveArtifact),
            artifact: p?.liveArtifact,
            since: p?.liveSince.map(TimeView.init),
            deployedBy: p?.liveActor,
            degraded: p?.isDegraded ?? false,
            incidentText: nil,
            unverified: projection.liveSkippedGate(key),
            previousEnvironment: pipeline.previous(key.environment) ?? "",
            pending: false,
            pendingVersion: "",
            pendingFrom: "",
            waitingSeconds: "",
            waitingText: ""
        )
        if let count = p?.openIncidents.count, count > 0 {
            cell.incidentText = count == 1 ? "1 open incident" : "\(count) open incidents"
        }
        if let pending = projection.pending(key, now: now), pending.seconds > 0, let from = pipeline.previous(key.environment) {
            cell.pending = true
            cell.pendingVersion = pending.version ?? Formatting.shortDigest(pending.artifact) ?? pending.artifact
            cell.pendingFrom = from
            cell.waitingSeconds = String(Int64(pending.seconds.rounded()))
            cell.waitingText = Formatting.duration(pending.seconds)
        }
        return cell
    }
}

// The board is the page rendered most (every few seconds, by every open browser): its views
// answer the templates' lookups directly instead of through reflection, which costs several
// times the rest of the rendering on a board of hundreds of cells.

extension WebView.BoardCells: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "readAt": readAt
        case "refreshSeconds": refreshSeconds
        case "empty": empty
        case "filtered": filtered
        case "environments": environments
        case "rows": rows
        default: nil
        }
    }
}

extension WebView.BoardRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "service": service
        case "historyURL": historyURL
        case "cells": cells
        default: nil
        }
    }
}

extension WebView.BoardCell: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "environment": environment
        case "historyURL": historyURL
        case "version": version
        case "versionText": versionText
        case "deployed": deployed
        case "digest": digest
        case "artifact": artifact
        case "since": since
        case "deployedBy": deployedBy
        case "degraded": degraded
        case "incidentText": incidentText
        case "unverified": unverified
        case "previousEnvironment": previousEnvironment
        case "pending": pending
        case "pendingVersion": pendingVersion
        case "pendingFrom": pendingFrom
        case "waitingSeconds": waitingSeconds
        case "waitingText": waitingText
        default: nil
        }
    }
}

extension TimeView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "iso": iso
        case "utc": utc
        default: nil
        }
    }
}
