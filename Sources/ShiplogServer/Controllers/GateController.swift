import Hummingbird
import ShiplogAPI
import ShiplogMetrics
import ShiplogModel
import ShiplogStore

/// `GET /api/v1/gate?service=S&environment=E&version=V`: 200 when V passed every earlier
/// pipeline environment, else 412 naming the first it has not passed and the event that
/// failed it (`GateEvaluation`, from the service's events in the log).
struct GateController<Context: RequestContext> {
    let log: any EventLog
    let pipeline: Pipeline

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get(use: gate)
        return routes
    }

    @Sendable func gate(_ request: Request, context: Context) async throws -> Response {
        let q = request.uri.queryParameters
        guard let service = q.get("service") else { throw APIError(.badRequest, "service is required", field: "service") }
        guard Event.isValidName(service) else { throw APIError(.badRequest, "not a valid service name", field: "service") }
        guard let environment = q.get("environment") ?? q.get("env") else {
            throw APIError(.badRequest, "environment is required", field: "environment")
        }
        guard let version = q.get("version"), !version.isEmpty else { throw APIError(.badRequest, "version is required", field: "version") }
        let events = try await log.serviceEvents(service)
        let result = try await offloaded { [pipeline] in
            GateEvaluation.evaluate(service: service, environment: environment, name: version, pipeline: pipeline, serviceEvents: events)
        }
        return try GateAnswer(result, environment: environment).response()
    }
}

extension GateAnswer {
    /// The answer for a gate result; throws the 400 for an environment outside the pipeline.
    init(_ result: GateResult, environment: String) throws {
        switch result {
        case .passed(let envs):
            self.init(passed: true, checked: envs)
        case .missing(let env):
            self.init(passed: false, missing: env, reason: "missing")
        case .failed(let env, let by):
            self.init(
                passed: false,
                missing: env,
                reason: "failed",
                failedBy: EventReference(id: by.id, sequence: by.sequence, type: by.type.rawValue, time: by.time.rfc3339, environment: by.environment)
            )
        case .notInPipeline(let envs):
            throw APIError(.badRequest, "\(environment) is not in the pipeline (\(envs.joined(separator: ", ")))", field: "environment")
        }
    }

    func response() -> Response { .json(self, status: passed ? .ok : .preconditionFailed) }
}
