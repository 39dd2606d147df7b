import Foundation
import InertiaTensor

/// The exact posterior mean `E[x_0 | x_t]` and score of isotropic Gaussian-mixture data under any
/// schedule (`diffusion-principles.md` 10.1): with components `N(μ_k, s_k² I)`, `p_t = Σ π_k
/// N(αμ_k, (α²s_k² + σ²)I)`; responsibilities in log space. Lets samplers be tested without training.
public struct GaussianMixtureDenoiser: Sendable {
    public let weights: [Double]
    public let means: [[Double]]
    public let standardDeviations: [Double]

    public init(weights: [Double], means: [[Double]], standardDeviations: [Double]) {
        precondition(
            weights.count == means.count && means.count == standardDeviations.count && !weights.isEmpty,
            "GaussianMixtureDenoiser: \(weights.count) weights, \(means.count) means, \(standardDeviations.count) deviations"
        )
        self.weights = weights
        self.means = means
        self.standardDeviations = standardDeviations
    }

    /// `count` equal components of standard deviation `standardDeviation` with means evenly spaced on
    /// the circle of `radius` (the spec's 8-mode ring).
    public static func ring(count: Int, radius: Double, standardDeviation: Double) -> GaussianMixtureDenoiser {
        let means = (0..<count).map { k -> [Double] in
            let angle = 2 * Double.pi * Double(k) / Double(count)
            return [radius * Foundation.cos(angle), radius * Foundation.sin(angle)]
        }
        return GaussianMixtureDenoiser(
            weights: [Double](repeating: 1 / Double(count), count: count), means: means,
            standardDeviations: [Double](repeating: standardDeviation, count: count))
    }

    /// The mixture of `components` alone, reweighted to sum to 1 (a class of a labelled mixture).
    public func selecting(_ components: [Int]) -> GaussianMixtureDenoiser {
        let total = components.reduce(0) { $0 + weights[$1] }
        return GaussianMixtureDenoiser(
            weights: components.map { weights[$0] / total }, means: components.map { means[$0] },
            standardDeviations: components.map { standardDeviations[$0] })
    }

    /// `count` draws from the mixture, one row each.
    public func sample(_ count: Int, using rng: inout PhiloxGenerator) -> Matrix64 {
        let d = means[0].count
        var out = Matrix64(rows: count, columns: d)
        for i in 0..<count {
            var u = rng.nextDouble(), k = 0
            while k < weights.count - 1 && u >= weights[k] {
                u -= weights[k]
                k += 1
            }
            for j in 0..<d { out[i, j] = means[k][j] + standardDeviations[k] * rng.nextNormal() }
        }
        return out
    }

    /// The exact flow-matching velocity `(E[x₁ | x_t = x] − x)/(1 − t)` of `x_t = t x₁ + (1 − t) x₀`
    /// with data `x₁` from the mixture and `x₀ ~ N(0, I)` (flow time, data at t = 1, t < 1).
    public func flowVelocity(_ x: Matrix64, t: Double) -> Matrix64 {
        (posterior(x, alpha: t, sigma: 1 - t).data - x) * (1 / (1 - t))
    }

    /// `sqrt(mean over rows of ‖a_i − b_i‖²)`: the samplers' error against a reference.
    public static func rootMeanSquareDistance(_ a: Matrix64, _ b: Matrix64) -> Double {
        precondition(
            a.rows == b.rows && a.columns == b.columns,
            "rootMeanSquareDistance: \(a.rows)x\(a.columns) vs \(b.rows)x\(b.columns)")
        var total = 0.0
        for k in 0..<a.scalars.count {
            let d = a.scalars[k] - b.scalars[k]
            total += d * d
        }
        return (total / Double(a.rows)).squareRoot()
    }

    /// `(x̂_0, ŝ)` at every row of `x` at time `t` of `schedule`.
    public func posterior(_ x: Matrix64, t: Double, schedule: DiffusionSchedule) -> (data: Matrix64, score: Matrix64) {
        posterior(x, alpha: schedule.alpha(t), sigma: schedule.sigma(t))
    }

    /// `(x̂_0, ŝ)` for `x = αx_0 + σε` (discrete schedules give α and σ directly).
    public func posterior(_ x: Matrix64, alpha a: Double, sigma s: Double) -> (data: Matrix64, score: Matrix64) {
        let d = x.columns
        var data = Matrix64(rows: x.rows, columns: d), score = data
        let variances = standardDeviations.map { a * a * $0 * $0 + s * s }
        for i in 0..<x.rows {
            let logits = componentLogits(x, row: i, alpha: a, variances: variances)
            let largest = logits.max()!
            let unnormalized = logits.map { Foundation.exp($0 - largest) }
            let total = unnormalized.reduce(0, +)
            for k in weights.indices {
                let r = unnormalized[k] / total, gain = a * standardDeviations[k] * standardDeviations[k] / variances[k]
                for j in 0..<d {
                    let residual = x[i, j] - a * means[k][j]
                    data[i, j] += r * (means[k][j] + gain * residual)
                    score[i, j] -= r * residual / variances[k]
                }
            }
        }
        return (data, score)
    }

    /// `log w_k + log N(x_i; α μ_k, v_k I)` without the `2π` term, for every component k.
    func componentLogits(_ x: Matrix64, row i: Int, alpha a: Double, variances: [Double]) -> [Double] {
        let d = x.columns
        return weights.indices.map { k in
            var squared = 0.0
            for j in 0..<d {
                let r = x[i, j] - a * means[k][j]
                squared += r * r
            }
            return Foundation.log(weights[k]) - 0.5 * Double(d) * Foundation.log(variances[k]) - 0.5 * squared
                / variances[k]
        }
    }

    /// The exact `log p` of `x = αx_0 + σε` at every row: the mixture with component variances
    /// `α²s_k² + σ²` (`α = 1, σ = 0`: the data density).
    public func logDensity(_ x: Matrix64, alpha a: Double, sigma s: Double) -> [Double] {
        let variances = standardDeviations.map { a * a * $0 * $0 + s * s }
        return (0..<x.rows).map { i in
            let logits = componentLogits(x, row: i, alpha: a, variances: variances)
            let largest = logits.max()!
            return largest + Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - largest) }) - 0.5
                * Double(x.columns) * Foundation.log(2 * Double.pi)
        }
    }
}
