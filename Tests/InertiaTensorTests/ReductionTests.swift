import XCTest

@testable import InertiaTensor

final class ReductionTests: XCTestCase {
    /// Naive reduction in Double by visiting every element.
    func naive(_ x: Tensor, axes: [Int], _ combine: (Double, Double) -> Double, _ initial: Double) -> [Float] {
        let outShape = Shape.reduced(x.shape, axes: axes, keepingDimensions: true)
        var out = [Double](repeating: initial, count: Shape.count(outShape))
        let outStrides = Shape.strides(outShape)
        let inStrides = Shape.strides(x.shape)
        for flat in 0..<x.count {
            var o = 0
            for d in 0..<x.rank {
                let i = (flat / inStrides[d]) % x.shape[d]
                if !axes.contains(d) { o += i * outStrides[d] }
            }
            out[o] = combine(out[o], Double(x.scalars[flat]))
        }
        return out.map { Float($0) }
    }

    func subsets(_ n: Int) -> [[Int]] {
        (0..<(1 << n)).map { mask in (0..<n).filter { mask & (1 << $0) != 0 } }
    }

    func testEveryAxisCombinationOfRanks1To4() {
        for shape in [[7], [3, 17], [2, 3, 9], [2, 1, 5, 11], [4, 3, 2, 19]] {
            let x = randomTensor(shape, seed: UInt64(shape.count), low: -3, high: 3)
            for axes in subsets(shape.count) {
                let s = x.sum(alongAxes: axes, keepingDimensions: true)
                assertClose(s.scalars, naive(x, axes: axes, +, 0), tolerance: 1e-5, "sum \(shape) \(axes)")
                let mx = x.max(alongAxes: axes, keepingDimensions: true)
                XCTAssertEqual(
                    mx.scalars, naive(x, axes: axes, { Swift.max($0, $1) }, -.infinity), "max \(shape) \(axes)")
                let mn = x.min(alongAxes: axes, keepingDimensions: false)
                XCTAssertEqual(
                    mn.scalars, naive(x, axes: axes, { Swift.min($0, $1) }, .infinity), "min \(shape) \(axes)")
                XCTAssertEqual(mn.shape, Shape.reduced(shape, axes: axes, keepingDimensions: false))
            }
        }
    }

    func testMeanVarianceLogSumExpNormAgainstFormulas() {
        let x = Tensor([[1, 2, 3, 4], [2, 4, 6, 8]])
        XCTAssertEqual(x.mean(alongAxis: 1).scalars, [2.5, 5])
        assertClose(x.variance(alongAxes: [1]).scalars, [5.0 / 3, 20.0 / 3], tolerance: 1e-6)
        assertClose(x.variance(alongAxes: [1], correction: 0).scalars, [1.25, 5], tolerance: 1e-6)
        let lse = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2) + Foundation.exp(3) + Foundation.exp(4))
        assertClose(x.logSumExp(alongAxes: [1]).scalars.prefix(1).map { $0 }, [Float(lse)], tolerance: 1e-6)
        assertClose(
            [x.norm().item], [Float((1 + 4 + 9 + 16 + 4 + 16 + 36 + 64 as Double).squareRoot())], tolerance: 1e-6)
        XCTAssertEqual(x.norm(1, alongAxes: [1]).scalars, [10, 20])
        XCTAssertEqual(x.norm(.infinity).item, 8)
        // logSumExp stays finite where exp overflows.
        XCTAssertEqual(Tensor([1000, 1000]).logSumExp().item, 1000 + Float(Foundation.log(2.0)), accuracy: 1e-3)
    }

    func testArgmaxAndMaxWithIndices() {
        let x = Tensor([[3, 9, 9, 1], [7, 2, 5, 7]])
        XCTAssertEqual(x.argmax(alongAxis: 1).indices, [1, 0])
        XCTAssertEqual(x.argmin(alongAxis: 0).indices, [0, 1, 1, 0])
        let (values, indices) = x.max(alongAxis: 0, keepingDimensions: true)
        XCTAssertEqual(values.shape, [1, 4])
        XCTAssertEqual(values.scalars, [7, 9, 9, 7])
        XCTAssertEqual(indices.indices, [1, 0, 0, 1])
        XCTAssertTrue(Tensor([1, .nan, 3]).max().item.isNaN)
    }

    func testSoftmaxRowsSumToOneAndMatchFormula() {
        let x = randomTensor([5, 37], seed: 3, low: -10, high: 10)
        let y = x.softmax(alongAxis: 1)
        for r in 0..<5 {
            let row = Array(x.scalars[(r * 37)..<(r * 37 + 37)]).map(Double.init)
            let m = row.max()!
            let z = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            let expected = row.map { Float(Foundation.exp($0 - m) / z) }
            assertClose(Array(y.scalars[(r * 37)..<(r * 37 + 37)]), expected, tolerance: 1e-5)
            let logExpected = row.map { Float($0 - m - Foundation.log(z)) }
            assertClose(
                Array(x.logSoftmax(alongAxis: -1).scalars[(r * 37)..<(r * 37 + 37)]), logExpected, tolerance: 1e-5)
        }
        assertClose(
            x.softmax(alongAxis: 0).sum(alongAxis: 0).scalars, [Float](repeating: 1, count: 37), tolerance: 1e-5)
    }
}
