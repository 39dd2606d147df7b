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
}
