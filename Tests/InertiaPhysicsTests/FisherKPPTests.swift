import Foundation
import InertiaTensor
import XCTest

@testable import InertiaPhysics

final class FisherKPPTests: XCTestCase {
    /// Without reaction a Fourier mode decays at the discrete Laplacian's rate; without diffusion a
    /// uniform state follows the logistic curve.
    func testReferenceAgainstClosedForms() {
        let diffusion = FisherKPP(diffusivity: 0.01, growthRate: 0)
        let mode = 3.0
        let initial = diffusion.positions.map { 0.5 * Foundation.cos(2 * Double.pi * mode * $0) }
        let field = diffusion.reference(from: initial)
        let h = diffusion.spacing
        let rate = diffusion.diffusivity * (2 - 2 * Foundation.cos(2 * Double.pi * mode * h)) / (h * h)
        for (a, t) in diffusion.gridTimes.enumerated() {
            for j in [0, 5, 40] {
                XCTAssertEqual(field[a * diffusion.points + j], initial[j] * Foundation.exp(-rate * t), accuracy: 1e-12)
            }
        }
        let logistic = FisherKPP(diffusivity: 0.01, growthRate: 5)
        let c = 0.3
        let uniform = logistic.reference(from: [Double](repeating: c, count: logistic.points))
        for (a, t) in logistic.gridTimes.enumerated() {
            let e = Foundation.exp(5 * t)
            XCTAssertEqual(uniform[a * logistic.points + 7], c * e / (1 - c + c * e), accuracy: 1e-12)
        }
    }

    /// The time differences are exact for quadratics in t, the periodic second difference for a
    /// discrete Fourier mode; the residual form's value and derivatives match the residual.
    func testFiniteDifferencesAndTheResidualForm() {
        let problem = FisherKPP(times: 7)
        var u = [Double](repeating: 0, count: problem.times * problem.points)
        for (a, t) in problem.gridTimes.enumerated() {
            for (j, x) in problem.positions.enumerated() {
                u[a * problem.points + j] = (1 + 2 * t + 3 * t * t) * 0.1 * Foundation.sin(2 * Double.pi * 2 * x)
            }
        }
        let residual = problem.residual(u)
        let h = problem.spacing
        let eigen = -(2 - 2 * Foundation.cos(2 * Double.pi * 2 * h)) / (h * h)
        for (a, t) in problem.gridTimes.enumerated() {
            for (j, x) in problem.positions.enumerated() where j % 9 == 0 {
                let s = 0.1 * Foundation.sin(2 * Double.pi * 2 * x)
                let value = (1 + 2 * t + 3 * t * t) * s
                let expected = (2 + 6 * t) * s - 0.01 * eigen * value - 5 * value * (1 - value)
                XCTAssertEqual(residual[a * problem.points + j], expected, accuracy: 1e-10)
            }
        }
        let form = problem.residualForm
        let z = SIMD4(0.3, -0.2, 1.5, 0)
        let (value, gradient) = form.evaluate(z)
        XCTAssertEqual(value, -0.2 - 0.01 * 1.5 - 5 * 0.3 * 0.7, accuracy: 1e-15)
        for k in 0..<3 {
            var plus = z, minus = z
            plus[k] += 1e-6
            minus[k] -= 1e-6
            XCTAssertEqual(gradient[k], (form.evaluate(plus).value - form.evaluate(minus).value) / 2e-6, accuracy: 1e-8)
        }
    }

    func testInitialConditionsAreScaledIntoTheRange() {
        let problem = FisherKPP()
        var rng = PhiloxGenerator(seed: 3)
        for _ in 0..<5 {
            let u0 = problem.initialCondition(using: &rng)
            XCTAssertEqual(u0.max()!, 0.8, accuracy: 1e-15)
            XCTAssertGreaterThanOrEqual(u0.min()!, 0)
        }
    }
}
