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
            if lane == 8 { body(v); lane = 0 }
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

    /// The Float64 exp against libm (itself within 1 ulp) on a dense pseudo-random sweep of [-745, 709]
    /// plus the edges: at most 2 ulp apart where the result is normal; subnormal results within
    /// 1 ulp of the smallest subnormal; overflow, underflow and NaN as libm.
    func testDoubleExpWithin2UlpOfLibm() {
        var worst = 0.0
        var rng = SplitMix64(seed: 17)
        var inputs = (0..<400_000).map { _ in -745 + 1454 * Double(rng.next() >> 11) * 0x1p-53 }
        inputs += [0, -0.0, 1e-300, -1e-300, 0.5 * Double.ulpOfOne, 709.78, -708.39, -744.4, 1, -1, 0.34657359, -0.34657359]
        for start in stride(from: 0, to: inputs.count - 3, by: 4) {
            let x = SIMD4<Double>(inputs[start], inputs[start + 1], inputs[start + 2], inputs[start + 3])
            let y = FastMath.exp(x)
            for i in 0..<4 {
                let exact = Foundation.exp(x[i])
                if exact >= Double.leastNormalMagnitude {
                    worst = Swift.max(worst, Swift.abs(y[i] - exact) / exact.ulp)
                } else {
                    XCTAssertLessThanOrEqual(Swift.abs(y[i] - exact), Double.leastNonzeroMagnitude, "x = \(x[i])")
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 2, "worst Float64 exp error \(worst) ulp")
        let special = FastMath.exp(SIMD4<Double>(800, -800, .nan, -.infinity))
        XCTAssertEqual(special[0], .infinity)
        XCTAssertEqual(special[1], 0)
        XCTAssertTrue(special[2].isNaN)
        XCTAssertEqual(special[3], 0)
    }

    /// The Float64 cos against libm on a dense pseudo-random sweep of [-1e5, 1e5], near multiples of
    /// π/2 (where the result is tiny and the reduction matters) and tiny arguments: at most 2 ulp of
    /// the result; lanes beyond 1e5, infinities and NaN as libm.
    func testDoubleCosWithin2UlpOfLibm() {
        var worst = 0.0
        var rng = SplitMix64(seed: 23)
        var inputs = (0..<200_000).map { _ in -1e5 + 2e5 * Double(rng.next() >> 11) * 0x1p-53 }
        inputs += (0..<100_000).map { _ in -10 + 20 * Double(rng.next() >> 11) * 0x1p-53 }
        for k in 1...4000 {
            let multiple: Double = Double(k) * Double.pi / 2
            inputs += [multiple, multiple + 1e-9, -multiple]
        }
        inputs += [0, -0.0, 1e-300, 1e-8, Double.pi / 4, -Double.pi / 4, 1e5, -1e5]
        while inputs.count % 4 != 0 { inputs.append(0.5) }
        for start in stride(from: 0, to: inputs.count, by: 4) {
            let x = SIMD4<Double>(inputs[start], inputs[start + 1], inputs[start + 2], inputs[start + 3])
            let y = FastMath.cos(x)
            for i in 0..<4 {
                let exact = Foundation.cos(x[i])
                worst = Swift.max(worst, Swift.abs(y[i] - exact) / Swift.max(Swift.abs(exact), Double.leastNormalMagnitude).ulp)
            }
        }
        XCTAssertLessThanOrEqual(worst, 2, "worst Float64 cos error \(worst) ulp")
        let special = FastMath.cos(SIMD4<Double>(.infinity, .nan, 1e300, 2e5))
        XCTAssertTrue(special[0].isNaN)
        XCTAssertTrue(special[1].isNaN)
        XCTAssertEqual(special[2], Foundation.cos(1e300))
        XCTAssertEqual(special[3], Foundation.cos(2e5))
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
