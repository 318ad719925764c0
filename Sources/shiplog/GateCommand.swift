import ArgumentParser
import ShiplogAPI
import ShiplogMetrics
import ShiplogModel

struct Gate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Exit 0 only if a version succeeded in every earlier pipeline environment.",
        discussion: """
            For a CI step before deploying: shiplog gate --service checkout --env production --version 1.4.2
            The version may also be an artifact digest (sha256:…). Exit 1 names the missing environment.
            """
    )

    @OptionGroup var log: LogOptions
    @OptionGroup var pipeline: PipelineOption
    @Option(help: "The service.") var service: String
    @Option(name: [.customLong("env"), .customLong("environment")], help: "The environment about to be deployed.") var env: String
    @Option(help: "The version (or artifact digest) about to be deployed.") var version: String

    func run() async throws {
        let result: GateResult
        if let client = try log.client {
            let (code, body) = try await client.send("GET", "api/v1/gate", query: [("service", service), ("environment", env), ("version", version)])
            switch (code, ServerClient.decoded(GateAnswer.self, body)) {
            case (200, let answer?): result = .passed(answer.checked ?? [])
            case (412, let answer?): result = .missing(answer.missing ?? "?")
            default: throw CLIError(ServerClient.errorText(code, body))
            }
        } else {
            result = try await log.localProjection(pipeline.parsed()).gate(service: service, environment: env, version: version)
        }
        switch result {
        case .passed(let envs):
            print(
                envs.isEmpty
                    ? "ok: \(env) is the first pipeline environment; nothing to check"
                    : "ok: \(service) \(version) succeeded in \(envs.joined(separator: ", "))"
            )
        case .missing(let missing):
            printError("gate closed: \(service) \(version) has not succeeded in \(missing) (needed before \(env))")
            throw ExitCode.failure
        case .notInPipeline(let envs):
            throw CLIError("\(env) is not in the pipeline (\(envs.joined(separator: ", ")))")
        }
    }
}
