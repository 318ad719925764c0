import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import ShiplogAPI
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
        _ method: String,
        _ path: String,
        query: [(String, String)] = [],
        body: [UInt8]? = nil,
        contentType: String = "application/json",
        repeatable: Bool = true
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
                    throw CLIError(
                        "\(base.absoluteString): \(reason); the request may or may not have been processed (give the event an --id to make retries safe)"
                    )
                }
                why = reason
            }
            let remaining = deadline - clock.now
            guard remaining > .zero else {
                // The server's own words, when it answered, say more than "gave up".
                if let answer { return answer }
                throw CLIError(
                    retryFor > .zero
                        ? "cannot reach \(base.absoluteString) (\(why)); gave up after \(retryFor) (--retry-for)"
                        : "cannot reach \(base.absoluteString): \(why)"
                )
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
        var request = HTTPClientRequest(url: components.url!.absoluteString)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: contentType)
        }
        let status: Int
        let bytes: ByteBuffer
        let retryAfter: Int64?
        do {
            let response = try await Self.http.execute(request, timeout: .seconds(60))
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "Retry-After").flatMap { Int64($0) }
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch {
            return Self.neverSent(error) ? .unreachable(Self.describe(error)) : .unknownOutcome(Self.describe(error))
        }
        let data = Array(bytes.readableBytesView)
        let json = (try? JSONValue.parse(data)) ?? .string(String(decoding: data, as: UTF8.self))
        return .answered(status, json, retryAfter: retryAfter)
    }

    /// One HTTP client for the process. A failed connection fails the request at once:
    /// `send` retries by its own rules (`--retry-for`), and says so.
    private static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// Whether the request cannot have reached the server: no connection was made.
    private static func neverSent(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        if let error = error as? IOError { return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode) }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        return false
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty { return "the host name does not resolve" }
            if let first = error.connectionErrors.first { return "could not connect (\(first.error))" }
            return "could not connect"
        }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return "connection refused" }
        return "\(error)"
    }

    /// An answer as one of the API's types; nil when it is not one.
    static func decoded<T: Decodable>(_ type: T.Type, _ body: JSONValue) -> T? {
        APIBodies.decode(type, from: Array(body.compactJSON().utf8))
    }

    /// The message of an error answer (`ErrorAnswer`), or the body as it came.
    static func errorText(_ status: Int, _ body: JSONValue) -> String {
        if let answer = decoded(ErrorAnswer.self, body) {
            return answer.text(status: status)
        }
        return "server answered \(status): " + (body.stringValue ?? body.compactJSON())
    }
}
