import Foundation
import XCTest

@testable import InertiaTensor

final class RandomTests: XCTestCase {
    func testSplitMix64TestVectorOfThePeers() {
        var g = SplitMix64(seed: 0)
        XCTAssertEqual(g.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(g.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(g.next(), 0x06C4_5D18_8009_454F)
        XCTAssertEqual(SplitMix64.value(seed: 0, index: 2), 0x06C4_5D18_8009_454F)
        XCTAssertEqual(
            SplitMix64.uniformFloat32(seed: 0, count: 1), [Float(UInt64(0xE220_A839_7B1D_CDAF) >> 40) * 0x1p-24])
    }

    func testPhiloxKnownAnswers() {
        // Random123's known-answer tests for philox4x32_10.
        let zero = PhiloxGenerator.block(counter: (0, 0, 0, 0), key: (0, 0))
        XCTAssertEqual([zero.0, zero.1, zero.2, zero.3], [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8])
        let ones = PhiloxGenerator.block(counter: (.max, .max, .max, .max), key: (.max, .max))
        XCTAssertEqual([ones.0, ones.1, ones.2, ones.3], [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD])
        let pi = PhiloxGenerator.block(
            counter: (0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344), key: (0xA409_3822, 0x299F_31D0))
        XCTAssertEqual([pi.0, pi.1, pi.2, pi.3], [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1])
    }

    func testSameSeedSameNumbersAndStateRoundTrip() throws {
        var a = PhiloxGenerator(seed: 42), b = PhiloxGenerator(seed: 42)
        XCTAssertEqual(Tensor.normal([100], using: &a).scalars, Tensor.normal([100], using: &b).scalars)
        _ = a.nextUInt32()
        let saved = try JSONEncoder().encode(a)
        var restored = try JSONDecoder().decode(PhiloxGenerator.self, from: saved)
        XCTAssertEqual((0..<10).map { _ in a.nextNormal() }, (0..<10).map { _ in restored.nextNormal() })
        var c = PhiloxGenerator(seed: 43)
        XCTAssertNotEqual(Tensor.uniform([10], using: &c).scalars, Tensor.uniform([10], using: &b).scalars)
    }

    /// The bulk fill is the scalar stream: from any position, for lengths around the 16-word groups.
    func testBulkFillEqualsSequentialDraws() {
        for offset in [0, 1, 3, 4, 7] {
            for count in [0, 5, 16, 17, 63, 100] {
                var bulk = PhiloxGenerator(seed: 0xDEAD_BEEF_1234)
                for _ in 0..<offset { _ = bulk.nextUInt32() }
                var scalar = bulk
                var words = [UInt32](repeating: 0, count: count)
                words.withUnsafeMutableBufferPointer { bulk.fill($0) }
                XCTAssertEqual(words, (0..<count).map { _ in scalar.nextUInt32() }, "offset \(offset), count \(count)")
                XCTAssertEqual(bulk, scalar)
                XCTAssertEqual(bulk.nextUInt32(), scalar.nextUInt32())
            }
        }
        // The saved form keeps its layout: the block as four words.
        var rng = PhiloxGenerator(seed: 3)
        _ = rng.nextUInt32()
        let json = String(decoding: try! JSONEncoder().encode(rng), as: UTF8.self)
        XCTAssertTrue(json.contains("\"block\":["), json)
        XCTAssertEqual(try! JSONDecoder().decode(PhiloxGenerator.self, from: Data(json.utf8)), rng)
    }

    func testDistributionsHaveTheRightMoments() {
        var rng = PhiloxGenerator(seed: 7)
        let n = 200_000
        let u = Tensor.uniform([n], low: -1, high: 3, using: &rng)
        XCTAssertEqual(u.mean().item, 1, accuracy: 0.02)
        XCTAssertGreaterThanOrEqual(u.min().item, -1)
        XCTAssertLessThan(u.max().item, 3)
        let z = Tensor.normal([n], mean: 2, standardDeviation: 3, using: &rng)
        XCTAssertEqual(z.mean().item, 2, accuracy: 0.03)
        XCTAssertEqual(z.variance().item.squareRoot(), 3, accuracy: 0.03)
        let k = Tensor.randomIntegers([n], in: 3..<8, using: &rng)
        XCTAssertEqual(Set(k.scalars), [3, 4, 5, 6, 7])
        XCTAssertEqual(k.mean().item, 5, accuracy: 0.02)
        let bern = Tensor.bernoulli([n], probability: 0.3, using: &rng)
        XCTAssertEqual(bern.mean().item, 0.3, accuracy: 0.005)
        let p = rng.permutation(1000)
        XCTAssertEqual(p.sorted(), Array(0..<1000))
        XCTAssertNotEqual(p, Array(0..<1000))
    }

    func testIntegerDrawsAreUnbiased() {
        var rng = PhiloxGenerator(seed: 9)
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<30_000 { counts[rng.nextInt(below: 3)] += 1 }
        // chi-square with 2 degrees of freedom; 13.8 is the 0.1 % quantile.
        let chi2 = counts.reduce(0.0) { $0 + Foundation.pow(Double($1) - 10_000, 2) / 10_000 }
        XCTAssertLessThan(chi2, 13.8)
    }
}

extension RandomTests {
    /// The ziggurat's deviates have the standard normal's moments and distribution function
    /// (Kolmogorov–Smirnov distance on a million draws, tails beyond the base strip included).
    func testZigguratNormalMatchesTheNormalDistribution() {
        var rng = PhiloxGenerator(seed: 42)
        let n = 1_000_000
        var x = [Double](repeating: 0, count: n)
        x.withUnsafeMutableBufferPointer { ZigguratNormal.fill($0, using: &rng) }
        let mean = x.reduce(0, +) / Double(n)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        let kurtosis = x.reduce(0) { $0 + Foundation.pow($1 - mean, 4) } / Double(n) / (variance * variance)
        XCTAssertEqual(mean, 0, accuracy: 0.005)
        XCTAssertEqual(variance, 1, accuracy: 0.005)
        XCTAssertEqual(kurtosis, 3, accuracy: 0.03)
        x.sort()
        var distance = 0.0
        for (i, v) in x.enumerated() where i % 97 == 0 {
            let cdf = 0.5 * Foundation.erfc(-v / 2.0.squareRoot())
            distance = Swift.max(distance, Swift.abs(cdf - Double(i) / Double(n)))
        }
        XCTAssertLessThan(distance, 0.002, "Kolmogorov-Smirnov distance")
        let beyond = x.filter { Swift.abs($0) > 3.442620 }.count
        XCTAssertEqual(
            Double(beyond) / Double(n), 2 * 0.5 * Foundation.erfc(3.442620 / 2.0.squareRoot()), accuracy: 2e-4)
    }
}

extension RandomTests {
    /// The regularized lower incomplete gamma function P(a, x), by its series below `a + 1` and
    /// its continued fraction (modified Lentz) above: the Gamma(a) distribution function.
    static func regularizedGamma(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 0 }
        let logPrefactor = a * Foundation.log(x) - x - Foundation.lgamma(a)
        if x < a + 1 {
            var term = 1 / a, sum = term, n = a
            while Swift.abs(term) > 1e-15 * Swift.abs(sum) {
                n += 1
                term *= x / n
                sum += term
            }
            return sum * Foundation.exp(logPrefactor)
        }
        var b = x + 1 - a, c = 1e300, d = 1 / b, h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            d = Swift.abs(d) < 1e-300 ? 1e-300 : d
            c = b + an / c
            c = Swift.abs(c) < 1e-300 ? 1e-300 : c
            d = 1 / d
            let delta = d * c
            h *= delta
            if Swift.abs(delta - 1) < 1e-15 { break }
        }
        return 1 - Foundation.exp(logPrefactor) * h
    }

    /// Gamma deviates below, at and far above shape 1 have the distribution's mean and variance
    /// (both the shape) and its distribution function (Kolmogorov–Smirnov distance on 2e5 draws:
    /// the 0.1 % critical value is 1.95/√n = 0.0044).
    func testGammaDeviatesFollowTheGammaDistribution() {
        var rng = PhiloxGenerator(seed: 11)
        let n = 200_000
        for shape in [0.3, 1, 2.5, 8, 1536] {
            var x = (0..<n).map { _ in rng.nextGamma(shape: shape) }
            let mean = x.reduce(0, +) / Double(n)
            let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
            XCTAssertEqual(mean / shape, 1, accuracy: 4 * (1 / (shape * Double(n))).squareRoot(), "shape \(shape)")
            // The sample variance's relative standard error is sqrt((2 + excess kurtosis 6/shape)/n).
            XCTAssertEqual(
                variance / shape, 1, accuracy: 4 * ((2 + 6 / shape) / Double(n)).squareRoot(), "shape \(shape)")
            x.sort()
            var distance = 0.0
            for (i, v) in x.enumerated() where i % 37 == 0 {
                let cdf = Self.regularizedGamma(shape, v)
                distance = Swift.max(
                    distance, Swift.abs(cdf - Double(i) / Double(n)), Swift.abs(cdf - Double(i + 1) / Double(n)))
            }
            XCTAssertLessThan(distance, 0.0044, "Kolmogorov-Smirnov distance at shape \(shape)")
        }
    }

    /// The incomplete-gamma reference itself against the closed forms of integer shapes:
    /// P(1, x) = 1 − e^(−x) and P(3, x) = 1 − e^(−x)(1 + x + x²/2).
    func testRegularizedGammaReference() {
        for x in [0.1, 1, 3, 10] {
            XCTAssertEqual(Self.regularizedGamma(1, x), 1 - Foundation.exp(-x), accuracy: 1e-13)
            let poisson = (0..<3).reduce(0.0) { $0 + Foundation.pow(x, Double($1)) / Foundation.tgamma(Double($1 + 1)) }
            XCTAssertEqual(Self.regularizedGamma(3, x), 1 - Foundation.exp(-x) * poisson, accuracy: 1e-13)
        }
    }

    /// Beta deviates have Beta(a, b)'s mean a/(a+b) and variance ab/((a+b)²(a+b+1)); chi-square
    /// deviates have mean k and variance 2k, for a fractional k as well.
    func testBetaAndChiSquaredMoments() {
        var rng = PhiloxGenerator(seed: 12)
        let n = 200_000
        for (a, b) in [(0.5, 0.5), (8.0, 4.0), (1536.0, 64.0)] {
            let x = (0..<n).map { _ in rng.nextBeta(a, b) }
            let mean = x.reduce(0, +) / Double(n)
            let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
            let expectedVariance = a * b / ((a + b) * (a + b) * (a + b + 1))
            XCTAssertEqual(mean, a / (a + b), accuracy: 4 * (expectedVariance / Double(n)).squareRoot())
            XCTAssertEqual(variance / expectedVariance, 1, accuracy: 0.02, "Beta(\(a), \(b))")
        }
        for k in [1.0, 4.5, 128] {
            let x = (0..<n).map { _ in rng.nextChiSquared(degreesOfFreedom: k) }
            let mean = x.reduce(0, +) / Double(n)
            let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
            XCTAssertEqual(mean / k, 1, accuracy: 4 * (2 / (k * Double(n))).squareRoot(), "chi-square \(k)")
            XCTAssertEqual(
                variance / (2 * k), 1, accuracy: 4 * ((2 + 12 / k) / Double(n)).squareRoot(), "chi-square \(k)")
        }
    }
}
