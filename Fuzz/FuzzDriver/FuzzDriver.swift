/// (Empty unless built with -DFUZZING: the plain build has no libFuzzer to link.)
#if FUZZING
/// The entry point every fuzz target shares. SwiftPM links an executable's entry point as
/// `<Target>_main`; under libFuzzer (`-DFUZZING`) each target defines that symbol and hands
/// its input function to libFuzzer's driver here. The input function is also exported as
/// `LLVMFuzzerTestOneInput`, which libFuzzer's objects refer to.
public typealias FuzzInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

public func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ test: FuzzInput) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, test)
}

/// libFuzzer's driver (FuzzerDriver.cpp), linked by `-sanitize=fuzzer`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ test: FuzzInput
) -> CInt
#endif
