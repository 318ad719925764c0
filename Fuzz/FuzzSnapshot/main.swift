import ShiplogMetrics

/// Any bytes as a projection snapshot: refused or decoded, never a trap, and what decodes
/// encodes again.
#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSnapshot(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let projection = try? Projection(snapshot: bytes, pipeline: .standard) else { return 0 }
    _ = projection.snapshotBytes()
    return 0
}

/// SwiftPM links an executable's entry point as `FuzzSnapshot_main`; under libFuzzer it hands over
/// to libFuzzer's driver.
@_cdecl("FuzzSnapshot_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzSnapshot)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
