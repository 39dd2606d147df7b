import Foundation
import InertiaTensor

/// The entropic optimal-transport plan between two Gaussians for the cost `½‖x − y‖²` with
/// regulariser ε, in closed form (the ground truth of `light-schrodinger-bridge.md` 5.1, after
/// Janati et al. and Mallasto et al.): the plan is Gaussian with cross-covariance
/// `C = ½ A^{1/2} (4 A^{1/2} B A^{1/2} + ε² I)^{1/2} A^{−1/2} − (ε/2) I`, so `y | x` is
/// `N(m₁ + K(x − m₀), Σ)` with `K = Cᵀ A⁻¹` and `Σ = B − Cᵀ A⁻¹ C`; at the fixed point `K = Σ/ε`.
public struct GaussianEntropicPlan: Sendable {
    public let sourceMean: [Double], targetMean: [Double]
    public let epsilon: Double
    /// `C = Cov(x, y)` under the plan.
    public let crossCovariance: Matrix64
    /// `K`, the conditional mean's gain.
    public let gain: Matrix64
    /// `Σ = Cov(y | x)`.
    public let conditionalCovariance: Matrix64

    /// The plan from `N(sourceMean, sourceCovariance)` to `N(targetMean, targetCovariance)`.
    public init(
        sourceMean: [Double], sourceCovariance a: Matrix64, targetMean: [Double], targetCovariance b: Matrix64,
        epsilon: Double
    ) {
        let n = a.rows
        precondition(
            a.columns == n && b.rows == n && b.columns == n && sourceMean.count == n && targetMean.count == n,
            "GaussianEntropicPlan: means and covariances must agree in dimension")
        precondition(epsilon > 0, "GaussianEntropicPlan: epsilon must be positive, got \(epsilon)")
        self.sourceMean = sourceMean
        self.targetMean = targetMean
        self.epsilon = epsilon
        let sourceEigen = SymmetricEigen(a)
        let root = sourceEigen.power(0.5), inverseRoot = sourceEigen.power(-0.5), inverse = sourceEigen.power(-1)
        let inner = SymmetricEigen((root * b * root * 4).addingToDiagonal(epsilon * epsilon)).power(0.5)
        crossCovariance = (root * inner * inverseRoot * 0.5).addingToDiagonal(-epsilon / 2)
        gain = crossCovariance.transposed * inverse
        conditionalCovariance = (b - gain * crossCovariance).symmetrized
    }

    /// `E[y | x] = m₁ + K(x − m₀)`.
    public func conditionalMean(_ x: [Double]) -> [Double] {
        let shift = Matrix64(rows: x.count, columns: 1, scalars: zip(x, sourceMean).map { $0 - $1 })
        return zip(targetMean, (gain * shift).scalars).map { $0 + $1 }
    }

    /// The exact one-component Light Schrödinger Bridge potential: `S = Σ/ε`.
    public var bridgeScale: Matrix64 { conditionalCovariance * (1 / epsilon) }

    /// Its mean `r = m₁ − K m₀`.
    public var bridgeMean: [Double] {
        let m0 = Matrix64(rows: sourceMean.count, columns: 1, scalars: sourceMean)
        return zip(targetMean, (gain * m0).scalars).map { $0 - $1 }
    }
}

/// The squared Bures–Wasserstein distance between `N(m1, c1)` and `N(m2, c2)`:
/// `‖m1 − m2‖² + tr c1 + tr c2 − 2 tr((c1^{1/2} c2 c1^{1/2})^{1/2})`.
public func buresWassersteinSquared(_ m1: [Double], _ c1: Matrix64, _ m2: [Double], _ c2: Matrix64) -> Double {
    precondition(m1.count == m2.count && c1.rows == c2.rows, "buresWassersteinSquared: dimensions differ")
    let root = SymmetricEigen(c1).power(0.5, relativeFloor: 0)
    let cross = SymmetricEigen(root * c2 * root).values.reduce(0) { $0 + Swift.max($1, 0).squareRoot() }
    let trace = (0..<c1.rows).reduce(0.0) { $0 + c1[$1, $1] + c2[$1, $1] }
    return zip(m1, m2).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } + trace - 2 * cross
}
