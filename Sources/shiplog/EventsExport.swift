import ArgumentParser
import Foundation
import ShiplogModel
import ShiplogStore

struct EventsExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every row of the log as NDJSON: sequence, receive time, source format, raw body, event.",
        discussion: """
            `shiplog events import` of the file into an empty log reproduces it: the same events, \\
            raw bodies and formats, and the same head hash (printed by both). Into a log that has \\
            rows already, rows it holds are duplicates and an id it holds with other content is \\
            refused, with nothing written.
              shiplog events export backup.ndjson && shiplog events import --db copy.db backup.ndjson
            """
    )

    @OptionGroup var log: LogOptions
    @Argument(
        help: ArgumentHelp("Where to write: a file (replaced only once complete), or - for standard output.", valueName: "file"),
        completion: .file()
    )
    var file: String = "-"

    func run() async throws {
        if log.serverURL != nil {
            throw CLIError(
                "events export reads a local database (--db): raw bodies are not served over HTTP; run it where the database is (kubectl exec)"
            )
        }
        let store = try await log.openDatabase(readOnly: true)
        let toStdout = file == "-"
        let temporary = toStdout ? "" : file + ".partial-\(getpid())"
        guard let handle = toStdout ? FileHandle.standardOutput : Self.create(temporary) else {
            throw CLIError("cannot write \(temporary)")
        }
        var count = 0
        var head = "none"
        do {
            var after: Int64 = 0
            while true {
                let rows = try await store.exportRows(after: after, limit: 10_000)
                guard let last = rows.last else { break }
                var chunk = ""
                for row in rows {
                    chunk += row.line
                    chunk += "\n"
                }
                try handle.write(contentsOf: Data(chunk.utf8))
                count += rows.count
                head = last.hash
                after = last.sequence
            }
            try await store.close()
            if !toStdout {
                try handle.synchronize()
                try handle.close()
                if rename(temporary, file) != 0 { throw CLIError("cannot rename \(temporary) to \(file): \(String(cString: strerror(errno)))") }
            }
        } catch {
            try? await store.close()
            if !toStdout { unlink(temporary) }
            throw error
        }
        FileHandle.standardError.write(Data("exported \(count) rows, head hash \(head)\n".utf8))
    }

    static func create(_ path: String) -> FileHandle? {
        guard FileManager.default.createFile(atPath: path, contents: nil) else { return nil }
        return FileHandle(forWritingAtPath: path)
    }
}
