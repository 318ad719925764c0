// Measures durable appends through the event log: 32 concurrent tasks, one event each,
// repeated, with and without group commit (every append acknowledged after its WAL sync).
// Usage: shiplog-bench append [--rounds N] [--runs R] [--dir PATH]
import Foundation
import ShiplogModel
import ShiplogStore

func argument(_ name: String, default value: Int) -> Int {
    if let i = CommandLine.arguments.firstIndex(of: name), i + 1 < CommandLine.arguments.count, let v = Int(CommandLine.arguments[i + 1]) {
        return v
    }
    return value
}

let rounds = argument("--rounds", default: 100)
let runs = argument("--runs", default: 5)
let tasks = 32
let dir = CommandLine.arguments.firstIndex(of: "--dir").map { CommandLine.arguments[$0 + 1] } ?? NSTemporaryDirectory()

func event(_ id: String) -> PreparedEvent {
    let e = Event(id: id, type: .deploymentSucceeded, service: "bench", environment: "production", time: Timestamp.now(), version: "1.0.0")
    return PreparedEvent(e, raw: Array(e.canonicalJSON.utf8), format: .native, receivedAt: Timestamp.now())
}

/// Events per second for one run.
func run(groupCommit: Bool, run: Int) async throws -> (Double, Int) {
    let path = "\(dir)/append-bench-\(groupCommit)-\(run)-\(getpid()).db"
    defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
    let log = try SQLiteEventLog(path: path, options: .init(groupCommit: groupCommit))
    let start = ContinuousClock.now
    for round in 0..<rounds {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask { _ = try await log.append([event("r\(round)-t\(t)")]) }
            }
            try await group.waitForAll()
        }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let stats = await log.groupCommitStatistics()
    try log.close()
    return (Double(rounds * tasks) / seconds, stats.transactions)
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

var with: [Double] = []
var without: [Double] = []
var txWith = 0
var txWithout = 0
for r in 0..<runs {
    // Alternate the two modes so that machine noise hits both alike.
    let (a, ta) = try await run(groupCommit: false, run: r)
    let (b, tb) = try await run(groupCommit: true, run: r)
    without.append(a)
    with.append(b)
    txWithout = ta
    txWith = tb
    print(String(format: "run %d: without %.0f events/s (%d transactions), with %.0f events/s (%d transactions)", r + 1, a, ta, b, tb))
}
print(String(format: "median without group commit: %.0f events/s", median(without)))
print(String(format: "median with group commit:    %.0f events/s", median(with)))
print(
    String(format: "ratio: %.1fx (transactions per run: %d vs %d for %d appends)", median(with) / median(without), txWithout, txWith, rounds * tasks)
)
