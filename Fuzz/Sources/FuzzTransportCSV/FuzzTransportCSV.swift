import Foundation
import FuzzDriver
import InertiaTransport

/// The numeric CSV reader of `inertia ot` on arbitrary text: a matrix that parses is finite and
/// rectangular, and as a cost matrix between uniform weights it is accepted or refused by name.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTransportCSV(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: fuzzInput(start, count), as: UTF8.self)
    guard let matrix = try? NumericCSV.parse(text, source: "input") else { return 0 }
    precondition(
        matrix.scalars.count == matrix.rows * matrix.columns && matrix.scalars.allSatisfy(\.isFinite),
        "a parsed matrix is malformed")
    _ = try? TransportProblem(source: [], target: [], cost: matrix)
    return 0
}

@_cdecl("FuzzTransportCSV_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzTransportCSV)
}
