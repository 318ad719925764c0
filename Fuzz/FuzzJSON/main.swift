import ShiplogModel

/// Any bytes: parsing never traps; a valid event's canonical form parses back to the same
/// event and encodes to the same text.
#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let json = try? JSONValue.parse(bytes) else { return 0 }
    _ = json.compactJSON()
    guard case .success(let event) = Event.validate(json, now: nil) else { return 0 }
    let canonical = event.canonicalJSON
    guard let again = try? JSONValue.parse(canonical), case .success(let reparsed) = Event.validate(again, now: nil) else {
        fatalError("the canonical form of a valid event does not parse back: \(canonical)")
    }
    precondition(reparsed.canonicalJSON == canonical, "parse ∘ encode changed the event: \(canonical)")
    return 0
}

/// SwiftPM links an executable's entry point as `FuzzJSON_main`; under libFuzzer it hands over
/// to libFuzzer's driver.
@_cdecl("FuzzJSON_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzJSON)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
