import Foundation
import HTTPTypes
import Hummingbird
import ShiplogMetrics
import ShiplogModel
import ShiplogStore
import ShiplogWeb

/// The web view for people: `GET /` (the promotion board), `/board/cells` (what the board
/// fetches again), `/report`, `/history`, the sign-in page and the embedded assets. Read-only:
/// the only forms that post are sign-in and sign-out, which set or clear a cookie.
struct WebController<Context: RequestContext> {
    let log: any EventLog
    let metrics: LiveMetrics
    let view: WebView
    let readToken: String?
    let writeToken: String?

    /// The pages a person opens: without the read token they lead to the sign-in page.
    static var pages: Set<String> { ["/", "/report", "/history"] }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/", use: board)
        routes.get("board/cells", use: boardCells)
        routes.get("report", use: report)
        routes.get("history", use: history)
        routes.get("signin", use: signInForm)
        routes.post("signin", use: signIn)
        routes.post("signout", use: signOut)
        routes.get("assets/:name", use: asset)
        routes.get("favicon.ico", use: favicon)
        return routes
    }

    func signedIn(_ request: Request) -> Bool { readToken != nil && WebSession.token(request) != nil }

    /// Renders a page from the projection on a Dispatch thread, like the other projection
    /// work: a page costs tens of milliseconds, which the two cooperative threads that
    /// answer `/healthz` and ingest must not spend.
    func rendered(_ render: @escaping @Sendable (WebView, Projection, Int64) -> String) async throws -> String {
        try await offloaded { [metrics, view] in render(view, metrics.projection, Timestamp.now().nanoseconds) }
    }

    @Sendable func board(_ request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let service = try serviceFilter(request)
        let signedIn = signedIn(request)
        let html = try await rendered { view, projection, now in
            view.boardPage(projection: projection, service: service, now: now, signedIn: signedIn)
        }
        return WebSession.html(html, since: start)
    }

    @Sendable func boardCells(_ request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let service = try serviceFilter(request)
        let html = try await rendered { view, projection, now in view.boardCells(projection: projection, service: service, now: now) }
        return WebSession.html(html, since: start)
    }

    func serviceFilter(_ request: Request) throws -> String? {
        let q = request.uri.queryParameters
        for (key, _) in q where key != "service" {
            throw APIError(.badRequest, "unknown query parameter \"\(key)\"", field: String(key))
        }
        guard let service = q.get("service"), !service.isEmpty else { return nil }
        guard Event.isValidName(service) else { throw APIError(.badRequest, "not a valid service name", field: "service") }
        return service
    }

    @Sendable func report(_ request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let q = request.uri.queryParameters
        let environment = q.get("environment").flatMap { $0.isEmpty ? nil : $0 } ?? view.pipeline.production
        let windowText = q.get("window").flatMap { $0.isEmpty ? nil : $0 } ?? "30d"
        guard Event.isValidName(environment) else {
            return WebSession.html(
                view.messagePage(heading: "DORA report", text: "\"\(environment)\" is not a valid environment name.", signedIn: signedIn(request)),
                status: .badRequest,
                since: start
            )
        }
        guard let window = Window(parsing: windowText) else {
            return WebSession.html(
                view.messagePage(
                    heading: "DORA report",
                    text: "The window must be a span from 1s to \(Window.longest.label), like 7d, 30d or 90d.",
                    signedIn: signedIn(request)
                ),
                status: .badRequest,
                since: start
            )
        }
        let signedIn = signedIn(request)
        let html = try await rendered { view, projection, now in
            view.reportPage(projection: projection, environment: environment, window: window, now: now, signedIn: signedIn)
        }
        return WebSession.html(html, since: start)
    }

    @Sendable func history(_ request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let q = request.uri.queryParameters
        let filters = WebView.HistoryFilters(
            environment: q.get("environment") ?? "",
            service: q.get("service") ?? "",
            type: q.get("type") ?? "",
            since: q.get("since") ?? "",
            until: q.get("until") ?? "",
            limit: q.get("limit") ?? "",
            cursor: q.get("cursor") ?? ""
        )
        var page: EventPage?
        var problem: String?
        func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }
        let query: EventQuery?
        do {
            var parsed = try EventQuery(
                environment: nonEmpty(filters.environment),
                service: nonEmpty(filters.service),
                type: nonEmpty(filters.type),
                since: nonEmpty(filters.since),
                until: nonEmpty(filters.until),
                limit: nonEmpty(filters.limit),
                cursor: nonEmpty(filters.cursor),
                now: .now()
            )
            if filters.limit.isEmpty { parsed.limit = 50 }
            query = parsed
        } catch {
            problem = "\(error.field): \(error.detail)"
            query = nil
        }
        if let query { page = try await log.page(query) }
        let signedIn = signedIn(request)
        let html = try await rendered { [page, problem] view, projection, _ in
            view.historyPage(page: page, problem: problem, filters: filters, projection: projection, signedIn: signedIn)
        }
        return WebSession.html(html, status: problem == nil ? .ok : .badRequest, since: start)
    }

    @Sendable func signInForm(_ request: Request, context: Context) async throws -> Response {
        let next = WebSession.safeNext(request.uri.queryParameters.get("next"))
        guard readToken != nil else { return WebSession.redirect(to: next) }
        return WebSession.html(view.signInPage(next: next, problem: nil), since: .now)
    }

    @Sendable func signIn(_ request: Request, context: Context) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 16 * 1024)
        } catch {
            throw APIError(.contentTooLarge, "a sign-in form is at most 16 KiB")
        }
        let form = WebSession.formFields(String(buffer: body))
        let next = WebSession.safeNext(form["next"])
        guard let readToken else { return WebSession.redirect(to: next) }
        let token = form["token"] ?? ""
        guard !token.isEmpty, constantTimeEquals(token, readToken) || writeToken.map({ constantTimeEquals(token, $0) }) == true else {
            return WebSession.html(
                view.signInPage(next: next, problem: "That is not this shiplog's read token."),
                status: .unauthorized,
                since: .now
            )
        }
        var response = WebSession.redirect(to: next)
        response.headers[.setCookie] = WebSession.cookie(token, secure: WebSession.isSecure(request))
        return response
    }

    @Sendable func signOut(_ request: Request, context: Context) async throws -> Response {
        var response = WebSession.redirect(to: readToken == nil ? "/" : "/signin")
        response.headers[.setCookie] = WebSession.clearedCookie(secure: WebSession.isSecure(request))
        return response
    }

    @Sendable func asset(_ request: Request, context: Context) async throws -> Response {
        guard let name = context.parameters.get("name"), let asset = WebAssets.all[name] else {
            throw APIError(.notFound, "no such asset")
        }
        return serve(asset, request)
    }

    /// What a browser asks for on its own, on any page (an explanation's JSON too): the icon.
    @Sendable func favicon(_ request: Request, context: Context) async throws -> Response {
        serve(WebAssets.all["icon.svg"]!, request)
    }

    func serve(_ asset: WebAssets.Asset, _ request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache",
            .xContentTypeOptions: "nosniff",
        ]
        if request.headers[.ifNoneMatch] == asset.etag {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(asset.body.utf8.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: asset.body)))
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let serverTiming = Self("Server-Timing")!
}

/// The pages' responses, headers and the sign-in cookie.
enum WebSession {
    static let cookieName = "shiplog_token"

    /// No inline script or style, nothing from another origin, never in a frame.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func html(_ text: String, status: HTTPResponse.Status = .ok, since start: ContinuousClock.Instant) -> Response {
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return Response(
            status: status,
            headers: securityHeaders.merging([
                .contentType: "text/html; charset=utf-8",
                .cacheControl: "no-store",
                .serverTiming: "render;dur=" + String(format: "%.3f", milliseconds),
            ]),
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: contentSecurityPolicy,
        .xContentTypeOptions: "nosniff",
        .xFrameOptions: "DENY",
        .referrerPolicy: "no-referrer",
    ]

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: securityHeaders.merging([.location: location, .cacheControl: "no-store"]))
    }

    /// Where a sign-in may lead: a path of this site (never `//other.host` or a scheme).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"),
            !next.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F })
        else { return "/" }
        return next
    }

    /// The token a signed-in browser sends in its cookie.
    static func token(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                guard pair.hasPrefix(cookieName + "=") else { continue }
                let value = String(pair.dropFirst(cookieName.count + 1))
                return value.isEmpty ? nil : value.removingPercentEncoding
            }
        }
        return nil
    }

    static func cookie(_ token: String, secure: Bool) -> String {
        let value = Query.encode(token)
        return "\(cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    static func clearedCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" + (secure ? "; Secure" : "")
    }

    /// shiplog listens in plain HTTP; behind a proxy that ends TLS, the cookie is `Secure`.
    static func isSecure(_ request: Request) -> Bool {
        request.header(named: "X-Forwarded-Proto")?.lowercased() == "https"
    }

    /// `application/x-www-form-urlencoded` fields (the first of each name).
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            let key = decode(parts[0])
            if fields[key] == nil { fields[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var out = self
        for field in other { out[field.name] = field.value }
        return out
    }
}
