import Foundation
import ShiplogModel
import ShiplogTestSupport
import Testing

/// The web view in a real browser: headless Chromium (Debian's `chromium` and
/// `chromium-driver`, driven by Selenium from Tests/Browser/webview.py) against the built
/// binary on loopback with a known history.
@Suite(.serialized) struct WebViewTests {
    let dir = TemporaryDirectory()
    var db: String { dir.path("web.db") }
    let now = Timestamp.now()
    func t(_ hours: Double) -> String { now.adding(seconds: hours * 3600).rfc3339 }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = root.appendingPathComponent("Tests/Browser/webview.py").path
    /// Where the README's screenshots live; the board and report scenarios write them.
    static let screenshots = root.appendingPathComponent("docs/images").path

    /// checkout: 1.0 through the pipeline, 1.1 in dev waiting for staging. payments: 2.0
    /// straight from dev to production (unverified), then an open incident there. search:
    /// its production deployment failed.
    var history: [String] {
        [
            #"{"id":"h1","type":"deployment.succeeded","service":"checkout","environment":"dev","version":"1.0","artifact":"registry.example/checkout@sha256:1111111111111111111111111111111111111111111111111111111111111111","commit":"c1","commitTime":"\#(t(-60))","time":"\#(t(-50))","actor":"ci-bot"}"#,
            #"{"id":"h2","type":"deployment.succeeded","service":"checkout","environment":"staging","version":"1.0","artifact":"registry.example/checkout@sha256:1111111111111111111111111111111111111111111111111111111111111111","time":"\#(t(-40))","actor":"argocd"}"#,
            #"{"id":"h3","type":"deployment.succeeded","service":"checkout","environment":"production","version":"1.0","artifact":"registry.example/checkout@sha256:1111111111111111111111111111111111111111111111111111111111111111","time":"\#(t(-30))","actor":"argocd","url":"https://ci.example/runs/3"}"#,
            #"{"id":"h4","type":"deployment.succeeded","service":"checkout","environment":"dev","version":"1.1","commit":"c2","commitTime":"\#(t(-6))","time":"\#(t(-5))","actor":"ci-bot"}"#,
            #"{"id":"h5","type":"deployment.succeeded","service":"payments","environment":"dev","version":"2.0","commit":"p1","commitTime":"\#(t(-80))","time":"\#(t(-72))"}"#,
            #"{"id":"h6","type":"deployment.succeeded","service":"payments","environment":"production","version":"2.0","time":"\#(t(-12))","actor":"jane"}"#,
            #"{"id":"h7","type":"incident.opened","service":"payments","environment":"production","incident":{"id":"INC-7","severity":"sev1","title":"Card payments failing"},"time":"\#(t(-2))"}"#,
            #"{"id":"h8","type":"deployment.succeeded","service":"search","environment":"dev","version":"0.9","commit":"s1","commitTime":"\#(t(-30))","time":"\#(t(-26))"}"#,
            #"{"id":"h9","type":"deployment.succeeded","service":"search","environment":"staging","version":"0.9","time":"\#(t(-25))"}"#,
            #"{"id":"h10","type":"deployment.failed","service":"search","environment":"production","version":"0.9","time":"\#(t(-1))","message":"readiness probe failed"}"#,
            #"{"id":"h11","type":"deployment.succeeded","service":"checkout","environment":"production","version":"0.9","time":"\#(t(-24 * 20))"}"#,
        ]
    }

    func seeded(_ extra: [String] = [], arguments: [String] = []) async throws -> ServerProcess {
        let server = try ServerProcess(db: db, arguments: ["--web-refresh", "1"] + arguments)
        for line in history + extra {
            let answer = try await http("POST", server.baseURL + "/api/v1/events", body: line)
            #expect(answer.status == 201, "seeding: \(answer.text)")
        }
        return server
    }

    /// Runs one scenario of the browser script and returns its answer; fails with the reason
    /// when the browser or its driver is missing (`.ci/run` installs them).
    /// `expectedErrors`: console messages a scenario causes on purpose (a refused sign-in
    /// answers 401, which the browser reports).
    func browse(_ scenario: String, _ server: ServerProcess, _ options: [String: JSONValue] = [:], expectedErrors: [String] = []) throws -> JSONValue
    {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw HarnessError(
                "\(tool) is missing: the web view tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)"
            )
        }
        let run = try runProgram(
            "/usr/bin/env",
            [
                "python3", Self.script, scenario, server.baseURL,
                JSONValue.object(options.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).compactJSON(),
            ]
        )
        if run.stderr.contains("No module named 'selenium'") {
            throw HarnessError("Selenium is missing: python3 -m pip install selenium (.ci/run does)")
        }
        guard run.status == 0, let answer = try? JSONValue.parse(run.stdout) else {
            throw HarnessError("browser scenario \(scenario) failed (\(run.status)): \(run.stdout.prefix(3000)) \(run.stderr.suffix(2000))")
        }
        // What every page must keep to: nothing leaves loopback, no console error, no dialog.
        let requests = answer["requests"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(!requests.isEmpty)
        for url in requests where !url.hasPrefix(server.baseURL + "/") {
            Issue.record("the browser requested \(url), which is not this shiplog on loopback")
        }
        let errors = (answer["consoleErrors"]?.arrayValue ?? []).compactMap(\.stringValue)
        let unexpected = errors.filter { error in !expectedErrors.contains { error.contains($0) } }
        #expect(unexpected == [], "console errors: \(unexpected)")
        for expected in expectedErrors {
            #expect(errors.contains { $0.contains(expected) }, "the scenario should have caused \(expected)")
        }
        #expect(answer["dialogs"]?.arrayValue == [], "a JavaScript dialog opened: \(answer["dialogs"] ?? .null)")
        return answer
    }

    @Test func theBoardShowsLiveVersionsPendingAndMarkersAndUpdatesItself() async throws {
        let server = try await seeded()
        let newer =
            #"{"id":"n1","type":"deployment.succeeded","service":"checkout","environment":"staging","version":"1.1","commit":"c2","time":"\#(t(0))","actor":"argocd"}"#
        let answer = try browse(
            "board",
            server,
            [
                "screenshots": .string(Self.screenshots), "post": .string(newer),
                "expect": .array([.string("checkout"), .string("staging"), .string("1.1")]), "filter": .string("payments"),
            ]
        )
        let browsed = Timestamp.now()
        let board = try #require(answer["board"])
        #expect(board["checkout"]?["dev"]?["version"] == .string("1.1"))
        #expect(board["checkout"]?["staging"]?["version"] == .string("1.0"))
        #expect(board["checkout"]?["production"]?["version"] == .string("1.0"))
        let production = board["checkout"]?["production"]?["text"]?.stringValue ?? ""
        #expect(production.contains("111111111111"), "the digest, shortened: \(production)")
        #expect(production.contains("by argocd"))
        // 1.1 waits in dev for staging: five hours when the history was written, plus however
        // long a busy machine took to start the server and the browser before the page rendered.
        let waiting = try #require(board["checkout"]?["staging"]?["waitingSeconds"]?.doubleValue)
        let longest = browsed.seconds - now.seconds + 5 * 3600
        #expect(waiting >= 5 * 3600 - 1 && waiting <= longest + 1, "waiting \(waiting) s, at most \(longest) s")
        #expect(board["checkout"]?["staging"]?["pending"]?.stringValue?.contains("Pending: 1.1 from dev, waiting 5h") == true)
        #expect(board["checkout"]?["production"]?["pending"] == .null, "1.0 already reached production")
        // payments 2.0 skipped staging and has an open incident; search's last attempt failed.
        #expect(board["payments"]?["production"]?["unverified"] == .bool(true))
        #expect(board["payments"]?["production"]?["degraded"] == .bool(true))
        #expect(board["payments"]?["production"]?["text"]?.stringValue?.contains("1 open incident") == true)
        #expect(board["checkout"]?["production"]?["unverified"] == .bool(false))
        #expect(board["checkout"]?["production"]?["degraded"] == .bool(false))
        #expect(board["search"]?["production"]?["degraded"] == .bool(true))
        #expect(board["search"]?["production"]?["version"] == .null, "a failed deployment is not live")
        #expect(board["payments"]?["staging"]?["version"] == .null)
        // After the post: staging shows 1.1 without a reload, and nothing waits any more.
        #expect(answer["updated"] == .bool(true))
        #expect(answer["reloaded"] == .bool(false))
        #expect(answer["readAtChanged"] == .bool(true))
        #expect(answer["after"]?["checkout"]?["staging"]?["pending"] == .null)
        #expect(answer["after"]?["checkout"]?["production"]?["pending"]?.stringValue?.contains("Pending: 1.1 from staging") == true)
        #expect(answer["filtered"] == .array([.string("payments")]))
        for name in ["board-desktop.png", "board-phone.png"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: Self.screenshots + "/" + name)[.size] as? Int) ?? 0
            #expect(size > 10_000, "\(name) written (\(size) bytes)")
        }
    }

    @Test func theReportEqualsTheCLIsForTheSameWindowAndTheWindowSelectorChangesIt() async throws {
        let server = try await seeded()
        let answer = try browse("report", server, ["screenshots": .string(Self.screenshots)])
        #expect(answer["window"] == .string("30d"))
        for (window, key) in [("30d", "initial"), ("7d", "sevenDays")] {
            let cli = try shiplog(["report", "--db", db, "--env", "production", "--window", window, "--format", "json"])
            #expect(cli.status == 0, "\(cli.stderr)")
            let rows = try #require(JSONValue.parse(cli.stdout).arrayValue)
            let page = try #require(answer[key]?.objectValue)
            #expect(Set(page.map { $0.0 }) == Set(rows.compactMap { $0["service"]?.stringValue }), "\(window): the same services")
            for row in rows {
                let service = row["service"]!.stringValue!
                let figures = answer[key]?[service]
                for (figure, value, level) in [
                    ("deploymentFrequency", "deploymentsPerDay", "deploymentFrequencyLevel"),
                    ("leadTime", "leadTimeMedianSeconds", "leadTimeLevel"),
                    ("changeFailure", "changeFailureRatio", "changeFailureLevel"),
                    ("timeToRestore", "timeToRestoreMedianSeconds", "timeToRestoreLevel"),
                    ("rework", "reworkRatio", ""),
                ] {
                    let shown = figures?[figure]?["value"]?.stringValue ?? "missing"
                    let expected = row[value]?.doubleValue
                    #expect(
                        shown.isEmpty ? expected == nil : Double(shown) == expected,
                        "\(window) \(service) \(figure): page \(shown), CLI \(row[value] ?? .null)"
                    )
                    if !level.isEmpty {
                        #expect(figures?[figure]?["level"] == row[level], "\(window) \(service) \(figure) level")
                    }
                    #expect(figures?[figure]?["trend"] == .bool(true))
                    #expect(
                        figures?[figure]?["href"]?.stringValue?.hasPrefix(
                            "/api/v1/explain?service=\(service)&environment=production&window=\(window)"
                        ) == true
                    )
                }
            }
        }
        // checkout's production deployment 20 days ago is in the 30-day window, not in the 7-day one.
        #expect(Double(answer["initial"]?["checkout"]?["deploymentFrequency"]?["value"]?.stringValue ?? "") == 2.0 / 30)
        #expect(Double(answer["sevenDays"]?["checkout"]?["deploymentFrequency"]?["value"]?.stringValue ?? "") == 1.0 / 7)
        // The link leads to the explanation of the same figures.
        #expect(answer["explanation"]?["service"] != nil)
        for name in ["report-desktop.png", "report-phone.png"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: Self.screenshots + "/" + name)[.size] as? Int) ?? 0
            #expect(size > 10_000, "\(name) written (\(size) bytes)")
        }
    }

    @Test func historyPagesReturnEachEventOnceAndTheRawBodyIsTheStoredBytes() async throws {
        let server = try await seeded()
        let body =
            "{ \"type\" : \"deployment.started\",\n  \"service\":\"checkout\", \"environment\":\"production\", \"version\":\"1.2\", \"url\":\"https://ci.example/runs/9\" }"
        let posted = try await http("POST", server.baseURL + "/api/v1/events", body: body)
        let sequence = try #require(posted.body["sequence"]?.intValue)
        let all = try browse("history", server, ["path": .string("/history?limit=3"), "rawOf": .number(String(sequence))])
        let seen = all["sequences"]?.arrayValue?.compactMap(\.intValue) ?? []
        #expect(seen.count == history.count + 1)
        #expect(Set(seen) == Set(1...(history.count + 1)), "each event once: \(seen)")
        #expect(seen.first == sequence, "newest first")
        #expect(all["pages"]?.intValue == (history.count + 1 + 2) / 3)
        #expect(all["raw"] == .string(body), "the stored bytes, not the canonical event")
        #expect(all["json"]?.stringValue?.contains("\"deployment.started\"") == true)
        #expect(all["links"] == .array([.string("https://ci.example/runs/9")]))
        let api = try await http("GET", server.baseURL + "/api/v1/events?service=checkout&limit=1000")
        let expected = api.body["events"]?.arrayValue?.compactMap { $0["sequence"]?.intValue } ?? []
        let filtered = try browse("history", server, ["path": .string("/history?service=checkout&limit=2")])
        #expect(filtered["sequences"]?.arrayValue?.compactMap(\.intValue) == expected)
        #expect(expected.count == 6)
    }

    @Test func attackerControlledTextRendersAsText() async throws {
        let hostile = "<img src=x onerror=alert(1)>"
        let events = [
            #"{"id":"x1","type":"deployment.succeeded","service":"evil","environment":"dev","version":"\"><img src=x onerror=alert(5)>","actor":"<img src=x onerror=alert(1)>","message":"<script>alert(2)</script><b class=\"injected\">bold</b>","url":"javascript:alert(4)","annotations":{"note":"<img src=x onerror=alert(3)>"},"time":"\#(t(-1))"}"#,
            #"{"id":"x2","type":"incident.opened","service":"evil","environment":"dev","incident":{"id":"<b class=injected>","title":"<img src=x onerror=alert(6)>","url":"javascript:alert(7)"},"time":"\#(t(-0.5))"}"#,
        ]
        let server = try await seeded(events)
        let answer = try browse("hostile", server)
        for (path, page) in answer["pages"]?.objectValue ?? [] {
            #expect(page["injectedElements"]?.intValue == 0, "\(path): an element from the event's text")
            #expect(page["scripts"]?.arrayValue?.compactMap(\.stringValue).allSatisfy { $0.hasPrefix("/assets/shiplog.js") } == true, "\(path)")
            #expect(page["links"]?.arrayValue?.contains { $0.stringValue?.lowercased().hasPrefix("javascript:") == true } == false, "\(path)")
        }
        let board = answer["pages"]?["/"]?["text"]?.stringValue ?? ""
        #expect(board.contains("by " + hostile), "the actor shown as text")
        let history = answer["pages"]?["/history?limit=1000"]?["text"]?.stringValue ?? ""
        #expect(history.contains("<script>alert(2)</script><b class=\"injected\">bold</b>"))
        #expect(history.contains("<img src=x onerror=alert(3)>"), "annotations in the JSON")
        #expect(history.contains("<img src=x onerror=alert(6)>"), "the incident's title")
        #expect(history.contains(#"\"><img src=x onerror=alert(5)>"#) || history.contains("\"><img src=x onerror=alert(5)>"))
    }

    @Test func withAReadTokenThePagesNeedItsCookie() async throws {
        let token = "web-read-token-42"
        let server = try await seeded(arguments: ["--read-token", token])
        let answer = try browse(
            "signin",
            server,
            ["token": .string(token)],
            expectedErrors: ["/signin - Failed to load resource: the server responded with a status of 401"]
        )
        let without = try #require(answer["withoutCookie"])
        #expect(without["url"]?.stringValue?.hasPrefix(server.baseURL + "/signin?next=") == true)
        #expect(without["html"]?.stringValue?.contains("checkout") == false, "no data without the token")
        #expect(without["html"]?.stringValue?.contains("payments") == false)
        #expect(answer["historyWithoutCookie"]?["text"]?.stringValue?.contains("deployment.succeeded") == false)
        #expect(answer["wrongToken"]?["text"]?.stringValue?.contains("not this shiplog's read token") == true)
        let with = answer["withCookie"]?["text"]?.stringValue ?? ""
        #expect(answer["withCookie"]?["url"]?.stringValue == server.baseURL + "/history", "back where the person was going")
        #expect(with.contains("checkout") && with.contains("deployment.succeeded"))
        #expect(answer["withCookie"]?["scriptSeesCookie"] == .string(""), "HttpOnly: scripts cannot read the token")
        let cookie = answer["cookies"]?.arrayValue?.first { $0["name"] == .string("shiplog_token") }
        #expect(cookie?["httpOnly"] == .bool(true))
        #expect(cookie?["sameSite"] == .string("Strict"))
        #expect(cookie?["secure"] == .bool(false), "plain HTTP on loopback")
        #expect(answer["afterSignOut"]?["url"]?.stringValue?.contains("/signin") == true)
        #expect(answer["afterSignOut"]?["text"]?.stringValue?.contains("checkout") == false)
        // Scripts and tools use the header instead.
        let scripted = try await http("GET", server.baseURL + "/", headers: ["Authorization": "Bearer \(token)"])
        #expect(scripted.status == 200 && scripted.text.contains("checkout"))
        let refused = try await http("GET", server.baseURL + "/board/cells")
        #expect(refused.status == 401 && !refused.text.contains("checkout"))
    }

    @Test func theBoardIsUsableFromTheKeyboard() async throws {
        let server = try await seeded()
        let answer = try browse("keyboard", server)
        let focused = answer["focused"]?.arrayValue ?? []
        #expect(focused.first?["text"] == .string("Skip to content"))
        #expect(focused.contains { $0["tag"] == .string("SELECT") })
        #expect(focused.contains { $0["tag"] == .string("A") && $0["text"] == .string("checkout") }, "a service's history is a link away")
        #expect(focused.contains { $0["tag"] == .string("A") && $0["text"] == .string("1.1") }, "so is a cell's")
        #expect(focused.allSatisfy { $0["outline"] == .bool(true) }, "the focus can be seen: \(focused)")
        #expect(answer["landmarks"] == .array([.number("1"), .number("1"), .number("1"), .number("1")]))
        #expect(answer["labelled"] == .bool(true))
        // Contrast AA (4.5:1) for every text on every page, light and dark; dark is dark.
        let contrast = answer["contrast"]?.objectValue ?? []
        #expect(contrast.count == 6)
        for (page, worst) in contrast {
            #expect((worst["ratio"]?.doubleValue ?? 0) >= 4.5, "\(page): \(worst)")
            #expect(worst["scheme"]?.stringValue.map { page.hasPrefix($0) } == true, "\(page) rendered in its scheme")
        }
        #expect(answer["contrast"]?["dark /"]?["pageBackground"] != answer["contrast"]?["light /"]?["pageBackground"])
        // The board refreshed under a focused link (new elements) and the focus stayed on it.
        #expect(answer["afterRefresh"]?["fresh"] == .bool(true), "the cells were replaced")
        #expect(answer["afterRefresh"]?["sameLink"] == .bool(true), "\(answer["afterRefresh"] ?? .null)")
        #expect(answer["lang"] == .string("en"))
    }
}
