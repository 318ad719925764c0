import Hummingbird
import ShiplogModel

/// What the webhook routes check before they read a payload: its media type, and for the
/// routes a sender signs (or sends a shared token to), that header.
extension Ingest {
    /// 415 unless the body is JSON (or has no `Content-Type`), naming what `sender` sends.
    func requireJSON(_ request: Request, sender: String) throws {
        if let type = request.headers[.contentType].map(MediaKind.baseType), type != "application/json" {
            throw APIError(.unsupportedMediaType, "Content-Type \(type) is not accepted; \(sender) sends application/json", field: "Content-Type")
        }
    }

    /// 401 naming `header` when it is missing (`missing`) or `matches` refuses it (`mismatch`),
    /// counted as a rejected request of `source`; nothing is read further or written.
    func requireHeader(
        _ header: String,
        of request: Request,
        source: SourceFormat,
        missing: String,
        mismatch: String,
        matches: (String) -> Bool
    ) throws {
        guard let value = request.header(named: header) else {
            rejected(source)
            throw APIError(.unauthorized, missing, field: header)
        }
        guard matches(value) else {
            rejected(source)
            throw APIError(.unauthorized, mismatch, field: header)
        }
    }
}
