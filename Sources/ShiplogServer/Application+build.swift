import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import ShiplogMetrics
import ShiplogModel
import ShiplogSources
import ShiplogStore
import ShiplogWeb

/// Settings of `shiplog serve`.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var writeToken: String?
    public var readToken: String?
    /// Accept unauthenticated writes on a non-loopback address.
    public var insecure = false
    public var maxBodyBytes = 1 << 20
    /// The most (service, environment) pairs events over HTTP may create; nil: no limit.
    public var maxPairs: Int? = 10_000
    /// Deadlines for a request's headers and body, and for an idle connection.
    public var timeouts = ConnectionTimeouts()
    /// The most connections open at once; more wait in the listen queue. Capped below the
    /// process's descriptor limit so that the log's files and new probes still find one.
    public var maxConnections = 1_000
    /// The secret GitHub signs webhook bodies with (`X-Hub-Signature-256`).
    public var githubSecret: String?
    /// Secret PagerDuty signs webhooks with (`X-PagerDuty-Signature`); it then stands in for the write token on that route.
    public var pagerdutySecret: String?
    /// The secret token GitLab sends in `X-Gitlab-Token`; it then stands in for the write token on that route.
    public var gitlabToken: String?
    /// Secret of Flux's `generic-hmac` provider (`X-Signature`); it then stands in for the write token on that route.
    public var fluxSecret: String?
    /// Where a Flux event's environment comes from.
    public var fluxEnvironmentFrom = FluxSource.EnvironmentSource.metadata("env")
    /// `group/project` → shiplog service, for GitLab projects whose path is not the service's name.
    public var gitlabServices: GitLabSource.ServiceMap = [:]
    /// Which shiplog service and environment each PagerDuty service's incidents belong to.
    public var pagerdutyServices = PagerDutySource.ServiceMap()
    /// How often the hash chain and schema are checked for `shiplog_event_log_verified`; nil: never.
    public var verifyInterval: Duration? = .seconds(3600)
    /// Save a projection snapshot after this many new events (and at shutdown); 0: never.
    public var snapshotEvery = 10_000
    /// How often the snapshot condition is checked.
    public var snapshotCheckInterval: Duration = .seconds(30)
    /// How often rows written by another process (`events import`) are looked for and
    /// applied to the metrics (this server's own rows are applied as they are committed);
    /// nil: never.
    public var catchUpInterval: Duration? = .seconds(10)
    /// Which alert labels name the service and environment of an Alertmanager alert.
    public var alertLabels = AlertmanagerSource.LabelNames()
    /// How often the promotion board in the web view fetches its cells again.
    public var webRefreshSeconds = 5

    public init() {}

    /// Whether `host` only reaches this machine: every address it resolves to is loopback
    /// (127.0.0.0/8 or ::1). A name that does not resolve is not (`127.attacker.test`).
    public var isLoopback: Bool {
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let info = node {
            switch info.pointee.ai_family {
            case AF_INET:
                let address = info.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                if UInt32(bigEndian: address) >> 24 != 127 { return false }
            case AF_INET6:
                let loopback = info.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) == [UInt8](repeating: 0, count: 15) + [1] }
                }
                if !loopback { return false }
            default:
                return false
            }
            node = info.pointee.ai_next
        }
        return true
    }

    /// Refuses unsafe settings: writes open to the network without a token.
    public func validate() throws {
        if !isLoopback, writeToken == nil, !insecure {
            throw ConfigurationError(
                "refusing to listen on \(host) without a write token: set --write-token or SHIPLOG_WRITE_TOKEN (or pass --insecure to accept unauthenticated writes)"
            )
        }
        if snapshotEvery < 0 { throw ConfigurationError("--snapshot-every must be 0 (off) or a number of events") }
        if maxBodyBytes < 1024 { throw ConfigurationError("--max-body must be at least 1024 bytes") }
        if let maxPairs, maxPairs < 1 { throw ConfigurationError("--max-pairs must be at least 1 (or 0 for no limit)") }
        if webRefreshSeconds < 1 || webRefreshSeconds > 3600 { throw ConfigurationError("--web-refresh must be from 1 to 3600 seconds") }
        if maxConnections < 1 { throw ConfigurationError("--max-connections must be at least 1") }
        for (span, name) in [(timeouts.header, "--header-timeout"), (timeouts.body, "--body-timeout"), (timeouts.idle, "--idle-timeout")]
        where span < .seconds(1) || span > .seconds(86_400) {
            throw ConfigurationError("\(name) must be from 1s to 1d")
        }
        for (secret, name) in [
            (writeToken, "write token"), (readToken, "read token"), (githubSecret, "GitHub webhook secret"),
            (pagerdutySecret, "PagerDuty signing secret"), (gitlabToken, "GitLab secret token"),
            (fluxSecret, "Flux provider secret"),
        ] {
            guard let secret else { continue }
            if secret.isEmpty { throw ConfigurationError("the \(name) is empty") }
            // A token read from a file or a Secret often keeps its newline; no client could send it.
            if secret.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
                throw ConfigurationError("the \(name) contains whitespace or control characters (a trailing newline from a file?); remove them")
            }
        }
        if !Event.isValidName(pagerdutyServices.defaultEnvironment) {
            throw ConfigurationError("--pagerduty-environment \(pagerdutyServices.defaultEnvironment) is not a valid environment name")
        }
        for label in [alertLabels.service, alertLabels.environment] where label.isEmpty {
            throw ConfigurationError("the Alertmanager label names must not be empty")
        }
    }
}

extension ServerConfiguration {
    /// Descriptors kept back from connections: the log's files, the event loops, the listen
    /// socket and what the libraries open.
    static let reservedDescriptors = 128

    /// `maxConnections`, lowered to what a limit of `descriptors` open files leaves.
    func connectionCap(descriptors: Int) -> Int {
        max(1, min(maxConnections, descriptors - Self.reservedDescriptors))
    }

    /// Raises the soft limit on open descriptors (RLIMIT_NOFILE) to the hard one, as far as
    /// 1,048,576, and returns the soft limit then in force.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, 1 << 20)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }
}

/// A setting that shiplog refuses to start with.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The routes, in one place: each controller adds its collection.
public func buildRouter(configuration: ServerConfiguration, log: any EventLog, metrics: LiveMetrics, logger: Logger) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: RequestLogMiddleware(metrics: metrics))
    router.add(middleware: JSONErrorMiddleware())
    // GitHub, PagerDuty and Flux sign bodies and GitLab sends its own token instead of a
    // bearer token; with their secret set, that stands in for the write token.
    var signedRoutes: Set<String> = configuration.githubSecret != nil ? ["/api/v1/webhooks/github"] : []
    if configuration.pagerdutySecret != nil { signedRoutes.insert("/api/v1/webhooks/pagerduty") }
    if configuration.gitlabToken != nil { signedRoutes.insert("/api/v1/webhooks/gitlab") }
    if configuration.fluxSecret != nil { signedRoutes.insert("/api/v1/webhooks/flux") }
    router.add(middleware: AuthMiddleware(writeToken: configuration.writeToken, readToken: configuration.readToken, signedRoutes: signedRoutes))
    let ingest = Ingest(log: log, metrics: metrics, maxBodyBytes: configuration.maxBodyBytes) { sequence in
        logger.warning("answered before the metrics applied the row (see the errors of the projection)", metadata: ["sequence": "\(sequence)"])
    }
    router.addRoutes(HealthController(log: log).routes)
    router.addRoutes(MetricsController(metrics: metrics).routes)
    router.addRoutes(ExplainController(log: log, pipeline: metrics.pipeline).routes, atPath: "/api/v1/explain")
    router.addRoutes(GateController(log: log, pipeline: metrics.pipeline).routes, atPath: "/api/v1/gate")
    router.addRoutes(EventsController(ingest: ingest).routes, atPath: "/api/v1/events")
    router.addRoutes(
        WebController(
            log: log,
            metrics: metrics,
            view: WebView(version: metrics.version, pipeline: metrics.pipeline, refreshSeconds: configuration.webRefreshSeconds),
            readToken: configuration.readToken,
            writeToken: configuration.writeToken
        ).routes
    )
    router.addRoutes(CDEventsController(ingest: ingest).routes, atPath: "/api/v1/cdevents")
    router.addRoutes(GitHubWebhookController(ingest: ingest, secret: configuration.githubSecret).routes, atPath: "/api/v1/webhooks/github")
    router.addRoutes(
        GitLabWebhookController(ingest: ingest, token: configuration.gitlabToken, services: configuration.gitlabServices).routes,
        atPath: "/api/v1/webhooks/gitlab"
    )
    router.addRoutes(
        FluxWebhookController(ingest: ingest, secret: configuration.fluxSecret, environmentFrom: configuration.fluxEnvironmentFrom).routes,
        atPath: "/api/v1/webhooks/flux"
    )
    router.addRoutes(ArgoCDWebhookController(ingest: ingest).routes, atPath: "/api/v1/webhooks/argocd")
    router.addRoutes(AlertmanagerWebhookController(ingest: ingest, labels: configuration.alertLabels).routes, atPath: "/api/v1/webhooks/alertmanager")
    router.addRoutes(
        PagerDutyWebhookController(ingest: ingest, secret: configuration.pagerdutySecret, services: configuration.pagerdutyServices).routes,
        atPath: "/api/v1/webhooks/pagerduty"
    )
    return router
}

/// The whole service, ready to run; `onRunning` receives the bound port (useful with `--port 0`).
/// `snapshots` is where the metrics state is saved (nil: never).
public func buildApplication(
    configuration: ServerConfiguration,
    log: any EventLog,
    snapshots: (any SnapshotStore)?,
    metrics: LiveMetrics,
    logger: Logger,
    onRunning: @escaping @Sendable (Int) -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try configuration.validate()
    let router = buildRouter(configuration: configuration, log: log, metrics: metrics, logger: logger)
    metrics.pairLimit = configuration.maxPairs
    var services: [any Service] = []
    if let interval = configuration.verifyInterval {
        services.append(PeriodicVerification(log: log, metrics: metrics, interval: interval, logger: logger))
    }
    services.append(ProjectionFeed(log: log, metrics: metrics, pollInterval: configuration.catchUpInterval, logger: logger))
    if configuration.snapshotEvery > 0, let store = snapshots {
        services.append(
            ProjectionSnapshots(
                store: store,
                metrics: metrics,
                every: configuration.snapshotEvery,
                checkInterval: configuration.snapshotCheckInterval,
                logger: logger
            )
        )
    }
    let descriptors = ServerConfiguration.raiseDescriptorLimit()
    let connections = configuration.connectionCap(descriptors: descriptors)
    if connections < configuration.maxConnections {
        logger.warning(
            "fewer connections than --max-connections: the descriptor limit leaves room for \(connections)",
            metadata: [
                "max_connections": "\(configuration.maxConnections)", "nofile": "\(descriptors)",
            ]
        )
    }
    let timeouts = configuration.timeouts
    return Application(
        router: router,
        server: HTTPServerBuilder { responder in DeadlineHTTP1Channel(responder: responder, timeouts: timeouts) },
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "shiplog",
            availableConnectionsDelegate: MaximumAvailableConnections(connections)
        ),
        services: services,
        onServerRunning: { channel in onRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}
