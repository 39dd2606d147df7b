import Foundation
import InertiaParticles
import InertiaTensor

/// `shared/papers/consensus-based-optimization.md`, section 5 (Riedl, Klock, Geldhauser &
/// Fornasier, arXiv 2306.09778): CBO, a stochastic relaxation of gradient descent, finds global
/// minimisers of non-convex functions where gradient descent from a random start does not.
public struct ConsensusBasedOptimizationReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5 (A)", "A: anisotropic CBO wall time, all runs (s)", .atMost, 60),
        SpecCheck("spec 5 (A)", "A: anisotropic CBO success rate", .atLeast, 0.8),
        SpecCheck("spec 5 (A)", "A: gradient descent success rate", .atMost, 0.2),
        SpecCheck("spec 5 (B)", "B: CBO success rate (anisotropic and isotropic)", .atLeast, 0.9),
        SpecCheck("spec 5 (B)", "B: gradient descent success rate", .atMost, 0.3),
    ]

    public init() {}

    public let slug = "consensus-based-optimization"
    public let paper =
        "Riedl, Klock, Geldhauser & Fornasier, \"Gradient is All You Need? How Consensus-Based Optimization can be Interpreted as a Stochastic Relaxation of Gradient Descent\", arXiv 2306.09778"
    public let claim = """
        Anisotropic CBO finds the shifted minimiser of 10-D Ackley in >= 80 % of runs where gradient descent succeeds in <= 20 %; \
        on 2-D Rastrigin both CBO noises succeed in >= 90 % and GD in <= 30 %.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? Array(0..<5) : Array(0..<20) }

    /// Gradient descent from one uniform start in `[−3, 3]^d`, step 0.01, central differences.
    static func gradientDescent(_ f: ([Double]) -> Double, dimension: Int, steps: Int, seed: UInt64) -> [Double] {
        var rng = PhiloxGenerator(seed: seed)
        var x = (0..<dimension).map { _ in -3 + 6 * rng.nextDouble() }
        let h = 1e-6
        for _ in 0..<steps {
            var gradient = [Double](repeating: 0, count: dimension)
            for k in 0..<dimension {
                var plus = x, minus = x
                plus[k] += h
                minus[k] -= h
                gradient[k] = (f(plus) - f(minus)) / (2 * h)
            }
            for k in 0..<dimension { x[k] -= 0.01 * gradient[k] }
        }
        return x
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        var checks: [Check] = [], rows: [[String]] = [], notes: [String] = [], figures: [Figure] = []
        var successRates: [(experiment: String, rates: [String: Double])] = []
        let experiments: [(name: String, function: BenchmarkFunction, dimension: Int, particles: Int, source: String)] =
            [
                ("A: Ackley d = 10", .ackley, 10, 100, "spec 5 (A)"),
                ("B: Rastrigin d = 2", .rastrigin, 2, 50, "spec 5 (B)"),
                ("C: Rastrigin d = 10 (report only)", .rastrigin, 10, 100, "spec 5 (C)"),
            ]
        var partial = false
        for experiment in experiments {
            if shouldStop() {
                partial = true
                break
            }
            let shift = [Double](repeating: 1, count: experiment.dimension)
            var rates: [String: Double] = [:]
            for noise in ConsensusBasedOptimization.Noise.allCases {
                progress("\(experiment.name), \(noise.rawValue) CBO, \(seeds.count) runs")
                let cbo = ConsensusBasedOptimization(particles: experiment.particles, noise: noise, maxIterations: 2000)
                let start = DispatchTime.now().uptimeNanoseconds
                let outcome = cbo.ensemble(
                    experiment.function, shift: shift, dimension: experiment.dimension, runs: seeds.count,
                    seed: seeds.first ?? 0, low: -3, high: 3)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                rates[noise.rawValue] = outcome.successRate
                let median = Comparison.median(outcome.results.map(\.consensusEnergy))
                rows.append([
                    experiment.name, "CBO, \(noise.rawValue) noise", String(format: "%.2f", outcome.successRate),
                    String(format: "%.3g", median), String(format: "%.2f", seconds),
                ])
                if experiment.function == .ackley && noise == .anisotropic {
                    checks.append(
                        Check(
                            name: "A: anisotropic CBO wall time, all runs (s)", measured: seconds, relation: .atMost,
                            threshold: 60,
                            source: experiment.source))
                }
            }
            progress("\(experiment.name), gradient descent")
            let f: ([Double]) -> Double = { experiment.function($0, shift: shift) }
            let finals = seeds.map {
                Self.gradientDescent(f, dimension: experiment.dimension, steps: 2000, seed: 900 + $0)
            }
            let gd =
                Double(finals.filter { x in zip(x, shift).allSatisfy { Swift.abs($0 - $1) < 0.25 } }.count)
                / Double(seeds.count)
            rates["gradient descent"] = gd
            successRates.append((String(experiment.name.prefix { $0 != "(" }), rates))
            if experiment.dimension == 2 {
                figures.append(
                    Self.trajectoryFigure(
                        experiment.function, shift: shift, particles: experiment.particles, seed: seeds.first ?? 0))
            }
            rows.append([
                experiment.name, "gradient descent (step 0.01, 2000 steps)", String(format: "%.2f", gd),
                String(format: "%.3g", Comparison.median(finals.map(f))), "-",
            ])
            switch experiment.function {
            case .ackley:
                checks.append(
                    Check(
                        name: "A: anisotropic CBO success rate", measured: rates["anisotropic"], relation: .atLeast,
                        threshold: 0.8,
                        source: experiment.source))
                checks.append(
                    Check(
                        name: "A: gradient descent success rate", measured: gd, relation: .atMost, threshold: 0.2,
                        source: experiment.source))
            case .rastrigin where experiment.dimension == 2:
                checks.append(
                    Check(
                        name: "B: anisotropic CBO success rate", measured: rates["anisotropic"], relation: .atLeast,
                        threshold: 0.9,
                        source: experiment.source))
                checks.append(
                    Check(
                        name: "B: isotropic CBO success rate", measured: rates["isotropic"], relation: .atLeast,
                        threshold: 0.9,
                        source: experiment.source))
                checks.append(
                    Check(
                        name: "B: gradient descent success rate", measured: gd, relation: .atMost, threshold: 0.3,
                        source: experiment.source))
            default:
                notes.append(
                    String(
                        format:
                            "C (report only): anisotropic CBO succeeds in %.0f %% of 10-D Rastrigin runs at this budget (CBXpy: 3/20).",
                        100 * (rates["anisotropic"] ?? 0)))
            }
        }
        notes.append(
            "CBO as CBXpy: dt 0.01, lambda 1, sigma 5.1, alpha 1 multiplied by 1.05 per step up to 1e5, 2000 steps, start uniform in [-3, 3]^d, minimiser shifted to (1, ..., 1); success: the final consensus within 0.25 of it in the infinity norm. Isotropic noise with sigma 5.1 is expected to fail in d = 10 (2 lambda < d sigma^2)."
        )
        let methods = ["anisotropic", "isotropic", "gradient descent"]
        figures.insert(
            .bars(
                BarChart(
                    title: "Success rate over \(seeds.count) runs", xLabel: "experiment", yLabel: "success rate",
                    categories: successRates.map(\.experiment),
                    series: methods.map { method in
                        BarChart.Bars(
                            name: method == "gradient descent" ? method : "CBO, \(method) noise",
                            values: successRates.map { $0.rates[method] ?? .nan })
                    }, yRange: 0...1)), at: 0)
        let table = Table(
            title: "Success over \(seeds.count) runs (final consensus within 0.25 of the minimiser, infinity norm)",
            header: ["experiment", "method", "success rate", "median final f", "seconds"], rows: rows)
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: [table], figures: figures, notes: notes,
            isPartial: partial)
    }

    /// Run 0 of a 2-D ensemble again, recording its consensus: the start cloud and the consensus
    /// path over the function's landscape.
    static func trajectoryFigure(
        _ function: BenchmarkFunction, shift: [Double], particles: Int, seed: UInt64
    ) -> Figure {
        var cbo = ConsensusBasedOptimization(particles: particles, noise: .anisotropic, maxIterations: 2000)
        cbo.recordsHistory = true
        var rng = PhiloxGenerator(seed: seed)
        let start = cbo.uniformStart(dimension: 2, low: -3, high: 3, using: &rng)
        let run = cbo.minimize(function, shift: shift, from: start, using: &rng)
        return .heatMap(
            HeatMap.sampling(
                title: "\(function.rawValue) (d = 2): one anisotropic CBO run (seed \(seed))", xLabel: "x1",
                yLabel: "x2", valueLabel: "f(x)", xRange: -3...3, yRange: -3...3, resolution: 150,
                overlays: [
                    Series(name: "start particles", points: start),
                    Series(
                        name: "consensus path", x: run.consensusHistory.map { $0[0] },
                        y: run.consensusHistory.map { $0[1] }),
                    Series(name: "minimiser", x: [shift[0]], y: [shift[1]], style: .points),
                ]
            ) { function([$0, $1], shift: shift) })
    }
}
