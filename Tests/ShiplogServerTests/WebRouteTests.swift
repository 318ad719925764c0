import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ShiplogMetrics
import ShiplogModel
import ShiplogServer
import ShiplogStore
import Testing

/// The web view's routes at the HTTP level, in process: headers, the sign-in flow, assets and
/// the raw-body route. What a person sees is tested in a real browser (WebViewTests).
@Suite struct WebRouteTests {
    func withApplication(
        readToken: String? = nil,
        writeToken: String? = nil,
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shiplog-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try SQLiteEventLog(path: dir.appendingPathComponent("w.db").path)
        defer { try? log.close() }
        let metrics = try await LiveMetrics.restored(from: log, snapshots: nil, pipeline: .standard, version: "test")
        var configuration = ServerConfiguration()
        configuration.verifyInterval = nil
        configuration.snapshotEvery = 0
        configuration.readToken = readToken
        configuration.writeToken = writeToken
        var logger = Logger(label: "web-route-tests")
        logger.logLevel = .error
        let app = try buildApplication(configuration: configuration, log: log, snapshots: nil, metrics: metrics, logger: logger)
        try await app.test(.router, body)
    }

    func text(_ response: TestResponse) -> String { String(buffer: response.body) }
    func json(_ response: TestResponse) throws -> JSONValue { try JSONValue.parse(Array(response.body.readableBytesView)) }

    func post(_ client: any TestClientProtocol, _ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var all = headers
        all[.contentType] = "application/json"
        return try await client.execute(uri: "/api/v1/events", method: .post, headers: all, body: ByteBuffer(string: body))
    }

    @Test func everyPageCarriesAStrictPolicyAndNoCaching() async throws {
        try await withApplication { client in
            for path in ["/", "/report", "/history", "/board/cells"] {
                let page = try await client.execute(uri: path, method: .get)
                #expect(page.status == .ok, "\(path)")
                #expect(page.headers[.contentType] == "text/html; charset=utf-8", "\(path)")
                let policy = page.headers[.contentSecurityPolicy] ?? ""
                for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"] {
                    #expect(policy.contains(directive), "\(path): \(directive) in \(policy)")
                }
                #expect(!policy.contains("unsafe-inline"), "\(path)")
                #expect(page.headers[.xContentTypeOptions] == "nosniff", "\(path)")
                #expect(page.headers[values: HTTPField.Name("X-Frame-Options")!] == ["DENY"], "\(path)")
                #expect(page.headers[.cacheControl] == "no-store", "\(path)")
                #expect(page.headers[HTTPField.Name("Server-Timing")!]?.hasPrefix("render;dur=") == true, "\(path)")
                // No inline script and no inline style anywhere (the policy would block them).
                let html = text(page)
                #expect(!html.contains("<script>") && !html.contains(" style=") && !html.contains("<style"), "\(path)")
            }
            let board = text(try await client.execute(uri: "/", method: .get))
            #expect(board.contains(#"<script src="/assets/shiplog.js"#))
            #expect(board.contains("<main"))
        }
    }

    @Test func theBoardAndItsCellsRefuseUnknownOrBadFilters() async throws {
        try await withApplication { client in
            let unknown = try await client.execute(uri: "/board/cells?colour=red", method: .get)
            #expect(unknown.status == .badRequest)
            #expect(try json(unknown)["field"] == .string("colour"))
            let bad = try await client.execute(uri: "/?service=%3Cimg%3E", method: .get)
            #expect(bad.status == .badRequest)
            #expect(try json(bad)["field"] == .string("service"))
            let window = try await client.execute(uri: "/report?window=forever", method: .get)
            #expect(window.status == .badRequest)
            #expect(text(window).contains("The window must be a span"))
            let limit = try await client.execute(uri: "/history?limit=0", method: .get)
            #expect(limit.status == .badRequest)
            #expect(text(limit).contains("limit"))
        }
    }

    @Test func assetsAreEmbeddedWithAnETagAndAnswer304WhenUnchanged() async throws {
        try await withApplication(readToken: "r") { client in
            for (name, type) in [("shiplog.css", "text/css"), ("shiplog.js", "text/javascript"), ("icon.svg", "image/svg+xml")] {
                let asset = try await client.execute(uri: "/assets/\(name)", method: .get)
                #expect(asset.status == .ok, "\(name) is open: it holds no data")
                #expect(asset.headers[.contentType]?.hasPrefix(type) == true, "\(name): \(asset.headers[.contentType] ?? "none")")
                #expect(asset.body.readableBytes > 100)
                let etag = try #require(asset.headers[.eTag])
                let again = try await client.execute(uri: "/assets/\(name)", method: .get, headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified)
                #expect(again.body.readableBytes == 0)
            }
            let missing = try await client.execute(uri: "/assets/nope.js", method: .get)
            #expect(missing.status == .notFound)
            #expect(try json(missing)["error"] != nil)
        }
    }

    @Test func theRawBodyRouteReturnsTheStoredBytesAsPlainText() async throws {
        try await withApplication { client in
            let body = "{\"type\":\"deployment.succeeded\",  \"service\":\"api\",\"environment\":\"dev\",\"message\":\"<script>x</script>\"}"
            let created = try await post(client, body)
            let sequence = try #require(try json(created)["sequence"]?.intValue)
            let raw = try await client.execute(uri: "/api/v1/events/\(sequence)/raw", method: .get)
            #expect(raw.status == .ok)
            #expect(text(raw) == body)
            #expect(raw.headers[.contentType] == "text/plain; charset=utf-8")
            #expect(raw.headers[.xContentTypeOptions] == "nosniff")
            #expect(raw.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
            let missing = try await client.execute(uri: "/api/v1/events/99/raw", method: .get)
            #expect(missing.status == .notFound)
            #expect(try json(missing)["field"] == .string("sequence"))
            for bad in ["0", "-1", "abc", "9999999999999999999999"] {
                let refused = try await client.execute(uri: "/api/v1/events/\(bad)/raw", method: .get)
                #expect(refused.status == .badRequest, "\(bad)")
            }
        }
    }

    @Test func withAReadTokenPagesLeadToSignInAndTheCookieOpensThem() async throws {
        try await withApplication(readToken: "read-1", writeToken: "write-1") { client in
            let page = try await client.execute(uri: "/report?window=7d", method: .get)
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/signin?next=%2Freport%3Fwindow%3D7d")
            #expect(page.body.readableBytes == 0)
            let cells = try await client.execute(uri: "/board/cells", method: .get)
            #expect(cells.status == .unauthorized, "what scripts fetch answers 401")
            let form = try await client.execute(uri: "/signin?next=%2Freport", method: .get)
            #expect(form.status == .ok)
            #expect(text(form).contains(#"name="token""#) && text(form).contains(#"value="/report""#))

            func signIn(_ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
                var all = headers
                all[.contentType] = "application/x-www-form-urlencoded"
                return try await client.execute(uri: "/signin", method: .post, headers: all, body: ByteBuffer(string: body))
            }
            let wrong = try await signIn("token=nope&next=%2Freport")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.setCookie] == nil)
            #expect(
                text(wrong).contains("not this shiplog&#39;s read token") || text(wrong).contains("not this shiplog&#x27;s read token"),
                "\(text(wrong))"
            )
            let right = try await signIn("token=read-1&next=%2Freport")
            #expect(right.status == .seeOther)
            #expect(right.headers[.location] == "/report")
            let cookie = try #require(right.headers[.setCookie])
            #expect(cookie == "shiplog_token=read-1; Path=/; HttpOnly; SameSite=Strict")
            let proxied = try await signIn("token=read-1", headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(proxied.headers[.setCookie]?.hasSuffix("; Secure") == true, "Secure behind a proxy that ends TLS")
            for next in ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"] {
                let away = try await signIn("token=read-1&next=" + next.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
                #expect(away.headers[.location] == "/", "never leads off the site: \(next)")
            }

            let opened = try await client.execute(uri: "/report", method: .get, headers: [.cookie: "shiplog_token=read-1"])
            #expect(opened.status == .ok)
            let badCookie = try await client.execute(uri: "/", method: .get, headers: [.cookie: "shiplog_token=read-2"])
            #expect(badCookie.status == .seeOther)
            // A cookie never carries a write: it travels with requests the person did not mean.
            let write = try await post(
                client,
                #"{"type":"deployment.succeeded","service":"api","environment":"dev"}"#,
                headers: [.cookie: "shiplog_token=write-1"]
            )
            #expect(write.status == .unauthorized)
            let out = try await client.execute(uri: "/signout", method: .post, headers: [.cookie: "shiplog_token=read-1"])
            #expect(out.status == .seeOther)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
        }
    }

    @Test func aTokenWithCharactersCookiesCannotHoldStillSignsIn() async throws {
        let token = "a;b=\"c%d,e\\f"
        try await withApplication(readToken: token) { client in
            let form = "token=" + token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let signedIn = try await client.execute(
                uri: "/signin",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: form)
            )
            let cookie = try #require(signedIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            #expect(!cookie.dropFirst("shiplog_token=".count).contains { " ;\",".contains($0) }, "\(cookie)")
            let page = try await client.execute(uri: "/history", method: .get, headers: [.cookie: cookie])
            #expect(page.status == .ok)
        }
    }

    @Test func theStatusNamesWhenWhoAndWhetherTheLiveVersionSkippedAGate() async throws {
        try await withApplication { client in
            _ = try await post(
                client,
                #"{"id":"s1","type":"deployment.succeeded","service":"api","environment":"dev","version":"1","time":"2026-11-01T10:00:00Z","actor":"ci"}"#
            )
            _ = try await post(
                client,
                #"{"id":"s2","type":"deployment.succeeded","service":"api","environment":"production","version":"1","time":"2026-11-01T11:00:00Z","actor":"jane"}"#
            )
            _ = try await post(
                client,
                #"{"id":"s3","type":"deployment.started","service":"api","environment":"production","version":"2","time":"2026-11-01T12:00:00Z","actor":"bob"}"#
            )
            let status = try await client.execute(uri: "/api/v1/status", method: .get)
            #expect(status.status == .ok)
            let body = try json(status)
            let environments = body["services"]?.arrayValue?.first?["environments"]?.arrayValue ?? []
            let production = try #require(environments.first { $0["environment"] == .string("production") })
            #expect(production["liveVersion"] == .string("1"))
            #expect(production["liveSince"] == .string("2026-11-01T11:00:00Z"), "since it succeeded, not since the next started")
            #expect(production["deployedBy"] == .string("jane"))
            #expect(production["liveSkippedGate"] == .bool(true), "1 went from dev to production past staging")
            let dev = try #require(environments.first { $0["environment"] == .string("dev") })
            #expect(dev["liveSkippedGate"] == .bool(false))
            #expect(dev["deployedBy"] == .string("ci"))
        }
    }
}
