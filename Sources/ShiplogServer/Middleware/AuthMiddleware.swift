import Crypto
import Foundation
import Hummingbird
import ShiplogWeb

/// Bearer-token checks: writes (every non-GET route) need the write token when one is set;
/// reads need the read token (or the write token) when a read token is set.
/// `/healthz`, `/readyz`, the sign-in page and the web view's assets stay open. A page opened
/// without the read token leads to the sign-in page instead of a 401.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let writeToken: String?
    let readToken: String?
    /// Routes whose sender signs the body instead of sending a token (the route checks it).
    let signedRoutes: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if Self.openPaths.contains(path) || path.hasPrefix("/assets/") { return try await next(request, context) }
        let isRead = request.method == .get || request.method == .head
        if isRead {
            if let readToken {
                // A browser that signed in sends the token in its cookie (never good for writes:
                // a cookie travels with requests the person did not mean to make).
                let presented = bearerToken(request) ?? WebSession.token(request)
                guard let presented,
                    constantTimeEquals(presented, readToken) || writeToken.map({ constantTimeEquals(presented, $0) }) == true
                else {
                    if WebController<Context>.pages.contains(path) {
                        let next = path + (request.uri.query.map { "?" + $0 } ?? "")
                        return WebSession.redirect(to: "/signin?next=" + Query.encode(next))
                    }
                    throw unauthorized("this route needs the read token: Authorization: Bearer <token>")
                }
            }
        } else if let writeToken, !signedRoutes.contains(path), !Self.sessionPaths.contains(path) {
            guard let presented = bearerToken(request), constantTimeEquals(presented, writeToken) else {
                throw unauthorized("writes need the write token: Authorization: Bearer <token>")
            }
        }
        return try await next(request, context)
    }

    /// Open to anyone: the probes and the sign-in page (the assets and icon too, which hold no data).
    static var openPaths: Set<String> { ["/healthz", "/readyz", "/signin", "/favicon.ico"] }
    /// Posted by the sign-in and sign-out forms, which only set or clear the cookie.
    static var sessionPaths: Set<String> { ["/signin", "/signout"] }

    func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
    }

    func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, message, headers: [.wwwAuthenticate: "Bearer realm=\"shiplog\""])
    }
}

/// Compares two secrets in time that depends only on their lengths' digests, not on where they differ.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let da = Array(SHA256.hash(data: Array(a.utf8)))
    let db = Array(SHA256.hash(data: Array(b.utf8)))
    var diff: UInt8 = 0
    for i in 0..<da.count { diff |= da[i] ^ db[i] }
    return diff == 0
}
