import XCTest

@testable import InertiaTensor

/// Finite-difference checks of every differentiable op, with random shapes and broadcasting.
final class GradientTests: XCTestCase {
    func randomShape(_ rng: inout PhiloxGenerator, rank: Int) -> [Int] {
        (0..<rank).map { _ in 1 + rng.nextInt(below: 4) }
    }

    func testBinaryOpsWithBroadcasting() {
        var rng = PhiloxGenerator(seed: 1)
        let pairs: [([Int], [Int])] = [
            ([3, 4], [3, 4]), ([3, 4], [4]), ([2, 1, 3], [4, 1]), ([1], [2, 3]), ([], [2, 2]),
        ]
        for (sa, sb) in pairs + [(randomShape(&rng, rank: 3), [1, 1, 1])] {
            let a = randomTensor(sa, seed: 2), b = randomTensor(sb, seed: 3, low: 0.5, high: 2)
            checkGradients([a, b]) { $0[0] + $0[1] }
            checkGradients([a, b]) { $0[0] - $0[1] }
            checkGradients([a, b]) { $0[0] * $0[1] }
            checkGradients([a, b]) { $0[0] / $0[1] }
            checkGradients([a, b]) { Tensor.maximum($0[0], $0[1]) }
            checkGradients([a, b]) { Tensor.minimum($0[0], $0[1]) }
            checkGradients([a, b]) { Tensor.where($0[0] .> 0, $0[0], $0[1]) }
        }
        let x = randomTensor([3, 2], seed: 4)
        checkGradients([x]) { 2 - $0[0] * 3 + 1 }
        checkGradients([x]) { 1 / ($0[0] + 3) }
        checkGradients([x]) { -$0[0] }
    }

    func testUnaryOps() {
        let x = randomTensor([2, 3, 4], seed: 5, low: -2, high: 2)
        let positive = randomTensor([2, 3, 4], seed: 6, low: 0.2, high: 3)
        checkGradients([x]) { $0[0].abs() }
        checkGradients([positive]) { $0[0].squareRoot() }
        checkGradients([positive]) { $0[0].rsqrt() }
        checkGradients([x]) { $0[0].exp() }
        checkGradients([positive]) { $0[0].log() }
        checkGradients([positive]) { $0[0].log1p() }
        checkGradients([x]) { $0[0].tanh() }
        checkGradients([x]) { $0[0].sin() }
        checkGradients([x]) { $0[0].cos() }
        checkGradients([x]) { $0[0].sigmoid() }
        checkGradients([x]) { $0[0].erf() }
        checkGradients([x]) { $0[0].relu() }
        checkGradients([x]) { $0[0].leakyRelu(negativeSlope: 0.1) }
        checkGradients([x]) { $0[0].gelu() }
        checkGradients([x]) { $0[0].gelu(approximation: .tanh) }
        checkGradients([x]) { $0[0].silu() }
        checkGradients([x]) { $0[0].softplus() }
        checkGradients([x]) { $0[0].clamped(lower: -0.5, upper: 0.7) }
        checkGradients([x]) { $0[0].pow(3) }
        checkGradients([positive]) { $0[0].pow(1.7) }
        checkGradients([positive]) { $0[0].pow(-0.5) }
        checkGradients([x]) { $0[0].squared() }
        // The fused derivatives forward mode uses, and their own derivatives.
        for derivative in [
            Tensor.geluDerivative, Tensor.geluSecondDerivative, Tensor.siluDerivative, Tensor.siluSecondDerivative,
        ] {
            checkGradients([x]) { derivative($0[0])() }
        }
    }

    func testReductions() {
        let x = randomTensor([3, 4, 5], seed: 7, low: -2, high: 2)
        for axes in [nil, [0], [1], [2], [0, 2], [-1, 0], [0, 1, 2]] as [[Int]?] {
            for keep in [false, true] {
                checkGradients([x]) { $0[0].sum(alongAxes: axes, keepingDimensions: keep) }
                checkGradients([x]) { $0[0].mean(alongAxes: axes, keepingDimensions: keep) }
                checkGradients([x]) { $0[0].variance(alongAxes: axes, keepingDimensions: keep) }
                checkGradients([x]) { $0[0].max(alongAxes: axes, keepingDimensions: keep) }
                checkGradients([x]) { $0[0].min(alongAxes: axes, keepingDimensions: keep) }
                checkGradients([x]) { $0[0].logSumExp(alongAxes: axes, keepingDimensions: keep) }
                checkGradients([x]) { $0[0].norm(2, alongAxes: axes, keepingDimensions: keep) }
                checkGradients([x]) { $0[0].norm(1, alongAxes: axes, keepingDimensions: keep) }
                checkGradients([x]) { $0[0].norm(3, alongAxes: axes, keepingDimensions: keep) }
            }
        }
        checkGradients([x]) { $0[0].max(alongAxis: 1).values }
        checkGradients([x]) { $0[0].min(alongAxis: -1, keepingDimensions: true).values }
    }

    func testMatmulPlainBatchedBroadcastAndTransposed() {
        let cases: [([Int], [Int])] = [
            ([3, 4], [4, 5]), ([2, 3, 4], [2, 4, 2]), ([2, 3, 4], [4, 5]), ([3, 4], [2, 1, 4, 3]),
            ([1, 2, 3], [3, 3, 2]),
        ]
        for (sa, sb) in cases {
            let a = randomTensor(sa, seed: 8), b = randomTensor(sb, seed: 9)
            checkGradients([a, b]) { Tensor.matmul($0[0], $0[1]) }
        }
        let a = randomTensor([2, 4, 3], seed: 10), b = randomTensor([2, 5, 4], seed: 11)
        checkGradients([a, b]) { Tensor.matmul($0[0], $0[1], transposingA: true, transposingB: true) }
        checkGradients([a, randomTensor([4, 2], seed: 12)]) { Tensor.matmul($0[0], $0[1], transposingA: true) }
        checkGradients([randomTensor([3, 4], seed: 13), b]) { Tensor.matmul($0[0], $0[1], transposingB: true) }
    }

    func testSoftmaxAlongEveryAxis() {
        let x = randomTensor([2, 3, 4], seed: 14, low: -3, high: 3)
        for axis in [0, 1, 2, -1] {
            checkGradients([x]) { $0[0].softmax(alongAxis: axis) }
            checkGradients([x]) { $0[0].logSoftmax(alongAxis: axis) }
        }
    }

    func testShapeOps() {
        let x = randomTensor([2, 3, 4], seed: 15)
        checkGradients([x]) { $0[0].reshaped(to: [4, -1]) }
        checkGradients([x]) { $0[0].permuted([2, 0, 1]) }
        checkGradients([x]) { $0[0].transposed() }
        checkGradients([x]) { $0[0].unsqueezed(axis: 1).expanded(to: [2, 5, 3, 4]) }
        checkGradients([randomTensor([2, 1, 4], seed: 16)]) { $0[0].squeezed() }
        checkGradients([x, randomTensor([2, 2, 4], seed: 17)]) { Tensor.concatenate([$0[0], $0[1]], alongAxis: 1) }
        checkGradients([x, randomTensor([2, 3, 4], seed: 18)]) { Tensor.stack([$0[0], $0[1]], alongAxis: 2) }
        checkGradients([x]) { Tensor.concatenate($0[0].split(sizes: [1, 3], alongAxis: 2).reversed(), alongAxis: 2) }
        checkGradients([x]) { $0[0].slice(alongAxis: 1, 1..<3) }
        checkGradients([x]) { $0[0].padded([(1, 2), (0, 1)], value: 0.5) }
    }

    func testIndexing() {
        let x = randomTensor([3, 4], seed: 19)
        checkGradients([x]) { $0[0].indexSelect(alongAxis: 0, indices: [2, 0, 2]) }
        checkGradients([x]) { $0[0].indexSelect(alongAxis: 1, indices: [3, 3, 1]) }
        let index = IndexTensor(shape: [3, 2], indices: [0, 3, 1, 1, 2, 0])
        checkGradients([x]) { $0[0].gather(alongAxis: 1, indices: index) }
        let values = randomTensor([3, 2], seed: 20)
        checkGradients([x, values]) { $0[0].scatterAdding(alongAxis: 1, indices: index, values: $0[1]) }
        checkGradients([x, randomTensor([2, 4], seed: 21)]) {
            $0[0].indexAdding(alongAxis: 0, indices: [1, 1], values: $0[1])
        }
    }

    func testSlidingWindowsAndTheirAdjoint() {
        let image = randomTensor([2, 2, 5, 4], seed: 27)
        let window = Window2D(kernel: (3, 2), stride: (2, 1), padding: (1, 1), dilation: (1, 2))
        checkGradients([image]) { $0[0].windows(window) }
        checkGradients([image]) { $0[0].windows(window, paddingValue: -2) }
        let columns = image.windows(window)
        checkGradients([randomTensor(columns.shape, seed: 28)]) { $0[0].foldingWindows(window, into: image.shape) }
    }

    func testSecondOrderHessianVectorProduct() {
        // f(x) = sum(x^3 * sin-free terms): f = sum(x^3) + sum(exp(x) * x); H = diag(6x + exp(x)(x + 2)).
        let x = randomTensor([5], seed: 22)
        let v = randomTensor([5], seed: 23)
        let leaf = x.requiringGrad()
        let f = (leaf.pow(3) + leaf.exp() * leaf).sum()
        f.backward(createGraph: true)
        let g = leaf.grad!
        leaf.zeroGrad()
        (g * v).sum().backward()
        let hv = leaf.grad!.scalars
        let expected = (0..<5).map { i -> Float in
            let xi = x.scalars[i]
            return (6 * xi + Foundation.exp(xi) * (xi + 2)) * v.scalars[i]
        }
        assertClose(hv, expected, tolerance: 1e-4)
    }

    func testGradientsAccumulateOnLeavesAndNoGradScopeRecordsNothing() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        (x * x).sum().backward()
        (x * 2).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [4, 6, 8])
        let y = withoutGradients { x * 3 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertFalse(x.detached().requiresGrad)
        x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    func testBackwardFromAGivenUpstreamGradient() {
        let x = Tensor([[1, 2], [3, 4]]).requiringGrad()
        let y = x * x
        y.backward(Tensor([[1, 0], [0, 2]]))
        XCTAssertEqual(x.grad?.scalars, [2, 0, 0, 16])
    }

    func testDeepChainDoesNotOverflowTheStack() {
        var y = Tensor([1]).requiringGrad()
        let leaf = y
        for _ in 0..<20000 { y = y * 1.0001 }
        y.sum().backward()
        XCTAssertEqual(leaf.grad!.item, Foundation.pow(1.0001, 20000), accuracy: 0.05)
    }
}
