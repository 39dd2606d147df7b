import ArgumentParser
import Foundation
import Inertia

/// `inertia distributed check`: the collectives of this process's world (MPI's under `mpirun`
/// with a build that has the `MPI` trait, one process otherwise) against closed forms.
struct DistributedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed", abstract: "Data-parallel runtime: check this MPI world's collectives.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract:
                "Run every collective on rank-dependent buffers against closed forms, then train the digits MLP data-parallel against one process (all ranks)."
        )

        @Option(help: "Elements of the all-reduce and broadcast buffers (odd by default).")
        var length = 1001

        func validate() throws {
            guard length >= 1 else { throw ValidationError("--length must be >= 1") }
        }

        func run() throws {
            let world = try World.communicator()
            let results = try CollectiveCheck.run(on: world, length: length) + DataParallelCheck.run(on: world)
            if world.rank == 0 {
                print(
                    "ranks \(world.size), MPI \(World.supportsMPI ? "built in" : "not built in (swift build --traits MPI)")"
                )
                for result in results { print("\(result.passed ? "ok  " : "FAIL") \(result.name)") }
            }
            guard results.allSatisfy(\.passed) else { throw ExitCode.failure }
        }
    }
}
