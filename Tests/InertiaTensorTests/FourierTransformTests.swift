import Foundation
import XCTest

@testable import InertiaTensor

final class FourierTransformTests: XCTestCase {
    /// Every bin against the defining sum, for power-of-two, smooth, prime and mixed lengths.
    func testBinsMatchTheDefiningSum() {
        var rng = PhiloxGenerator(seed: 1)
        for n in [1, 2, 3, 8, 12, 24, 30, 64, 97, 98] {
            let x = (0..<n).map { _ in rng.nextNormal() }
            let transform = RealFourierTransform(length: n)
            let (re, im) = transform(x)
            XCTAssertEqual(re.count, n / 2 + 1)
            for k in 0..<transform.binCount {
                var sumRe = 0.0, sumIm = 0.0
                for t in 0..<n {
                    let angle = -2 * Double.pi * Double(k * t) / Double(n)
                    sumRe += x[t] * cos(angle)
                    sumIm += x[t] * sin(angle)
                }
                XCTAssertEqual(re[k], sumRe, accuracy: 1e-9 * Double(n), "n \(n), bin \(k)")
                XCTAssertEqual(im[k], sumIm, accuracy: 1e-9 * Double(n), "n \(n), bin \(k)")
            }
        }
    }

    /// A pure cosine at bin 3 puts n/2 there and nothing elsewhere; Parseval holds.
    func testCosineAndParseval() {
        let n = 48
        let transform = RealFourierTransform(length: n)
        let cosine = (0..<n).map { cos(transform.frequency(ofBin: 3) * Double($0)) }
        for (k, magnitude) in transform.magnitudes(cosine).enumerated() {
            XCTAssertEqual(magnitude, k == 3 ? Double(n) / 2 : 0, accuracy: 1e-9, "bin \(k)")
        }
        var rng = PhiloxGenerator(seed: 2)
        let x = (0..<n).map { _ in rng.nextNormal() }
        let m = transform.magnitudes(x)
        // Bins 1..<n/2 stand for two conjugate bins each.
        let spectral = (m[0] * m[0] + m[n / 2] * m[n / 2] + 2 * m[1..<(n / 2)].map { $0 * $0 }.reduce(0, +)) / Double(n)
        XCTAssertEqual(spectral, x.map { $0 * $0 }.reduce(0, +), accuracy: 1e-9)
    }
}
