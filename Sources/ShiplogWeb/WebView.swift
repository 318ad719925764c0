import Foundation
import Mustache
import ShiplogMetrics
import ShiplogModel
import ShiplogStore

/// The web view's pages as HTML: the promotion board, the DORA report, the history and the
/// sign-in page. Rendering only; the server's `WebController` routes to these.
public struct WebView: Sendable {
    /// The shiplog version the footer names.
    public var version: String
    public var pipeline: Pipeline
    /// How often the board fetches its cells again.
    public var refreshSeconds: Int

    public init(version: String, pipeline: Pipeline, refreshSeconds: Int = 5) {
        self.version = version
        self.pipeline = pipeline
        self.refreshSeconds = refreshSeconds
    }

    /// Which page a layout is for (the navigation marks it).
    public enum Section: Sendable {
        case board, report, history, other
    }

    struct NavigationItem {
        var href: String
        var label: String
        var current: Bool
    }

    struct Layout {
        var title: String
        var assetVersion: String
        var navigation: [NavigationItem]
        var signedIn: Bool
        var version: String
        var main: String
    }

    /// The pipeline's environments, then those outside it that have events: what the pages
    /// offer to filter by.
    func environmentNames(_ projection: Projection) -> [String] {
        var names = pipeline.environments
        for key in projection.sortedKeys where !names.contains(key.environment) { names.append(key.environment) }
        return names
    }

    func page(_ title: String, section: Section, signedIn: Bool, main: String) -> String {
        let items: [(String, String, Section)] = [
            ("/", "Promotions", .board), ("/report", "DORA report", .report), ("/history", "History", .history),
        ]
        return Templates.render(
            "layout",
            Layout(
                title: title,
                assetVersion: WebAssets.version,
                navigation: items.map { NavigationItem(href: $0.0, label: $0.1, current: $0.2 == section) },
                signedIn: signedIn,
                version: version,
                main: main
            )
        )
    }

    /// The sign-in page; `next` is where a correct token leads (a path of this site).
    public func signInPage(next: String, problem: String?) -> String {
        struct SignIn {
            var next: String
            var problem: String?
        }
        return page("Sign in", section: .other, signedIn: false, main: Templates.render("signin", SignIn(next: next, problem: problem)))
    }

    /// A page that only says what went wrong.
    public func messagePage(heading: String, text: String, signedIn: Bool) -> String {
        struct Message {
            var heading: String
            var text: String
        }
        return page(heading, section: .other, signedIn: signedIn, main: Templates.render("message", Message(heading: heading, text: text)))
    }
}

/// Query strings for the pages' links.
public enum Query {
    /// `?a=1&b=x%20y`, leaving out empty values; "" when nothing is left.
    static func string(_ items: [(String, String?)]) -> String {
        let parts = items.compactMap { key, value -> String? in
            guard let value, !value.isEmpty else { return nil }
            return key + "=" + encode(value)
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    /// URL-unreserved characters (RFC 3986): left as they are in a query value, and valid in
    /// a cookie value as they are.
    public static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `value` with every byte outside `unreserved` percent-encoded.
    public static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}

/// A choice in a `<select>`.
struct OptionView {
    var name: String
    var label: String
    var selected: Bool

    init(_ name: String, label: String? = nil, selected: Bool) {
        self.name = name
        self.label = label ?? name
        self.selected = selected
    }
}

extension OptionView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}
