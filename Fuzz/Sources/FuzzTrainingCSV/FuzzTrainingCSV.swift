import Foundation
import FuzzDriver
import InertiaData

/// The training-data CSV reader (`inertia train --data file.csv`) on arbitrary text: a dataset
/// that parses splits into train and test sets without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTrainingCSV(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: fuzzInput(start, count), as: UTF8.self)
    guard let dataset = try? CSVData.parse(text, source: "input") else { return 0 }
    _ = try? dataset.split(testFraction: 0.2, seed: 0)
    return 0
}

@_cdecl("FuzzTrainingCSV_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzTrainingCSV)
}
