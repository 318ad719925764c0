import ShiplogMetrics
import ShiplogModel
import ShiplogStore

#if FUZZING
import FuzzDriver

/// A real snapshot to corrupt: a service promoted through the pipeline, with a failure, a
/// rollback, an incident and commits, so that every section of the format holds something.
let validSnapshot: [UInt8] = {
    var projection = Projection(pipeline: .standard)
    let environments = ["dev", "staging", "production"]
    var events: [StoredEvent] = []
    func add(_ event: Event) {
        events.append(StoredEvent(sequence: Int64(events.count + 1), event: event, receivedAt: event.time!, format: .native))
    }
    for i in 0..<9 {
        let time = Timestamp(nanoseconds: Int64(1_780_000_000 + i * 600) * 1_000_000_000)
        add(
            Event(
                id: "d\(i)",
                type: i == 7 ? .deploymentFailed : .deploymentSucceeded,
                service: "api",
                environment: environments[i % 3],
                time: time,
                version: "1.\(i / 3)",
                artifact: "img@sha256:\(i / 3)",
                commit: "c\(i / 3)",
                commitTime: Timestamp(nanoseconds: time.nanoseconds - 3_600_000_000_000)
            )
        )
    }
    add(
        Event(
            id: "r",
            type: .deploymentRolledBack,
            service: "api",
            environment: "production",
            time: Timestamp(nanoseconds: 1_780_009_000_000_000_000),
            version: "1.1"
        )
    )
    add(
        Event(
            id: "i1",
            type: .incidentOpened,
            service: "api",
            environment: "production",
            time: Timestamp(nanoseconds: 1_780_009_100_000_000_000),
            incident: Incident(id: "INC-1")
        )
    )
    add(
        Event(
            id: "i2",
            type: .incidentResolved,
            service: "api",
            environment: "production",
            time: Timestamp(nanoseconds: 1_780_009_900_000_000_000),
            incident: Incident(id: "INC-1")
        )
    )
    try? projection.apply(batch: events, load: { _ in [] })
    return projection.snapshotBytes()
}()

/// Any bytes as a projection snapshot: refused or decoded, never a trap, and what decodes
/// encodes again. An input whose first byte is odd instead overwrites bytes of a real
/// snapshot (pairs of a 16-bit offset and a value), reaching past the header checks.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSnapshot(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: start, count: count))
    if let mode = bytes.first, mode & 1 == 1 {
        var corrupted = validSnapshot
        var i = 1
        while i + 2 < bytes.count {
            let offset = (Int(bytes[i]) << 8 | Int(bytes[i + 1])) % corrupted.count
            corrupted[offset] = bytes[i + 2]
            i += 3
        }
        if bytes.count % 7 == 0 { corrupted.removeLast(min(corrupted.count, Int(bytes.last!))) }
        bytes = corrupted
    }
    guard let projection = try? Projection(snapshot: bytes, pipeline: .standard) else { return 0 }
    // The reader accepts only the writer's own encoding: anything it takes comes back the same.
    guard projection.snapshotBytes() == bytes else { fatalError("a decoded snapshot encodes to other bytes") }
    return 0
}

@_cdecl("FuzzSnapshot_main")
func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzSnapshot)
}
#endif
