import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaParticles

/// SVGD, ZDT and the hypervolume against `shared/fixtures/svh-psl` and the invariants of its spec (6).
final class SteinVariationalGradientDescentTests: XCTestCase {
    func testOneStepMatchesTheFixture() throws {
        let f = try fixture("svh-psl", "svh_fixtures.json")["svgd"] as! [String: Any]
        let x = matrix64(f["X"])
        let svgd = SteinVariationalGradientDescent(step: .constant((f["step_size"] as! NSNumber).doubleValue))
        let scores = x * -1  // standard normal: ∇log p(x) = −x
        let (phi, kernel, h) = svgd.direction(x, scores: scores)
        XCTAssertEqual(h, (f["h"] as! NSNumber).doubleValue, accuracy: 1e-12)
        XCTAssertLessThan(maxDifference(kernel.scalars, matrix64(f["kernel_matrix"]).scalars), 1e-12)
        XCTAssertLessThan(maxDifference(phi.scalars, matrix64(f["phi"]).scalars), 1e-12)
        let next = svgd.sample(from: x, steps: 1) { $0 * -1 }.particles
        XCTAssertLessThan(maxDifference(next.scalars, matrix64(f["X_next"]).scalars), 1e-12)
        // The repulsive term sums to zero over particles: with zero scores, Σ_i φ_i = 0.
        let repulsion = svgd.direction(x, scores: Matrix64(rows: x.rows, columns: x.columns)).phi
        for k in 0..<x.columns {
            XCTAssertEqual((0..<x.rows).reduce(0.0) { $0 + repulsion[$1, k] }, 0, accuracy: 1e-12)
        }
        // Permutation equivariance.
        let order = Array((0..<x.rows).reversed())
        let permuted = Matrix64(
            rows: x.rows, columns: x.columns, scalars: order.flatMap { i in (0..<x.columns).map { x[i, $0] } })
        let phiPermuted = svgd.direction(permuted, scores: permuted * -1).phi
        for (row, source) in order.enumerated() {
            for k in 0..<x.columns { XCTAssertEqual(phiPermuted[row, k], phi[source, k], accuracy: 1e-12) }
        }
    }

    func testSingleParticleIsGradientAscentAndAutodiffScoresAgree() {
        let svgd = SteinVariationalGradientDescent(step: .constant(0.1))
        let start = Matrix64(rows: 1, columns: 2, scalars: [1, -2])
        let moved = svgd.sample(from: start, steps: 1) { $0 * -1 }.particles
        XCTAssertEqual(moved.scalars, [0.9, -1.8])
        // A Gaussian log density through autodiff gives −(x − μ)/σ².
        let score = SteinVariationalGradientDescent.score { x in
            -0.5 * ((x - Tensor([1, 2])) * (x - Tensor([1, 2]))).sum() / 4
        }
        let points = Matrix64(rows: 2, columns: 2, scalars: [0, 0, 3, -1])
        let g = score(points)
        XCTAssertLessThan(maxDifference(g.scalars, [0.25, 0.5, -0.5, 0.75]), 1e-6)
    }

    func testRecoversAOneDimensionalStandardNormal() {
        var rng = PhiloxGenerator(seed: 1)
        let start = Matrix64(rows: 200, columns: 1, scalars: (0..<200).map { _ in 5 + 0.5 * rng.nextNormal() })
        let result = SteinVariationalGradientDescent(step: .constant(0.05)).sample(from: start, steps: 2000) { $0 * -1 }
        let values = result.particles.scalars
        let mean = values.reduce(0, +) / 200
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 200
        XCTAssertEqual(mean, 0, accuracy: 0.1)
        XCTAssertEqual(variance, 1, accuracy: 0.2)
        XCTAssertEqual(result.bandwidths.count, 2000)
    }

    /// A correlated 2-D Gaussian N(μ, Σ), Σ = [[1, 0.6], [0.6, 0.5]], with Liu's AdaGrad steps:
    /// the particles' mean and covariance approach the target's.
    func testRecoversACorrelatedTwoDimensionalGaussian() {
        let mu = [1.0, -2.0]
        // Σ⁻¹ of [[1, 0.6], [0.6, 0.5]] (determinant 0.14).
        let precision = Matrix64(rows: 2, columns: 2, scalars: [0.5 / 0.14, -0.6 / 0.14, -0.6 / 0.14, 1 / 0.14])
        var rng = PhiloxGenerator(seed: 2)
        let start = Matrix64(rows: 100, columns: 2, scalars: (0..<200).map { _ in rng.nextNormal() })
        let score = { (x: Matrix64) -> Matrix64 in
            var g = x
            for i in 0..<x.rows {
                let r0 = x[i, 0] - mu[0], r1 = x[i, 1] - mu[1]
                g[i, 0] = -(precision[0, 0] * r0 + precision[0, 1] * r1)
                g[i, 1] = -(precision[1, 0] * r0 + precision[1, 1] * r1)
            }
            return g
        }
        let particles = SteinVariationalGradientDescent(step: .adagrad(stepSize: 0.05, alpha: 0.9)).sample(
            from: start, steps: 2000, score: score
        ).particles
        let n = Double(particles.rows)
        let mean = (0..<2).map { j in (0..<particles.rows).reduce(0.0) { $0 + particles[$1, j] } / n }
        func covariance(_ j: Int, _ k: Int) -> Double {
            (0..<particles.rows).reduce(0.0) { $0 + (particles[$1, j] - mean[j]) * (particles[$1, k] - mean[k]) } / n
        }
        XCTAssertLessThan(maxDifference(mean, mu), 0.1)
        XCTAssertLessThan(maxDifference([covariance(0, 0), covariance(0, 1), covariance(1, 1)], [1, 0.6, 0.5]), 0.15)
    }

    func testZDTAndHypervolumeMatchTheFixtureAndTheInvariants() throws {
        let f = try fixture("svh-psl", "svh_fixtures.json")
        let zdt = f["zdt"] as! [String: Any]
        let points = (zdt["x_n30"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        for problem in MultiObjective.ZDT.allCases {
            let expected = matrix64(zdt["zdt\(problem.rawValue)"])
            for (i, x) in points.enumerated() {
                let (f1, f2) = MultiObjective.zdt(problem, x)
                XCTAssertEqual(f1, expected[i, 0], accuracy: 1e-12)
                XCTAssertEqual(f2, expected[i, 1], accuracy: 1e-12)
            }
        }
        let hv = f["hypervolume_2d"] as! [String: Any]
        let y = (hv["Y"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        let reference = doubles(hv["ref"])
        XCTAssertEqual(
            MultiObjective.hypervolume(y, reference: reference), (hv["hv"] as! NSNumber).doubleValue, accuracy: 1e-12)
        // Monotone; a dominated point changes nothing.
        XCTAssertGreaterThanOrEqual(
            MultiObjective.hypervolume(y + [[0.05, 0.05]], reference: reference),
            MultiObjective.hypervolume(y, reference: reference))
        XCTAssertEqual(
            MultiObjective.hypervolume(y + [[1.05, 1.05]], reference: reference),
            MultiObjective.hypervolume(y, reference: reference), accuracy: 1e-15)
        // The ZDT1 true front f2 = 1 − sqrt(f1), densely sampled, against the fixture's value at
        // the reference point its key names (`zdt1_true_front_hv_ref_<r>`: (r, r)).
        let frontKey = try XCTUnwrap(f.keys.first { $0.hasPrefix("zdt1_true_front_hv_ref_") })
        let frontReference = try XCTUnwrap(Double(frontKey.dropFirst("zdt1_true_front_hv_ref_".count)))
        let front = (0...20_000).map { i -> [Double] in
            let f1 = Double(i) / 20_000
            return [f1, 1 - f1.squareRoot()]
        }
        XCTAssertEqual(
            MultiObjective.hypervolume(front, reference: [frontReference, frontReference]),
            (f[frontKey] as! NSNumber).doubleValue, accuracy: 1e-4)
        // 3-D by inclusion-exclusion: three boxes of volume 2 up to (2, 2, 2), each pair and all three
        // overlapping in the unit cube [1, 2]³: 6 − 3 + 1 = 4.
        let three = MultiObjective.hypervolume([[0, 1, 1], [1, 0, 1], [1, 1, 0]], reference: [2, 2, 2])
        XCTAssertEqual(three, 4, accuracy: 1e-12)
    }
}
