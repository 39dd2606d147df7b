import ArgumentParser
import Foundation
import Inertia

@main
struct InertiaCommand: ParsableCommand {
    static func main() {
        Allocator.keepFreedMemory()
        if let problem = Kernels.environmentError {
            FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
            Foundation.exit(2)
        }
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do { try command.run() } catch { exit(withError: CommandFailure.runtime(error)) }
    }

    static let configuration = CommandConfiguration(
        commandName: "inertia",
        abstract: "Momentum-based and physics-inspired optimization: train, compare, reproduce, benchmark.",
        version: InertiaVersion.string,
        subcommands: [
            CompareCommand.self, TrainCommand.self, ReproduceCommand.self, OTCommand.self, CBOCommand.self,
            PSLCommand.self, SampleCommand.self, OptimizersCommand.self, SamplersCommand.self, VersionCommand.self,
            BenchCommand.self, DistributedCommand.self, WoSCommand.self, TopOptCommand.self,
        ]
    )
}

enum InertiaVersion {
    static let string = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version, the kernel path of each kernel family, the GEMM backend and the threads.")

    func run() {
        print("inertia \(InertiaVersion.string)")
        print(
            "instruction sets: \(InstructionSet.supported.map(\.rawValue).joined(separator: ", ")) supported; \(Kernels.instructionSet.rawValue) active (INERTIA_ISA=baseline|avx2|avx512 forces one)"
        )
        for (family, path) in Kernels.report { print("kernels: \(family): \(path)") }
        print(
            "gemm backend: \(GEMM.backend.rawValue) (OpenBLAS \(GEMM.isOpenBLASAvailable ? "found" : "not installed"))")
        print("threads: \(Parallel.threadCount)")
    }
}
