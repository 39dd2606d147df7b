import XCTest

@testable import InertiaTensor

/// The tape's byte counter against hand counts of what each op keeps for its backward rule.
final class TapeMemoryTests: XCTestCase {
    /// `relu(x W₁ + b) W₂`: the first product keeps `x`, the ReLU its input, the second product the
    /// ReLU's output; the weights are parameters, and the bias addition keeps nothing.
    func testATwoLayerNetworkHoldsItsActivationsUntilTheGraphGoes() {
        let (batch, d, h) = (16, 8, 32)
        let x = randomTensor([batch, d], seed: 1)
        let w1 = randomTensor([d, h], seed: 2).requiringGrad(), b = randomTensor([h], seed: 3).requiringGrad()
        let w2 = randomTensor([h, 1], seed: 4).requiringGrad()
        let (held, peak) = TapeMemory.measuring { () -> Int in
            let loss = ((x.matmul(w1) + b).relu().matmul(w2)).sum()
            let during = TapeMemory.currentBytes
            loss.backward()
            return during
        }
        XCTAssertEqual(held, 4 * (batch * d + 2 * batch * h))
        XCTAssertEqual(peak, held)
        XCTAssertEqual(TapeMemory.currentBytes, 0, "the graph is gone, and with it what it held")
    }

    func testAStorageSavedTwiceCountsOnceAndOutputsCountForTheOpsThatKeepThem() {
        let x = randomTensor([10], seed: 5).requiringGrad()
        let (_, squared) = TapeMemory.measuring { () -> Void in
            let h = x * 2  // keeps x (a parameter-like leaf: not counted) and the scalar 2
            _ = (h * h).sum()  // keeps h twice
        }
        XCTAssertEqual(squared, 4 + 4 * 10)
        let (_, exponential) = TapeMemory.measuring { () -> Void in
            _ = (x + 1).exp().sum()  // exp keeps its output only
        }
        XCTAssertEqual(exponential, 4 * 10)
    }

    func testNothingIsCountedOutsideAScopeOrWithoutGradients() {
        let x = randomTensor([100], seed: 6).requiringGrad()
        let outside = (x * x).exp()
        let (_, peak) = TapeMemory.measuring { () -> Void in
            _ = withoutGradients { (x * x).exp() }
        }
        XCTAssertEqual(peak, 0)
        XCTAssertEqual(TapeMemory.currentBytes, 0)
        XCTAssertNotNil(outside.gradFunctionName)
    }
}
