import Hummingbird
import Logging
import NIOCore

/// One structured log line per request at info: method, path, status and duration.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = NIODeadline.now()
        func log(_ status: HTTPResponse.Status) {
            let micros = (NIODeadline.now() - start).nanoseconds / 1000
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
