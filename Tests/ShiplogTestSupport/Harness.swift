import Foundation
import ShiplogModel

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built `shiplog` binary: $SHIPLOG_BIN, else next to the test bundle, else the package's debug build.
package let shiplogBinary: String = {
    if let p = ProcessInfo.processInfo.environment["SHIPLOG_BIN"], !p.isEmpty { return p }
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("shiplog").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/shiplog").path
}()

/// A fresh directory under the system's temporary directory, removed when the value goes away.
package final class TemporaryDirectory: @unchecked Sendable {
    package let url: URL

    package init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("shiplog-e2e-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    package func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    package func write(_ name: String, _ text: String) -> String {
        let p = path(name)
        _ = FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

package struct RunResult {
    package var status: Int32
    package var stdout: String
    package var stderr: String
}

package let shiplogEnvironmentKeys = ["SHIPLOG_DB", "SHIPLOG_SERVER", "SHIPLOG_TOKEN", "SHIPLOG_WRITE_TOKEN", "SHIPLOG_READ_TOKEN"]

/// Runs the shiplog binary to completion, as a user would from a shell.
@discardableResult
package func shiplog(
    _ arguments: [String],
    environment: [String: String] = [:],
    stdin: String? = nil,
    in dir: TemporaryDirectory? = nil
) throws -> RunResult {
    try runProgram(shiplogBinary, arguments, environment: environment, stdin: stdin, directory: dir?.url.path)
}

/// Runs a program to completion with shiplog's own environment variables cleared.
package func runProgram(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String] = [:],
    stdin: String? = nil,
    directory: String? = nil
) throws -> RunResult {
    let scratch = TemporaryDirectory()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for key in shiplogEnvironmentKeys { env[key] = nil }
    env.merge(environment) { $1 }
    process.environment = env
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = scratch.path("stdout")
    let err = scratch.path("stderr")
    _ = FileManager.default.createFile(atPath: out, contents: nil)
    _ = FileManager.default.createFile(atPath: err, contents: nil)
    process.standardOutput = FileHandle(forWritingAtPath: out)
    process.standardError = FileHandle(forWritingAtPath: err)
    if let stdin {
        process.standardInput = FileHandle(forReadingAtPath: scratch.write("stdin", stdin))
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    process.waitUntilExit()
    return RunResult(
        status: process.terminationStatus,
        stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
    )
}

/// `shiplog serve` on a free loopback port, for as long as the test needs it.
package final class ServerProcess: @unchecked Sendable {
    package let process = Process()
    package let dir: TemporaryDirectory
    package let stdoutPath: String
    package let stderrPath: String
    package private(set) var port = 0
    package var baseURL: String { "http://127.0.0.1:\(port)" }

    package init(db: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        dir = TemporaryDirectory()
        stdoutPath = dir.path("stdout")
        stderrPath = dir.path("stderr")
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: shiplogBinary)
        process.arguments = ["serve", "--db", db, "--port", "0"] + arguments
        var env = ProcessInfo.processInfo.environment
        for key in shiplogEnvironmentKeys { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            if let r = text.range(of: "listening on http://127.0.0.1:") {
                port = Int(String(text[r.upperBound...].prefix { $0.isNumber })) ?? 0
                return
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw HarnessError("server did not start: \(stderr)")
    }

    package var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits for the process to exit; returns its exit status.
    @discardableResult
    package func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

package struct HarnessError: Error, CustomStringConvertible {
    package var description: String
    package init(_ d: String) { description = d }
}

package struct HTTPResult {
    package var status: Int
    package var body: JSONValue
    package var text: String
    package var headers: [String: String]
}

/// A session without connection reuse surprises: each test's requests are independent.
package let httpSession: URLSession = {
    let config = URLSessionConfiguration.ephemeral
    config.httpMaximumConnectionsPerHost = 64
    config.timeoutIntervalForRequest = 30
    return URLSession(configuration: config)
}()

/// One HTTP request over loopback.
package func http(
    _ method: String,
    _ url: String,
    body: String? = nil,
    bytes: [UInt8]? = nil,
    contentType: String? = "application/json",
    headers: [String: String] = [:]
) async throws -> HTTPResult {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    // Generous: on a loaded CI machine a scrape of 36,000 pairs has taken over 30 s; a test
    // that hangs still ends at its own time limit.
    request.timeoutInterval = 120
    if let body { request.httpBody = Data(body.utf8) }
    if let bytes { request.httpBody = Data(bytes) }
    if let contentType, body != nil || bytes != nil { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    let (data, response) = try await httpSession.data(for: request)
    let http = response as! HTTPURLResponse
    var headerMap: [String: String] = [:]
    for (k, v) in http.allHeaderFields { headerMap[String(describing: k).lowercased()] = String(describing: v) }
    let text = String(decoding: data, as: UTF8.self)
    return HTTPResult(status: http.statusCode, body: (try? JSONValue.parse(Array(data))) ?? .null, text: text, headers: headerMap)
}

/// Runs the sqlite3 shell on a database file.
package func sqlite3(_ db: String, _ sql: String) -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    p.arguments = [db, sql]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try! p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The number of rows in a database file, read with the sqlite3 shell.
package func rowCount(_ db: String) -> Int {
    Int(sqlite3(db, "SELECT count(*) FROM events").output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
}

/// The ids stored in a database file.
package func storedIDs(_ db: String) -> Set<String> {
    Set(sqlite3(db, "SELECT event_id FROM events").output.split(separator: "\n").map(String.init))
}

/// NDJSON of `count` deployment events with ids `prefix0…`.
package func ndjson(_ count: Int, prefix: String, env: String = "production") -> String {
    (0..<count).map { i in
        #"{"id":"\#(prefix)\#(i)","type":"deployment.succeeded","service":"svc\#(i % 7)","environment":"\#(env)","time":"2026-01-01T\#(String(format: "%02d", (i / 60) % 24)):\#(String(format: "%02d", i % 60)):00Z","version":"1.\#(i)"}"#
    }.joined(separator: "\n") + "\n"
}

/// Runs blocking work (child processes waited for, sleeps) on a Dispatch thread: Swift
/// Concurrency has only as many threads as cores, and a test that blocks one for seconds
/// stalls every other test's awaits meanwhile.
package func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
