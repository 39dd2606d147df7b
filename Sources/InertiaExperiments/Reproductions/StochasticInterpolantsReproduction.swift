import Foundation
import InertiaGenerative
import InertiaNN
import InertiaOptim
import InertiaTensor

/// `shared/papers/stochastic-interpolants.md`, section 5.1 (Albergo, Boffi & Vanden-Eijnden, 2023):
/// with the exact drift and score of a Gaussian-to-Gaussian interpolant, both the ODE and the SDE
/// with any diffusion ε push the base onto the target.
public struct StochasticInterpolantsReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5.1", "each interpolant: max |mean − m1| and |covariance − C1|", .atMost, 0.03),
        SpecCheck("spec 5.2", "ODE in-support fraction", .atLeast, 0.70),
        SpecCheck("spec 5.2", "ODE sliced W2", .atMost, 0.20),
        SpecCheck("spec 5.2", "SDE eps 0.5 in-support minus ODE's", .atLeast, 0),
        SpecCheck("spec 5.2", "SDE eps 0.5 sliced W2", .atMost, 0.15),
    ]

    public init() {}

    public let slug = "stochastic-interpolants"
    public let paper =
        "Albergo, Boffi & Vanden-Eijnden, \"Stochastic Interpolants: A Unifying Framework for Flows and Diffusions\", 2023"
    public let claim = """
        Pushing N(0, I) through the exact linear-brownian interpolant fields by the ODE (RK4, 200 steps) and the SDE (Euler-Maruyama, \
        eps 0.5, 1000 steps) reproduces the target N((2, -1), [[0.5, 0.2], [0.2, 0.3]]): means and covariances within 0.03.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { [0] }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        let n = budget == .quick ? 5000 : 20_000
        let m0 = [0.0, 0.0], c0 = Matrix64.identity(2), m1 = [2.0, -1.0],
            c1 = Matrix64(rows: 2, columns: 2, scalars: [0.5, 0.2, 0.2, 0.3])
        let interpolant = StochasticInterpolant(path: .linear, noise: .brownian(scale: 1))
        func affine(_ t: Double, _ x: Matrix64, score: Bool) -> Matrix64 {
            let f = interpolant.gaussianLinearFields(m0: m0, c0: c0, m1: m1, c1: c1, t: t)
            let gg = interpolant.noise.gammaTimesDerivative(t)
            let gain = score ? f.precision * -1 : (f.cross.addingToDiagonal(gg)) * f.precision
            var out = Matrix64(rows: x.rows, columns: 2)
            for i in 0..<x.rows {
                let r0 = x[i, 0] - f.mean[0], r1 = x[i, 1] - f.mean[1]
                out[i, 0] = (score ? 0 : f.meanVelocity[0]) + gain[0, 0] * r0 + gain[0, 1] * r1
                out[i, 1] = (score ? 0 : f.meanVelocity[1]) + gain[1, 0] * r0 + gain[1, 1] * r1
            }
            return out
        }
        var rng = PhiloxGenerator(seed: seeds.first ?? 0)
        let start = Matrix64(rows: n, columns: 2, scalars: (0..<(2 * n)).map { _ in rng.nextNormal() })
        progress("ODE, RK4, 200 steps")
        let ode = StochasticInterpolant.integrateODE(start, steps: 200) { affine($0, $1, score: false) }
        progress("SDE, eps 0.5, 1000 steps")
        let sde = StochasticInterpolant.integrateSDE(
            start, steps: 1000, epsilon: 0.5, drift: { affine($0, $1, score: false) },
            score: { affine($0, $1, score: true) }, using: &rng)
        func moments(_ x: Matrix64) -> (mean: [Double], covariance: [Double]) {
            let mean = (0..<2).map { j in (0..<x.rows).reduce(0.0) { $0 + x[$1, j] } / Double(x.rows) }
            var c = [Double](repeating: 0, count: 4)
            for i in 0..<x.rows {
                for p in 0..<2 {
                    for q in 0..<2 { c[p * 2 + q] += (x[i, p] - mean[p]) * (x[i, q] - mean[q]) / Double(x.rows) }
                }
            }
            return (mean, c)
        }
        var checks: [Check] = [], rows: [[String]] = []
        // The target's 1- and 2-sigma ellipses, m1 + k L (cos a, sin a) with C1 = L Lᵀ.
        let l00 = c1[0, 0].squareRoot(), l10 = c1[1, 0] / l00, l11 = (c1[1, 1] - l10 * l10).squareRoot()
        let angles = (0...72).map { 2 * Double.pi * Double($0) / 72 }
        let ellipses = [1.0, 2.0].map { k in
            Series(
                name: "target \(Int(k))-sigma ellipse", x: angles.map { m1[0] + k * l00 * Foundation.cos($0) },
                y: angles.map { m1[1] + k * (l10 * Foundation.cos($0) + l11 * Foundation.sin($0)) })
        }
        var figures: [Figure] = [
            .row(
                title: "5.1: \(n) samples pushed from N(0, I) by the exact fields, over the target's ellipses",
                panels: [("ODE (RK4, 200 steps)", ode), ("SDE (eps 0.5, 1000 steps)", sde)].map { name, x in
                    var map = HeatMap.density(
                        title: name, xLabel: "x1", yLabel: "x2", x: (0..<x.rows).map { x[$0, 0] },
                        y: (0..<x.rows).map { x[$0, 1] }, xRange: 0...4, yRange: -3...1, bins: 50)
                    map.overlays = ellipses
                    return .heatMap(map)
                })
        ]
        for (name, x) in [("ODE (RK4, 200 steps)", ode), ("SDE (eps 0.5, 1000 steps)", sde)] {
            let (mean, covariance) = moments(x)
            let meanError = zip(mean, m1).map { Swift.abs($0 - $1) }.max()!,
                covarianceError = zip(covariance, c1.scalars).map { Swift.abs($0 - $1) }.max()!
            rows.append([
                name, String(format: "(%.4f, %.4f)", mean[0], mean[1]),
                covariance.map { String(format: "%.4f", $0) }.joined(separator: " "),
                String(format: "%.4f", meanError), String(format: "%.4f", covarianceError),
            ])
            checks.append(
                Check(
                    name: "\(name): max |mean − m1|", measured: meanError, relation: .atMost, threshold: 0.03,
                    source: "spec 5.1"))
            checks.append(
                Check(
                    name: "\(name): max |covariance − C1|", measured: covarianceError, relation: .atMost,
                    threshold: 0.03, source: "spec 5.1"))
        }
        let table = Table(
            title:
                "\(n) samples of N(0, I) pushed to the target N((2, -1), [[0.5, 0.2], [0.2, 0.3]]) by the exact fields",
            header: ["process", "mean", "covariance (row-major)", "mean error", "covariance error"], rows: rows)
        var notes = ["Spec writer's run: ODE mean (2.004, -1.000), SDE mean (1.996, -0.996), covariances within 0.003."]
        var tables = [table], partial = false
        if budget == .full {
            let board = try Self.checkerboardStudy(seeds: [0, 1, 2], shouldStop: shouldStop, progress: progress)
            checks += board.checks
            tables.append(board.table)
            figures += board.figures
            notes += board.notes
            partial = board.partial
        } else {
            notes.append(
                "Section 5.2 (Gaussian to checkerboard, trained drift and denoiser) runs with --budget full only.")
        }
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: figures, notes: notes,
            isPartial: partial)
    }

    /// Section 5.2: N(0, I) to the checkerboard with a one-sided linear interpolant; a drift network
    /// b̂ (velocity loss, target x1 − x0) and a denoiser η̂₀ (target x0), ŝ = −η̂₀/(1 − t), both
    /// `[x, t] → 3×128 SiLU → 2` with raw t as the spec; ODE by Heun (50 steps) and SDE by
    /// Euler–Maruyama (200 steps to t = 0.99, then one ODE step) for several ε; the ODE's negative
    /// log-likelihood of fresh target samples by the divergence integral.
    static func checkerboardStudy(
        seeds: [UInt64], shouldStop: () -> Bool, progress: (String) -> Void
    ) throws
        -> (checks: [Check], table: Table, figures: [Figure], notes: [String], partial: Bool)
    {
        let epsilons = [0.1, 0.5, 1.0, 2.0]
        var support: [String: [Double]] = [:], distance: [String: [Double]] = [:], floors: [Double] = [],
            likelihoods: [Double] = []
        var partial = false, pictured: [(String, Matrix64)] = []
        let interpolant = StochasticInterpolant(path: .oneSidedLinear, noise: .zero)
        let losses = [
            InterpolantLoss(interpolant, field: .velocity, antithetic: false),
            InterpolantLoss(interpolant, field: .noiseDenoiser, antithetic: false),
        ]
        for seed in seeds {
            if shouldStop() {
                partial = true
                break
            }
            var rng = PhiloxGenerator(seed: 500 + seed)
            let drift = DenoiserNetwork(dimension: 2, time: .raw, using: &rng),
                denoiser = DenoiserNetwork(dimension: 2, time: .raw, using: &rng)
            let steps = 3000
            let optimizers = try [drift, denoiser].map { _ -> Adam in
                let adam = try Adam(learningRate: 2e-3)
                adam.schedule = .stepDecay(every: steps / 4, gamma: 0.4)
                return adam
            }
            progress("5.2 seed \(seed): training the drift and the denoiser (\(steps) steps each)")
            for _ in 0..<steps {
                let x0 = Matrix64(rows: 512, columns: 2, scalars: (0..<1024).map { _ in rng.nextNormal() }),
                    x1 = ToyDistribution.checkerboard.sample(512, using: &rng)
                let times = (0..<512).map { _ in rng.nextDouble() }
                for (k, network) in [drift, denoiser].enumerated() {
                    network.zeroGradients()
                    losses[k](network: { network($0, time: $1, labels: []) }, x0: x0, x1: x1, times: times, z: x0)
                        .backward()
                    optimizers[k].step(network.namedParameters())
                }
            }
            let start = Matrix64(rows: 4000, columns: 2, scalars: (0..<8000).map { _ in rng.nextNormal() })
            let target = ToyDistribution.checkerboard.sample(4000, using: &rng),
                target2 = ToyDistribution.checkerboard.sample(4000, using: &rng)
            var metric = PhiloxGenerator(seed: 7)
            floors.append(slicedWasserstein(target, target2, using: &metric))
            var outputs: [(String, Matrix64)] = [
                (
                    "ODE (Heun, 50 steps)",
                    StochasticInterpolant.integrateODEHeun(start, steps: 50) { drift.evaluate($1, time: $0) }
                )
            ]
            for eps in epsilons {
                progress("5.2 seed \(seed): SDE eps \(eps)")
                outputs.append(
                    (
                        "SDE eps \(eps)",
                        StochasticInterpolant.integrateSDE(
                            start, steps: 200, epsilon: eps, end: 0.99, drift: { drift.evaluate($1, time: $0) },
                            score: { t, x in denoiser.evaluate(x, time: t) * (-1 / (1 - t)) }, using: &rng)
                    ))
            }
            progress("5.2 seed \(seed): ODE log-likelihood of 500 target samples")
            let held = ToyDistribution.checkerboard.sample(500, using: &rng)
            let flow = ProbabilityFlowLikelihood(steps: 50, differenceStep: 1e-2).logDensity(
                held, from: 1, to: 0, velocity: { drift.evaluate($0, time: $1) },
                terminalLogDensity: ProbabilityFlowLikelihood.isotropicGaussian(standardDeviation: 1), using: &rng)
            likelihoods.append(-flow.logDensity.reduce(0, +) / Double(held.rows))
            if seed == seeds.first { pictured = [("target", target)] + outputs }
            for (name, x) in outputs {
                support[name, default: []].append(
                    Double((0..<x.rows).filter { ToyDistribution.isOnCheckerboard(x[$0, 0], x[$0, 1]) }.count)
                        / Double(x.rows))
                var r = PhiloxGenerator(seed: 7)
                distance[name, default: []].append(slicedWasserstein(x, target, using: &r))
            }
        }
        let names = ["ODE (Heun, 50 steps)"] + epsilons.map { "SDE eps \($0)" }
        let rows = names.compactMap { name -> [String]? in
            guard let s = support[name], let d = distance[name] else { return nil }
            return [name, String(format: "%.3f", Comparison.median(s)), String(format: "%.3f", Comparison.median(d))]
        }
        func median(_ v: [String: [Double]], _ key: String) -> Double? { partial ? nil : v[key].map(Comparison.median) }
        let ode = "ODE (Heun, 50 steps)", sde = "SDE eps 0.5"
        let checks = [
            Check(
                name: "5.2: ODE in-support fraction", measured: median(support, ode), relation: .atLeast,
                threshold: 0.70, source: "spec 5.2"),
            Check(
                name: "5.2: ODE sliced W2", measured: median(distance, ode), relation: .atMost, threshold: 0.20,
                source: "spec 5.2"),
            Check(
                name: "5.2: SDE eps 0.5 in-support minus ODE's",
                measured: median(support, sde).flatMap { s in median(support, ode).map { s - $0 } },
                relation: .atLeast, threshold: 0, source: "spec 5.2"),
            Check(
                name: "5.2: SDE eps 0.5 sliced W2", measured: median(distance, sde), relation: .atMost, threshold: 0.15,
                source: "spec 5.2"),
        ]
        let table = Table(
            title: String(
                format:
                    "5.2: N(0, I) to the checkerboard, 4000 samples, median over %d seed(s); SW2 floor %.3f; ODE NLL of target samples %.3f nats (lower bound ln 32 = 3.466)",
                seeds.count,
                floors.isEmpty ? Double.nan : Comparison.median(floors),
                likelihoods.isEmpty ? Double.nan : Comparison.median(likelihoods)),
            header: ["sampler", "in-support", "sliced W2"], rows: rows)
        let notes = [
            "Networks: [x, t] with t raw, 3x128 SiLU MLPs; losses in the code's form (velocity and eta, not antithetic); Adam 2e-3 with step decay 0.4 every 750 steps, batch 512, 3000 steps. Spec writer's run: ODE 0.775 / 0.142, SDE eps 0.5 0.829 / 0.105, floor 0.085.",
            "With Fourier time features (frequencies 1-200 or 1-20) instead of raw t, the SDE did not sharpen the squares (in-support 0.70 at every eps, below the ODE's): raw t as the spec prescribes is what makes the learned denoiser usable near t = 1.",
        ]
        // The first seed's samples as densities, three panels a row; the in-support fraction against eps.
        let panels = pictured.map { name, x -> Figure in
            .heatMap(
                HeatMap.density(
                    title: name, xLabel: "x1", yLabel: "x2", x: (0..<x.rows).map { x[$0, 0] },
                    y: (0..<x.rows).map { x[$0, 1] }, xRange: -4.5...4.5, yRange: -4.5...4.5, bins: 60))
        }
        var figures = stride(from: 0, to: panels.count, by: 3).map { k in
            Figure.row(
                title:
                    "5.2: samples over the checkerboard (seed \(seeds.first ?? 0)), \(k / 3 + 1) of \((panels.count + 2) / 3)",
                panels: Array(panels[k..<Swift.min(panels.count, k + 3)]))
        }
        if let odeSupport = median(support, ode) {
            let sdes = epsilons.compactMap { eps in median(support, "SDE eps \(eps)").map { (eps, $0) } }
            figures.append(
                .chart(
                    Plot(
                        title: "5.2: in-support fraction against eps (median over seeds)", xLabel: "eps",
                        yLabel: "fraction on the checkerboard",
                        series: [
                            Series(name: "SDE", x: sdes.map(\.0), y: sdes.map(\.1)),
                            Series(
                                name: "ODE", x: [epsilons.first!, epsilons.last!], y: [odeSupport, odeSupport]),
                        ], logY: false, logX: true)))
        }
        return (checks, table, figures, notes, partial)
    }
}
