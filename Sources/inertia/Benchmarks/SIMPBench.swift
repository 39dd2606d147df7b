import ArgumentParser
import Foundation
import Inertia

/// `inertia bench simp`: one 88-line SIMP iteration (assembly, banded Cholesky solve, compliance
/// and sensitivities, density filter, OC bisection) on top88's half MBB beam, the second one from
/// the uniform start. `bench/peers/top88_scipy.py` runs the usual numpy/scipy port (`spsolve`).
struct SIMPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simp", abstract: "Seconds per SIMP iteration (top88's MBB beam, 120 x 60).")

    @OptionGroup var options: BenchOptions

    @Option(help: "Elements across.") var nelx = 120
    @Option(help: "Elements down.") var nely = 60

    func validate() throws {
        guard nelx >= 1, nely >= 1 else { throw ValidationError("--nelx and --nely must be positive") }
    }

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        // The state after the first iteration from the uniform start; each timed run iterates a copy.
        var first = TopologyOptimization(.mbbBeam(nelx: nelx, nely: nely, volumeFraction: 0.5))
        try first.iterate()
        var compliance = 0.0
        var failure: Error?
        let time = measure(warmup: 1, minReps: 3, minTime: options.minTime) {
            var simp = first
            do { compliance = try simp.iterate().compliance } catch { failure = error }
        }
        if let failure { throw failure }
        FileHandle.standardError.write(
            Data(String(format: "simp %dx%d: %.1f ms per iteration\n", nelx, nely, time.min * 1000).utf8))
        print(
            BenchEnvironment.line(
                bench: "simp", threads: [1], loadStart: loadStart,
                results: .object([
                    (
                        "1thr",
                        .object([
                            ("seconds_median", .number(time.median)), ("seconds_min", .number(time.min)),
                            ("reps", .number(Double(time.reps))), ("compliance", .number(compliance)),
                        ])
                    )
                ]),
                extra: [("nelx", .number(Double(nelx))), ("nely", .number(Double(nely)))]))
    }
}
