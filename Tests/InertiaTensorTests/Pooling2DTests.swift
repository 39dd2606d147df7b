import XCTest

@testable import InertiaTensor

final class Pooling2DTests: XCTestCase {
    let windows = [
        Window2D(kernel: (2, 2), stride: (2, 2)),
        Window2D(kernel: (3, 3), stride: (1, 1), padding: (1, 1)),
        Window2D(kernel: (3, 2), stride: (2, 3), padding: (1, 1), dilation: (2, 1)),
        Window2D(kernel: (2, 3), stride: (3, 2)),
    ]

    func testValuesAndGradientsMatchTheWindowsFormulation() {
        for (index, window) in windows.enumerated() {
            let x = randomTensor([3, 2, 9, 11], seed: UInt64(index))
            let (a, b) = (x.requiringGrad(), x.requiringGrad())
            let got = a.maxPooled2D(window)
            let (oh, ow) = try! window.outputSize(height: 9, width: 11)
            let want = b.windows(window, paddingValue: -.infinity).max(alongAxis: 2).values.reshaped(to: [3, 2, oh, ow])
            XCTAssertEqual(got.shape, want.shape)
            XCTAssertEqual(got.scalars, want.scalars, "window \(index)")
            let upstream = randomTensor(got.shape, seed: 50 + UInt64(index))
            (got * upstream).sum().backward()
            (want * upstream).sum().backward()
            // Overlapping windows add several upstream values into one place, in another order.
            assertClose(a.grad!.scalars, b.grad!.scalars, tolerance: 1e-6, "window \(index) gradient")
        }
    }

    func testGradientsAndTangentsAgainstDifferences() {
        // Distinct values at least 0.01 apart, so the step of the differences never moves a maximum.
        var rng = PhiloxGenerator(seed: 3)
        let values = (0..<(2 * 2 * 7 * 6)).map { Float($0) * 0.01 }.shuffled(using: &rng)
        let x = Tensor(shape: [2, 2, 7, 6], scalars: values)
        for window in windows {
            checkGradients([x], step: 1e-3) { $0[0].maxPooled2D(window) }
            // The backward's own derivative (a gather at the same places), through double backward.
            checkGradients([x], step: 1e-3) { ($0[0] * $0[0]).maxPooled2D(window) }
        }
    }

    func testTiesNaNAndInfinityFollowPyTorch() {
        // One 2x2 window per case: ties go to the first maximal element in row-major order, a NaN
        // is the maximum (the last NaN takes the gradient, as PyTorch's `val > max || isnan(val)`),
        // and an all -inf window gives -inf with the gradient at its first element.
        let cases: [([Float], Float, Int)] = [
            ([1, 3, 3, 2], 3, 1), ([.nan, 5, .nan, 1], .nan, 2),
            ([-.infinity, -.infinity, -.infinity, -.infinity], -.infinity, 0),
            ([2, 2, 2, 2], 2, 0),
        ]
        for (values, maximum, place) in cases {
            let x = Tensor(shape: [1, 1, 2, 2], scalars: values).requiringGrad()
            let y = x.maxPooled2D(Window2D(kernel: (2, 2), stride: (2, 2)))
            XCTAssertEqual(y.shape, [1, 1, 1, 1])
            XCTAssertTrue(y.scalars[0] == maximum || (y.scalars[0].isNaN && maximum.isNaN), "\(values)")
            y.sum().backward()
            XCTAssertEqual(x.grad!.scalars, (0..<4).map { $0 == place ? 1 : 0 }, "\(values)")
        }
    }

    func testPaddingNeverWins() {
        // All values negative: with -inf padding, every output is an input value.
        let x = randomTensor([1, 1, 4, 4], seed: 7, low: -2, high: -1)
        let y = x.maxPooled2D(Window2D(kernel: (3, 3), stride: (2, 2), padding: (1, 1)))
        XCTAssertTrue(y.scalars.allSatisfy { x.scalars.contains($0) })
    }
}
