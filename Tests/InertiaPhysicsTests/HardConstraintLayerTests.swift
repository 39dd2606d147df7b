import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaPhysics

/// `hard-constraints-moe.md` 6: the IFT fixture (linear and nonlinear least squares) and
/// invariants 1, 2 and 4.
final class HardConstraintLayerTests: XCTestCase {
    /// The nonlinear fixture's residual form `z + 0.5 z²`.
    static let quadratic = HardConstraintLayer.ResidualForm(
        features: 1, evaluate: { z in (z[0] + 0.5 * z[0] * z[0], SIMD4(1 + z[0], 0, 0, 0)) },
        curvature: { _ in [SIMD4(1, 0, 0, 0), .zero, .zero, .zero] })

    func testTheLinearFixtureSolutionAndTotalGradients() throws {
        let f = try fixture("hard-constraints-moe", "ift_fixtures.json")
        let a = matrix64(f["A"]), b = doubles(f["b"]), c = doubles(f["c"])
        let mu = (f["ridge_mu"] as! NSNumber).doubleValue
        let layer = HardConstraintLayer(forms: [.linear], ridge: mu)
        let problem = HardConstraintLayer.Problem(
            features: a.scalars, forms: Array(repeating: 0, count: a.rows), targets: b, featureCount: 1,
            basisCount: a.columns)
        let solution = layer.solve(problem)
        XCTAssertLessThan(maxDifference(solution.weights, doubles(f["w_star"])), 1e-10)
        XCTAssertLessThan(maxDifference(solution.residual, doubles(f["residual"])), 1e-10)
        XCTAssertEqual(solution.steps, 1, "invariant 1: one Gauss-Newton step solves a linear problem")
        var elsewhere = layer
        elsewhere.start = 3
        XCTAssertLessThan(maxDifference(elsewhere.solve(problem).weights, solution.weights), 1e-12, "from any start")
        // The same form declared nonlinear goes through Levenberg-Marquardt to the same point.
        let undeclared = HardConstraintLayer.ResidualForm(
            features: 1, evaluate: { z in (z[0], SIMD4(1, 0, 0, 0)) }, curvature: { _ in [.zero, .zero, .zero, .zero] })
        let lm = HardConstraintLayer(forms: [undeclared], ridge: mu).solve(problem)
        XCTAssertGreaterThan(lm.steps, 1)
        XCTAssertLessThan(maxDifference(lm.weights, solution.weights), 1e-8)

        // Total derivatives of l = 0.5 ||A w*||² + c·w*: the direct path (A w*) w*ᵀ plus the adjoint.
        let w = solution.weights
        let aw = (0..<a.rows).map { i in (0..<a.columns).reduce(0) { $0 + a[i, $1] * w[$1] } }
        let upstream = (0..<a.columns).map { k in (0..<a.rows).reduce(0) { $0 + a[$1, k] * aw[$1] } + c[k] }
        let (gradientA, gradientB) = layer.adjoint(problem, solution, upstream: upstream)
        let loss = 0.5 * aw.reduce(0) { $0 + $1 * $1 } + zip(c, w).reduce(0) { $0 + $1.0 * $1.1 }
        XCTAssertEqual(loss, (f["loss"] as! NSNumber).doubleValue, accuracy: 1e-10)
        let total = (0..<a.rows).flatMap { i in (0..<a.columns).map { k in aw[i] * w[k] + gradientA[i * a.columns + k] }
        }
        XCTAssertLessThan(maxDifference(total, matrix64(f["grad_A_ift"]).scalars), 1e-10)
        XCTAssertLessThan(maxDifference(gradientB, doubles(f["grad_b_ift"])), 1e-10)
    }

    /// The same gradients through the tensor op: the direct path comes from the tape, the IFT
    /// path from the layer's custom backward (Float32, so to Float32 accuracy).
    func testTheTensorOpGivesTheFixtureGradients() throws {
        let f = try fixture("hard-constraints-moe", "ift_fixtures.json")
        let a = matrix64(f["A"]), b = doubles(f["b"]), c = doubles(f["c"])
        let layer = HardConstraintLayer(forms: [.linear], ridge: (f["ridge_mu"] as! NSNumber).doubleValue)
        let matrix = Tensor(shape: [a.rows, a.columns], scalars: a.scalars.map(Float.init)).requiringGrad()
        let targets = Tensor(shape: [1, a.rows], scalars: b.map(Float.init)).requiringGrad()
        let (weights, _) = layer(
            features: matrix.reshaped(to: [1, a.rows, 1, a.columns]), targets: targets,
            rowForms: Array(repeating: 0, count: a.rows))
        let w = weights.reshaped(to: [a.columns, 1])
        let loss =
            0.5 * matrix.matmul(w).squared().sum()
            + (Tensor(shape: [1, a.columns], scalars: c.map(Float.init)).matmul(w)).sum()
        loss.backward()
        XCTAssertEqual(Double(loss.item), (f["loss"] as! NSNumber).doubleValue, accuracy: 1e-5)
        XCTAssertLessThan(maxDifference(matrix.grad!.scalars.map(Double.init), matrix64(f["grad_A_ift"]).scalars), 2e-5)
        XCTAssertLessThan(maxDifference(targets.grad!.scalars.map(Double.init), doubles(f["grad_b_ift"])), 2e-5)
    }

    func testTheNonlinearFixtureSolution() throws {
        let f = try fixture("hard-constraints-moe", "ift_fixtures.json")
        let a = matrix64(f["A"]), b = doubles(f["b"])
        let expected = f["nonlinear"] as! [String: Any]
        let problem = HardConstraintLayer.Problem(
            features: a.scalars, forms: Array(repeating: 0, count: a.rows), targets: b, featureCount: 1,
            basisCount: a.columns)
        for (steps, tolerance) in [(100, 1e-5), (200, 1e-7)] {
            let layer = HardConstraintLayer(
                forms: [Self.quadratic], ridge: (f["ridge_mu"] as! NSNumber).doubleValue, maxSteps: steps)
            let solution = layer.solve(problem)
            XCTAssertLessThan(maxDifference(solution.weights, doubles(expected["w_star"])), tolerance, "\(steps) steps")
            let objective = (expected["objective"] as! NSNumber).doubleValue
            XCTAssertEqual(solution.objective, objective, accuracy: 1e-9 * objective, "\(steps) steps")
        }
    }

    /// Invariant 2 for a nonlinear problem: the IFT gradient (exact Hessian) equals central
    /// differences of the converged solution, i.e. of the unrolled solver run to convergence
    /// (LM resolves w to ~1e-8, so the step is 1e-3 and the tolerance 1e-4).
    func testIFTGradientMatchesDifferencesOfTheConvergedSolve() {
        var rng = PhiloxGenerator(seed: 5)
        let rows = 9, n = 3
        let features = (0..<(rows * n)).map { _ in 0.5 * rng.nextNormal() }
        let targets = (0..<rows).map { _ in rng.nextNormal() }
        let layer = HardConstraintLayer(forms: [Self.quadratic], ridge: 1e-2, maxSteps: 400)
        let problem = HardConstraintLayer.Problem(
            features: features, forms: Array(repeating: 0, count: rows), targets: targets, featureCount: 1,
            basisCount: n)
        let upstream = [0.7, -1.1, 0.4]
        let solution = layer.solve(problem)
        XCTAssertLessThan(solution.gradientNorm, 1e-7)
        let (featureGradient, targetGradient) = layer.adjoint(problem, solution, upstream: upstream)
        func downstream(_ p: HardConstraintLayer.Problem) -> Double {
            zip(layer.solve(p).weights, upstream).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let h = 1e-3
        for i in [0, 4, 13, 26] {
            var plus = problem, minus = problem
            plus.features[i] += h
            minus.features[i] -= h
            XCTAssertEqual(
                featureGradient[i], (downstream(plus) - downstream(minus)) / (2 * h), accuracy: 1e-4, "feature \(i)")
        }
        for i in [0, 5, 8] {
            var plus = problem, minus = problem
            plus.targets[i] += h
            minus.targets[i] -= h
            XCTAssertEqual(
                targetGradient[i], (downstream(plus) - downstream(minus)) / (2 * h), accuracy: 1e-4, "target \(i)")
        }
    }

    /// Invariant 4: a basis that holds the exact solution in column 0 gives w* = e_1 up to the
    /// ridge's shrinkage, with a residual near zero.
    func testAnExactBasisFunctionIsSelected() {
        var rng = PhiloxGenerator(seed: 2)
        let rows = 20, n = 4
        var features = (0..<(rows * n)).map { _ in rng.nextNormal() }
        let targets = (0..<rows).map { i in features[i * n] }
        for i in 0..<rows { features[i * n] = targets[i] }
        let layer = HardConstraintLayer(forms: [.linear], ridge: 1e-8)
        let solution = layer.solve(
            .init(
                features: features, forms: Array(repeating: 0, count: rows), targets: targets, featureCount: 1,
                basisCount: n))
        XCTAssertEqual(solution.weights[0], 1, accuracy: 1e-6)
        for k in 1..<n { XCTAssertEqual(solution.weights[k], 0, accuracy: 1e-6) }
        XCTAssertLessThan(solution.residual.map(abs).max()!, 1e-6)
    }
}
