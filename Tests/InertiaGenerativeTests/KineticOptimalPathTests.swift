import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

/// Kinetic-optimal paths against `shared/fixtures/kinetic-optimal-paths/ko.json` (spec 6) and the
/// spec's closed-form limits.
final class KineticOptimalPathTests: XCTestCase {
    func testGaussHermiteIntegratesNormalMoments() {
        let (z, w) = DataSeparation.gaussHermite(20)
        func moment(_ k: Double) -> Double { zip(z, w).reduce(0) { $0 + $1.1 * Foundation.pow($1.0, k) } }
        XCTAssertEqual(moment(0), 1, accuracy: 1e-13)
        XCTAssertEqual(moment(2), 1, accuracy: 1e-12)
        XCTAssertEqual(moment(4), 3, accuracy: 1e-11)
        XCTAssertEqual(moment(6), 15, accuracy: 1e-9)
        XCTAssertEqual(moment(3), 0, accuracy: 1e-12)
    }

    /// λ, Φ, the Cond-OT and KO energies and the KO schedule of both fixture data sets.
    func testSeparationAnglesEnergiesAndScheduleMatchTheFixture() throws {
        let sets = try XCTUnwrap(fixture("kinetic-optimal-paths", "ko.json")["datasets"] as? [String: [String: Any]])
        XCTAssertEqual(sets.count, 2)
        for (name, set) in sets {
            let d = (set["d"] as! NSNumber).intValue
            let points: [[Double]]
            if let rows = set["points"] as? [[NSNumber]] {
                points = rows.map { $0.map(\.doubleValue) }
            } else {
                // "8 points sqrt(2)*(cos(2 pi k/8), sin(2 pi k/8)), k=0..7"
                let text = try XCTUnwrap(set["points"] as? String)
                XCTAssertTrue(text.hasPrefix("8 points sqrt(2)*(cos(2 pi k/8), sin(2 pi k/8))"), text)
                points = (0..<8).map { k in
                    let a = 2 * Double.pi * Double(k) / 8
                    return [Double(2).squareRoot() * Foundation.cos(a), Double(2).squareRoot() * Foundation.sin(a)]
                }
            }
            XCTAssertEqual(points[0].count, d, name)
            let lambda = DataSeparation.quadrature(points: points, nodes: d == 1 ? 80 : 60)
            for (s, expected) in try XCTUnwrap(set["lam"] as? [String: NSNumber]) {
                XCTAssertEqual(lambda(Double(s)!), expected.doubleValue, accuracy: 1e-6, "\(name) λ(\(s))")
            }
            let path = KineticOptimalPath(dimension: d, separation: lambda)
            let phi = (set["Phi"] as! NSNumber).doubleValue
            XCTAssertEqual(path.totalAngle, phi, accuracy: 1e-5 * phi, name)
            XCTAssertEqual(path.kineticEnergy, (set["KE_KO"] as! NSNumber).doubleValue, accuracy: 1e-5, name)
            let condOT = KineticOptimalPath.kineticEnergy(
                dimension: d, steps: 4000, separation: lambda, path: KineticOptimalPath.conditionalOptimalTransport)
            XCTAssertEqual(condOT, (set["KE_condOT"] as! NSNumber).doubleValue, accuracy: 1e-5, name)
            let times = doubles(set["ko_t"]), sigmas = doubles(set["ko_sigma"]), alphas = doubles(set["ko_alpha"])
            for (k, t) in times.enumerated() {
                let p = path.schedule(at: t)
                XCTAssertEqual(p.sigma, sigmas[k], accuracy: 1e-4, "\(name) σ(\(t))")
                XCTAssertEqual(p.alpha, alphas[k], accuracy: 1e-4, "\(name) α(\(t))")
            }
        }
    }

    /// λ ≡ 1 makes Cond-OT kinetic optimal (Φ = π/2, KE = 2d); Gaussian data (λ = s²/(1 + s²)) has
    /// κ ≡ 0, Φ = 0 and Cond-OT's KE is d(2 − π/2).
    func testClosedFormLimits() throws {
        let separated = KineticOptimalPath(dimension: 3) { _ in 1 }
        XCTAssertEqual(separated.totalAngle, Double.pi / 2, accuracy: 1e-12)
        XCTAssertEqual(separated.kineticEnergy, 6, accuracy: 1e-12)
        for t in [0.1, 0.5, 0.9] {
            let p = separated.schedule(at: t)
            XCTAssertEqual(p.sigma, 1 - t, accuracy: 1e-6)
            XCTAssertEqual(p.alpha, t, accuracy: 1e-6)
        }
        let gaussian: (Double) -> Double = { s in s * s / (1 + s * s) }
        // κ ≡ 0 but for the grid's last angle, where the spec sets κ = 1 (s = ∞): Φ is one half
        // trapezoid, (π/2)/(2·2000).
        XCTAssertEqual(
            KineticOptimalPath(dimension: 2, separation: gaussian).totalAngle, Double.pi / 8000, accuracy: 1e-7)
        let f = try fixture("kinetic-optimal-paths", "ko.json")["gaussian_data_closed_form"] as! [String: Any]
        let condOT = KineticOptimalPath.kineticEnergy(
            dimension: 1, steps: 20_000, separation: gaussian, path: KineticOptimalPath.conditionalOptimalTransport)
        XCTAssertEqual(condOT, (f["KE_condOT_over_d"] as! NSNumber).doubleValue, accuracy: 1e-6)
        XCTAssertEqual(condOT, 2 - Double.pi / 2, accuracy: 1e-6)
    }

    /// The KO path's own energy by the formula equals 2d(1 − cos Φ); perturbing its angle raises
    /// the energy, and so does Cond-OT's path (twice the optimum here); the polar formula with the
    /// same κ gives the same energies.
    func testTheOptimalPathIsOptimal() {
        let lambda = DataSeparation.quadrature(points: [[-1], [1]], nodes: 80)
        let path = KineticOptimalPath(dimension: 1, separation: lambda)
        let along = KineticOptimalPath.kineticEnergy(
            dimension: 1, steps: 20_000, separation: lambda, path: { path.schedule(at: $0) })
        XCTAssertEqual(along, path.kineticEnergy, accuracy: 1e-5 * path.kineticEnergy)
        for amplitude in [-0.02, 0.02, 0.05] {
            let perturbed = KineticOptimalPath.kineticEnergy(
                dimension: 1, steps: 20_000, separation: lambda,
                path: { path.schedule(at: $0, perturbation: amplitude) })
            XCTAssertGreaterThan(perturbed, path.kineticEnergy * 1.001, "amplitude \(amplitude)")
        }
        let condOT = KineticOptimalPath.kineticEnergy(
            dimension: 1, steps: 4000, separation: lambda, path: KineticOptimalPath.conditionalOptimalTransport)
        XCTAssertGreaterThan(condOT, 2 * path.kineticEnergy)
        XCTAssertEqual(
            path.polarKineticEnergy(steps: 20_000, path: { path.schedule(at: $0) }), path.kineticEnergy,
            accuracy: 1e-4 * path.kineticEnergy)
        XCTAssertEqual(
            path.polarKineticEnergy(steps: 4000, path: KineticOptimalPath.conditionalOptimalTransport), condOT,
            accuracy: 1e-3 * condOT)
    }

    /// Monte-Carlo λ with common random numbers agrees with quadrature, and is 0 at s = 0 for
    /// centred data and 1 at s = ∞.
    func testMonteCarloSeparationAgreesWithQuadrature() {
        let points: [[Double]] = [[-1], [1]]
        let exact = DataSeparation.quadrature(points: points, nodes: 80)
        var rng = PhiloxGenerator(seed: 5)
        let sampled = DataSeparation.monteCarlo(points: points, samples: 20_000, using: &rng)
        for s in [0.25, 0.5, 1, 2] { XCTAssertEqual(sampled(s), exact(s), accuracy: 0.02, "s = \(s)") }
        XCTAssertEqual(exact(0), 0, accuracy: 1e-12)
        XCTAssertEqual(sampled(.infinity), 1)
    }
}
