import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ShiplogModel

/// A small client for a shiplog server, for `--server`.
struct ServerClient {
    let base: URL
    let token: String?

    init(base: String, token: String?) throws {
        guard let url = URL(string: base.hasSuffix("/") ? String(base.dropLast()) : base), url.scheme == "http" || url.scheme == "https" else {
            throw CLIError("--server must be an http(s) URL, like http://127.0.0.1:8080")
        }
        self.base = url
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends a request and returns the status and parsed JSON body.
    func send(_ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String = "application/json") async throws -> (Int, JSONValue) {
        var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body)
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot reach \(base.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONValue.parse(Array(data))) ?? .string(String(decoding: data, as: UTF8.self))
        return (status, json)
    }

    /// The message of an error answer.
    static func errorText(_ status: Int, _ body: JSONValue) -> String {
        var text = "server answered \(status): " + (body["error"]?.stringValue ?? body.stringValue ?? "")
        if let details = body["events"]?.arrayValue {
            for d in details {
                let index = d["index"]?.intValue
                text += "\n  " + (index.map { "event \($0): " } ?? "") + (d["field"]?.stringValue ?? "") + ": " + (d["message"]?.stringValue ?? "")
            }
        }
        return text
    }
}
