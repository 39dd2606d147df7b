import Foundation
import InertiaTensor

/// The 2-D distributions generative models are tested on (`diffusion-principles.md`,
/// `stochastic-interpolants.md`), each with a sampler and its density: exact for Gaussian
/// mixtures and the checkerboard; for moons and spirals (a curve's parameter drawn uniformly, then
/// isotropic Gaussian noise) the density is the noise kernel integrated along the curve by
/// composite Simpson quadrature, fine enough that its error is far below any sample estimate.
public enum ToyDistribution: Sendable {
    case mixture(GaussianMixtureDenoiser)
    /// The stochastic-interpolants spec's board: uniform on the 8 squares of side 2 in `[−4, 4]²`
    /// whose lower-left corners `(2i, 2j)` have `i + j` even.
    case checkerboard
    /// The upper unit half circle and its mirror shifted by `(1, 0.5)`, equally likely, the angle
    /// uniform in `[0, π]`, plus `N(0, noise²)` per coordinate.
    case moons(noise: Double)
    /// `arms` Archimedean arms `t(cos θ, sin θ)`, `θ = 4πt + 2πk/arms`, `t` uniform in `[0, 1]`,
    /// plus `N(0, noise²)` per coordinate.
    case spirals(arms: Int, noise: Double)

    /// `n` independent samples (rows).
    public func sample(_ n: Int, using rng: inout PhiloxGenerator) -> Matrix64 {
        switch self {
        case .mixture(let mixture):
            let d = mixture.means[0].count
            var result = Matrix64(rows: n, columns: d)
            for i in 0..<n {
                var u = rng.nextDouble(), k = 0
                while k < mixture.weights.count - 1 && u >= mixture.weights[k] {
                    u -= mixture.weights[k]
                    k += 1
                }
                for j in 0..<d { result[i, j] = mixture.means[k][j] + mixture.standardDeviations[k] * rng.nextNormal() }
            }
            return result
        case .checkerboard:
            return Matrix64(
                rows: n, columns: 2,
                scalars: (0..<n).flatMap { _ -> [Double] in
                    let x1 = -2 + 4 * rng.nextDouble()
                    let parity = Double(((Int(x1.rounded(.down)) % 2) + 2) % 2)
                    let x2 = rng.nextDouble() - (rng.nextBernoulli(0.5) ? 2 : 0) + parity
                    return [2 * x1, 2 * x2]
                })
        case .moons(let noise), .spirals(_, let noise):
            var result = Matrix64(rows: n, columns: 2)
            for i in 0..<n {
                let arm = rng.nextInt(below: armCount), t = rng.nextDouble()
                let (a, b) = curve(arm, t)
                result[i, 0] = a + noise * rng.nextNormal()
                result[i, 1] = b + noise * rng.nextNormal()
            }
            return result
        }
    }

    /// Whether `(x, y)` lies on one of the checkerboard's squares.
    public static func isOnCheckerboard(_ x: Double, _ y: Double) -> Bool {
        let u = x / 2, v = y / 2
        guard u >= -2 && u < 2 else { return false }
        let m = Double(((Int(u.rounded(.down)) % 2) + 2) % 2)
        return (v >= m && v < m + 1) || (v >= m - 2 && v < m - 1)
    }

    /// `log p` at every row (`−∞` off the checkerboard).
    public func logDensity(_ x: Matrix64) -> [Double] {
        switch self {
        case .mixture(let mixture):
            return mixture.logDensity(x, alpha: 1, sigma: 0)
        case .checkerboard:
            precondition(x.columns == 2, "ToyDistribution.logDensity: 2-D points, got \(x.columns) columns")
            return (0..<x.rows).map {
                Self.isOnCheckerboard(x[$0, 0], x[$0, 1]) ? -Foundation.log(32) : -Double.infinity
            }
        case .moons(let noise), .spirals(_, let noise):
            precondition(x.columns == 2, "ToyDistribution.logDensity: 2-D points, got \(x.columns) columns")
            let nodes = quadratureNodes()
            return (0..<x.rows).map {
                Self.curveLogDensity(x[$0, 0], x[$0, 1], nodes: nodes, noise: noise, arms: armCount)
            }
        }
    }

    var armCount: Int {
        switch self {
        case .moons: return 2
        case .spirals(let arms, _): return arms
        default: return 0
        }
    }

    /// Arm `arm`'s point at parameter `t ∈ [0, 1]`.
    func curve(_ arm: Int, _ t: Double) -> (Double, Double) {
        if case .spirals(let arms, _) = self {
            let angle = 4 * Double.pi * t + 2 * Double.pi * Double(arm) / Double(arms)
            return (t * Foundation.cos(angle), t * Foundation.sin(angle))
        }
        let angle = Double.pi * t
        return arm == 0
            ? (Foundation.cos(angle), Foundation.sin(angle)) : (1 - Foundation.cos(angle), 0.5 - Foundation.sin(angle))
    }

    /// Quadrature intervals per arm: the noise kernel spans `noise/speed` of the parameter, and
    /// the spirals move up to 4π + 1 times faster than their parameter.
    var intervals: Int {
        if case .spirals = self { return 8192 }
        return 2048
    }

    /// The curve points of every arm at the Simpson nodes and the log of their weights.
    func quadratureNodes() -> [(x: Double, y: Double, logWeight: Double)] {
        let m = intervals, h = 1 / Double(m)
        return (0..<armCount).flatMap { arm in
            (0...m).map { i in
                let (a, b) = curve(arm, Double(i) * h)
                let simpson = i == 0 || i == m ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0)
                return (a, b, Foundation.log(simpson * h / 3))
            }
        }
    }

    /// `log Σ_arms (1/arms) ∫₀¹ N((x, y); c(t), noise²I) dt` by Simpson's rule, in log-sum-exp form.
    static func curveLogDensity(
        _ x: Double, _ y: Double, nodes: [(x: Double, y: Double, logWeight: Double)], noise: Double, arms: Int
    ) -> Double {
        let scale = -1 / (2 * noise * noise)
        var largest = -Double.infinity
        for node in nodes {
            largest = Swift.max(
                largest, ((x - node.x) * (x - node.x) + (y - node.y) * (y - node.y)) * scale + node.logWeight)
        }
        var total = 0.0
        for node in nodes {
            total += Foundation.exp(
                ((x - node.x) * (x - node.x) + (y - node.y) * (y - node.y)) * scale + node.logWeight - largest)
        }
        return largest + Foundation.log(total) - Foundation.log(Double(arms))
            - Foundation.log(2 * Double.pi * noise * noise)
    }
}
