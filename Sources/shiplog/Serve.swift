import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ShiplogMetrics
import ShiplogModel
import ShiplogPostgres
import ShiplogServer
import ShiplogSources
import ShiplogStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP service: ingest, history API, health.",
        discussion: """
            Binds 127.0.0.1 by default and then accepts writes without a token. On any other \
            address it refuses to start without --write-token (or SHIPLOG_WRITE_TOKEN) unless \
            --insecure is given. Stops gracefully on SIGTERM and SIGINT.
            """
    )

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The event log: an SQLite file, or a PostgreSQL URL (postgres://user@host:5432/shiplog?sslmode=require) that several replicas share (env SHIPLOG_DB).",
            valueName: "path-or-url"
        ),
        completion: .file(extensions: ["db"])
    )
    var db: String?
    @Option(
        help: ArgumentHelp(
            "With PostgreSQL: the file this replica keeps its metrics snapshot in (its own volume, e.g. an emptyDir); none by default. An SQLite log keeps it beside the file.",
            valueName: "path"
        )
    )
    var snapshotFile: String?
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one and prints it).") var port = 8080
    @Option(help: "Bearer token required for writes (env SHIPLOG_WRITE_TOKEN).") var writeToken: String?
    @Option(help: "Bearer token required for reads (env SHIPLOG_READ_TOKEN).") var readToken: String?
    @Flag(help: "Accept unauthenticated writes on a non-loopback address.") var insecure = false
    @Option(help: "Largest request body, in bytes.") var maxBody = 1 << 20
    @Option(
        help: ArgumentHelp(
            "The most (service, environment) pairs events over HTTP may create; beyond it they are refused with 422 (0: no limit).",
            valueName: "pairs"
        )
    )
    var maxPairs = 10_000
    @Option(help: ArgumentHelp("How long a request's headers may take to arrive, from its first byte (like 10s).", valueName: "span"))
    var headerTimeout = "10s"
    @Option(help: ArgumentHelp("How long a request's body may take to arrive, after its headers (like 60s).", valueName: "span"))
    var bodyTimeout = "60s"
    @Option(help: ArgumentHelp("How long a connection may stay open without a request (like 60s).", valueName: "span"))
    var idleTimeout = "60s"
    @Option(
        help: ArgumentHelp("The most connections open at once; more wait to be accepted (lowered to fit the open-file limit).", valueName: "count")
    )
    var maxConnections = 1_000
    @Option(help: "Secret GitHub signs webhooks with (X-Hub-Signature-256) (env SHIPLOG_GITHUB_SECRET).")
    var githubSecret: String?
    @Option(help: "Secret token GitLab webhooks send in X-Gitlab-Token (env SHIPLOG_GITLAB_TOKEN).")
    var gitlabToken: String?
    @Option(
        help: ArgumentHelp(
            "The shiplog service of a GitLab project whose path is not the service's name; repeat for each.",
            valueName: "group/project=service"
        )
    )
    var gitlabService: [String] = []
    @Option(help: "The token of Flux's generic-hmac Provider secret, which signs X-Signature (env SHIPLOG_FLUX_SECRET).")
    var fluxSecret: String?
    @Option(
        help: ArgumentHelp(
            "Where a Flux event's environment comes from: namespace (the object's), or label:NAME (an Alert's eventMetadata key).",
            valueName: "namespace|label:NAME"
        )
    )
    var fluxEnvironmentFrom = "label:env"
    @Option(help: "Secret PagerDuty signs V3 webhooks with (X-PagerDuty-Signature) (env SHIPLOG_PAGERDUTY_SECRET).")
    var pagerdutySecret: String?
    @Option(
        help: ArgumentHelp(
            "Which shiplog service (and environment) a PagerDuty service's incidents belong to, by the PagerDuty service's id or name; repeat for each. Unmapped services whose name is a valid service name keep it.",
            valueName: "pagerduty-service=service[/environment]"
        )
    )
    var pagerdutyService: [String] = []
    @Option(help: ArgumentHelp("The environment of PagerDuty incidents mapped without one.", valueName: "environment"))
    var pagerdutyEnvironment: String?
    @Option(help: "Alert label naming the service, for Alertmanager webhooks.") var alertServiceLabel = "service"
    @Option(help: "Alert label naming the environment, for Alertmanager webhooks.") var alertEnvironmentLabel = "environment"
    @Option(help: "The pipeline's environments in promotion order; the last is production.")
    var pipeline = "dev,staging,production"
    @Option(
        help: ArgumentHelp("How often to check the hash chain for shiplog_event_log_verified (like 1h or 30m; 0 turns it off).", valueName: "span")
    )
    var verifyInterval = "1h"
    @Option(
        help: ArgumentHelp(
            "Save the metrics state after this many new events and at shutdown, so that a restart replays only what follows (0: never, and always replay the whole log).",
            valueName: "events"
        )
    )
    var snapshotEvery = 10_000
    @Option(
        help: ArgumentHelp(
            "How often to look for events another process wrote to the database (events import) and add them to the metrics (like 10s or 1m; 0 turns it off).",
            valueName: "span"
        )
    )
    var catchUpInterval = "10s"
    @Option(help: ArgumentHelp("How often the web view's promotion board updates itself, in seconds.", valueName: "seconds"))
    var webRefresh = 5
    @Option(help: "How much to log to standard error.") var logLevel: Logger.Level = .info

    /// Refuses bad settings before anything is opened: spans, the pipeline, and unsafe or
    /// impossible combinations (`ServerConfiguration.validate`).
    func validate() throws {
        _ = try settings()
        if snapshotFile != nil, !PostgresURL.isPostgres(db ?? ProcessInfo.processInfo.environment["SHIPLOG_DB"] ?? "") {
            throw ValidationError("--snapshot-file is for a PostgreSQL log; an SQLite log keeps its snapshot beside the file")
        }
    }

    /// The server's settings from the options and the environment.
    func settings() throws -> (configuration: ServerConfiguration, pipeline: Pipeline) {
        let env = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.writeToken = writeToken ?? env["SHIPLOG_WRITE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.readToken = readToken ?? env["SHIPLOG_READ_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.insecure = insecure
        configuration.maxBodyBytes = maxBody
        configuration.githubSecret = githubSecret ?? env["SHIPLOG_GITHUB_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.pagerdutySecret = pagerdutySecret ?? env["SHIPLOG_PAGERDUTY_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.gitlabToken = gitlabToken ?? env["SHIPLOG_GITLAB_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        for text in gitlabService {
            guard let equals = text.lastIndex(of: "="), !text[..<equals].isEmpty,
                Event.isValidName(String(text[text.index(after: equals)...]))
            else {
                throw CLIError("--gitlab-service \(text): expected GROUP/PROJECT=SERVICE, with a valid shiplog service name")
            }
            configuration.gitlabServices[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        configuration.fluxSecret = fluxSecret ?? env["SHIPLOG_FLUX_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        guard let fluxEnvironment = FluxSource.EnvironmentSource(parsing: fluxEnvironmentFrom) else {
            throw CLIError("--flux-environment-from \(fluxEnvironmentFrom): expected namespace or label:NAME")
        }
        configuration.fluxEnvironmentFrom = fluxEnvironment
        var services = PagerDutySource.ServiceMap()
        for text in pagerdutyService {
            guard let (key, target) = PagerDutySource.ServiceMap.entry(parsing: text) else {
                throw CLIError(
                    "--pagerduty-service \(text): expected PAGERDUTY-SERVICE=SERVICE or PAGERDUTY-SERVICE=SERVICE/ENVIRONMENT, with valid shiplog names"
                )
            }
            services.entries[key] = target
        }
        configuration.snapshotEvery = snapshotEvery
        configuration.maxPairs = maxPairs == 0 ? nil : maxPairs
        configuration.maxConnections = maxConnections
        configuration.webRefreshSeconds = webRefresh
        configuration.timeouts = ConnectionTimeouts(
            header: try timeout(headerTimeout, option: "--header-timeout"),
            body: try timeout(bodyTimeout, option: "--body-timeout"),
            idle: try timeout(idleTimeout, option: "--idle-timeout")
        )
        configuration.alertLabels = .init(service: alertServiceLabel, environment: alertEnvironmentLabel)
        configuration.catchUpInterval = try interval(catchUpInterval, option: "--catch-up-interval", like: "10s or 1m")
        configuration.verifyInterval = try interval(verifyInterval, option: "--verify-interval", like: "1h or 30m")
        guard let pipeline = Pipeline(parsing: pipeline) else {
            throw CLIError("--pipeline \(self.pipeline): expected distinct environment names separated by commas, like dev,staging,production")
        }
        services.defaultEnvironment = pagerdutyEnvironment ?? pipeline.production
        configuration.pagerdutyServices = services
        do {
            try configuration.validate()
        } catch let error as ConfigurationError {
            throw CLIError(error.description)
        }
        return (configuration, pipeline)
    }

    func run() async throws {
        let (configuration, pipeline) = try settings()
        let env = ProcessInfo.processInfo.environment
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "shiplog")
        let path = db ?? env["SHIPLOG_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./shiplog.db"
        let store = try await openEventDatabase(path, snapshotPath: snapshotFile, listen: true)
        let replayStart = ContinuousClock.now
        let metrics = try await LiveMetrics.restored(
            from: store,
            snapshots: store,
            pipeline: pipeline,
            version: ShiplogVersion.current,
            useSnapshot: snapshotEvery > 0
        )
        logger.info(
            "replayed the event log",
            metadata: [
                "events": "\(metrics.projection.lastSequence)", "from": "\(metrics.restored.map { "\($0)" } ?? "-")",
                "duration": "\(ContinuousClock.now - replayStart)",
            ]
        )
        let host = configuration.host
        let app = try buildApplication(configuration: configuration, log: store, snapshots: store, metrics: metrics, logger: logger) { port in
            FileHandle.standardOutput.write(Data("shiplog listening on http://\(host):\(port) (database \(store.location))\n".utf8))
        }
        try await app.runService()
        try await store.close()
        logger.info("stopped; event log closed")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
