import XCTest

@testable import InertiaTensor

final class ElementwiseTests: XCTestCase {
    /// Broadcast binary op computed element by element from NumPy's rule.
    func naiveBroadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let shape = try! Shape.broadcast(a.shape, b.shape)
        let strides = Shape.strides(shape)
        func source(_ t: Tensor, _ flat: Int) -> Float {
            let offset = shape.count - t.rank
            let ts = Shape.strides(t.shape)
            var o = 0
            for d in 0..<t.rank where t.shape[d] != 1 {
                o += ((flat / strides[d + offset]) % shape[d + offset]) * ts[d]
            }
            return t.scalars[o]
        }
        return Tensor(shape: shape, scalars: (0..<Shape.count(shape)).map { f(source(a, $0), source(b, $0)) })
    }

    func testBroadcastingAgainstNaiveForManyShapePairs() {
        let pairs: [([Int], [Int])] = [
            ([5], [5]), ([], [3]), ([3], []), ([2, 3], [3]), ([2, 3], [2, 1]), ([1, 3], [4, 1]),
            ([2, 1, 4], [3, 1]), ([4, 1, 1, 17], [1, 5, 3, 1]), ([2, 3, 4], [1, 3, 1]), ([7, 1], [1, 130]),
            ([300, 257], [257]), ([300, 1], [300, 257]),
        ]
        for (k, (sa, sb)) in pairs.enumerated() {
            let a = randomTensor(sa, seed: UInt64(2 * k)),
                b = randomTensor(sb, seed: UInt64(2 * k + 1), low: 0.5, high: 2)
            XCTAssertEqual((a + b).scalars, naiveBroadcast(a, b, +).scalars, "\(sa) + \(sb)")
            XCTAssertEqual((a - b).scalars, naiveBroadcast(a, b, -).scalars, "\(sa) - \(sb)")
            XCTAssertEqual((a * b).scalars, naiveBroadcast(a, b, *).scalars, "\(sa) * \(sb)")
            XCTAssertEqual((b / a).scalars, naiveBroadcast(b, a, /).scalars, "\(sb) / \(sa)")
            XCTAssertEqual(Tensor.maximum(a, b).scalars, naiveBroadcast(a, b, { Swift.max($0, $1) }).scalars)
            XCTAssertEqual((a .< b).scalars, naiveBroadcast(a, b, { $0 < $1 ? 1 : 0 }).scalars)
            XCTAssertEqual((a + b).shape, try Shape.broadcast(sa, sb))
        }
    }

    func testUnaryOpsAgainstFoundation() {
        let x = randomTensor([1000], seed: 1, low: -5, high: 5)
        let xs = x.scalars.map(Double.init)
        assertClose(x.tanh().scalars, xs.map { Float(Foundation.tanh($0)) }, tolerance: 1e-6)
        assertClose(x.sigmoid().scalars, xs.map { Float(1 / (1 + Foundation.exp(-$0))) }, tolerance: 1e-6)
        assertClose(x.silu().scalars, xs.map { Float($0 / (1 + Foundation.exp(-$0))) }, tolerance: 1e-6)
        assertClose(x.softplus().scalars, xs.map { Float(Foundation.log1p(Foundation.exp($0))) }, tolerance: 1e-6)
        assertClose(
            x.gelu().scalars, xs.map { Float(0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot()))) }, tolerance: 1e-6)
        let c = (2 / Double.pi).squareRoot()
        assertClose(
            x.gelu(approximation: .tanh).scalars,
            xs.map { Float(0.5 * $0 * (1 + Foundation.tanh(c * ($0 + 0.044715 * $0 * $0 * $0)))) }, tolerance: 1e-5)
        XCTAssertEqual(x.relu().scalars, x.scalars.map { Swift.max($0, 0) })
        XCTAssertEqual(x.abs().scalars, x.scalars.map { Swift.abs($0) })
        XCTAssertEqual(x.clamped(lower: -1, upper: 2).scalars, x.scalars.map { Swift.min(Swift.max($0, -1), 2) })
        XCTAssertEqual(x.leakyRelu(negativeSlope: 0.2).scalars, x.scalars.map { $0 < 0 ? 0.2 * $0 : $0 })
        XCTAssertEqual(x.sign().scalars, x.scalars.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
        let p = x.abs() + 0.1
        assertClose(p.squareRoot().scalars, p.scalars.map { $0.squareRoot() }, tolerance: 1e-7)
        assertClose(p.rsqrt().scalars, p.scalars.map { 1 / $0.squareRoot() }, tolerance: 1e-6)
        assertClose(p.pow(2.5).scalars, p.scalars.map { Float(Foundation.pow(Double($0), 2.5)) }, tolerance: 1e-5)
        assertClose(x.pow(3).scalars, x.scalars.map { $0 * $0 * $0 }, tolerance: 1e-6)
        assertClose(Tensor([-2]).pow(5).scalars, [-32], tolerance: 1e-5)
        XCTAssertTrue(Tensor([-2]).pow(0.5).item.isNaN)
        assertClose(p.log1p().scalars, p.scalars.map { Float(Foundation.log1p(Double($0))) }, tolerance: 1e-6)
    }

    func testWhereNeverLeaksTheUnselectedSide() {
        let x = Tensor([0, 1, -1])
        let safe = Tensor.where(x .== 0, Tensor(0), 1 / x)
        XCTAssertEqual(safe.scalars, [0, 1, -1])
    }

    func testLargePassesAreIndependentOfThreadCount() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        let a = randomTensor([1_000_003], seed: 5, low: -20, high: 20)
        let b = randomTensor([1_000_003], seed: 6)
        func run() -> [[Float]] {
            [
                (a * b + 1).scalars, a.exp().scalars, a.softmax().scalars, a.sum().scalars,
                a.reshaped(to: [1_000_003, 1]).logSoftmax(alongAxis: 0).scalars,
            ]
        }
        Parallel.threadCount = 1
        let one = run()
        Parallel.threadCount = 2
        let two = run()
        XCTAssertEqual(one, two)
    }
}
