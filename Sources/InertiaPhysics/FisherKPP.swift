import Foundation
import InertiaTensor

/// The Fisher-KPP reaction-diffusion problem of `shared/papers/hard-constraints-moe.md` 5:
/// `u_t = nu u_xx + rho u (1 - u)` on `x in [0, 1)` (periodic) and `t in [0, duration]`, on a grid of
/// `times x points` values (`t_a = a·duration/(times - 1)`, `x_j = j/points`). Gives the spec's
/// initial-condition family, a method-of-lines + RK4 reference, and the finite-difference
/// residual the physics-informed models are trained on.
public struct FisherKPP: Sendable {
    public var diffusivity: Double
    public var growthRate: Double
    public var points: Int
    public var times: Int
    public var duration: Double

    public init(
        diffusivity: Double = 0.01, growthRate: Double = 5, points: Int = 64, times: Int = 32, duration: Double = 0.5
    ) {
        precondition(points >= 3 && times >= 3 && duration > 0, "FisherKPP: needs at least 3 points and times")
        self.diffusivity = diffusivity
        self.growthRate = growthRate
        self.points = points
        self.times = times
        self.duration = duration
    }

    public var spacing: Double { 1 / Double(points) }
    public var timeStep: Double { duration / Double(times - 1) }
    public var positions: [Double] { (0..<points).map { Double($0) * spacing } }
    public var gridTimes: [Double] { (0..<times).map { Double($0) * timeStep } }

    /// `u0(x) = sum_{k=1..3} a_k sin²(pi k x + c_k)` with `a_k ~ U(0, 1)`, `c_k ~ U(0, pi)`,
    /// scaled by `0.8 / max u0` (the spec's [choice]).
    public func initialCondition(using rng: inout PhiloxGenerator) -> [Double] {
        let a = (0..<3).map { _ in rng.nextDouble() }, c = (0..<3).map { _ in Double.pi * rng.nextDouble() }
        let u = positions.map { x in
            (0..<3).reduce(0.0) { sum, k in
                let s = Foundation.sin(Double.pi * Double(k + 1) * x + c[k])
                return sum + a[k] * s * s
            }
        }
        let peak = u.max()!
        return u.map { 0.8 * $0 / peak }
    }

    /// The method-of-lines solution (second-order central `u_xx`, periodic) by classical RK4
    /// with the largest step not above `maxTimeStep` that divides the grid's time step; `[times·points]`.
    public func reference(from initial: [Double], maxTimeStep: Double = 1e-4) -> [Double] {
        precondition(initial.count == points, "FisherKPP: \(initial.count) initial values for \(points) points")
        let substeps = Int((timeStep / maxTimeStep).rounded(.up))
        let h = timeStep / Double(substeps)
        let n = points, scale = diffusivity / (spacing * spacing), rho = growthRate
        func rate(_ u: [Double]) -> [Double] {
            (0..<n).map { j in
                let left = u[(j + n - 1) % n], right = u[(j + 1) % n]
                return scale * (left - 2 * u[j] + right) + rho * u[j] * (1 - u[j])
            }
        }
        var u = initial
        var field = initial
        field.reserveCapacity(times * n)
        for _ in 1..<times {
            for _ in 0..<substeps {
                let k1 = rate(u)
                let k2 = rate((0..<n).map { u[$0] + 0.5 * h * k1[$0] })
                let k3 = rate((0..<n).map { u[$0] + 0.5 * h * k2[$0] })
                let k4 = rate((0..<n).map { u[$0] + h * k3[$0] })
                for j in 0..<n { u[j] += h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]) }
            }
            field += u
        }
        return field
    }

    /// The time-derivative matrix `[times, times]` on the grid: central differences inside,
    /// second-order one-sided at both ends.
    public var timeDerivative: Matrix64 {
        var d = Matrix64(rows: times, columns: times)
        let inverse = 1 / (2 * timeStep)
        d[0, 0] = -3 * inverse
        d[0, 1] = 4 * inverse
        d[0, 2] = -inverse
        for a in 1..<(times - 1) {
            d[a, a - 1] = -inverse
            d[a, a + 1] = inverse
        }
        d[times - 1, times - 1] = 3 * inverse
        d[times - 1, times - 2] = -4 * inverse
        d[times - 1, times - 3] = inverse
        return d
    }

    /// The periodic second-difference matrix `[points, points]` (divided by the spacing squared).
    public var secondDerivative: Matrix64 {
        var d = Matrix64(rows: points, columns: points)
        let inverse = 1 / (spacing * spacing)
        for j in 0..<points {
            d[j, j] = -2 * inverse
            d[j, (j + 1) % points] += inverse
            d[j, (j + points - 1) % points] += inverse
        }
        return d
    }

    /// The finite-difference residual `u_t - nu u_xx - rho u (1 - u)` of a field `[times·points]`.
    public func residual(_ u: [Double]) -> [Double] {
        precondition(u.count == times * points, "FisherKPP: a field of \(u.count) values for \(times)x\(points)")
        let field = Matrix64(rows: times, columns: points, scalars: u)
        let ut = timeDerivative * field, uxx = field * secondDerivative.transposed
        return (0..<u.count).map { i in
            ut.scalars[i] - diffusivity * uxx.scalars[i] - growthRate * u[i] * (1 - u[i])
        }
    }

    /// The residual as a hard-constraint row form of the features `(u, u_t, u_xx)`.
    public var residualForm: HardConstraintLayer.ResidualForm {
        let nu = diffusivity, rho = growthRate
        return HardConstraintLayer.ResidualForm(
            features: 3,
            evaluate: { z in
                (z[1] - nu * z[2] - rho * z[0] * (1 - z[0]), SIMD4(-rho + 2 * rho * z[0], 1, -nu, 0))
            },
            curvature: { _ in [SIMD4(2 * rho, 0, 0, 0), .zero, .zero, .zero] })
    }
}
