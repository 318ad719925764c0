import Hummingbird
import Logging

/// Turns every error into the one JSON error shape, so that clients never see an HTML or
/// empty error body (Hummingbird's own 404, 413 and decoding errors included).
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let message = error.body ?? defaultMessage(error.status)
            throw APIError(error.status, message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, defaultMessage(error.status))
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, "internal error: \(error)")
        }
    }

    func defaultMessage(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "no such route"
        case .methodNotAllowed: "method not allowed on this route"
        case .contentTooLarge: "the body is larger than the server accepts"
        default: status.reasonPhrase
        }
    }
}
