import Foundation
import InertiaTensor
import XCTest

@testable import InertiaParticles

/// The Gaussian process against closed forms and finite differences.
final class GaussianProcessTests: XCTestCase {
    func sample(_ count: Int, seed: UInt64) -> (Matrix64, [Double]) {
        var rng = PhiloxGenerator(seed: seed)
        let x = Matrix64(rows: count, columns: 2, scalars: (0..<(2 * count)).map { _ in rng.nextDouble() })
        let y = (0..<count).map { sin(6 * x[$0, 0]) + x[$0, 1] * x[$0, 1] }
        return (x, y)
    }

    func testOnePointPosteriorIsTheClosedForm() throws {
        let h = GaussianProcess.Hyperparameters(mean: 0.5, outputScale: 2, lengthScales: [0.3, 0.7], noise: 0.1)
        let gp = try GaussianProcess(
            inputs: Matrix64(rows: 1, columns: 2, scalars: [0.2, 0.4]), targets: [1.5], hyperparameters: h)
        let x = Matrix64(rows: 1, columns: 2, scalars: [0.5, 0.1])
        let r = ((0.3 / 0.3) * (0.3 / 0.3) + (0.3 / 0.7) * (0.3 / 0.7)).squareRoot()
        let k = 2 * (1 + sqrt(5) * r + 5 * r * r / 3) * exp(-sqrt(5) * r)
        let p = gp.predict(x)[0]
        XCTAssertEqual(p.mean, 0.5 + k / 2.1 * 1.0, accuracy: 1e-12)
        XCTAssertEqual(p.variance, 2 - k * k / 2.1, accuracy: 1e-12)
    }

    func testMarginalLikelihoodGradientMatchesFiniteDifferences() throws {
        let (x, y) = sample(12, seed: 1)
        let h = GaussianProcess.Hyperparameters(mean: 0.3, outputScale: 0.8, lengthScales: [0.4, 0.9], noise: 0.05)
        let analytic = try GaussianProcess.logMarginalLikelihood(inputs: x, targets: y, hyperparameters: h).gradient
        let raw = h.raw
        for k in raw.indices {
            var up = raw, down = raw
            up[k] += 1e-6
            down[k] -= 1e-6
            let plus = try GaussianProcess.logMarginalLikelihood(inputs: x, targets: y, hyperparameters: .init(raw: up))
                .value
            let minus = try GaussianProcess.logMarginalLikelihood(
                inputs: x, targets: y, hyperparameters: .init(raw: down)
            ).value
            XCTAssertEqual(analytic[k], (plus - minus) / 2e-6, accuracy: 1e-6, "coordinate \(k)")
        }
    }

    func testPredictionGradientsMatchFiniteDifferences() throws {
        let (x, y) = sample(10, seed: 2)
        let gp = try GaussianProcess(
            inputs: x, targets: y,
            hyperparameters: .init(mean: 0, outputScale: 1.3, lengthScales: [0.5, 0.8], noise: 1e-3))
        let point = [0.37, 0.61]
        let p = gp.predict(Matrix64(rows: 1, columns: 2, scalars: point), gradients: true)[0]
        for k in 0..<2 {
            var up = point, down = point
            up[k] += 1e-6
            down[k] -= 1e-6
            let plus = gp.predict(Matrix64(rows: 1, columns: 2, scalars: up))[0],
                minus = gp.predict(Matrix64(rows: 1, columns: 2, scalars: down))[0]
            XCTAssertEqual(p.meanGradient[k], (plus.mean - minus.mean) / 2e-6, accuracy: 1e-6)
            XCTAssertEqual(p.varianceGradient[k], (plus.variance - minus.variance) / 2e-6, accuracy: 1e-6)
        }
    }

    func testFittingRaisesTheLikelihoodAndPredictsHeldOutPoints() throws {
        let (x, y) = sample(40, seed: 3)
        let gp = try GaussianProcess.fit(inputs: x, targets: y, iterations: 100, learningRate: 0.1)
        let start = GaussianProcess.Hyperparameters(
            mean: y.reduce(0, +) / 40, outputScale: 1, lengthScales: [log(2), log(2)], noise: 0.01)
        let before = try GaussianProcess.logMarginalLikelihood(inputs: x, targets: y, hyperparameters: start).value
        let after = try GaussianProcess.logMarginalLikelihood(
            inputs: x, targets: y, hyperparameters: gp.hyperparameters
        ).value
        XCTAssertGreaterThan(after, before + 0.5)
        XCTAssertGreaterThanOrEqual(gp.hyperparameters.noise, GaussianProcess.minimumNoise)
        let (test, truth) = sample(50, seed: 4)
        let predictions = gp.predict(test)
        let rmse = (zip(predictions, truth).reduce(0) { $0 + ($1.0.mean - $1.1) * ($1.0.mean - $1.1) } / 50)
            .squareRoot()
        XCTAssertLessThan(rmse, 0.05)
        // Near the data the posterior is confident; far away it returns to the prior.
        XCTAssertLessThan(
            gp.predict(Matrix64(rows: 1, columns: 2, scalars: [x[0, 0], x[0, 1]]))[0].variance,
            1e-2 * gp.hyperparameters.outputScale)
        let far = gp.predict(Matrix64(rows: 1, columns: 2, scalars: [40, -40]))[0]
        XCTAssertEqual(far.variance, gp.hyperparameters.outputScale, accuracy: 1e-9)
        XCTAssertEqual(far.mean, gp.hyperparameters.mean, accuracy: 1e-9)
    }
}
