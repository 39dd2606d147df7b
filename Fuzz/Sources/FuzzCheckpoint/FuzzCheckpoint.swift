import Foundation
import FuzzDriver
import FuzzSupport
import InertiaNN
import InertiaOptim
import InertiaTraining

/// Checkpoint metadata and optimizer state on arbitrary bytes: a training checkpoint is decoded
/// and restored into the 2-3-2 MLP with AdamW; an optimizer-state file is decoded and loaded into
/// every registered optimizer. Anything that does not fit throws; nothing may crash.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzCheckpoint(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let file = try? SafeTensors.decode(Data(fuzzInput(start, count)), source: "input") else { return 0 }
    let network = FuzzModel.network()
    if let checkpoint = try? Checkpoint.decode(file, source: "input") {
        _ = try? checkpoint.restore(into: network, optimizer: try! AdamW(), source: "input")
    }
    if let state = try? OptimizerState.decode(file, source: "input") {
        for optimizer in FuzzModel.optimizers(for: network) {
            _ = try? optimizer.load(state, for: network.namedParameters())
        }
    }
    return 0
}

@_cdecl("FuzzCheckpoint_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzCheckpoint)
}
