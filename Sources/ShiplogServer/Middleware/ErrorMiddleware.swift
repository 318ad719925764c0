import Hummingbird
import Logging
import ShiplogStore

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
        } catch let error as StoreError {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(storeError: error)
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

extension APIError {
    /// A store failure as an answer a sender can act on: 507 for a full disk, 503 (retry
    /// later) for a write lock held too long by another process or a database out of reach,
    /// 500 otherwise.
    init(storeError: StoreError) {
        switch storeError {
        case .diskFull:
            self.init(.init(code: 507, reasonPhrase: "Insufficient Storage"), storeError.description)
        case .locked, .databaseUnavailable:
            self.init(.serviceUnavailable, storeError.description, headers: [.retryAfter: "5"])
        default:
            self.init(.internalServerError, storeError.description)
        }
    }
}
