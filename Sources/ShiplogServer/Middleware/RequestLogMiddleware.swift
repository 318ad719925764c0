import Hummingbird
import Logging
import NIOCore
import ShiplogMetrics

/// One structured log line per request at info (method, path, status, duration), and the
/// request-duration histogram by route.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: LiveMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = NIODeadline.now()
        func log(_ status: HTTPResponse.Status) {
            let micros = (NIODeadline.now() - start).nanoseconds / 1000
            metrics.observeRequest(
                method: request.method.rawValue,
                route: context.endpointPath ?? "unmatched",
                code: status.code,
                seconds: Double(micros) / 1e6
            )
            context.logger.info(
                "request",
                metadata: [
                    "method": "\(request.method)",
                    "path": "\(request.uri.path)",
                    "status": "\(status.code)",
                    "duration_ms": "\(Double(micros) / 1000)",
                ]
            )
        }
        do {
            let response = try await next(request, context)
            log(response.status)
            return response
        } catch let error as any HTTPResponseError {
            log(error.status)
            throw error
        } catch {
            log(.internalServerError)
            throw error
        }
    }
}
