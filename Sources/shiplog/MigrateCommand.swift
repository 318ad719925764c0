import ArgumentParser
import Foundation
import ShiplogModel
import ShiplogStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy every row of one event log into another, empty one: SQLite to PostgreSQL or back.",
        discussion: """
            Rows keep their sequence numbers, receive times, formats and raw bodies, so the copy \
            has the same chain and the same head hash (printed, and checked). Stop the servers \
            writing to the source first; the copy can then be verified with `shiplog verify`.
              shiplog migrate --from shiplog.db --to postgres://shiplog@db:5432/shiplog?sslmode=require
            """
    )

    @Option(help: ArgumentHelp("The log to copy: an SQLite file or a PostgreSQL URL.", valueName: "path-or-url"))
    var from: String
    @Option(help: ArgumentHelp("The empty log to copy into: an SQLite file (created) or a PostgreSQL URL.", valueName: "path-or-url"))
    var to: String
    @Option(help: "Rows per transaction.") var transactionSize = 10_000

    func validate() throws {
        guard transactionSize >= 1 else { throw ValidationError("--transaction-size must be at least 1") }
        guard from != to else { throw ValidationError("--from and --to name the same log") }
    }

    func run() async throws {
        let started = Date()
        let source = try await openEventDatabase(from, mustExist: true)
        let destination: any EventDatabase
        do {
            destination = try await openEventDatabase(to)
        } catch {
            try? await source.close()
            throw error
        }
        do {
            try await copy(from: source, to: destination, started: started)
            try await source.close()
            try await destination.close()
        } catch {
            try? await source.close()
            try? await destination.close()
            throw error
        }
    }

    func copy(from source: any EventDatabase, to destination: any EventDatabase, started: Date) async throws {
        let existing = try await destination.lastSequence()
        guard existing == 0 else {
            throw CLIError("\(destination.location) already holds \(existing) events; migrate copies into an empty log only (nothing was written)")
        }
        var after: Int64 = 0
        var copied = 0
        var sourceHead = "none"
        while true {
            let rows = try await source.exportRows(after: after, limit: transactionSize)
            guard let last = rows.last else { break }
            var events: [PreparedEvent] = []
            events.reserveCapacity(rows.count)
            for row in rows {
                // The same path as `events import` of an export: the row is validated again.
                switch ExportedRow.prepare(try JSONValue.parse(row.line)) {
                case .success(let event): events.append(event)
                case .failure(let error): throw CLIError("row \(row.sequence) of \(source.location): \(error)")
                }
            }
            let result = try await destination.importEvents(events, transactionSize: transactionSize, progress: { _ in })
            guard result.duplicates == 0 else {
                throw CLIError("row \(row(after)) onwards: \(result.duplicates) rows were already in \(destination.location); the copy is incomplete")
            }
            copied += rows.count
            after = last.sequence
            sourceHead = last.hash
        }
        let head = try await destination.headHash() ?? "none"
        guard head == sourceHead else {
            throw CLIError(
                "the copy's head hash \(head) is not the source's \(sourceHead): the source was written to during the copy, or a row differs"
            )
        }
        let seconds = String(format: "%.2f", Date().timeIntervalSince(started))
        print("migrated \(copied) events from \(source.location) to \(destination.location) in \(seconds) s; head hash \(head) (the same)")
    }

    private func row(_ after: Int64) -> Int64 { after + 1 }
}
