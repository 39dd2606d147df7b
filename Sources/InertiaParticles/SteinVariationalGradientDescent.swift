import Foundation
import InertiaTensor

/// Stein variational gradient descent (Q. Liu & D. Wang, "Stein Variational Gradient Descent: A
/// General Purpose Bayesian Inference Algorithm", NeurIPS 2016; `shared/papers/svh-psl.md` 2.1):
/// n particles move together along
///
///     φ(x_i) = (1/n) Σ_j [ k(x_j, x_i) ∇log p(x_j) + ∇_{x_j} k(x_j, x_i) ],   k(x, x') = exp(−‖x − x'‖²/h)
///
/// a kernel-smoothed score (toward high density) plus a repulsion (keeping them apart), so they
/// come to sample `p`. All particles move simultaneously. Float64.
public struct SteinVariationalGradientDescent: Sendable {
    /// The RBF kernel's bandwidth `h` in `k(x, y) = exp(-‖x − y‖² / h)`.
    public enum Bandwidth: Sendable, Equatable {
        /// `h = med²/log(n + offset)`, `med` the median of all pairwise distances (diagonal zeros
        /// included, numpy's even-count convention); offset 0 as the spec, 1 as Liu's code; `h = 1`
        /// when all particles coincide.
        case median(logOffset: Double)
        case fixed(Double)
    }

    /// How the particles move along the Stein direction `φ`.
    public enum StepRule: Sendable, Equatable {
        case constant(Double)
        /// Liu's code: AdaGrad with momentum on φ, `G ← αG + (1 − α)φ²`, step `ε·φ/(1e-6 + √G)`
        /// (`G = φ²` at the first step).
        case adagrad(stepSize: Double, alpha: Double)
    }

    public var bandwidth: Bandwidth
    public var step: StepRule

    public init(bandwidth: Bandwidth = .median(logOffset: 0), step: StepRule = .constant(0.05)) {
        self.bandwidth = bandwidth
        self.step = step
    }

    /// The bandwidth for these particles.
    public func bandwidth(for x: Matrix64) -> Double {
        switch bandwidth {
        case .fixed(let h): return h
        case .median(let offset):
            let n = x.rows
            var distances: [Double] = []
            distances.reserveCapacity(n * n)
            for i in 0..<n {
                for j in 0..<n { distances.append(Self.squaredDistance(x, i, j).squareRoot()) }
            }
            let median = numpyMedian(distances)
            guard median > 0 else { return 1 }
            return median * median / Foundation.log(Double(n) + offset)
        }
    }

    static func squaredDistance(_ x: Matrix64, _ i: Int, _ j: Int) -> Double {
        var s = 0.0
        for k in 0..<x.columns {
            let d = x[i, k] - x[j, k]
            s += d * d
        }
        return s
    }

    /// `φ` at every particle (rows of `x`) given the scores `∇log p` (rows of `scores`), with the
    /// kernel matrix and bandwidth used.
    public func direction(_ x: Matrix64, scores: Matrix64) -> (phi: Matrix64, kernel: Matrix64, bandwidth: Double) {
        precondition(
            scores.rows == x.rows && scores.columns == x.columns,
            "SVGD: scores \(scores.rows)x\(scores.columns) for particles \(x.rows)x\(x.columns)")
        let n = x.rows, d = x.columns, h = bandwidth(for: x)
        var kernel = Matrix64(rows: n, columns: n)
        for i in 0..<n {
            for j in 0...i {
                let value = Foundation.exp(-Self.squaredDistance(x, i, j) / h)
                kernel[i, j] = value
                kernel[j, i] = value
            }
        }
        var phi = Matrix64(rows: n, columns: d)
        for i in 0..<n {
            var rowSum = 0.0
            for j in 0..<n { rowSum += kernel[i, j] }
            for k in 0..<d {
                var attraction = 0.0, weighted = 0.0
                for j in 0..<n {
                    attraction += kernel[i, j] * scores[j, k]
                    weighted += kernel[i, j] * x[j, k]
                }
                phi[i, k] = (attraction + 2 / h * (x[i, k] * rowSum - weighted)) / Double(n)
            }
        }
        return (phi, kernel, h)
    }

    /// The final particles and the iterations taken.
    public struct Result: Sendable {
        public var particles: Matrix64
        /// The bandwidth and the mean ‖φ‖ of every step (diagnostics for convergence).
        public var bandwidths: [Double]
        public var meanDirectionNorms: [Double]
    }

    /// `steps` updates from `start`; `score` maps particles (rows) to `∇log p` at each.
    public func sample(from start: Matrix64, steps: Int, score: (Matrix64) -> Matrix64) -> Result {
        var x = start
        var history = Matrix64(rows: x.rows, columns: x.columns)
        var bandwidths: [Double] = [], norms: [Double] = []
        for t in 0..<steps {
            let (phi, _, h) = direction(x, scores: score(x))
            bandwidths.append(h)
            norms.append(
                (0..<x.rows).reduce(0.0) { sum, i in
                    sum + (0..<x.columns).reduce(0.0) { $0 + phi[i, $1] * phi[i, $1] }.squareRoot()
                } / Double(x.rows))
            switch step {
            case .constant(let eps):
                for k in 0..<x.scalars.count { x.scalars[k] += eps * phi.scalars[k] }
            case .adagrad(let stepSize, let alpha):
                for k in 0..<x.scalars.count {
                    let g2 = phi.scalars[k] * phi.scalars[k]
                    history.scalars[k] = t == 0 ? g2 : alpha * history.scalars[k] + (1 - alpha) * g2
                    x.scalars[k] += stepSize * phi.scalars[k] / (1e-6 + history.scalars[k].squareRoot())
                }
            }
        }
        return Result(particles: x, bandwidths: bandwidths, meanDirectionNorms: norms)
    }

    /// `∇log p` at every row from a differentiable log density of one point (`[d] -> scalar`),
    /// by reverse-mode autodiff in Float32.
    public static func score(of logDensity: @escaping (Tensor) -> Tensor) -> (Matrix64) -> Matrix64 {
        { x in
            let points = Tensor(shape: [x.rows, x.columns], scalars: x.scalars.map(Float.init)).requiringGrad()
            var total = Tensor(shape: [], scalars: [0])
            for i in 0..<x.rows {
                total = total + logDensity(points.slice(alongAxis: 0, i..<(i + 1)).reshaped(to: [x.columns]))
            }
            total.backward()
            return Matrix64(rows: x.rows, columns: x.columns, scalars: points.grad!.scalars.map(Double.init))
        }
    }
}

/// The median with numpy's convention: the mean of the two middle values for an even count.
func numpyMedian(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of no values")
    let sorted = values.sorted(), n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}
