import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ShiplogModel

/// A small client for a shiplog server, for `--server`.
///
/// A single shiplog replica is briefly away while it restarts or rolls out, so requests are
/// retried for `retryFor` when nothing can have been written: the server cannot be reached
/// at all, or answers 503 or 429 (it, or a proxy in front of it, did not take the request).
/// When a request may have been processed but its answer was lost (a timeout, a dropped
/// connection, a proxy's 502 or 504), it is retried only if the caller says a repeat is
/// harmless, e.g. an event with an id, whose repeat is a duplicate.
struct ServerClient {
    let base: URL
    let token: String?
    let retryFor: Duration

    init(base: String, token: String?, retryFor: Duration = .zero) throws {
        guard let url = URL(string: base.hasSuffix("/") ? String(base.dropLast()) : base), url.scheme == "http" || url.scheme == "https" else {
            throw CLIError("--server must be an http(s) URL, like http://127.0.0.1:8080")
        }
        self.base = url
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.retryFor = retryFor
    }

    /// Sends a request and returns the status and parsed JSON body, retrying as described
    /// above. `repeatable`: whether sending it twice does no harm (reads; events with an id).
    func send(
        _ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
        contentType: String = "application/json", repeatable: Bool = true
    ) async throws -> (Int, JSONValue) {
        let clock = ContinuousClock()
        let deadline = clock.now + retryFor
        var pause = Duration.milliseconds(250)
        while true {
            let attempt = await sendOnce(method, path, query: query, body: body, contentType: contentType)
            let why: String
            var answer: (Int, JSONValue)? = nil
            switch attempt {
            case .answered(let status, let json, let retryAfter):
                guard status == 503 || status == 429 || (repeatable && (status == 502 || status == 504)) else { return (status, json) }
                why = "answered \(status)"
                answer = (status, json)
                if let retryAfter { pause = max(pause, .seconds(retryAfter)) }
            case .unreachable(let reason):
                why = reason
            case .unknownOutcome(let reason):
                guard repeatable else {
                    throw CLIError("\(base.absoluteString): \(reason); the request may or may not have been processed (give the event an --id to make retries safe)")
                }
                why = reason
            }
            let remaining = deadline - clock.now
            guard remaining > .zero else {
                // The server's own words, when it answered, say more than "gave up".
                if let answer { return answer }
                throw CLIError(retryFor > .zero ? "cannot reach \(base.absoluteString) (\(why)); gave up after \(retryFor) (--retry-for)" : "cannot reach \(base.absoluteString): \(why)")
            }
            // The last try comes at the deadline.
            let wait = min(pause, remaining)
            printError("shiplog at \(base.absoluteString): \(why); retrying in \(wait)")
            try await Task.sleep(for: wait)
            pause = min(pause * 2, .seconds(5))
        }
    }

    private enum Attempt {
        case answered(Int, JSONValue, retryAfter: Int64?)
        /// Nothing was sent: the connection could not be made.
        case unreachable(String)
        /// The request may have been processed; its answer is lost.
        case unknownOutcome(String)
    }

    private func sendOnce(_ method: String, _ path: String, query: [(String, String)], body: [UInt8]?, contentType: String) async -> Attempt {
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
        } catch let error as URLError where [.cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet].contains(error.code) {
            return .unreachable(error.localizedDescription)
        } catch {
            return .unknownOutcome(error.localizedDescription)
        }
        let http = response as? HTTPURLResponse
        let json = (try? JSONValue.parse(Array(data))) ?? .string(String(decoding: data, as: UTF8.self))
        let retryAfter = (http?.value(forHTTPHeaderField: "Retry-After")).flatMap { Int64($0) }
        return .answered(http?.statusCode ?? 0, json, retryAfter: retryAfter)
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
