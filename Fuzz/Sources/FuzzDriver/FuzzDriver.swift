/// The body of a fuzz target: one input, returns 0 (libFuzzer's `LLVMFuzzerTestOneInput`).
public typealias FuzzBody = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
private func libFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ body: FuzzBody
) -> CInt

/// Runs libFuzzer on `body` with the command line's options. SwiftPM links an executable target
/// with `main` defined as `<Target>_main`, which collides with libFuzzer's own `main`; the fuzz
/// script links with `--allow-multiple-definition`, and whichever `main` the linker keeps, the
/// target's inputs reach `body`: libFuzzer's calls `LLVMFuzzerTestOneInput`, SwiftPM's calls this.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ body: FuzzBody
) -> CInt {
    var count = argc
    var arguments = argv
    return libFuzzerRunDriver(&count, &arguments, body)
}

/// The input's bytes.
public func fuzzInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
    guard let start, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: start, count: count))
}
