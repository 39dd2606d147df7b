import Foundation
import FuzzDriver
import InertiaNN

/// The safetensors reader on arbitrary bytes: a malformed file throws; a file that decodes
/// encodes and decodes back to the same names, shapes, bits and metadata.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSafeTensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let file = try? SafeTensors.decode(Data(fuzzInput(start, count)), source: "input") else { return 0 }
    let again: SafeTensors.File
    do { again = try SafeTensors.decode(SafeTensors.encode(file), source: "re-encoded") } catch {
        fatalError("a decoded file does not re-encode: \(error)")
    }
    precondition(
        again.metadata == file.metadata && again.tensors.map(\.name) == file.tensors.map(\.name),
        "names or metadata changed")
    for (a, b) in zip(again.tensors, file.tensors) {
        precondition(
            a.tensor.shape == b.tensor.shape
                && a.tensor.scalars.map(\.bitPattern) == b.tensor.scalars.map(\.bitPattern),
            "tensor '\(a.name)' changed in the round trip")
    }
    return 0
}

@_cdecl("FuzzSafeTensors_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzSafeTensors)
}
