import Foundation
import XCTest
import InertiaTensor
@testable import InertiaGenerative
import InertiaTestSupport

/// Stochastic interpolants against `shared/fixtures/stochastic-interpolants` (exact Gaussian fields).
final class StochasticInterpolantTests: XCTestCase {
    func testGaussianFieldsMatchTheFixture() throws {
        let f = try fixture("stochastic-interpolants", "gaussian_fields.json")
        let m0 = doubles(f["m0"]), m1 = doubles(f["m1"]), c0 = matrix64(f["C0"]), c1 = matrix64(f["C1"])
        let interpolants: [String: StochasticInterpolant] = [
            "linear_brownian": .init(path: .linear, noise: .brownian(scale: 1)),
            "linear_bsquared": .init(path: .linear, noise: .squared),
            "one_sided_linear": .init(path: .oneSidedLinear, noise: .zero),
        ]
        for c in f["cases"] as! [[String: Any]] {
            let interpolant = try XCTUnwrap(interpolants[c["interpolant"] as! String])
            let t = (c["t"] as! NSNumber).doubleValue
            let fields = interpolant.gaussianFields(m0: m0, c0: c0, m1: m1, c1: c1, t: t, x: doubles(c["x"]))
            let label = "\(c["interpolant"]!) t=\(t)"
            XCTAssertLessThan(maxDifference(fields.mean, doubles(c["mean"])), 1e-8, label)
            XCTAssertLessThan(maxDifference(fields.covariance.scalars, matrix64(c["cov"]).scalars), 1e-8, label)
            XCTAssertLessThan(maxDifference(fields.v, doubles(c["v"])), 1e-8, label)
            XCTAssertLessThan(maxDifference(fields.score, doubles(c["s"])), 1e-8, label)
            XCTAssertLessThan(maxDifference(fields.drift, doubles(c["b"])), 1e-8, label)
            XCTAssertLessThan(maxDifference(fields.noiseDenoiser, doubles(c["eta_z"])), 1e-8, label)
        }
    }

    func testCatalogueEndpointsAndTheOneSidedTrigIsVPDiffusionReversed() {
        for noise in [StochasticInterpolant.Noise.brownian(scale: 1), .squared, .sineSquared] {
            XCTAssertEqual(noise.gamma(0), 0, accuracy: 1e-15)
            XCTAssertEqual(noise.gamma(1), 0, accuracy: 1e-15)
            // γγ̇ against a central difference of γ²/2.
            let t = 0.3, h = 1e-6
            XCTAssertEqual(noise.gammaTimesDerivative(t), (Foundation.pow(noise.gamma(t + h), 2) - Foundation.pow(noise.gamma(t - h), 2)) / (4 * h), accuracy: 1e-6)
        }
        let trig = StochasticInterpolant(path: .trig, noise: .brownian(scale: 0.5))
        let c0 = trig.coefficients(0), c1 = trig.coefficients(1)
        XCTAssertEqual(c0.a, 1, accuracy: 1e-12)
        XCTAssertEqual(c0.b, 0, accuracy: 1e-12)
        XCTAssertEqual(c1.a, 0, accuracy: 1e-12)
        XCTAssertEqual(c1.b, 1, accuracy: 1e-12)
        let t = 0.4, h = 1e-6
        XCTAssertEqual(trig.coefficients(t).aDot, (trig.coefficients(t + h).a - trig.coefficients(t - h).a) / (2 * h), accuracy: 1e-6)
        // One-sided trig at t is the trig diffusion schedule at 1 − t: a = σ(1 − t), b = α(1 − t).
        let oneSided = StochasticInterpolant(path: .oneSidedTrig, noise: .zero).coefficients(0.3)
        XCTAssertEqual(oneSided.a, DiffusionSchedule.trig.sigma(0.7), accuracy: 1e-12)
        XCTAssertEqual(oneSided.b, DiffusionSchedule.trig.alpha(0.7), accuracy: 1e-12)
    }
}
