import Foundation
import ShiplogModel

/// Files outside the test target: the shared real-world payloads (`../shared/fixtures/`) and
/// the repository's own shipped configuration (`deploy/`), read in place.
package enum Files {
    package static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    package static let fixtures: URL =
        ProcessInfo.processInfo.environment["SHIPLOG_FIXTURES"].map { URL(fileURLWithPath: $0) }
        ?? repository.deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    package static func fixture(_ path: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(path), encoding: .utf8)
    }

    package static func fixtures(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent(directory).path)
            .filter { $0.hasSuffix(".json") }.sorted().map { "\(directory)/\($0)" }
    }

    package static func repositoryFile(_ path: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for tools that cannot take port 0.
package func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Polls until `condition` holds or `seconds` pass; returns whether it held.
package func eventually(within seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(200))
    }
    return try await condition()
}

/// Runs a command (through `env`, so from PATH) to completion; stdout and stderr together.
@discardableResult
package func runTool(_ arguments: [String], stdin: String? = nil) throws -> RunResult {
    let scratch = TemporaryDirectory()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    let out = scratch.path("output")
    _ = FileManager.default.createFile(atPath: out, contents: nil)
    p.standardOutput = FileHandle(forWritingAtPath: out)
    p.standardError = FileHandle(forWritingAtPath: out)
    p.standardInput = stdin.map { FileHandle(forReadingAtPath: scratch.write("stdin", $0))! } ?? FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", stderr: "")
}

/// The documents of a YAML file as JSON (read with PyYAML), for checking shipped configuration.
package func yamlDocuments(_ path: String) throws -> [JSONValue] {
    let script = "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))"
    let r = try runTool(["python3", "-c", script, path])
    guard r.status == 0 else { throw HarnessError("cannot read \(path) as YAML: \(r.stdout)") }
    return try JSONValue.parse(r.stdout).arrayValue ?? []
}

/// A long-running helper process (Prometheus, a static file server) stopped when the value goes away.
package final class BackgroundProcess: @unchecked Sendable {
    package let process = Process()
    package let logPath: String

    package init(_ arguments: [String], log: String) throws {
        logPath = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    package var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    // SIGKILL: a child may inherit an ignored SIGTERM from the test runner (Python's http.server does).
    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
