import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// Exact Gaussian-process regression, the surrogate of expensive objectives in SVH-PSL
/// (`shared/papers/svh-psl.md` 2.2; gpytorch's `ExactGP` as the reference code configures it): a
/// constant mean, a scaled Matérn-5/2 kernel with one length scale per input (ARD)
///
///     k(x, x') = s² (1 + √5 r + 5r²/3) exp(−√5 r),   r² = Σ_d (x_d − x'_d)² / ℓ_d²
///
/// and Gaussian observation noise floored at `minimumNoise`. Hyper-parameters maximise the exact
/// marginal likelihood (per data point) with Adam on `(m, log s², log ℓ, log(noise − floor))`.
/// Predictions are the latent function's posterior mean and variance, with their gradients in
/// `x` so acquisition values can be differentiated. Float64.
public struct GaussianProcess: Sendable {
    /// The prior: constant mean, output scale, one length scale per input, noise.
    public struct Hyperparameters: Sendable, Equatable {
        public var mean: Double
        public var outputScale: Double
        public var lengthScales: [Double]
        public var noise: Double

        public init(mean: Double, outputScale: Double, lengthScales: [Double], noise: Double) {
            self.mean = mean
            self.outputScale = outputScale
            self.lengthScales = lengthScales
            self.noise = noise
        }

        /// `(m, log s², log ℓ_1 … log ℓ_d, log(noise − floor))`: the coordinates Adam moves.
        var raw: [Double] {
            [mean, Foundation.log(outputScale)] + lengthScales.map { Foundation.log($0) } + [
                Foundation.log(noise - GaussianProcess.minimumNoise)
            ]
        }

        init(raw: [Double]) {
            let d = raw.count - 3
            self.init(
                mean: raw[0], outputScale: Foundation.exp(raw[1]),
                lengthScales: raw[2..<(2 + d)].map { Foundation.exp($0) },
                noise: GaussianProcess.minimumNoise + Foundation.exp(raw[2 + d]))
        }
    }

    /// The noise variance floor (the reference code's constraint).
    public static let minimumNoise = 1e-5

    public let inputs: Matrix64
    public let targets: [Double]
    public let hyperparameters: Hyperparameters
    let factor: Cholesky
    /// `α = K⁻¹(y − m)`.
    let weights: [Double]

    /// The posterior given the data and fixed hyper-parameters.
    public init(inputs: Matrix64, targets: [Double], hyperparameters: Hyperparameters) throws {
        precondition(
            inputs.rows == targets.count && inputs.rows > 0,
            "GaussianProcess: \(inputs.rows) inputs for \(targets.count) targets")
        precondition(
            hyperparameters.lengthScales.count == inputs.columns,
            "GaussianProcess: \(hyperparameters.lengthScales.count) length scales for \(inputs.columns) input dimensions"
        )
        self.inputs = inputs
        self.targets = targets
        self.hyperparameters = hyperparameters
        factor = try Cholesky(Self.covariance(inputs, hyperparameters).addingToDiagonal(hyperparameters.noise))
        weights = factor.solve(targets.map { $0 - hyperparameters.mean })
    }

    /// Fits the hyper-parameters by `iterations` Adam steps on the negative log marginal likelihood
    /// per point. Starts at the data's mean and variance, length scales `ln 2` (gpytorch's default)
    /// and noise `1e-2` of the variance.
    public static func fit(
        inputs: Matrix64, targets: [Double], iterations: Int = 100, learningRate: Double = 0.1
    ) throws -> GaussianProcess {
        let n = Double(targets.count)
        let mean = targets.reduce(0, +) / n
        let variance = Swift.max(targets.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n, 1e-6)
        var hyper = Hyperparameters(
            mean: mean, outputScale: variance, lengthScales: Array(repeating: Foundation.log(2), count: inputs.columns),
            noise: minimumNoise + 1e-2 * variance)
        let raw = Parameter(Tensor(hyper.raw.map(Float.init)))
        let adam = try Adam(learningRate: learningRate)
        for _ in 0..<iterations {
            let gradient = try logMarginalLikelihood(inputs: inputs, targets: targets, hyperparameters: hyper).gradient
            raw.value.grad = Tensor(gradient.map { Float(-$0) })
            adam.step([("hyperparameters", raw)])
            hyper = Hyperparameters(raw: raw.value.scalars.map(Double.init))
        }
        return try GaussianProcess(inputs: inputs, targets: targets, hyperparameters: hyper)
    }

    /// The log marginal likelihood per data point and its gradient in the raw coordinates
    /// (`½ tr((ααᵀ − K⁻¹) ∂K/∂θ)` per coordinate, `Σα` for the mean, all divided by n).
    public static func logMarginalLikelihood(
        inputs: Matrix64, targets: [Double], hyperparameters h: Hyperparameters
    ) throws
        -> (value: Double, gradient: [Double])
    {
        let n = inputs.rows, d = inputs.columns
        let kernel = covariance(inputs, h)
        let cholesky = try Cholesky(kernel.addingToDiagonal(h.noise))
        let residual = targets.map { $0 - h.mean }
        let alpha = cholesky.solve(residual)
        let fit = zip(residual, alpha).reduce(0) { $0 + $1.0 * $1.1 }
        let value = -0.5 * (fit + cholesky.logDeterminant + Double(n) * Foundation.log(2 * Double.pi)) / Double(n)
        var w = cholesky.inverse
        for i in 0..<n {
            for j in 0..<n { w.scalars[i * n + j] = alpha[i] * alpha[j] - w.scalars[i * n + j] }
        }
        var gradient = [Double](repeating: 0, count: d + 3)
        gradient[0] = alpha.reduce(0, +)
        let s2 = h.outputScale, root5 = 5.0.squareRoot()
        for i in 0..<n {
            for j in 0..<n {
                let wij = w.scalars[i * n + j]
                gradient[1] += 0.5 * wij * kernel.scalars[i * n + j]
                var r2 = 0.0
                for k in 0..<d {
                    let t = (inputs[i, k] - inputs[j, k]) / h.lengthScales[k]
                    r2 += t * t
                }
                let r = r2.squareRoot()
                let radial = s2 * (5.0 / 3.0) * (1 + root5 * r) * Foundation.exp(-root5 * r)
                for k in 0..<d {
                    let t = (inputs[i, k] - inputs[j, k]) / h.lengthScales[k]
                    gradient[2 + k] += 0.5 * wij * radial * t * t
                }
            }
            gradient[2 + d] += 0.5 * w.scalars[i * n + i] * (h.noise - minimumNoise)
        }
        return (value, gradient.map { $0 / Double(n) })
    }

    /// The noise-free kernel matrix of the rows of `x`.
    static func covariance(_ x: Matrix64, _ h: Hyperparameters) -> Matrix64 {
        let n = x.rows
        var k = Matrix64(rows: n, columns: n)
        for i in 0..<n {
            for j in 0...i {
                let value = kernel(x, i, x, j, h)
                k.scalars[i * n + j] = value
                k.scalars[j * n + i] = value
            }
        }
        return k
    }

    static func kernel(_ a: Matrix64, _ i: Int, _ b: Matrix64, _ j: Int, _ h: Hyperparameters) -> Double {
        var r2 = 0.0
        for k in 0..<a.columns {
            let t = (a[i, k] - b[j, k]) / h.lengthScales[k]
            r2 += t * t
        }
        let r = r2.squareRoot(), root5 = 5.0.squareRoot()
        return h.outputScale * (1 + root5 * r + 5 * r2 / 3) * Foundation.exp(-root5 * r)
    }

    /// The posterior at one input: mean and variance of the latent function, and (when asked)
    /// their gradients in the input.
    public struct Prediction: Sendable {
        public var mean: Double
        public var variance: Double
        public var meanGradient: [Double]
        public var varianceGradient: [Double]
    }

    /// The posterior at every row of `x`. Variances are floored at 1e-12.
    public func predict(_ x: Matrix64, gradients: Bool = false) -> [Prediction] {
        precondition(
            x.columns == inputs.columns,
            "GaussianProcess.predict: inputs of dimension \(x.columns), trained on \(inputs.columns)")
        let n = inputs.rows, d = inputs.columns, h = hyperparameters, root5 = 5.0.squareRoot()
        return (0..<x.rows).map { row in
            let cross = (0..<n).map { Self.kernel(x, row, inputs, $0, h) }
            let mean = h.mean + zip(cross, weights).reduce(0) { $0 + $1.0 * $1.1 }
            let solved = factor.solve(cross)
            let variance = Swift.max(h.outputScale - zip(cross, solved).reduce(0) { $0 + $1.0 * $1.1 }, 1e-12)
            var meanGradient: [Double] = [], varianceGradient: [Double] = []
            if gradients {
                meanGradient = Array(repeating: 0, count: d)
                varianceGradient = Array(repeating: 0, count: d)
                for i in 0..<n {
                    var r2 = 0.0
                    for k in 0..<d {
                        let t = (x[row, k] - inputs[i, k]) / h.lengthScales[k]
                        r2 += t * t
                    }
                    let r = r2.squareRoot()
                    let radial = -h.outputScale * (5.0 / 3.0) * (1 + root5 * r) * Foundation.exp(-root5 * r)
                    for k in 0..<d {
                        let dk = radial * (x[row, k] - inputs[i, k]) / (h.lengthScales[k] * h.lengthScales[k])
                        meanGradient[k] += weights[i] * dk
                        varianceGradient[k] -= 2 * solved[i] * dk
                    }
                }
            }
            return Prediction(
                mean: mean, variance: variance, meanGradient: meanGradient, varianceGradient: varianceGradient)
        }
    }
}
