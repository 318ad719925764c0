import ShiplogMetrics
import ShiplogModel
import ShiplogStore

#if FUZZING
import FuzzDriver

/// Any text as a time, a span, a bound, a window or a history cursor: never traps (no
/// arithmetic overflow), and what parses stays in range.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTime(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    if case .success(let t) = Timestamp.parse(text) { _ = t.rfc3339 }
    if let span = TimeSpan(text) { precondition(span.seconds <= TimeSpan.longest.seconds, "span beyond the longest: \(text)") }
    _ = Timestamp.parseBound(text, now: Timestamp(nanoseconds: 1_780_000_000_000_000_000))
    if let window = Window(parsing: text) { _ = window.label }
    if let cursor = EventCursor(token: text) { _ = cursor }
    return 0
}

@_cdecl("FuzzTime_main")
func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzTime)
}
#endif
