import Foundation
import FuzzDriver
import InertiaData

/// gzip / zlib inflation on arbitrary bytes, capped at 64 MiB of output (a bomb is an error), and
/// the IDX reader on what it inflates (Fashion-MNIST's files are gzipped IDX).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzGzip(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let inflated = try? Gzip.decompress(Data(fuzzInput(start, count)), source: "input", maximumSize: 1 << 26)
    else { return 0 }
    precondition(inflated.count <= 1 << 26, "inflated past the cap")
    _ = try? IDX.parse(inflated, source: "input")
    return 0
}

@_cdecl("FuzzGzip_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzGzip)
}
