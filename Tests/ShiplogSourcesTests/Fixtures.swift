import Foundation

/// The shared real-world payloads in `../shared/fixtures/` (beside the repository), read in place.
enum Fixtures {
    static let root: URL = {
        if let override = ProcessInfo.processInfo.environment["SHIPLOG_FIXTURES"] {
            return URL(fileURLWithPath: override)
        }
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }()

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(path)))
    }

    static func files(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(directory).path)
            .filter { $0.hasSuffix(".json") }.sorted().map { "\(directory)/\($0)" }
    }
}
