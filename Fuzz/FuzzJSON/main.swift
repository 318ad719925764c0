import ShiplogModel

#if FUZZING
import FuzzDriver

/// Any bytes: parsing never traps; a valid event's canonical form parses back to the same
/// event and encodes to the same text.
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

@_cdecl("FuzzJSON_main")
func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzJSON)
}
#endif
