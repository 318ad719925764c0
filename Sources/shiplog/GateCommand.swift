import ArgumentParser
import ShiplogAPI
import ShiplogMetrics
import ShiplogModel
import ShiplogStore

struct Gate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Exit 0 only if a version passed every earlier pipeline environment.",
        discussion: """
            For a CI step before deploying: shiplog gate --service checkout --env production --version 1.4.2
            The version may also be an artifact digest (sha256:…) or an image pinned by one: a digest and a
            version that any event of the service named together are one artifact. An artifact passed an
            environment when its latest deployment there made it live and was not failed (no rollback from it,
            no incident during its life). Exit 1 names the first environment it has not passed and the event
            that failed it.
            """
    )

    @OptionGroup var log: LogOptions
    @OptionGroup var pipeline: PipelineOption
    @Option(help: "The service.") var service: String
    @Option(name: [.customLong("env"), .customLong("environment")], help: "The environment about to be deployed.") var env: String
    @Option(help: "The version (or artifact digest) about to be deployed.") var version: String

    func run() async throws {
        let answer: GateAnswer
        if let client = try log.client {
            let (code, body) = try await client.send("GET", "api/v1/gate", query: [("service", service), ("environment", env), ("version", version)])
            switch (code, ServerClient.decoded(GateAnswer.self, body)) {
            case (200, let a?), (412, let a?): answer = a
            default: throw CLIError(ServerClient.errorText(code, body))
            }
        } else {
            let pipeline = try pipeline.parsed()
            let store = try await log.openDatabase(readOnly: true)
            let events: [StoredEvent]
            do {
                events = try await store.serviceEvents(service)
                try await store.close()
            } catch {
                try? await store.close()
                throw error
            }
            switch GateEvaluation.evaluate(service: service, environment: env, name: version, pipeline: pipeline, serviceEvents: events) {
            case .passed(let envs): answer = GateAnswer(passed: true, checked: envs)
            case .missing(let missing): answer = GateAnswer(passed: false, missing: missing, reason: "missing")
            case .failed(let failed, let by):
                answer = GateAnswer(
                    passed: false,
                    missing: failed,
                    reason: "failed",
                    failedBy: EventReference(id: by.id, sequence: by.sequence, type: by.type.rawValue, time: by.time.rfc3339, environment: by.environment)
                )
            case .notInPipeline(let envs):
                throw CLIError("\(env) is not in the pipeline (\(envs.joined(separator: ", ")))")
            }
        }
        if answer.passed {
            let envs = answer.checked ?? []
            print(
                envs.isEmpty
                    ? "ok: \(env) is the first pipeline environment; nothing to check"
                    : "ok: \(service) \(version) passed \(envs.joined(separator: ", "))"
            )
            return
        }
        let missing = answer.missing ?? "?"
        if answer.reason == "failed", let by = answer.failedBy {
            printError(
                "gate closed: \(service) \(version) failed in \(missing) (needed before \(env)): \(by.type) \(by.id) at \(by.time), sequence \(by.sequence)"
            )
        } else {
            printError("gate closed: \(service) \(version) has not succeeded in \(missing) (needed before \(env))")
        }
        throw ExitCode.failure
    }
}
