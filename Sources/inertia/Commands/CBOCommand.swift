import ArgumentParser
import Foundation
import Inertia

/// `inertia cbo`: consensus-based optimization of a benchmark function, several independent runs.
struct CBOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cbo", abstract: "Consensus-based optimization (CBXpy's dynamics) on a benchmark function.")

    @Option(help: "rastrigin | ackley | rosenbrock | sphere") var function: BenchmarkFunction = .rastrigin
    @Option(help: "Dimension.") var dim = 20
    @Option(help: "Particles per run.") var particles = 100
    @Option(help: "Independent runs.") var runs = 10
    @Option(help: "isotropic | anisotropic") var noise: ConsensusBasedOptimization.Noise = .anisotropic
    @Option(help: "Noise strength sigma.") var sigma = 5.1
    @Option(help: "Drift strength lambda.") var lambda = 1.0
    @Option(help: "Time step.") var dt = 0.01
    @Option(help: "Initial alpha.") var alpha = 1.0
    @Option(help: "Multiply alpha by this after every step (1: constant).") var alphaFactor = 1.05
    @Option(help: "Cap of alpha.") var alphaMax = 1e5
    @Option(help: "Steps per run.") var iterations = 1000
    @Option(help: "Stop a run when its best value is at most this.") var energyTolerance: Double?
    @Option(help: "Initial particles uniform in [low, high]^dim.") var low = -3.0
    @Option(help: "Initial particles uniform in [low, high]^dim.") var high = 3.0
    @Option(help: "Move the minimiser to (shift, ..., shift).") var shift = 0.0
    @Option(help: "Success: the answer within this distance of the minimiser (infinity norm).") var tolerance = 0.25
    @Flag(help: "Judge success on the best particle (CBXpy) instead of the final consensus.") var best = false
    @Option(help: "Seed of run 0 (run r uses seed + r).") var seed: UInt64 = 0
    @Option(help: "Run folder (summary.json).") var out = "runs/cbo"
    @Flag(help: "One JSON line instead of text.") var json = false

    func validate() throws {
        try requireFinite([
            "sigma": sigma, "lambda": lambda, "dt": dt, "alpha": alpha, "alpha-factor": alphaFactor,
            "alpha-max": alphaMax,
            "energy-tolerance": energyTolerance, "low": low, "high": high, "shift": shift, "tolerance": tolerance,
        ])
        guard dim >= 1, particles >= 1, runs >= 1, iterations >= 1 else {
            throw ValidationError("--dim, --particles, --runs and --iterations must be >= 1")
        }
        guard sigma >= 0, lambda > 0, dt > 0, alpha >= 0, alphaFactor >= 1, alphaMax >= alpha else {
            throw ValidationError(
                "need sigma >= 0, lambda > 0, dt > 0, alpha >= 0, alpha-factor >= 1 and alpha-max >= alpha")
        }
        guard low < high else { throw ValidationError("--low must be below --high") }
    }

    func run() throws {
        let folder = try RunFolder(out)
        var cbo = ConsensusBasedOptimization(
            particles: particles, dt: dt, lambda: lambda, sigma: sigma, alpha: alpha, noise: noise,
            schedule: alphaFactor == 1 ? .constant : .multiply(factor: alphaFactor, maximum: alphaMax),
            maxIterations: iterations)
        cbo.energyTolerance = energyTolerance
        let shiftVector = shift == 0 ? nil : [Double](repeating: shift, count: dim)
        let start = DispatchTime.now().uptimeNanoseconds
        let outcome = cbo.ensemble(
            function, shift: shiftVector, dimension: dim, runs: runs, seed: seed, low: low, high: high,
            tolerance: tolerance, useBest: best)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let values = outcome.results.map { best ? $0.bestEnergy : $0.consensusEnergy }.sorted()
        let median = values[values.count / 2]
        let perRun: [JSONValue] = outcome.results.map { r in
            .object([
                ("best_energy", .number(r.bestEnergy)), ("consensus_energy", .number(r.consensusEnergy)),
                ("iterations", .number(Double(r.iterations))), ("evaluations", .number(Double(r.evaluations))),
                ("stop", .string(r.stopReason)), ("consensus", .array(r.consensus.map { .number($0) })),
            ])
        }
        let summary = JSONValue.object([
            ("function", .string(function.rawValue)), ("dim", .number(Double(dim))),
            ("particles", .number(Double(particles))),
            ("runs", .number(Double(runs))), ("noise", .string(noise.rawValue)), ("sigma", .number(sigma)),
            ("judged_on", .string(best ? "best particle" : "consensus")),
            ("success_rate", .number(outcome.successRate)), ("median_value", .number(median)),
            ("seconds", .number(seconds)), ("results", .array(perRun)),
        ])
        try AtomicFile.write(Data((summary.text + "\n").utf8), to: folder.file("summary.json"))
        if json {
            print(
                JSONValue.object([
                    ("function", .string(function.rawValue)), ("dim", .number(Double(dim))),
                    ("success_rate", .number(outcome.successRate)),
                    ("median_value", .number(median)), ("seconds", .number(seconds)),
                ]).text)
        } else {
            print(
                "CBO (\(noise.rawValue) noise, sigma \(sigma)) on \(function.rawValue), d = \(dim), \(particles) particles, \(runs) runs of \(iterations) steps"
            )
            print(
                String(
                    format: "success        %d / %d (%@ within %g of the minimiser)",
                    Int((outcome.successRate * Double(runs)).rounded()), runs,
                    best ? "best particle" : "final consensus", tolerance))
            print(String(format: "median value   %.6g", median))
            print(String(format: "best value     %.6g", values[0]))
            print(String(format: "time           %.3f s", seconds))
            print("summary        \(out)/summary.json")
        }
        guard median.isFinite else {
            throw CommandFailure("the runs diverged (median value \(median)); see \(out)/summary.json")
        }
    }
}

extension BenchmarkFunction: ExpressibleByArgument {}
extension ConsensusBasedOptimization.Noise: ExpressibleByArgument {}
