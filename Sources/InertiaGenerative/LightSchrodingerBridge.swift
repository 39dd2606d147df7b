import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// The Light Schrödinger Bridge (A. Korotin, N. Gushchin & E. Burnaev, "Light Schrödinger Bridge",
/// ICLR 2024; `light-schrodinger-bridge.md`, as the official code `ngushchin/LightSB` computes it):
/// the entropic OT plan / Schrödinger bridge between p₀ and p₁ with Wiener volatility ε, its
/// adjusted Schrödinger potential a Gaussian mixture `v(y) = Σ_k α_k N(y | r_k, ε S_k)` with diagonal
/// `S_k`. The normaliser `c(x) = Σ_k α_k exp((xᵀS_k x + 2r_kᵀx)/(2ε))`, the conditional plan
/// `π(y|x) = Σ_k w_k(x) N(y | r_k + S_k x, ε S_k)` and the bridge drift are closed forms, and the
/// parameters are fitted by Adam on the simulation-free `E_{p₀} log c − E_{p₁} log v`
/// (KL(π* ‖ π) up to a constant) from independent minibatches of the two distributions.
public final class LightSchrodingerBridge {
    public let epsilon: Double
    public let components: Int
    public let dimension: Int
    /// The code's `log_alpha_raw` `[K]`: `log α_k = raw_k/ε` (keeps the code's learning rates).
    public let rawLogWeights: Parameter
    /// `r` `[K, D]`.
    public let means: Parameter
    /// `log diag S_k` `[K, D]`.
    public let logScales: Parameter

    /// A model of `components` K in `dimension` D at volatility ε: α_k = 1/K, `S_k = initialScale·I`,
    /// `r` the rows of `initialMeans` (the notebooks start from K target samples) or standard normal.
    public init(
        components: Int, dimension: Int, epsilon: Double, initialMeans: Matrix64? = nil, initialScale: Double = 0.1,
        using rng: inout PhiloxGenerator
    ) {
        precondition(components >= 1 && dimension >= 1, "LightSchrodingerBridge: K and D must be positive")
        precondition(epsilon > 0 && epsilon.isFinite, "LightSchrodingerBridge: epsilon must be positive")
        precondition(initialScale > 0, "LightSchrodingerBridge: the initial scale must be positive")
        if let initialMeans {
            precondition(
                initialMeans.rows == components && initialMeans.columns == dimension,
                "LightSchrodingerBridge: \(initialMeans.rows)x\(initialMeans.columns) initial means for K = \(components), D = \(dimension)"
            )
        }
        self.epsilon = epsilon
        self.components = components
        self.dimension = dimension
        rawLogWeights = Parameter(
            Tensor(repeating: Float(epsilon * Foundation.log(1 / Double(components))), shape: [components]))
        means = Parameter(
            Tensor(
                shape: [components, dimension],
                scalars: (initialMeans?.scalars ?? (0..<(components * dimension)).map { _ in rng.nextNormal() })
                    .map(Float.init)))
        logScales = Parameter(
            Tensor(repeating: Float(Foundation.log(initialScale)), shape: [components, dimension]))
    }

    /// A model with the given mixture: true log weights `log α_k`, means `r` and diagonals of `S`.
    public convenience init(epsilon: Double, logWeights: [Double], means r: Matrix64, scales: Matrix64) {
        precondition(
            logWeights.count == r.rows && scales.rows == r.rows && scales.columns == r.columns,
            "LightSchrodingerBridge: weights, means and scales disagree in shape")
        precondition(scales.scalars.allSatisfy { $0 > 0 }, "LightSchrodingerBridge: scales must be positive")
        var unused = PhiloxGenerator(seed: 0)
        self.init(components: r.rows, dimension: r.columns, epsilon: epsilon, initialMeans: r, using: &unused)
        rawLogWeights.assign(Tensor(logWeights.map { Float(epsilon * $0) }))
        logScales.assign(Tensor(shape: [r.rows, r.columns], scalars: scales.scalars.map { Float(Foundation.log($0)) }))
    }

    public var parameters: [NamedParameter] {
        [("log_alpha_raw", rawLogWeights), ("r", means), ("S_log_diagonal", logScales)]
    }

    // MARK: The objective (recorded on the tape)

    /// `log v(y)` at the rows of `y` `[B, D]`: `logsumexp_k [log α_k + log N(y | r_k, ε S_k)]`.
    public func logPotential(_ y: Tensor) -> Tensor {
        let b = y.shape[0], k = components, d = dimension
        let scales = logScales.value.exp() * Float(epsilon)
        let squared = (y.reshaped(to: [b, 1, d]) - means.value.reshaped(to: [1, k, d])).squared()
        let quadratic = (squared / scales.reshaped(to: [1, k, d])).sum(alongAxis: 2)
        let logDeterminant =
            logScales.value.sum(alongAxis: 1) + Float(Double(d) * Foundation.log(2 * Double.pi * epsilon))
        let logits = rawLogWeights.value / Float(epsilon) - 0.5 * (quadratic + logDeterminant.reshaped(to: [1, k]))
        return logits.logSumExp(alongAxes: [1])
    }

    /// `log c(x)` at the rows of `x` `[B, D]`: `logsumexp_k [log α_k + (xᵀS_k x + 2r_kᵀx)/(2ε)]`.
    public func logNormaliser(_ x: Tensor) -> Tensor {
        let exponent =
            (x.squared().matmul(logScales.value.exp().transposed()) + 2 * x.matmul(means.value.transposed()))
            / Float(2 * epsilon)
        return (rawLogWeights.value.reshaped(to: [1, components]) / Float(epsilon) + exponent).logSumExp(
            alongAxes: [1])
    }

    /// `mean log c(x₀) − mean log v(x₁)` on independent batches of p₀ and p₁.
    public func loss(source x0: Tensor, target x1: Tensor) -> Tensor {
        logNormaliser(x0).mean() - logPotential(x1).mean()
    }

    /// `steps` Adam steps on batches of `batchSize` drawn by `source` and `target` (each given a
    /// count and the generator); `onStep(step, loss)` sees every step and stops by returning false.
    public func fit(
        source: (Int, inout PhiloxGenerator) -> Matrix64, target: (Int, inout PhiloxGenerator) -> Matrix64,
        steps: Int, batchSize: Int = 128, learningRate: Double = 1e-3, using rng: inout PhiloxGenerator,
        onStep: (Int, Float) -> Bool = { _, _ in true }
    ) throws {
        let adam = try Adam(learningRate: learningRate)
        let parameters = self.parameters
        for step in 0..<steps {
            let x0 = source(batchSize, &rng), x1 = target(batchSize, &rng)
            precondition(
                x0.columns == dimension && x1.columns == dimension,
                "LightSchrodingerBridge.fit: batches of width \(x0.columns) and \(x1.columns) for D = \(dimension)")
            for (_, parameter) in parameters { parameter.zeroGrad() }
            let value = loss(source: x0.tensor, target: x1.tensor)
            value.backward()
            adam.step(parameters)
            if !onStep(step, value.item) { break }
        }
    }

    // MARK: The plan and the bridge (Float64, no tape)

    /// A mixture `(log α, r, diag S)` in Float64.
    public typealias Mixture = (logWeights: [Double], means: Matrix64, scales: Matrix64)

    /// The current mixture (read once per call of the samplers below, not once per row).
    public var mixture: Mixture {
        (
            rawLogWeights.value.scalars.map { Double($0) / epsilon }, Matrix64(means.value),
            Matrix64(logScales.value.exp())
        )
    }

    /// The conditional plan's weights `w_k(x)`, means `r_k + S_k x` and diagonal covariances `ε S_k`.
    public func conditionalPlan(
        _ x: [Double]
    ) -> (weights: [Double], means: [[Double]], covariances: [[Double]]) { conditionalPlan(x, of: mixture) }

    func conditionalPlan(
        _ x: [Double], of mixture: Mixture
    ) -> (weights: [Double], means: [[Double]], covariances: [[Double]]) {
        let (logWeights, r, s) = mixture
        var logits = logWeights
        for k in 0..<components {
            for j in 0..<dimension { logits[k] += (s[k, j] * x[j] * x[j] + 2 * r[k, j] * x[j]) / (2 * epsilon) }
        }
        return (
            Self.softmax(logits), (0..<components).map { k in (0..<dimension).map { r[k, $0] + s[k, $0] * x[$0] } },
            (0..<components).map { k in (0..<dimension).map { epsilon * s[k, $0] } }
        )
    }

    /// One exact draw of `y ~ π(·|x)` per row of `x`.
    public func sample(given x: Matrix64, using rng: inout PhiloxGenerator) -> Matrix64 {
        var y = Matrix64(rows: x.rows, columns: dimension)
        let current = mixture
        for i in 0..<x.rows {
            let plan = conditionalPlan((0..<dimension).map { x[i, $0] }, of: current)
            let k = rng.nextIndex(weightedBy: plan.weights)
            for j in 0..<dimension {
                y[i, j] = plan.means[k][j] + plan.covariances[k][j].squareRoot() * rng.nextNormal()
            }
        }
        return y
    }

    /// The bridge drift `g(x, t) = (E[X₁ | X_t = x] − x)/(1 − t)` in closed form, with the
    /// endpoint posterior's weights ω_k and means `A_k⁻¹ c_k` (spec 2.5, diagonal S).
    public func drift(_ x: [Double], t: Double) -> (drift: [Double], weights: [Double], means: [[Double]]) {
        drift(x, t: t, of: mixture)
    }

    func drift(
        _ x: [Double], t: Double, of mixture: Mixture
    ) -> (drift: [Double], weights: [Double], means: [[Double]]) {
        precondition(t >= 0 && t < 1, "LightSchrodingerBridge.drift: t must be in [0, 1), got \(t)")
        let (logWeights, r, s) = mixture
        var logits = logWeights, posteriorMeans: [[Double]] = []
        for k in 0..<components {
            var mean = [Double](repeating: 0, count: dimension)
            for j in 0..<dimension {
                let variance = epsilon * s[k, j]
                let a = t / (epsilon * (1 - t)) + 1 / variance, c = x[j] / (epsilon * (1 - t)) + r[k, j] / variance
                logits[k] +=
                    -0.5 * Foundation.log(s[k, j]) - 0.5 * Foundation.log(a) - 0.5 * r[k, j] * r[k, j] / variance
                    + 0.5 * c * c / a
                mean[j] = c / a
            }
            posteriorMeans.append(mean)
        }
        let weights = Self.softmax(logits)
        let drift = (0..<dimension).map { j in
            ((0..<components).reduce(0.0) { $0 + weights[$1] * posteriorMeans[$1][j] } - x[j]) / (1 - t)
        }
        return (drift, weights, posteriorMeans)
    }

    /// Euler–Maruyama on `dX = g(X, t) dt + sqrt(ε) dW` from the rows of `x` at t = 0 with `steps`
    /// steps of `1/steps` (the last drift evaluated at `1 − 1/steps`).
    public func sampleBridge(from x: Matrix64, steps: Int, using rng: inout PhiloxGenerator) -> Matrix64 {
        precondition(steps >= 1, "LightSchrodingerBridge.sampleBridge: steps must be >= 1")
        var x = x
        let h = 1 / Double(steps), noise = (h * epsilon).squareRoot(), current = mixture
        for step in 0..<steps {
            let t = Double(step) * h
            for i in 0..<x.rows {
                let g = drift((0..<dimension).map { x[i, $0] }, t: t, of: current).drift
                for j in 0..<dimension { x[i, j] += g[j] * h + noise * rng.nextNormal() }
            }
        }
        return x
    }

    static func softmax(_ logits: [Double]) -> [Double] {
        let top = logits.max() ?? 0
        let e = logits.map { Foundation.exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }
}
