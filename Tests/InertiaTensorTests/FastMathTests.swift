import XCTest

@testable import InertiaTensor

final class FastMathTests: XCTestCase {
    /// Error in units in the last place of the correctly rounded result.
    func ulpError(_ got: Float, _ exact: Double) -> Double {
        let rounded = Float(exact)
        if got == rounded { return 0 }
        if rounded.isInfinite || got.isInfinite { return .infinity }
        return Swift.abs(Double(got) - exact) / Double(rounded.ulp)
    }

    /// Every `stride`-th bit pattern between two floats, eight at a time.
    func sweep(from low: Float, to high: Float, stride: UInt32, _ body: (SIMD8<Float>) -> Void) {
        var bits = low.bitPattern
        var v = SIMD8<Float>()
        var lane = 0
        while bits <= high.bitPattern {
            v[lane] = Float(bitPattern: bits)
            lane += 1
            if lane == 8 {
                body(v)
                lane = 0
            }
            let (next, overflow) = bits.addingReportingOverflow(stride)
            if overflow { break }
            bits = next
        }
    }

    func testExpWithin2UlpOverDenseSweep() {
        var worst = 0.0
        for (low, high) in [(Float(0), Float(88)), (Float(-0.0), Float(-87))] {
            let (lo, hi) = low.bitPattern < high.bitPattern ? (low, high) : (high, low)
            sweep(from: lo, to: hi, stride: 1021) { v in
                let y = FastMath.exp(v)
                for i in 0..<8 { worst = Swift.max(worst, ulpError(y[i], Foundation.exp(Double(v[i])))) }
            }
        }
        XCTAssertLessThanOrEqual(worst, 2, "worst exp error \(worst) ulp")
    }

    /// `Φ` against `erfc(−x/√2)/2` in Double, in both tails (where the values reach 1e-38 on the
    /// left): the bound `normalCDF` documents.
    func testNormalCDFWithin8UlpOverDenseSweep() {
        var worst = 0.0, at: Float = 0
        for (low, high) in [(Float(0), Float(9)), (Float(-0.0), Float(-13))] {
            let (lo, hi) = low.bitPattern < high.bitPattern ? (low, high) : (high, low)
            sweep(from: lo, to: hi, stride: 61) { v in
                let y = FastMath.normalCDF(v)
                for i in 0..<8 {
                    let error = ulpError(y[i], 0.5 * Foundation.erfc(-Double(v[i]) / 2.0.squareRoot()))
                    if error > worst { (worst, at) = (error, v[i]) }
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 8, "worst normal CDF error \(worst) ulp at \(at)")
    }

    /// The kernel layer's GELU and its derivatives (the active instruction set's) against Double
    /// references on [-12, 9]: 16 ulp for GELU, 1e-6 absolute for the derivatives (values of order
    /// one that cross zero).
    func testTheKernelLayersGELUAgainstDouble() {
        let xs = Tensor(stride(from: Float(-12), through: 9, by: 0.0037).map { $0 })
        let gelu = xs.gelu().scalars, first = xs.geluDerivative().scalars
        let second = xs.geluSecondDerivative().scalars
        var worst = 0.0
        for (i, x) in xs.scalars.enumerated() {
            let d = Double(x), cdf = 0.5 * Foundation.erfc(-d / 2.0.squareRoot())
            let density = Foundation.exp(-0.5 * d * d) / (2 * Double.pi).squareRoot()
            worst = Swift.max(worst, ulpError(gelu[i], d * cdf))
            XCTAssertEqual(Double(first[i]), cdf + d * density, accuracy: 1e-6)
            XCTAssertEqual(Double(second[i]), density * (2 - d * d), accuracy: 1e-6)
        }
        XCTAssertLessThanOrEqual(worst, 16, "worst GELU error \(worst) ulp")
    }

    func testLogWithin2UlpOverDenseSweepIncludingSubnormals() {
        var worst = 0.0
        sweep(from: Float.leastNonzeroMagnitude, to: Float.greatestFiniteMagnitude, stride: 2039) { v in
            let y = FastMath.log(v)
            for i in 0..<8 { worst = Swift.max(worst, ulpError(y[i], Foundation.log(Double(v[i])))) }
        }
        XCTAssertLessThanOrEqual(worst, 2, "worst log error \(worst) ulp")
    }

    func testSpecialValues() {
        let e = FastMath.exp(SIMD8<Float>(0, 100, -200, .infinity, -.infinity, .nan, 88.7, -103))
        XCTAssertEqual(e[0], 1)
        XCTAssertEqual(e[1], .infinity)
        XCTAssertEqual(e[2], 0)
        XCTAssertEqual(e[3], .infinity)
        XCTAssertEqual(e[4], 0)
        XCTAssertTrue(e[5].isNaN)
        XCTAssertEqual(Double(e[6]), Foundation.exp(Double(Float(88.7))), accuracy: Double(e[6].ulp) * 2)
        XCTAssertEqual(e[7], Float(Foundation.exp(-103.0)), accuracy: Float.leastNonzeroMagnitude * 2)
        let l = FastMath.log(SIMD8<Float>(1, 0, -1, .infinity, .nan, Float.leastNonzeroMagnitude, 2, .pi))
        XCTAssertEqual(l[0], 0)
        XCTAssertEqual(l[1], -.infinity)
        XCTAssertTrue(l[2].isNaN)
        XCTAssertEqual(l[3], .infinity)
        XCTAssertTrue(l[4].isNaN)
        XCTAssertEqual(l[5], Float(Foundation.log(Double(Float.leastNonzeroMagnitude))), accuracy: 1e-4)
    }

    func testTensorExpLogUseTheSameKernelInBodyAndTail() {
        // 19 elements: two vectors and a tail of 3.
        let x = Tensor((0..<19).map { Float($0) * 0.37 - 3 })
        let y = x.exp()
        for i in 0..<19 {
            XCTAssertEqual(y.scalars[i], FastMath.scalar(x.scalars[i], FastMath.exp))
        }
        assertClose(y.log().scalars, x.scalars, tolerance: 1e-6)
    }
}
