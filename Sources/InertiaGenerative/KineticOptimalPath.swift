import Foundation
import InertiaTensor

/// The data separation function of a data set (Shaul, Chen, Nickel, Le & Lipman, "On Kinetic
/// Optimal Probability Paths for Generative Models", ICML 2023; `shared/papers/kinetic-optimal-paths.md`
/// 2.2, the spec author's derivation):
///
///     λ(s) = E‖x̂₁(y; s)‖² / E‖x₁‖²,   y = x₀ + s x₁,  x₀ ~ N(0, I),  x₁ ~ the data,
///
/// with the posterior mean `x̂₁ = Σᵢ wᵢ xᵢ`, `wᵢ ∝ exp(s⟨y, xᵢ⟩ − s²‖xᵢ‖²/2)` over every data point
/// (equal weights). `1 − λ` is the normalised MMSE of recovering `x₁` at signal-to-noise `s`.
public enum DataSeparation {
    /// Gauss–Hermite nodes and weights for `E f(z)`, `z ~ N(0, 1)` (the probabilists' rule), by
    /// Golub–Welsch: the eigenvalues of the Jacobi matrix with off-diagonal `√k`, and the squared
    /// first components of its eigenvectors. Exact for polynomials of degree < 2n.
    public static func gaussHermite(_ n: Int) -> (nodes: [Double], weights: [Double]) {
        precondition(n >= 1, "gaussHermite: n must be >= 1, got \(n)")
        var jacobi = Matrix64(rows: n, columns: n)
        for k in 1..<Swift.max(n, 1) {
            jacobi[k - 1, k] = Double(k).squareRoot()
            jacobi[k, k - 1] = Double(k).squareRoot()
        }
        let eigen = SymmetricEigen(jacobi)
        return (eigen.values, (0..<n).map { eigen.vectors[0, $0] * eigen.vectors[0, $0] })
    }

    /// The data flattened row-major, with every point's squared norm: what `posteriorMean` reads.
    struct Points: Sendable {
        let count: Int, dimension: Int
        let flat: [Double], norms: [Double]

        init(_ points: [[Double]]) {
            precondition(!points.isEmpty && !points[0].isEmpty, "DataSeparation: needs at least one point")
            let d = points[0].count
            precondition(points.allSatisfy { $0.count == d }, "DataSeparation: points of unequal dimension")
            count = points.count
            dimension = d
            flat = points.flatMap { $0 }
            norms = points.map { $0.reduce(0) { $0 + $1 * $1 } }
        }

        /// `E‖x₁‖²` over the points.
        var secondMoment: Double { norms.reduce(0, +) / Double(count) }

        /// `‖Σ wᵢ xᵢ‖²` for one `y` at signal-to-noise `s`; `scratch` holds `count` logits.
        func posteriorNorm(_ y: UnsafePointer<Double>, s: Double, scratch: UnsafeMutablePointer<Double>) -> Double {
            flat.withUnsafeBufferPointer { x in
                var largest = -Double.infinity
                for i in 0..<count {
                    var dot = 0.0
                    for j in 0..<dimension { dot += y[j] * x[i * dimension + j] }
                    scratch[i] = s * dot - 0.5 * s * s * norms[i]
                    largest = Swift.max(largest, scratch[i])
                }
                var total = 0.0
                for i in 0..<count {
                    scratch[i] = Foundation.exp(scratch[i] - largest)
                    total += scratch[i]
                }
                var squared = 0.0
                for j in 0..<dimension {
                    var m = 0.0
                    for i in 0..<count { m += scratch[i] * x[i * dimension + j] }
                    m /= total
                    squared += m * m
                }
                return squared
            }
        }
    }

    /// λ by a tensor-product Gauss–Hermite rule of `nodes` points per dimension over `x₀`, averaged
    /// over every data point as `x₁` (the spec's 80 in 1-D, 60 x 60 in 2-D; `nodes^d` evaluations,
    /// so for small d). Chunks of nodes run in parallel; their sums combine in order.
    public static func quadrature(points: [[Double]], nodes: Int) -> (Double) -> Double {
        let data = Points(points)
        let d = data.dimension
        let (z, w) = gaussHermite(nodes)
        let count = Int(Foundation.pow(Double(nodes), Double(d)))
        return { s in
            guard s.isFinite else { return 1 }
            let chunks = Swift.min(count, 64)
            var partial = [Double](repeating: 0, count: chunks)
            partial.withUnsafeMutableBufferPointer { out in
                Parallel.forEachRange(count: chunks, grain: 1) { range in
                    var y = [Double](repeating: 0, count: d), scratch = [Double](repeating: 0, count: data.count)
                    for chunk in range {
                        var total = 0.0
                        for flat in stride(from: chunk, to: count, by: chunks) {
                            for p in 0..<data.count {
                                var rest = flat, weight = 1.0
                                for j in 0..<d {
                                    let k = rest % nodes
                                    rest /= nodes
                                    y[j] = z[k] + s * data.flat[p * d + j]
                                    weight *= w[k]
                                }
                                total += weight * data.posteriorNorm(y, s: s, scratch: &scratch)
                            }
                        }
                        out[chunk] = total
                    }
                }
            }
            return Swift.min(1, Swift.max(0, partial.reduce(0, +) / Double(data.count) / data.secondMoment))
        }
    }

    /// λ by Monte Carlo with common random numbers: `samples` draws of `x₁` (rows of `points`) and
    /// `x₀`, made once and reused at every `s`, normalised by `Σ‖x₁‖²` over the same drawn rows (so
    /// that λ → 1 as s → ∞; the spec's pitfall).
    public static func monteCarlo(
        points: [[Double]], samples: Int, using rng: inout PhiloxGenerator
    ) -> (Double) -> Double {
        let data = Points(points)
        let d = data.dimension
        let rows = (0..<samples).map { _ in rng.nextInt(below: data.count) }
        let noise = (0..<(samples * d)).map { _ in rng.nextNormal() }
        let moment = rows.reduce(0) { $0 + data.norms[$1] }
        return { s in
            guard s.isFinite else { return 1 }
            var parts = [Double](repeating: 0, count: samples)
            parts.withUnsafeMutableBufferPointer { out in
                Parallel.forEachRange(count: samples, grain: 64) { range in
                    var y = [Double](repeating: 0, count: d), scratch = [Double](repeating: 0, count: data.count)
                    for k in range {
                        for j in 0..<d { y[j] = noise[k * d + j] + s * data.flat[rows[k] * d + j] }
                        out[k] = data.posteriorNorm(y, s: s, scratch: &scratch)
                    }
                }
            }
            return Swift.min(1, Swift.max(0, parts.reduce(0, +) / moment))
        }
    }
}

/// The kinetic-optimal Gaussian path of a data set (`kinetic-optimal-paths.md` 2.3–2.4), flow time
/// t = 0 noise, t = 1 data, `x_t = σ_t x₀ + α_t x₁`, `σ_min = 0`, data normalised to `E‖x₁‖² = d`.
/// In polar coordinates `σ = R cos θ, α = R sin θ` the kinetic energy is
/// `KE/d = ∫ Ṙ² + R² κ(θ) θ̇² dt` with `κ(θ) = 1 − (1 − λ(tan θ))/cos²θ`; with
/// `φ(θ) = ∫₀^θ √κ` the metric is flat, and the optimum is the straight chord from (1, 0) to
/// `(cos Φ, sin Φ)`, `Φ = φ(π/2)`, at constant speed: `KE = 2d(1 − cos Φ)`. `λ ≡ 1` gives Cond-OT.
public struct KineticOptimalPath: Sendable {
    public let dimension: Int
    /// The grid `θ_j` on `[0, π/2]`, `κ(θ_j)` (clipped to `[kappaFloor, 1]`) and `φ(θ_j)`.
    public let thetas: [Double]
    public let kappas: [Double]
    public let phis: [Double]
    /// φ made strictly increasing (it is flat where κ is 0), to invert φ → θ.
    let invertiblePhis: [Double]

    /// `Φ = φ(π/2)`.
    public var totalAngle: Double { phis.last! }

    /// The optimal kinetic energy `2d(1 − cos Φ)`.
    public var kineticEnergy: Double { 2 * Double(dimension) * (1 - Foundation.cos(totalAngle)) }

    /// κ and φ on `gridSize` angles from the separation function (λ = 1 at π/2, as s = ∞).
    /// `kappaFloor` keeps θ̇ bounded near t = 0 for data whose κ vanishes there (the spec's 1e-3
    /// for training; 0 reproduces Φ).
    public init(dimension: Int, gridSize: Int = 2001, kappaFloor: Double = 0, separation: (Double) -> Double) {
        precondition(dimension >= 1 && gridSize >= 2, "KineticOptimalPath: dimension >= 1 and gridSize >= 2")
        self.dimension = dimension
        let end = Double.pi / 2
        thetas = (0..<gridSize).map { end * Double($0) / Double(gridSize - 1) }
        kappas = thetas.enumerated().map { j, theta in
            guard j < gridSize - 1 else { return 1 }
            let c = Foundation.cos(theta)
            let kappa = 1 - (1 - separation(Foundation.tan(theta))) / (c * c)
            return Swift.min(1, Swift.max(kappaFloor, kappa))
        }
        var phis = [0.0]
        for j in 1..<gridSize {
            phis.append(
                phis[j - 1] + 0.5 * (thetas[j] - thetas[j - 1]) * (kappas[j - 1].squareRoot() + kappas[j].squareRoot()))
        }
        self.phis = phis
        invertiblePhis = phis.enumerated().map { $0.element + 1e-12 * Double($0.offset) }
    }

    /// Linear interpolation of `values` at `x` on the increasing `grid`.
    static func interpolate(_ grid: [Double], _ values: [Double], at x: Double) -> Double {
        guard x > grid[0] else { return values[0] }
        guard x < grid[grid.count - 1] else { return values[values.count - 1] }
        var lo = 0, hi = grid.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if grid[mid] <= x { lo = mid } else { hi = mid }
        }
        let f = (x - grid[lo]) / (grid[hi] - grid[lo])
        return values[lo] + f * (values[hi] - values[lo])
    }

    /// `(σ_t, α_t)` and their time derivatives on the optimal path: the point of the chord at t,
    /// its angle mapped back from φ to θ, and `θ̇ = φ̇/√κ(θ)` with `φ̇ = h/R²`, `h = sin Φ`. A
    /// `perturbation` a moves the angle to `φ(t) + a·sin(πt)` (same ends, higher energy: the
    /// spec's check that the path is optimal).
    public func schedule(
        at t: Double, perturbation: Double = 0
    ) -> (sigma: Double, alpha: Double, dSigma: Double, dAlpha: Double) {
        let big = totalAngle
        let px = (1 - t) + t * Foundation.cos(big), py = t * Foundation.sin(big)
        let r = (px * px + py * py).squareRoot()
        let phi = Foundation.atan2(py, px) + perturbation * Foundation.sin(Double.pi * t)
        let dPhi = Foundation.sin(big) / (r * r) + perturbation * Double.pi * Foundation.cos(Double.pi * t)
        let theta = Self.interpolate(invertiblePhis, thetas, at: phi)
        let kappa = Swift.max(Self.interpolate(thetas, kappas, at: theta), 1e-300)
        let dR = (px * (Foundation.cos(big) - 1) + py * Foundation.sin(big)) / r
        let dTheta = dPhi / kappa.squareRoot()
        let (c, s) = (Foundation.cos(theta), Foundation.sin(theta))
        return (r * c, r * s, dR * c - r * s * dTheta, dR * s + r * c * dTheta)
    }

    /// The kinetic energy of any Gaussian path by 2.2's formula,
    /// `∫ [d σ̇² + D α̇² − D σ² ṡ² (1 − λ(s))] dt`, `s = α/σ`, `σ²ṡ² = (α̇σ − ασ̇)²/σ²`, on `steps`
    /// midpoints (`D = E‖x₁‖²`, d after normalisation).
    public static func kineticEnergy(
        dimension d: Int, secondMoment: Double? = nil, steps: Int, separation: (Double) -> Double,
        path: (Double) -> (sigma: Double, alpha: Double, dSigma: Double, dAlpha: Double)
    ) -> Double {
        let moment = secondMoment ?? Double(d)
        var total = 0.0
        for k in 0..<steps {
            let t = (Double(k) + 0.5) / Double(steps)
            let p = path(t)
            let cross = p.dAlpha * p.sigma - p.alpha * p.dSigma
            let reduction = p.sigma > 0 ? cross * cross / (p.sigma * p.sigma) * (1 - separation(p.alpha / p.sigma)) : 0
            total += Double(d) * p.dSigma * p.dSigma + moment * p.dAlpha * p.dAlpha - moment * reduction
        }
        return total / Double(steps)
    }

    /// `KE/d = ∫ Ṙ² + R² κ(θ) θ̇² dt` of a path with this path's (clipped) κ, on `steps` midpoints:
    /// the polar form of 2.2 that spec 5.3(a) compares schedules with.
    public func polarKineticEnergy(
        steps: Int, path: (Double) -> (sigma: Double, alpha: Double, dSigma: Double, dAlpha: Double)
    ) -> Double {
        var total = 0.0
        for k in 0..<steps {
            let p = path((Double(k) + 0.5) / Double(steps))
            let r2 = p.sigma * p.sigma + p.alpha * p.alpha
            let dR = (p.sigma * p.dSigma + p.alpha * p.dAlpha) / r2.squareRoot()
            let dTheta = (p.sigma * p.dAlpha - p.alpha * p.dSigma) / r2
            let theta = Foundation.atan2(p.alpha, p.sigma)
            total += dR * dR + r2 * Self.interpolate(thetas, kappas, at: theta) * dTheta * dTheta
        }
        return Double(dimension) * total / Double(steps)
    }

    /// Cond-OT, `σ = 1 − t`, `α = t`.
    public static func conditionalOptimalTransport(
        _ t: Double
    ) -> (sigma: Double, alpha: Double, dSigma: Double, dAlpha: Double) {
        (1 - t, t, -1, 1)
    }
}
