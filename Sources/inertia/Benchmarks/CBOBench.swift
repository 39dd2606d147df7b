import ArgumentParser
import Foundation
import Inertia

/// `inertia bench cbo`: the three configurations of `shared/peers/cbo.py` (Rastrigin d = 20,
/// N = 100, 10 runs, start uniform in [-3, 3]^d, success of the best particle within 0.25).
struct CBOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cbo", abstract: "CBO on 20-D Rastrigin in the peers' three configurations.")

    @Option(name: .long, parsing: .upToNextOption, help: "Thread counts to measure, in order.")
    var threads: [Int] = [2]

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        let configurations: [(String, ConsensusBasedOptimization)] = [
            (
                "cbx_defaults",
                ConsensusBasedOptimization(particles: 100, sigma: 5.1, noise: .isotropic, maxIterations: 1000)
            ),
            (
                "aniso_sigma7",
                ConsensusBasedOptimization(
                    particles: 100, sigma: 7, alpha: 1e5, noise: .anisotropic, schedule: .constant,
                    maxIterations: 10_000)
            ),
            (
                "aniso_sigma10",
                ConsensusBasedOptimization(
                    particles: 100, sigma: 10, alpha: 1e5, noise: .anisotropic, schedule: .constant,
                    maxIterations: 10_000)
            ),
        ]
        var rows: [(String, JSONValue)] = []
        let saved = Parallel.threadCount
        for threads in threads {
            Parallel.threadCount = threads
            for (name, cbo) in configurations {
                let start = DispatchTime.now().uptimeNanoseconds
                let outcome = cbo.ensemble(
                    .rastrigin, dimension: 20, runs: 10, seed: 0, low: -3, high: 3, useBest: true)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                let energies = outcome.results.map(\.bestEnergy).sorted()
                rows.append(
                    (
                        "\(threads)thr_\(name)",
                        .object([
                            ("success", .number((outcome.successRate * 10).rounded())), ("runs", .number(10)),
                            ("success_rate", .number(outcome.successRate)),
                            ("best_f_median", .number((energies[4] + energies[5]) / 2)),
                            ("iterations", .number(Double(cbo.maxIterations))),
                            ("seconds_all_runs", .number(seconds)), ("seconds_per_run", .number(seconds / 10)),
                        ])
                    ))
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "cbo %d thr %@: success %.0f/10, median best f %.4g, %.3f s\n", threads, name,
                            outcome.successRate * 10, (energies[4] + energies[5]) / 2, seconds
                        ).utf8))
            }
        }
        Parallel.threadCount = saved
        print(BenchEnvironment.line(bench: "cbo", threads: threads, loadStart: loadStart, results: .object(rows)))
    }
}
