import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

/// CFG-MP's projection against `shared/fixtures/cfg-manifold-projection/toy_vectors.json` (exact
/// flow-matching velocities of a Gaussian mixture, data at t = 1).
final class ManifoldProjectionTests: XCTestCase {
    func testFixedPointMapAndersonMixingAndEulerStepMatchTheFixture() throws {
        let f = try fixture("cfg-manifold-projection", "toy_vectors.json")
        let gmm = f["gmm"] as! [String: Any]
        let means = (gmm["means"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        let std = (gmm["std"] as! NSNumber).doubleValue, weights = doubles(gmm["weights"])
        let all = GaussianMixtureDenoiser(
            weights: weights, means: means, standardDeviations: [Double](repeating: std, count: means.count))
        // "component 0 only (weight 1)"
        let first = GaussianMixtureDenoiser(weights: [1], means: [means[0]], standardDeviations: [std])
        func velocity(_ mixture: GaussianMixtureDenoiser) -> ManifoldProjection.Velocity {
            { x, t in (mixture.posterior(x, alpha: t, sigma: 1 - t).data - x) * (1 / (1 - t)) }
        }
        let unconditional = velocity(all), conditional = velocity(first)
        let x = matrix64(f["x"])
        let t = (f["t"] as! NSNumber).doubleValue, dt = (f["dt"] as! NSNumber).doubleValue
        let w = (f["w"] as! NSNumber).doubleValue
        func assertClose(_ a: Matrix64, _ b: Any?, _ label: String) {
            XCTAssertLessThan(maxDifference(a.scalars, matrix64(b).scalars), 1e-12, label)
        }
        assertClose(unconditional(x, t), f["v_uncond"], "v_uncond")
        assertClose(conditional(x, t), f["v_cond"], "v_cond")
        let first1 = f["picard_G_iter1"] as! [String: Any]
        assertClose(x - unconditional(x, t) * (dt / 2), first1["x_half"], "x_half")
        let g1 = ManifoldProjection.fixedPointMap(
            x, t: t, dt: dt, unconditional: unconditional, conditional: conditional)
        assertClose(g1, first1["g"], "G iteration 1")
        let picard = ManifoldProjection(iterations: 2)
        assertClose(
            picard.project(x, t: t, dt: dt, unconditional: unconditional, conditional: conditional),
            (f["picard_G_iter2"] as! [String: Any])["g"], "G iteration 2")
        // Two evaluations, then one mix of [x, g1] and [g1, g2] per sample.
        let plus = ManifoldProjection(iterations: 2, anderson: ManifoldProjection.andersonMixing(memory: 1))
        let mixed = plus.project(x, t: t, dt: dt, unconditional: unconditional, conditional: conditional)
        XCTAssertLessThan(
            maxDifference(
                mixed.scalars, matrix64((f["anderson_m1_after_two_evals"] as! [String: Any])["x_next"]).scalars), 1e-9)
        assertClose(
            ManifoldProjection.guidedEulerStep(
                x, t: t, dt: dt, guidance: w, unconditional: unconditional, conditional: conditional),
            (f["cfg_euler_step"] as! [String: Any])["x_next"], "CFG Euler step")
        // No iterations leave the samples alone; a field without a gap is a fixed point.
        XCTAssertEqual(
            ManifoldProjection(iterations: 0).project(
                x, t: t, dt: dt, unconditional: unconditional, conditional: conditional
            ).scalars, x.scalars)
        let constant: ManifoldProjection.Velocity = { z, _ in
            Matrix64(rows: z.rows, columns: z.columns, scalars: [Double](repeating: 1, count: z.scalars.count))
        }
        let agreeing = ManifoldProjection.fixedPointMap(
            x, t: t, dt: dt, unconditional: constant, conditional: constant)
        XCTAssertLessThan(maxDifference(agreeing.scalars, x.scalars), 1e-15)
    }

    /// The sampler's invariants (spec 6): with K = 0 and w = 1 it is plain conditional Euler
    /// sampling; when both fields are one constant field the projection changes nothing; Picard
    /// is Anderson with window 0; and it makes `2N + 2K n_p` velocity evaluations.
    func testSamplerInvariants() {
        let ring = GaussianMixtureDenoiser.ring(count: 6, radius: 2, standardDeviation: 0.2)
        let conditionalMixture = ring.selecting([0, 2, 4])
        var calls = 0
        let unconditional: ManifoldProjection.Velocity = { x, t in
            calls += 1
            return ring.flowVelocity(x, t: t)
        }
        let conditional: ManifoldProjection.Velocity = { x, t in
            calls += 1
            return conditionalMixture.flowVelocity(x, t: t)
        }
        var rng = PhiloxGenerator(seed: 3)
        let noise = Matrix64(rows: 50, columns: 2, scalars: (0..<100).map { _ in rng.nextNormal() })
        let plain = ManifoldProjection(iterations: 0).sample(
            noise, steps: 8, guidance: 1, unconditional: unconditional, conditional: conditional)
        var euler = noise
        for i in 0..<8 { euler = euler + conditionalMixture.flowVelocity(euler, t: Double(i) / 8) * (1.0 / 8) }
        XCTAssertLessThan(maxDifference(plain.scalars, euler.scalars), 1e-12)

        calls = 0
        let picard = ManifoldProjection(iterations: 3).sample(
            noise, steps: 10, guidance: 4, threshold: 0.6, unconditional: unconditional, conditional: conditional)
        XCTAssertEqual(calls, 2 * 10 + 2 * 3 * 6, "2N + 2K n_p with n_p = 6 steps below t = 0.6")
        let windowZero = ManifoldProjection(
            iterations: 3, anderson: AndersonAcceleration(memory: 0, damping: 1, regularization: .none, restarts: false)
        ).sample(noise, steps: 10, guidance: 4, threshold: 0.6, unconditional: unconditional, conditional: conditional)
        XCTAssertLessThan(maxDifference(picard.scalars, windowZero.scalars), 1e-12)

        let drift: ManifoldProjection.Velocity = { x, _ in
            Matrix64(rows: x.rows, columns: 2, scalars: [Double](repeating: 0.5, count: 2 * x.rows))
        }
        let projected = ManifoldProjection(iterations: 2).project(
            noise, t: 0.3, dt: 0.1, unconditional: drift, conditional: drift)
        XCTAssertLessThan(maxDifference(projected.scalars, noise.scalars), 1e-15)
    }

    /// Mixture helpers the samplers use: a class's reweighted sub-mixture and draws whose moments
    /// match the mixture's.
    func testSelectingAndSamplingAMixture() {
        let mixture = GaussianMixtureDenoiser(
            weights: [0.2, 0.3, 0.5], means: [[0, 0], [4, 0], [0, 4]], standardDeviations: [0.5, 0.5, 0.5])
        let pair = mixture.selecting([1, 2])
        XCTAssertLessThan(maxDifference(pair.weights, [0.375, 0.625]), 1e-15, "0.3 and 0.5 over 0.8")
        XCTAssertEqual(pair.means, [[4, 0], [0, 4]])
        var rng = PhiloxGenerator(seed: 11)
        let draws = mixture.sample(40_000, using: &rng)
        let mean = (0..<2).map { j in (0..<draws.rows).reduce(0.0) { $0 + draws[$1, j] } / Double(draws.rows) }
        // E[x] = (1.2, 2.0); the standard error is about 0.01.
        XCTAssertEqual(mean[0], 1.2, accuracy: 0.05)
        XCTAssertEqual(mean[1], 2.0, accuracy: 0.05)
    }
}
