import Foundation
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaOptim

/// SSO against `shared/fixtures/target-surrogates` and the invariants of its spec (6).
final class TargetSurrogatesTests: XCTestCase {
    struct Problem {
        let x: Tensor, y: Tensor, w: Parameter
        func outputs() -> Tensor { Tensor.matmul(x, w.value.reshaped(to: [3, 1])).reshaped(to: [6]) }
        func loss() -> Double {
            Double(withoutGradients { Loss.binaryCrossEntropyWithLogits(logits: outputs(), targets: y) }.item)
        }
        var oracle: (Tensor) -> Tensor {
            TargetSurrogateOptimizer.lossGradient { Loss.binaryCrossEntropyWithLogits(logits: $0, targets: y) }
        }
    }

    func problem() throws -> (Problem, [String: Any]) {
        let f = try fixture("target-surrogates", "sso_fixtures.json")
        let rows = (f["X"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
        let p = Problem(
            x: Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0 }),
            y: Tensor(doubles(f["y"]).map(Float.init)),
            w: Parameter(Tensor(doubles(f["w0"]).map(Float.init))))
        return (p, f)
    }

    func assertClose(_ a: [Float], _ b: [Double], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, label, file: file, line: line)
        for (x, y) in zip(a, b) where Swift.abs(Double(x) - y) > 1e-6 + 1e-5 * Swift.abs(y) {
            XCTFail("\(label): \(x) vs \(y)", file: file, line: line)
            return
        }
    }

    func testOracleSurrogateAndFixedInnerStepsMatchTheFixture() throws {
        let (p, f) = try problem()
        assertClose(p.outputs().scalars, doubles(f["z_t"]), "z_t")
        assertClose(p.oracle(p.outputs()).scalars, doubles(f["dL_dz"]), "dL/dz")
        let sso = try TargetSurrogateOptimizer(innerSteps: 5, stepSize: 2, innerRule: .fixed(0.1))
        let report = sso.step([("w", p.w)], outputs: p.outputs, targetGradient: p.oracle)
        XCTAssertEqual(sso.oracleCalls, 1)
        XCTAssertEqual(report.surrogateValues[0], (f["surrogate_at_w0"] as! NSNumber).doubleValue, accuracy: 1e-6)
        let trajectory = f["inner_gd_trajectory"] as! [[String: Any]]
        XCTAssertTrue(
            zip(report.surrogateValues.dropFirst(), report.surrogateValues).allSatisfy { $0 < $1 },
            "surrogate decreases")
        assertClose(p.w.value.scalars, doubles(trajectory.last!["w"]), "w after 5 fixed inner steps")
        XCTAssertEqual(p.loss(), (trajectory.last!["true_loss"] as! NSNumber).doubleValue, accuracy: 1e-5)
    }

    func testArmijoFirstStepAndConvergenceToTheLeastSquaresProjection() throws {
        let (p, f) = try problem()
        let armijo = f["armijo_first_step"] as! [String: Any]
        let sso = try TargetSurrogateOptimizer(innerSteps: 1, stepSize: 2)
        let report = sso.step([("w", p.w)], outputs: p.outputs, targetGradient: p.oracle)
        XCTAssertEqual(report.trials, [(armijo["trials"] as! NSNumber).intValue])
        XCTAssertEqual(report.stepSizes[0], (armijo["accepted_step"] as! NSNumber).doubleValue, accuracy: 1e-9)
        assertClose(p.w.value.scalars, doubles(armijo["w"]), "w after one Armijo step")
        // Many inner steps on one surrogate reach w* = X⁺(z − (stepSize/2)·G) (invariant 2).
        let (q, _) = try problem()
        _ = try TargetSurrogateOptimizer(innerSteps: 400, stepSize: 2, innerRule: .fixed(0.1)).step(
            [("w", q.w)], outputs: q.outputs, targetGradient: q.oracle)
        assertClose(q.w.value.scalars, doubles(f["exact_surrogate_minimiser_w"]), "exact MM step")
        XCTAssertEqual(q.loss(), (f["true_loss_w_star"] as! NSNumber).doubleValue, accuracy: 1e-5)
    }

    func testOneInnerStepIsAnSGDStepAndZeroStepsDoNothing() throws {
        let (p, _) = try problem()
        let (q, _) = try problem()
        // At θ_t the surrogate's gradient is (stepSize/(b·p))·JᵀG = (stepSize/6)·∇L (G = ∂L/∂z, b·p = 6 entries):
        // one fixed inner step of lr is an SGD step of lr·stepSize/6 (invariant 5).
        _ = try TargetSurrogateOptimizer(innerSteps: 1, stepSize: 2, innerRule: .fixed(0.3)).step(
            [("w", p.w)], outputs: p.outputs, targetGradient: p.oracle)
        let loss = withGradients { Loss.binaryCrossEntropyWithLogits(logits: q.outputs(), targets: q.y) }
        loss.backward()
        let sgd = try SGD(learningRate: 0.3 * 2 / 6)
        sgd.step([("w", q.w)])
        for (a, b) in zip(p.w.value.scalars, q.w.value.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let (r, _) = try problem()
        let before = r.w.value
        _ = try TargetSurrogateOptimizer(innerSteps: 0).step([("w", r.w)], outputs: r.outputs, targetGradient: r.oracle)
        XCTAssertEqual(r.w.value, before)
        XCTAssertThrowsError(try TargetSurrogateOptimizer(innerSteps: -1))
    }
}
