import Foundation
import InertiaGenerative
import InertiaTensor
import InertiaTransport

/// `shared/papers/light-schrodinger-bridge.md`, section 5 (Korotin, Gushchin & Burnaev, ICLR
/// 2024): LightSB recovers the entropic OT plan between two Gaussians (closed-form truth) and on a
/// locally rebuilt Gaussian-mixture benchmark (the construction of Gushchin et al., NeurIPS 2023),
/// measured by cBW²₂-UVP.
public struct LightSchrodingerBridgeReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5.1", "Gaussian pair: worst cBW2-UVP (%) over D in {2, 16}, eps in {0.1, 1}", .atMost, 0.5),
        SpecCheck("spec 5.1", "Gaussian pair: worst |learned diag S - Sigma/eps|", .atMost, 0.15),
        SpecCheck("spec 5.2", "mixture benchmark: worst cBW2-UVP (%) at D = 2", .atMost, 0.3),
        SpecCheck("spec 5.2", "mixture benchmark: worst cBW2-UVP (%) at D = 16", .atMost, 3.0),
        SpecCheck("spec 5.2", "mixture benchmark: smallest independent-baseline / LightSB ratio", .atLeast, 20),
    ]

    public init() {}

    public let slug = "light-schrodinger-bridge"
    public let paper = "Korotin, Gushchin & Burnaev, \"Light Schrödinger Bridge\", ICLR 2024"
    public let claim = """
        A Gaussian-mixture Schrödinger potential fitted by the simulation-free KL objective recovers the entropic OT plan: \
        cBW2-UVP at most 0.5 % between Gaussians (D = 2, 16; eps = 0.1, 1) with the learned diagonal within 0.15 of \
        Sigma/eps, and on the rebuilt mixture benchmark at most 0.3 % (D = 2) and 3 % (D = 16), at least 20x below the \
        independent coupling.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { [0] }

    /// What a conditional sampler is scored against at one test input: the true conditional's
    /// mean and covariance, and how to draw from the truth (for the floor).
    struct Truth {
        var mean: [Double], covariance: Matrix64
        var draw: (Int, inout PhiloxGenerator) -> Matrix64
    }

    /// cBW²₂-UVP (%): the mean over test inputs of BW²₂ between the Gaussian of the samples'
    /// empirical moments and the true conditional's, divided by tr Cov(p₁), times 100.
    static func unexplainedVariance(
        truths: [Truth], samples: [Matrix64], targetVariance: Double
    ) -> Double {
        let total = zip(truths, samples).reduce(0.0) { sum, pair in
            let (mean, covariance) = moments(pair.1)
            return sum + buresWassersteinSquared(mean, covariance, pair.0.mean, pair.0.covariance)
        }
        return 100 * total / Double(truths.count) / targetVariance
    }

    /// The rows' mean and (biased) covariance.
    static func moments(_ x: Matrix64) -> (mean: [Double], covariance: Matrix64) {
        let n = Double(x.rows), d = x.columns
        let mean = (0..<d).map { j in (0..<x.rows).reduce(0.0) { $0 + x[$1, j] } / n }
        var covariance = Matrix64(rows: d, columns: d)
        for i in 0..<x.rows {
            for a in 0..<d {
                for b in 0..<d { covariance[a, b] += (x[i, a] - mean[a]) * (x[i, b] - mean[b]) / n }
            }
        }
        return (mean, covariance)
    }

    /// The three scores of one setting: the model, the floor (the true sampler) and the
    /// independent coupling (y ~ p₁ whatever x).
    static func scores(
        model: LightSchrodingerBridge, truths: [Truth], inputs: Matrix64, samplesPerInput: Int,
        target: (Int, inout PhiloxGenerator) -> Matrix64, targetVariance: Double, using rng: inout PhiloxGenerator
    ) -> (model: Double, floor: Double, independent: Double) {
        let d = inputs.columns
        let drawn = (0..<inputs.rows).map { i in
            model.sample(
                given: Matrix64(
                    rows: samplesPerInput, columns: d,
                    scalars: (0..<samplesPerInput).flatMap { _ in (0..<d).map { inputs[i, $0] } }), using: &rng)
        }
        let floor = truths.map { $0.draw(samplesPerInput, &rng) }
        let independent = truths.map { _ in target(samplesPerInput, &rng) }
        return (
            unexplainedVariance(truths: truths, samples: drawn, targetVariance: targetVariance),
            unexplainedVariance(truths: truths, samples: floor, targetVariance: targetVariance),
            unexplainedVariance(truths: truths, samples: independent, targetVariance: targetVariance)
        )
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        let quick = budget == .quick, seed = seeds.first ?? 0
        let testInputs = quick ? 30 : 100, samplesPerInput = quick ? 500 : 1000
        var checks: [Check] = [], tables: [Table] = [], figures: [Figure] = [], notes: [String] = []
        var partial = false

        // 5.1: Gaussian -> Gaussian, K = 1.
        let gaussianDimensions = quick ? [2] : [2, 16], gaussianEpsilons = [0.1, 1.0]
        let gaussianSteps = quick ? 500 : 2000
        var gaussianRows: [[String]] = [], worstScore = 0.0, worstScale = 0.0, gaussianRuns = 0
        var lossCurves: [Series] = []
        for d in gaussianDimensions {
            var setup = PhiloxGenerator(seed: seed)
            let a = (0..<d).map { _ in 0.5 + 1.5 * setup.nextDouble() },
                b = (0..<d).map { _ in 0.5 + 1.5 * setup.nextDouble() }
            let m0 = (0..<d).map { _ in setup.nextNormal() }, m1 = (0..<d).map { _ in setup.nextNormal() }
            func diagonal(_ v: [Double]) -> Matrix64 {
                var m = Matrix64(rows: d, columns: d)
                for i in 0..<d { m[i, i] = v[i] }
                return m
            }
            func gaussian(_ mean: [Double], _ variance: [Double]) -> (Int, inout PhiloxGenerator) -> Matrix64 {
                { n, rng in
                    Matrix64(
                        rows: n, columns: d,
                        scalars: (0..<n).flatMap { _ in
                            (0..<d).map { mean[$0] + variance[$0].squareRoot() * rng.nextNormal() }
                        })
                }
            }
            let source = gaussian(m0, a), target = gaussian(m1, b)
            for epsilon in gaussianEpsilons {
                if shouldStop() {
                    partial = true
                    break
                }
                progress("5.1 D = \(d), eps = \(Plot.label(epsilon)): \(gaussianSteps) steps, K = 1")
                let plan = GaussianEntropicPlan(
                    sourceMean: m0, sourceCovariance: diagonal(a), targetMean: m1, targetCovariance: diagonal(b),
                    epsilon: epsilon)
                var rng = PhiloxGenerator(seed: seed &+ 1)
                let model = LightSchrodingerBridge(
                    components: 1, dimension: d, epsilon: epsilon, initialMeans: target(1, &rng), using: &rng)
                var losses: [Double] = []
                try model.fit(
                    source: source, target: target, steps: gaussianSteps, learningRate: 1e-2, using: &rng
                ) { _, loss in
                    losses.append(Double(loss))
                    return !shouldStop()
                }
                if shouldStop() {
                    partial = true
                    break
                }
                let inputs = source(testInputs, &rng)
                let truths = (0..<testInputs).map { i -> Truth in
                    let mean = plan.conditionalMean((0..<d).map { inputs[i, $0] })
                    let variance = (0..<d).map { plan.conditionalCovariance[$0, $0] }
                    return Truth(mean: mean, covariance: plan.conditionalCovariance, draw: gaussian(mean, variance))
                }
                let score = Self.scores(
                    model: model, truths: truths, inputs: inputs, samplesPerInput: samplesPerInput, target: target,
                    targetVariance: b.reduce(0, +), using: &rng)
                let learned = model.mixture.scales
                let scaleError = (0..<d).map { Swift.abs(learned[0, $0] - plan.bridgeScale[$0, $0]) }.max() ?? 0
                worstScore = Swift.max(worstScore, score.model)
                worstScale = Swift.max(worstScale, scaleError)
                gaussianRuns += 1
                gaussianRows.append(
                    ["\(d)", Plot.label(epsilon)]
                        + [score.model, score.floor, score.independent, scaleError].map { String(format: "%.4f", $0) })
                lossCurves.append(
                    Series(
                        name: "D = \(d), eps = \(Plot.label(epsilon))", x: losses.indices.map(Double.init),
                        y: Self.smoothed(losses)))
            }
        }
        let gaussianComplete = gaussianRuns == gaussianDimensions.count * gaussianEpsilons.count
        let gaussianNote = quick ? "the quick budget runs D = 2 only (full: D = 2 and 16)" : "a run was stopped"
        checks.append(
            Check(
                name: "Gaussian pair: worst cBW2-UVP (%) over D in {2, 16}, eps in {0.1, 1}",
                measured: gaussianComplete && !quick ? worstScore : nil, relation: .atMost, threshold: 0.5,
                source: "spec 5.1", note: gaussianComplete && !quick ? nil : gaussianNote))
        checks.append(
            Check(
                name: "Gaussian pair: worst |learned diag S - Sigma/eps|",
                measured: gaussianComplete && !quick ? worstScale : nil, relation: .atMost, threshold: 0.15,
                source: "spec 5.1", note: gaussianComplete && !quick ? nil : gaussianNote))
        tables.append(
            Table(
                title:
                    "5.1: N(m0, A) -> N(m1, B), A and B diagonal U[0.5, 2] (seed \(seed)); K = 1, Adam 1e-2, batch 128, \(gaussianSteps) steps; cBW2-UVP (%) over \(testInputs) inputs x \(samplesPerInput) samples",
                header: ["D", "eps", "LightSB", "floor (true sampler)", "independent coupling", "max |S - Sigma/eps|"],
                rows: gaussianRows))

        // 5.2: the rebuilt mixture benchmark, K = 50.
        let settings: [(d: Int, epsilon: Double)] =
            quick ? [(2, 0.1), (2, 1)] : [(2, 0.1), (2, 1), (2, 10), (16, 1), (16, 0.1)]
        let mixtureSteps = quick ? 500 : 3000
        var benchmarkRows: [[String]] = []
        var worst: [Int: Double] = [:], smallestRatio = Double.infinity, benchmarkRuns = 0
        var sampleFigure: Figure?
        for setting in settings where !partial {
            if shouldStop() {
                partial = true
                break
            }
            let learningRate = setting.epsilon <= 0.1 ? 1e-3 : setting.epsilon <= 1 ? 3e-3 : 6e-2
            progress(
                "5.2 D = \(setting.d), eps = \(Plot.label(setting.epsilon)): \(mixtureSteps) steps, K = 50, lr \(Plot.label(learningRate))"
            )
            let benchmark = MixtureBenchmark(dimension: setting.d, epsilon: setting.epsilon, seed: seed)
            var rng = PhiloxGenerator(seed: seed &+ 2)
            let model = LightSchrodingerBridge(
                components: 50, dimension: setting.d, epsilon: setting.epsilon,
                initialMeans: benchmark.target(50, &rng), initialScale: 1, using: &rng)
            try model.fit(
                source: benchmark.source, target: benchmark.target, steps: mixtureSteps, learningRate: learningRate,
                using: &rng
            ) { _, _ in !shouldStop() }
            if shouldStop() {
                partial = true
                break
            }
            let inputs = benchmark.source(testInputs, &rng)
            let truths = (0..<testInputs).map { i in benchmark.truth(at: (0..<setting.d).map { inputs[i, $0] }) }
            let score = Self.scores(
                model: model, truths: truths, inputs: inputs, samplesPerInput: samplesPerInput,
                target: benchmark.target, targetVariance: benchmark.targetVariance(using: &rng), using: &rng)
            worst[setting.d] = Swift.max(worst[setting.d] ?? 0, score.model)
            smallestRatio = Swift.min(smallestRatio, score.independent / score.model)
            benchmarkRuns += 1
            benchmarkRows.append(
                ["\(setting.d)", Plot.label(setting.epsilon)]
                    + [score.model, score.floor, score.independent].map { String(format: "%.3f", $0) }
                    + [String(format: "%.0f", score.independent / score.model)])
            if setting.d == 2 && setting.epsilon == 0.1 {
                let x = benchmark.source(600, &rng)
                let y = model.sample(given: x, using: &rng), truth = benchmark.target(600, &rng)
                sampleFigure = .chart(
                    Plot(
                        title: "5.2, D = 2, eps = 0.1: p0, p1 and LightSB's plan samples y ~ pi(.|x)", xLabel: "x1",
                        yLabel: "x2",
                        series: [
                            Series(name: "p0 inputs", points: x), Series(name: "p1 (truth)", points: truth),
                            Series(name: "LightSB samples", points: y),
                        ], logY: false))
            }
        }
        let large = settings.map(\.d).max() ?? 16
        let benchmarkComplete = !partial && benchmarkRuns == settings.count
        checks.append(
            Check(
                name: "mixture benchmark: worst cBW2-UVP (%) at D = 2",
                measured: benchmarkComplete ? worst[2] : nil, relation: .atMost, threshold: 0.3, source: "spec 5.2",
                note: benchmarkComplete ? nil : "a run was stopped"))
        checks.append(
            Check(
                name: "mixture benchmark: worst cBW2-UVP (%) at D = 16",
                measured: benchmarkComplete && large == 16 ? worst[16] : nil, relation: .atMost, threshold: 3.0,
                source: "spec 5.2",
                note: benchmarkComplete && large == 16
                    ? nil : quick ? "the quick budget runs D = 2 only (full: D = 2 and 16)" : "a run was stopped"))
        checks.append(
            Check(
                name: "mixture benchmark: smallest independent-baseline / LightSB ratio",
                measured: benchmarkComplete ? smallestRatio : nil, relation: .atLeast, threshold: 20,
                source: "spec 5.2", note: benchmarkComplete ? nil : "a run was stopped"))
        tables.append(
            Table(
                title:
                    "5.2: p0 a 3-component mixture, f a 5-component mixture, the true plan pi*(y|x) ~ N(y | x, eps I) f(y) (seed \(seed)); K = 50, S_init 1, batch 128, \(mixtureSteps) steps; cBW2-UVP (%) over \(testInputs) inputs x \(samplesPerInput) samples",
                header: [
                    "D", "eps", "LightSB", "floor (true sampler)", "independent coupling", "independent / LightSB",
                ],
                rows: benchmarkRows))
        if !lossCurves.isEmpty {
            figures.append(
                .chart(
                    Plot(
                        title: "5.1: the objective E log c - E log v during training (moving average of 50 steps)",
                        xLabel: "Adam step", yLabel: "loss", series: lossCurves, logY: false)))
        }
        if let sampleFigure { figures.append(sampleFigure) }
        notes.append(
            "5.1 starts r from one target sample and S at 0.1 (the class default); 5.2 follows the EOT-benchmark notebook (r from 50 target samples, S_init = 1, lr 1e-3 / 3e-3 / 6e-2 for eps = 0.1 / 1 / 10). The floor is the same metric with the true conditional sampler at the same sample sizes; tr Cov(p1) of 5.2 from 20000 draws."
        )
        notes.append(
            "The benchmark's data files (Google Drive) are not available offline: 5.2 rebuilds its construction with Inertia's own draws, so its numbers are not the paper's benchmark instance."
        )
        return ReproductionResult(
            slug: slug, budget: budget, seeds: [seed], checks: checks, tables: tables, figures: figures, notes: notes,
            isPartial: partial)
    }

    /// A moving average over `window` steps.
    static func smoothed(_ values: [Double], window: Int = 50) -> [Double] {
        var out: [Double] = [], sum = 0.0
        for (i, v) in values.enumerated() {
            sum += v
            if i >= window { sum -= values[i - window] }
            out.append(sum / Double(Swift.min(i + 1, window)))
        }
        return out
    }

    /// Spec 5.2's construction: p₀ three Gaussians (means 2u_i, covariance 0.5 I), f five Gaussians
    /// (means N(0, 4I), covariances Q diag(U[0.1, 1]) Qᵀ), the true plan `π*(y|x) ∝ N(y | x, εI) f(y)`
    /// and p₁ the law of y.
    struct MixtureBenchmark {
        let dimension: Int, epsilon: Double
        let sourceMeans: [[Double]]
        let means: [[Double]], covariances: [Matrix64]
        /// Per component of f: `Σ̃ = (I/ε + Σ⁻¹)⁻¹`, `Σ⁻¹μ`, the Cholesky-like root of Σ̃ and of `Σ + εI`.
        let posteriorCovariances: [Matrix64], precisionMeans: [[Double]], posteriorRoots: [Matrix64]
        let marginalInverses: [Matrix64], marginalLogDeterminants: [Double]

        init(dimension d: Int, epsilon: Double, seed: UInt64) {
            dimension = d
            self.epsilon = epsilon
            var rng = PhiloxGenerator(seed: seed &+ 1000 &+ UInt64(d))
            sourceMeans = (0..<3).map { _ in
                let u = (0..<d).map { _ in rng.nextNormal() }
                let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return u.map { 2 * $0 / norm }
            }
            means = (0..<5).map { _ in (0..<d).map { _ in 2 * rng.nextNormal() } }
            covariances = (0..<5).map { _ in
                let q = Matrix64.randomOrthonormalColumns(rows: d, columns: d, using: &rng)
                var diagonal = Matrix64(rows: d, columns: d)
                for i in 0..<d { diagonal[i, i] = 0.1 + 0.9 * rng.nextDouble() }
                return (q * diagonal * q.transposed).symmetrized
            }
            var posteriorCovariances: [Matrix64] = [], precisionMeans: [[Double]] = [], roots: [Matrix64] = []
            var marginalInverses: [Matrix64] = [], logDeterminants: [Double] = []
            for (mean, covariance) in zip(means, covariances) {
                let precision = SymmetricEigen(covariance).power(-1)
                let posterior = SymmetricEigen(precision.addingToDiagonal(1 / epsilon)).power(-1)
                posteriorCovariances.append(posterior)
                precisionMeans.append((precision * Matrix64(rows: d, columns: 1, scalars: mean)).scalars)
                roots.append(SymmetricEigen(posterior).power(0.5))
                let marginal = SymmetricEigen(covariance.addingToDiagonal(epsilon))
                marginalInverses.append(marginal.power(-1))
                logDeterminants.append(marginal.values.reduce(0) { $0 + Foundation.log($1) })
            }
            self.posteriorCovariances = posteriorCovariances
            self.precisionMeans = precisionMeans
            posteriorRoots = roots
            self.marginalInverses = marginalInverses
            marginalLogDeterminants = logDeterminants
        }

        /// `n` draws of p₀.
        var source: (Int, inout PhiloxGenerator) -> Matrix64 {
            { [sourceMeans, dimension] n, rng in
                Matrix64(
                    rows: n, columns: dimension,
                    scalars: (0..<n).flatMap { _ -> [Double] in
                        let mean = sourceMeans[rng.nextInt(below: sourceMeans.count)]
                        return mean.map { $0 + 0.5.squareRoot() * rng.nextNormal() }
                    })
            }
        }

        /// `n` draws of p₁: x ~ p₀, then y ~ π*(·|x).
        var target: (Int, inout PhiloxGenerator) -> Matrix64 {
            { n, rng in
                let x = source(n, &rng)
                var y: [Double] = []
                for i in 0..<n { y += truth(at: (0..<dimension).map { x[i, $0] }).draw(1, &rng).scalars }
                return Matrix64(rows: n, columns: dimension, scalars: y)
            }
        }

        /// tr Cov(p₁) from 20000 draws.
        func targetVariance(using rng: inout PhiloxGenerator) -> Double {
            let (_, covariance) = LightSchrodingerBridgeReproduction.moments(target(20_000, &rng))
            return (0..<dimension).reduce(0.0) { $0 + covariance[$1, $1] }
        }

        /// The true conditional plan at x: a mixture with weights `∝ N(x | μ_k, Σ_k + εI)/5`, means
        /// `Σ̃_k(Σ_k⁻¹μ_k + x/ε)` and covariances `Σ̃_k`; its mean, covariance and sampler.
        func truth(at x: [Double]) -> Truth {
            let d = dimension
            let logits = (0..<means.count).map { k -> Double in
                let shift = Matrix64(rows: d, columns: 1, scalars: zip(x, means[k]).map { $0 - $1 })
                return -0.5 * (shift.transposed * marginalInverses[k] * shift).scalars[0]
                    - 0.5 * marginalLogDeterminants[k]
            }
            let top = logits.max()!
            let unnormalised = logits.map { Foundation.exp($0 - top) }
            let weights = unnormalised.map { $0 / unnormalised.reduce(0, +) }
            let componentMeans = (0..<means.count).map { k in
                (posteriorCovariances[k]
                    * Matrix64(rows: d, columns: 1, scalars: zip(precisionMeans[k], x).map { $0 + $1 / epsilon }))
                    .scalars
            }
            let mean = (0..<d).map { j in (0..<means.count).reduce(0.0) { $0 + weights[$1] * componentMeans[$1][j] } }
            var covariance = Matrix64(rows: d, columns: d)
            for k in 0..<means.count {
                for a in 0..<d {
                    for b in 0..<d {
                        covariance[a, b] +=
                            weights[k]
                            * (posteriorCovariances[k][a, b] + (componentMeans[k][a] - mean[a])
                                * (componentMeans[k][b] - mean[b]))
                    }
                }
            }
            let roots = posteriorRoots
            return Truth(
                mean: mean, covariance: covariance,
                draw: { n, rng in
                    var out: [Double] = []
                    for _ in 0..<n {
                        let k = rng.nextIndex(weightedBy: weights)
                        let z = Matrix64(rows: d, columns: 1, scalars: (0..<d).map { _ in rng.nextNormal() })
                        out += zip(componentMeans[k], (roots[k] * z).scalars).map { $0 + $1 }
                    }
                    return Matrix64(rows: n, columns: d, scalars: out)
                })
        }
    }
}
