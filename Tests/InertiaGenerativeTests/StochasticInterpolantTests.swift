import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

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

    /// Every path of the catalogue (2.8): the coefficients' derivatives match central differences,
    /// so the Gaussian fields move the mean by ṁ and the covariance by 2(aȧC0 + bḃC1 + γγ̇I), the
    /// rate the drift `ṁ + (aȧC0 + bḃC1 + γγ̇I)C⁻¹(x − m)` carries ρ_t at.
    func testEveryPathsFieldsCarryItsGaussianMarginals() {
        let m0 = [0.5, -1.0], m1 = [2.0, 0.3]
        let c0 = Matrix64(rows: 2, columns: 2, scalars: [1.0, 0.2, 0.2, 0.5])
        let c1 = Matrix64(rows: 2, columns: 2, scalars: [0.3, -0.1, -0.1, 0.8])
        let catalogue: [StochasticInterpolant] = [
            .init(path: .linear, noise: .brownian(scale: 1)), .init(path: .trig, noise: .squared),
            .init(path: .encodingDecoding, noise: .brownian(scale: 1)), .init(path: .mirror, noise: .sineSquared),
            .init(path: .oneSidedLinear, noise: .zero), .init(path: .oneSidedTrig, noise: .zero),
        ]
        for interpolant in catalogue {
            for t in [0.2, 0.45, 0.5, 0.55, 0.8] {
                let h = 1e-6
                let now = interpolant.gaussianLinearFields(m0: m0, c0: c0, m1: m1, c1: c1, t: t)
                let later = interpolant.gaussianLinearFields(m0: m0, c0: c0, m1: m1, c1: c1, t: t + h)
                let earlier = interpolant.gaussianLinearFields(m0: m0, c0: c0, m1: m1, c1: c1, t: t - h)
                let label = "\(interpolant.path) t=\(t)"
                // 1e-5: at t = 1/2 encoding-decoding's a and b meet at their minimum 0, where the
                // central difference is off by π²h|m1 − m0|/2.
                for i in 0..<2 {
                    XCTAssertEqual(
                        (later.mean[i] - earlier.mean[i]) / (2 * h), now.meanVelocity[i], accuracy: 1e-5, label)
                }
                let rate = now.cross.addingToDiagonal(interpolant.noise.gammaTimesDerivative(t))
                for k in 0..<4 {
                    XCTAssertEqual(
                        (later.covariance.scalars[k] - earlier.covariance.scalars[k]) / (2 * h), 2 * rate.scalars[k],
                        accuracy: 1e-6, label)
                }
            }
        }
        // Encoding-decoding passes through pure noise at t = 1/2; mirror starts and ends at the data.
        let encoding = StochasticInterpolant(path: .encodingDecoding, noise: .brownian(scale: 1))
        for (t, expected) in [(0.0, [1.0, 0, 0, 0]), (0.5, [0, 0, 0, 0]), (1, [0, 1, 0, 0])] {
            let c = encoding.coefficients(t)
            for (value, want) in zip([c.a, c.b, c.aDot, c.bDot], expected) {
                XCTAssertEqual(value, want, accuracy: 1e-14, "t=\(t)")
            }
        }
        let mirror = StochasticInterpolant(path: .mirror, noise: .brownian(scale: 1))
        let fields = mirror.gaussianFields(m0: m0, c0: c0, m1: m1, c1: c1, t: 0.3, x: [1, 1])
        XCTAssertEqual(fields.mean, m1)
        for i in 0..<2 {
            XCTAssertEqual(fields.drift[i], -mirror.noise.gammaTimesDerivative(0.3) * fields.score[i], accuracy: 1e-12)
        }
    }

    func testCatalogueEndpointsAndTheOneSidedTrigIsVPDiffusionReversed() {
        for noise in [StochasticInterpolant.Noise.brownian(scale: 1), .squared, .sineSquared] {
            XCTAssertEqual(noise.gamma(0), 0, accuracy: 1e-15)
            XCTAssertEqual(noise.gamma(1), 0, accuracy: 1e-15)
            // γγ̇ against a central difference of γ²/2.
            let t = 0.3, h = 1e-6
            XCTAssertEqual(
                noise.gammaTimesDerivative(t),
                (Foundation.pow(noise.gamma(t + h), 2) - Foundation.pow(noise.gamma(t - h), 2)) / (4 * h),
                accuracy: 1e-6)
        }
        let trig = StochasticInterpolant(path: .trig, noise: .brownian(scale: 0.5))
        let c0 = trig.coefficients(0), c1 = trig.coefficients(1)
        XCTAssertEqual(c0.a, 1, accuracy: 1e-12)
        XCTAssertEqual(c0.b, 0, accuracy: 1e-12)
        XCTAssertEqual(c1.a, 0, accuracy: 1e-12)
        XCTAssertEqual(c1.b, 1, accuracy: 1e-12)
        let t = 0.4, h = 1e-6
        XCTAssertEqual(
            trig.coefficients(t).aDot, (trig.coefficients(t + h).a - trig.coefficients(t - h).a) / (2 * h),
            accuracy: 1e-6)
        // One-sided trig at t is the trig diffusion schedule at 1 − t: a = σ(1 − t), b = α(1 − t).
        let oneSided = StochasticInterpolant(path: .oneSidedTrig, noise: .zero).coefficients(0.3)
        XCTAssertEqual(oneSided.a, DiffusionSchedule.trig.sigma(0.7), accuracy: 1e-12)
        XCTAssertEqual(oneSided.b, DiffusionSchedule.trig.alpha(0.7), accuracy: 1e-12)
    }

    /// Spec 6.2 and 6.4: at t = 0 the score is the base's and the drift is finite for brownian γ;
    /// the ODE, forward SDEs and backward SDEs with the exact fields have the same end laws.
    func testEndpointFieldsAndMarginalInvariance() {
        let m0 = [0.0, 0.0], m1 = [2.0, -1.0], c0 = Matrix64.identity(2),
            c1 = Matrix64(rows: 2, columns: 2, scalars: [0.5, 0.2, 0.2, 0.3])
        let interpolant = StochasticInterpolant(path: .linear, noise: .brownian(scale: 1))
        let x = [0.4, -0.7]
        let start = interpolant.gaussianFields(m0: m0, c0: c0, m1: m1, c1: c1, t: 0, x: x)
        XCTAssertEqual(start.score[0], -0.4, accuracy: 1e-12)
        XCTAssertEqual(start.score[1], 0.7, accuracy: 1e-12)
        XCTAssertTrue(start.drift.allSatisfy(\.isFinite))
        // The fields are affine in x at each t: b = ṁ + (K P + γγ̇ P)(x − m), s = −P(x − m).
        func field(_ t: Double, _ points: Matrix64, _ drift: Bool) -> Matrix64 {
            let time = Swift.min(Swift.max(t, 1e-6), 1 - 1e-6)
            let f = interpolant.gaussianLinearFields(m0: m0, c0: c0, m1: m1, c1: c1, t: time)
            let gain =
                drift
                ? f.cross * f.precision + f.precision * interpolant.noise.gammaTimesDerivative(time) : f.precision * -1
            let offset = drift ? f.meanVelocity : [0, 0]
            var out = points
            for i in 0..<points.rows {
                let r0 = points[i, 0] - f.mean[0], r1 = points[i, 1] - f.mean[1]
                out[i, 0] = offset[0] + gain[0, 0] * r0 + gain[0, 1] * r1
                out[i, 1] = offset[1] + gain[1, 0] * r0 + gain[1, 1] * r1
            }
            return out
        }
        let probe = [0.3, 1.1], fields = interpolant.gaussianFields(m0: m0, c0: c0, m1: m1, c1: c1, t: 0.4, x: probe)
        XCTAssertLessThan(
            maxDifference(field(0.4, Matrix64(rows: 1, columns: 2, scalars: probe), true).scalars, fields.drift), 1e-12)
        XCTAssertLessThan(
            maxDifference(field(0.4, Matrix64(rows: 1, columns: 2, scalars: probe), false).scalars, fields.score), 1e-12
        )
        func moments(_ p: Matrix64) -> [Double] {
            let n = Double(p.rows)
            let mean = (0..<2).map { j in (0..<p.rows).reduce(0.0) { $0 + p[$1, j] } / n }
            let cov = [(0, 0), (0, 1), (1, 1)].map { j, k in
                (0..<p.rows).reduce(0.0) { $0 + (p[$1, j] - mean[j]) * (p[$1, k] - mean[k]) } / n
            }
            return mean + cov
        }
        var rng = PhiloxGenerator(seed: 12)
        let n = 3000
        let base = Matrix64(rows: n, columns: 2, scalars: (0..<(2 * n)).map { _ in rng.nextNormal() })
        let l = try! Cholesky(c1).lower
        var target = Matrix64(rows: n, columns: 2)
        for i in 0..<n {
            let xi = [rng.nextNormal(), rng.nextNormal()]
            for j in 0..<2 { target[i, j] = m1[j] + l[j, 0] * xi[0] + l[j, 1] * xi[1] }
        }
        let forwardTruth = m1 + [0.5, 0.2, 0.3], backwardTruth = [0.0, 0, 1, 0, 1]
        for eps in [0.1, 0.5, 2.0] {
            let forward = StochasticInterpolant.integrateSDE(
                base, steps: 200, epsilon: eps, drift: { field($0, $1, true) },
                score: { field($0, $1, false) }, using: &rng)
            let backward = StochasticInterpolant.integrateBackwardSDE(
                target, steps: 200, epsilon: eps, drift: { field($0, $1, true) },
                score: { field($0, $1, false) }, using: &rng)
            XCTAssertLessThan(
                maxDifference(moments(forward), forwardTruth), 0.08, "forward eps \(eps): \(moments(forward))")
            XCTAssertLessThan(
                maxDifference(moments(backward), backwardTruth), 0.1, "backward eps \(eps): \(moments(backward))")
        }
    }
}
