import Foundation
import FuzzDriver
import InertiaData

/// The IDX reader on arbitrary bytes: a file that parses has exactly its shape's bytes.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzIDX(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let (shape, bytes) = try? IDX.parse(Data(fuzzInput(start, count)), source: "input") else { return 0 }
    precondition(shape.reduce(1, *) == bytes.count, "shape \(shape) does not match \(bytes.count) bytes")
    return 0
}

@_cdecl("FuzzIDX_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzIDX)
}
