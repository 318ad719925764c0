import ShiplogMetrics
import ShiplogModel
import ShiplogStore

/// Any text as a time, a span, a bound, a window or a history cursor: never traps (no
/// arithmetic overflow), and what parses stays in range.
#if FUZZING
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

/// SwiftPM links an executable's entry point as `FuzzTime_main`; under libFuzzer it hands over
/// to libFuzzer's driver.
@_cdecl("FuzzTime_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzTime)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
