import ArgumentParser
import Inertia

@main
struct InertiaCommand: ParsableCommand {
    static func main() {
        Allocator.keepFreedMemory()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "inertia",
        abstract: "Momentum-based and physics-inspired optimization: train, compare, reproduce, benchmark.",
        version: InertiaVersion.string,
        subcommands: [CompareCommand.self, TrainCommand.self, ReproduceCommand.self, OTCommand.self, CBOCommand.self, PSLCommand.self, SampleCommand.self, OptimizersCommand.self, VersionCommand.self, BenchCommand.self]
    )
}

enum InertiaVersion {
    static let string = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version, the build's SIMD level and the GEMM backend.")

    func run() {
        let simd = CPUFeatures.builtForAVX2FMA ? "AVX2+FMA (NativeSIMD trait)" : "baseline x86-64 (NativeSIMD trait off)"
        print("inertia \(InertiaVersion.string)")
        print("kernels: \(simd)")
        print("gemm backend: \(GEMM.backend.rawValue) (OpenBLAS \(GEMM.isOpenBLASAvailable ? "found" : "not installed"))")
        print("threads: \(Parallel.threadCount)")
    }
}
