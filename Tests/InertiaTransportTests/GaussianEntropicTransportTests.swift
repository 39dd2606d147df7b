import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaTransport

/// The Gaussian entropic OT plan and the Bures–Wasserstein distance against
/// `shared/fixtures/light-schrodinger-bridge/fixtures.json` and `light-schrodinger-bridge.md` 6.
final class GaussianEntropicTransportTests: XCTestCase {
    func testPlanMatchesTheFixture() throws {
        let file = try fixture("light-schrodinger-bridge", "fixtures.json")
        let block = try XCTUnwrap(file["gaussian_eot"] as? [String: Any])
        let m0 = doubles(block["m0"]), m1 = doubles(block["m1"]), a = matrix64(block["A"]), b = matrix64(block["B"])
        let cases = try XCTUnwrap(block["cases"] as? [[String: Any]])
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let epsilon = (c["eps"] as! NSNumber).doubleValue
            let plan = GaussianEntropicPlan(
                sourceMean: m0, sourceCovariance: a, targetMean: m1, targetCovariance: b, epsilon: epsilon)
            let label = "eps = \(epsilon)"
            XCTAssertLessThan(
                maxDifference(plan.crossCovariance.scalars, matrix64(c["cross_cov_C"]).scalars), 1e-9, label)
            XCTAssertLessThan(maxDifference(plan.gain.scalars, matrix64(c["K"]).scalars), 1e-9, label)
            XCTAssertLessThan(
                maxDifference(plan.conditionalCovariance.scalars, matrix64(c["cond_cov"]).scalars), 1e-9, label)
            XCTAssertLessThan(maxDifference(plan.bridgeScale.scalars, matrix64(c["lightsb_S"]).scalars), 1e-9, label)
            XCTAssertLessThan(maxDifference(plan.bridgeMean, doubles(c["lightsb_r"])), 1e-9, label)
            // Invariant 1: the fixed point K = Σ/ε.
            XCTAssertLessThan(maxDifference(plan.gain.scalars, plan.bridgeScale.scalars), 1e-12 * 10, label)
        }
        for c in try XCTUnwrap(file["gaussian_eot_1d"] as? [[String: Any]]) {
            let number = { (key: String) in (c[key] as! NSNumber).doubleValue }
            let plan = GaussianEntropicPlan(
                sourceMean: [0], sourceCovariance: Matrix64(rows: 1, columns: 1, scalars: [number("a")]),
                targetMean: [0], targetCovariance: Matrix64(rows: 1, columns: 1, scalars: [number("b")]),
                epsilon: number("eps"))
            XCTAssertEqual(plan.crossCovariance[0, 0], number("c"), accuracy: 1e-12)
        }
        let bw = try XCTUnwrap(file["bw2_squared"] as? [String: Any])
        XCTAssertEqual(
            buresWassersteinSquared(doubles(bw["m1"]), matrix64(bw["C1"]), doubles(bw["m2"]), matrix64(bw["C2"])),
            (bw["value"] as! NSNumber).doubleValue, accuracy: 1e-9)
    }

    /// Invariant 2: as ε → 0 the conditional covariance vanishes and K A K → B (the Monge map);
    /// as ε → ∞ the gain vanishes (the independent coupling).
    func testLimits() {
        let a = Matrix64(rows: 2, columns: 2, scalars: [1.5, 0.3, 0.3, 0.8])
        let b = Matrix64(rows: 2, columns: 2, scalars: [0.6, -0.2, -0.2, 1.9])
        let sharp = GaussianEntropicPlan(
            sourceMean: [0, 0], sourceCovariance: a, targetMean: [1, 1], targetCovariance: b, epsilon: 1e-6)
        XCTAssertLessThan(sharp.conditionalCovariance.scalars.map(Swift.abs).max()!, 1e-5)
        XCTAssertLessThan(maxDifference((sharp.gain * a * sharp.gain.transposed).scalars, b.scalars), 1e-5)
        let flat = GaussianEntropicPlan(
            sourceMean: [0, 0], sourceCovariance: a, targetMean: [1, 1], targetCovariance: b, epsilon: 1e6)
        XCTAssertLessThan(flat.gain.scalars.map(Swift.abs).max()!, 1e-5)
        XCTAssertLessThan(maxDifference(flat.conditionalCovariance.scalars, b.scalars), 1e-5)
    }

    /// BW² of a Gaussian with itself is 0; of two commuting diagonals it is the sum of the 1-D terms.
    func testBuresWassersteinClosedForms() {
        let c = Matrix64(rows: 2, columns: 2, scalars: [2, 0.5, 0.5, 1])
        XCTAssertEqual(buresWassersteinSquared([1, 2], c, [1, 2], c), 0, accuracy: 1e-12)
        let d1 = Matrix64(rows: 2, columns: 2, scalars: [4, 0, 0, 1]),
            d2 = Matrix64(rows: 2, columns: 2, scalars: [1, 0, 0, 9])
        XCTAssertEqual(buresWassersteinSquared([0, 0], d1, [1, 0], d2), 1 + 1 + 4, accuracy: 1e-12)
    }
}
