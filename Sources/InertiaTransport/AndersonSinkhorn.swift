import Foundation
import InertiaTensor

/// Sinkhorn as a fixed-point map on the column potential, accelerated by `AndersonAcceleration`
/// (`shared/papers/anderson-acceleration.md`, experiment B): `g(y)` = the row update then the
/// column update of `SinkhornNewtonSparse`'s dual (2.2), from `y = 0`, until `‖g(y) − y‖₂ < tolerance`.
public enum AndersonSinkhorn {
    /// The plan, its cost, the iterations taken, the final L1 marginal error and convergence.
    public struct Result: Sendable {
        public var plan: Matrix64
        public var x: [Double], y: [Double]
        /// Sweeps (map evaluations) until the fixed-point residual fell below the tolerance.
        public var iterations: Int
        public var fixedPointResidual: Double
        /// `‖g(y_k) − y_k‖₂` at every sweep `k`.
        public var residualHistory: [Double]
        /// `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁` at the returned potentials (x from a row update).
        public var marginalError: Double
        public var converged: Bool
        public var transportCost: Double
        public var warning: String?
    }

    public static func solve(
        _ problem: TransportProblem, eta: Double, acceleration: AndersonAcceleration = AndersonAcceleration(),
        tolerance: Double = 1e-13, maxIterations: Int = 100_000
    ) throws -> Result {
        guard eta > 0 && eta.isFinite else {
            throw TransportError.invalidInput("eta (1/reg) must be a positive number, got \(eta)")
        }
        guard problem.source.allSatisfy({ $0 > 0 }) && problem.target.allSatisfy({ $0 > 0 }) else {
            throw TransportError.invalidInput(
                "the Anderson-accelerated Sinkhorn needs positive weights (use sns for zero-mass points)")
        }
        var dual = SinkhornNewtonSparse.Dual(cost: problem.cost, r: problem.source, c: problem.target, eta: eta)
        let outcome = acceleration.solve(
            [Double](repeating: 0, count: problem.columns), tolerance: tolerance, maxIterations: maxIterations
        ) { y in
            dual.y = y
            dual.sinkhornIteration()
            return dual.y
        }
        // The returned potentials: y, and x from a row update against it.
        dual.y = outcome.x
        dual.sinkhornIteration()
        dual.y = outcome.x
        let p = dual.plan()
        let plan = Matrix64(rows: problem.rows, columns: problem.columns, scalars: p)
        return Result(
            plan: plan, x: dual.x, y: dual.y, iterations: outcome.iterations, fixedPointResidual: outcome.residualNorm,
            residualHistory: outcome.residualHistory,
            marginalError: dual.marginalError(p), converged: outcome.converged,
            transportCost: zip(p, problem.cost.scalars).reduce(0) { $0 + $1.0 * $1.1 },
            warning: outcome.converged
                ? nil : "did not reach the fixed-point tolerance \(tolerance) in \(maxIterations) sweeps")
    }
}
