import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

/// The PFGM++ kernel against `shared/fixtures/pfgm-plus-plus/kernel.json` and the invariants of
/// `pfgm-plus-plus.md` 6.
final class PFGMKernelTests: XCTestCase {
    static func kernel(_ value: Any?) -> PFGMKernel {
        if let text = value as? String, text == "inf" { return .gaussian }
        return PFGMKernel(augmentation: (value as! NSNumber).doubleValue)
    }

    func testLogDensityAndAlignmentMatchTheFixture() throws {
        let file = try fixture("pfgm-plus-plus", "kernel.json")
        let cases = try XCTUnwrap(file["kernel_log_density"] as? [[String: Any]])
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let kernel = Self.kernel(c["D"]), r = (c["r"] as! NSNumber).doubleValue
            let sigma = r / kernel.augmentation!.squareRoot()
            XCTAssertEqual(kernel.radius(sigma: sigma), r, accuracy: 1e-12 * r)
            XCTAssertEqual(
                kernel.logDensity(doubles(c["x"]), around: doubles(c["y"]), sigma: sigma),
                (c["log_p"] as! NSNumber).doubleValue, accuracy: 1e-9, "N = \(doubles(c["x"]).count), D = \(c["D"]!)")
        }
        let alignment = try XCTUnwrap(file["alignment"] as? [[String: Any]])
        XCTAssertFalse(alignment.isEmpty)
        for c in alignment {
            let r = (c["r"] as! NSNumber).doubleValue
            XCTAssertEqual(
                Self.kernel(c["D"]).radius(sigma: (c["sigma"] as! NSNumber).doubleValue), r, accuracy: 1e-12 * r)
        }
    }

    /// Posterior weights, mean and ODE slope `(x − E[y|x])/σ` for three points, D from 1 to ∞.
    func testPosteriorOfThreePointsMatchesTheFixture() throws {
        let block = try XCTUnwrap(try fixture("pfgm-plus-plus", "kernel.json")["posterior_mean_3pts"] as? [String: Any])
        let rows = try XCTUnwrap(block["data"] as? [[NSNumber]]).map { $0.map(\.doubleValue) }
        let data = Matrix64(rows: rows.count, columns: rows[0].count, scalars: rows.flatMap { $0 })
        let cases = try XCTUnwrap(block["cases"] as? [[String: Any]])
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let kernel = Self.kernel(c["D"]), sigma = (c["sigma"] as! NSNumber).doubleValue, x = doubles(c["x"])
            let label = "D = \(c["D"]!), σ = \(sigma)"
            XCTAssertLessThan(
                maxDifference(kernel.posteriorWeights(x, sigma: sigma, data: data), doubles(c["weights"])), 1e-9, label)
            let mean = kernel.exactDenoiser(data: data)(Matrix64(rows: 1, columns: x.count, scalars: x), sigma).scalars
            XCTAssertLessThan(maxDifference(mean, doubles(c["posterior_mean"])), 1e-9, label)
            XCTAssertLessThan(
                maxDifference(zip(x, mean).map { ($0 - $1) / sigma }, doubles(c["dx_dsigma"])), 1e-9, label)
        }
    }

    /// Median and 99 % quantile of R/r from 10⁶ BetaPrime draws within 1 % of the exact ones (the
    /// 99 % quantile's standard error is about 0.25 % at the heaviest tail, N = 2, D = 4); the mean
    /// of R²/r² and the per-dimension spread sqrt(D/(D−2)) where R²/r² has a variance (D > 4).
    func testRadiusStatisticsMatchTheFixture() throws {
        let rows = try XCTUnwrap(try fixture("pfgm-plus-plus", "kernel.json")["radius_stats"] as? [[String: Any]])
        XCTAssertFalse(rows.isEmpty)
        var rng = PhiloxGenerator(seed: 3)
        for row in rows {
            let n = (row["N"] as! NSNumber).intValue, kernel = Self.kernel(row["D"]), d = kernel.augmentation!
            var ratios = (0..<1_000_000).map { _ in
                kernel.radiusRatio(dimension: n, form: .betaPrime(clip: nil), using: &rng)
            }
            let label = "N = \(n), D = \(d)"
            let meanSquare = ratios.reduce(0) { $0 + $1 * $1 } / Double(ratios.count)
            if d > 4 {
                let expected = (row["mean_R2_over_r2"] as! NSNumber).doubleValue
                XCTAssertEqual(meanSquare, expected, accuracy: 0.01 * expected, label)
                XCTAssertEqual(
                    (meanSquare * d / Double(n)).squareRoot(),
                    (row["sigma_aligned_rms_per_dim_over_sigma"] as! NSNumber).doubleValue, accuracy: 0.005, label)
            }
            ratios.sort()
            for (key, p) in [("median_R_over_r", 0.5), ("q99_R_over_r", 0.99)] {
                let expected = (row[key] as! NSNumber).doubleValue
                XCTAssertEqual(ratios[Int(p * Double(ratios.count))], expected, accuracy: 0.01 * expected, label + key)
            }
        }
    }

    /// The code's Beta form and the Student-t form (`x − y = σ ξ/sqrt(χ²_D/D)`, drawn whole) both
    /// give R's exact quantiles within 1 % on 10⁶ draws (spec 6's test).
    func testBothSamplersGiveTheExactRadiusQuantiles() throws {
        let block = try XCTUnwrap(
            try fixture("pfgm-plus-plus", "kernel.json")["sampler_equivalence_N16_D8_sigma1"] as? [String: Any])
        let probabilities = doubles(block["quantiles"]), exact = doubles(block["exact"])
        XCTAssertEqual(probabilities.count, exact.count)
        let kernel = PFGMKernel(augmentation: 8), n = 16, sigma = 1.0
        var rng = PhiloxGenerator(seed: 5)
        for form in [PFGMKernel.Form.betaPrime(clip: nil), .studentT] {
            var radii = (0..<1_000_000).map { _ in
                sigma
                    * kernel.standardNoise(dimension: n, form: form, using: &rng).reduce(0) { $0 + $1 * $1 }
                    .squareRoot()
            }
            radii.sort()
            for (p, q) in zip(probabilities, exact) {
                XCTAssertEqual(radii[Int(p * Double(radii.count))], q, accuracy: 0.01 * q, "\(form) at \(p)")
            }
        }
    }

    /// The training clip bounds the radius: R/r ≤ sqrt(0.999/0.001).
    func testTrainingClipBoundsTheRadius() {
        let kernel = PFGMKernel(augmentation: 3)
        var rng = PhiloxGenerator(seed: 6)
        let bound = (PFGMKernel.trainingClip.upperBound / (1 - PFGMKernel.trainingClip.upperBound)).squareRoot()
        let ratios = (0..<100_000).map { _ in
            kernel.radiusRatio(dimension: 2, form: .betaPrime(clip: PFGMKernel.trainingClip), using: &rng)
        }
        XCTAssertLessThanOrEqual(ratios.max()!, bound * (1 + 1e-12))
        let unclipped = (0..<100_000).map { _ in
            kernel.radiusRatio(dimension: 2, form: .betaPrime(clip: nil), using: &rng)
        }
        XCTAssertGreaterThan(unclipped.max()!, bound, "D = 3's tail passes the clip in 1e5 draws")
    }

    /// Invariant 1: with r = σ√D the kernel tends to N(y, σ²I) as D grows.
    func testKernelTendsToTheGaussian() {
        let x = [0.3, -0.7, 1.1], y = [0.0, 0.2, 0.5], sigma = 0.8
        let gaussian = PFGMKernel.gaussian.logDensity(x, around: y, sigma: sigma)
        let gaps = [10.0, 1e3, 1e5].map {
            Swift.abs(PFGMKernel(augmentation: $0).logDensity(x, around: y, sigma: sigma) - gaussian)
        }
        XCTAssertGreaterThan(gaps[0], gaps[1])
        XCTAssertGreaterThan(gaps[1], gaps[2])
        XCTAssertLessThan(gaps[2], 1e-4)
    }

    /// Invariant 2: one data point y*: E[y | x, σ] = y* and Heun from the prior ends at y*.
    func testSingleDataPointIsReachedExactly() {
        let point = Matrix64(rows: 1, columns: 3, scalars: [0.5, -1, 2])
        var rng = PhiloxGenerator(seed: 7)
        for kernel in [PFGMKernel(augmentation: 4), .gaussian] {
            let start = kernel.prior(count: 50, dimension: 3, using: &rng)
            let end = DiffusionSampler.edmHeun(
                start, sigmas: TimeGrid.edm(steps: 6), model: kernel.exactDenoiser(data: point), using: &rng)
            for i in 0..<end.rows {
                for j in 0..<3 { XCTAssertEqual(end[i, j], point[0, j], accuracy: 1e-9) }
            }
        }
    }

    /// Invariant 3: the exact posterior of a finite set, integrated from the prior with 200 Heun
    /// steps, lands within 1e-2 of a data point, each hit about equally often.
    func testFiniteDataSetIsSampledUniformly() {
        let data = Matrix64(rows: 4, columns: 2, scalars: [1, 0, -1, 0.5, 0, -1, 0.3, 1.2])
        var rng = PhiloxGenerator(seed: 8)
        let kernel = PFGMKernel(augmentation: 8), count = 1200
        let end = DiffusionSampler.edmHeun(
            kernel.prior(count: count, dimension: 2, using: &rng), sigmas: TimeGrid.edm(steps: 200),
            model: kernel.exactDenoiser(data: data), using: &rng)
        var hits = [Int](repeating: 0, count: data.rows)
        for i in 0..<count {
            let distances = (0..<data.rows).map { k in
                ((end[i, 0] - data[k, 0]) * (end[i, 0] - data[k, 0]) + (end[i, 1] - data[k, 1])
                    * (end[i, 1] - data[k, 1]))
                    .squareRoot()
            }
            let nearest = distances.indices.min { distances[$0] < distances[$1] }!
            XCTAssertLessThan(distances[nearest], 1e-2, "sample \(i)")
            hits[nearest] += 1
        }
        // Binomial(1200, 1/4): standard deviation 15; 5 of them is 75.
        for h in hits { XCTAssertEqual(Double(h), Double(count) / 4, accuracy: 75, "\(hits)") }
    }

    /// Invariant 4: the prior's E‖x‖² = σ_max² N D/(D − 2).
    func testPriorSecondMoment() {
        let kernel = PFGMKernel(augmentation: 16), n = 8, sigmaMax = 80.0
        var rng = PhiloxGenerator(seed: 9)
        let prior = kernel.prior(count: 200_000, dimension: n, sigmaMax: sigmaMax, using: &rng)
        let moment = prior.scalars.reduce(0) { $0 + $1 * $1 } / Double(prior.rows)
        let expected = sigmaMax * sigmaMax * Double(n) * 16 / 14
        XCTAssertEqual(moment, expected, accuracy: 0.01 * expected)
    }

    /// Heun's injected noise adds α·σ_i·z at the start of every step: with a denoiser that
    /// returns its input (slope 0) the end point is the start plus noise of variance α² Σ σ_i².
    func testInjectedNoiseAddsAlphaSigmaPerStep() {
        let sigmas = [2.0, 1, 0.5, 0], alpha = 0.3, count = 40_000
        var rng = PhiloxGenerator(seed: 10)
        let end = DiffusionSampler.edmHeun(
            Matrix64(rows: count, columns: 1), sigmas: sigmas, injectedNoise: alpha, model: { x, _ in x }, using: &rng)
        let variance = end.scalars.reduce(0) { $0 + $1 * $1 } / Double(count)
        let expected = alpha * alpha * sigmas.dropLast().reduce(0) { $0 + $1 * $1 }
        // The sample variance of n normals has relative standard error sqrt(2/n) = 0.7 %.
        XCTAssertEqual(variance, expected, accuracy: 0.03 * expected)
        let plain = DiffusionSampler.edmHeun(
            Matrix64(rows: 10, columns: 1), sigmas: sigmas, model: { x, _ in x }, using: &rng)
        XCTAssertEqual(plain.scalars, [Double](repeating: 0, count: 10))
    }
}
