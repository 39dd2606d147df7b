import XCTest

@testable import InertiaTensor

final class Convolution2DTests: XCTestCase {
    /// The formulation the op replaces, built from other ops: im2col (`windows`) and a batched
    /// matmul per group, then the bias.
    func reference(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ window: Window2D, groups: Int) -> Tensor {
        var window = window
        window.kernel = (w.shape[2], w.shape[3])
        let n = x.shape[0], out = w.shape[0], k = w.shape[1] * w.shape[2] * w.shape[3]
        let (oh, ow) = try! window.outputSize(height: x.shape[2], width: x.shape[3])
        let columns = x.windows(window).reshaped(to: [n, groups, k, oh * ow])
        var y = Tensor.matmul(w.reshaped(to: [1, groups, out / groups, k]), columns).reshaped(to: [n, out, oh, ow])
        if let b { y = y + b.reshaped(to: [1, out, 1, 1]) }
        return y
    }

    /// Shapes that cover stride, padding, dilation, groups, a missing bias, kernels larger than the
    /// padding, and batches of several chunks (the chunk holds 2^17 patch values).
    let cases: [(input: [Int], weight: [Int], window: Window2D, groups: Int, bias: Bool)] = [
        ([3, 2, 7, 6], [4, 2, 3, 3], Window2D(kernel: (3, 3), padding: (1, 1)), 1, true),
        (
            [2, 4, 9, 8], [6, 2, 3, 2], Window2D(kernel: (3, 2), stride: (2, 1), padding: (1, 1), dilation: (1, 2)), 2,
            false
        ),
        ([2, 3, 5, 5], [2, 3, 5, 5], Window2D(kernel: (5, 5), stride: (2, 2), padding: (2, 2)), 1, true),
        ([40, 4, 12, 12], [8, 4, 3, 3], Window2D(kernel: (3, 3), padding: (1, 1)), 1, true),
        ([70, 1, 28, 28], [16, 1, 3, 3], Window2D(kernel: (3, 3), padding: (1, 1)), 1, true),
        ([5, 6, 10, 10], [6, 1, 3, 3], Window2D(kernel: (3, 3), stride: (2, 2), padding: (1, 1)), 6, true),
    ]

    func testValuesAndGradientsMatchTheWindowsAndMatmulFormulation() {
        for (index, c) in cases.enumerated() {
            let seed = UInt64(10 * index)
            let x = randomTensor(c.input, seed: seed), w = randomTensor(c.weight, seed: seed + 1)
            let b = c.bias ? randomTensor([c.weight[0]], seed: seed + 2) : nil
            let (xa, wa, ba) = (x.requiringGrad(), w.requiringGrad(), b?.requiringGrad())
            let (xb, wb, bb) = (x.requiringGrad(), w.requiringGrad(), b?.requiringGrad())
            let got = Tensor.convolution2D(xa, weight: wa, bias: ba, window: c.window, groups: c.groups)
            let want = reference(xb, wb, bb, c.window, groups: c.groups)
            XCTAssertEqual(got.shape, want.shape, "case \(index)")
            // Sums of at most 150 products of values in [-1, 1]: Float32 rounding well under 1e-5.
            assertClose(got.scalars, want.scalars, tolerance: 1e-5, "case \(index) output")
            let upstream = randomTensor(got.shape, seed: seed + 3)
            (got * upstream).sum().backward()
            (want * upstream).sum().backward()
            assertClose(xa.grad!.scalars, xb.grad!.scalars, tolerance: 1e-5, "case \(index) input gradient")
            assertClose(wa.grad!.scalars, wb.grad!.scalars, tolerance: 1e-4, "case \(index) weight gradient")
            if let ba, let bb {
                assertClose(ba.grad!.scalars, bb.grad!.scalars, tolerance: 1e-4, "case \(index) bias gradient")
            }
        }
    }

    func testGradientsAndTangentsAgainstDifferences() {
        let window = Window2D(kernel: (3, 2), stride: (2, 1), padding: (1, 1), dilation: (1, 2))
        let x = randomTensor([2, 4, 6, 5], seed: 1), w = randomTensor([4, 2, 3, 2], seed: 2)
        let b = randomTensor([4], seed: 3)
        checkGradients([x, w, b]) { Tensor.convolution2D($0[0], weight: $0[1], bias: $0[2], window: window, groups: 2) }
        let y = Tensor.convolution2D(x, weight: w, window: window, groups: 2)
        let g = randomTensor(y.shape, seed: 4)
        // The adjoints are ops of their own (the backward of the backward, and forward mode, go
        // through them): each is checked like any op.
        checkGradients([g, w]) {
            Tensor.convolution2DInputGradient($0[0], weight: $0[1], inputShape: x.shape, window: window, groups: 2)
        }
        checkGradients([g, x]) {
            Tensor.convolution2DWeightGradient($0[0], input: $0[1], weightShape: w.shape, window: window, groups: 2)
        }
    }

    func testTheAdjointsAreAdjoint() {
        // <conv(x, w), g> = <x, inputGradient(g, w)> = <w, weightGradient(g, x)>, in Double.
        let window = Window2D(kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        let x = randomTensor([3, 2, 7, 7], seed: 5), w = randomTensor([4, 2, 3, 3], seed: 6)
        let y = Tensor.convolution2D(x, weight: w, window: window)
        let g = randomTensor(y.shape, seed: 7)
        func dot(_ a: Tensor, _ b: Tensor) -> Double {
            zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0 * $1.1) }
        }
        let viaOutput = dot(y, g)
        let viaInput = dot(x, Tensor.convolution2DInputGradient(g, weight: w, inputShape: x.shape, window: window))
        let viaWeight = dot(w, Tensor.convolution2DWeightGradient(g, input: x, weightShape: w.shape, window: window))
        XCTAssertEqual(viaInput, viaOutput, accuracy: 1e-4 * Swift.abs(viaOutput) + 1e-5)
        XCTAssertEqual(viaWeight, viaOutput, accuracy: 1e-4 * Swift.abs(viaOutput) + 1e-5)
    }

    func testHessianVectorProductThroughTheBackward() {
        // f(w) = sum(conv(x, w)^2) / 2 is quadratic in w: its Hessian-vector product along v is the
        // weight gradient of conv(x, v), which double backward must reproduce.
        let window = Window2D(kernel: (3, 3), padding: (1, 1))
        let x = randomTensor([2, 3, 6, 6], seed: 8), v = randomTensor([5, 3, 3, 3], seed: 9)
        let w = randomTensor([5, 3, 3, 3], seed: 10).requiringGrad()
        let y = Tensor.convolution2D(x, weight: w, window: window)
        ((y * y).sum() * 0.5).backward(createGraph: true)
        let gradient = w.grad!
        w.zeroGrad()
        (gradient * v).sum().backward()
        let expected = Tensor.convolution2DWeightGradient(
            Tensor.convolution2D(x, weight: v, window: window), input: x, weightShape: w.shape, window: window)
        assertClose(w.grad!.scalars, expected.scalars, tolerance: 1e-4)
    }

    func testResultsDoNotDependOnTheThreadCount() {
        let window = Window2D(kernel: (3, 3), padding: (1, 1))
        let x = randomTensor([70, 3, 14, 14], seed: 11), w = randomTensor([8, 3, 3, 3], seed: 12)
        let b = randomTensor([8], seed: 13)
        func run(threads: Int) -> [Float] {
            let saved = Parallel.threadCount
            Parallel.threadCount = threads
            defer { Parallel.threadCount = saved }
            let (xl, wl, bl) = (x.requiringGrad(), w.requiringGrad(), b.requiringGrad())
            let y = Tensor.convolution2D(xl, weight: wl, bias: bl, window: window)
            (y * y).sum().backward()
            return y.scalars + xl.grad!.scalars + wl.grad!.scalars + bl.grad!.scalars
        }
        XCTAssertEqual(run(threads: 1), run(threads: 2))
    }

    func testEmptyBatchesAndChannelsGiveTheBiasAndZeroGradients() {
        let window = Window2D(kernel: (3, 3), padding: (1, 1))
        let b = randomTensor([4], seed: 14)
        let empty = Tensor.zeros([0, 2, 5, 5]).requiringGrad()
        let w = randomTensor([4, 2, 3, 3], seed: 15).requiringGrad()
        let y = Tensor.convolution2D(empty, weight: w, bias: b, window: window)
        XCTAssertEqual(y.shape, [0, 4, 5, 5])
        y.sum().backward()
        XCTAssertEqual(w.grad!.scalars, [Float](repeating: 0, count: w.count))
        // No input channels: every output is its channel's bias.
        let noChannels = Tensor.convolution2D(
            Tensor.zeros([2, 0, 4, 4]), weight: Tensor.zeros([4, 0, 3, 3]), bias: b, window: window)
        XCTAssertEqual(noChannels.shape, [2, 4, 4, 4])
        XCTAssertEqual(noChannels.scalars, (0..<(2 * 4 * 16)).map { b.scalars[($0 / 16) % 4] })
    }
}
