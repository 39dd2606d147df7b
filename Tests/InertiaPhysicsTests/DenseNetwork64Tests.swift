import Foundation
import InertiaTensor
import XCTest

@testable import InertiaPhysics

final class DenseNetwork64Tests: XCTestCase {
    /// The hand-written gradient against central differences, for both activations.
    func testGradientAgainstCentralDifferences() {
        for activation in [DenseNetwork64.Activation.tanh, .swish] {
            var rng = PhiloxGenerator(seed: 7)
            let network = DenseNetwork64(sizes: [2, 5, 4, 3], activation: activation, using: &rng)
            var p = network.parameters
            for i in p.indices { p[i] += 0.1 * rng.nextNormal() }  // non-zero biases too
            let input = [0.3, -0.8], upstream = [0.5, -1.5, 2.0]
            func value(_ q: [Double]) -> Double {
                zip(network.output(input, parameters: q), upstream).reduce(0) { $0 + $1.0 * $1.1 }
            }
            var gradient = [Double](repeating: 0, count: p.count)
            network.accumulateGradient(input, parameters: p, outputGradient: upstream, into: &gradient)
            for i in p.indices {
                var plus = p, minus = p
                plus[i] += 1e-6
                minus[i] -= 1e-6
                XCTAssertEqual(
                    gradient[i], (value(plus) - value(minus)) / 2e-6, accuracy: 1e-8, "\(activation) parameter \(i)")
            }
        }
    }

    /// Adam then L-BFGS fits a smooth curve from 16 points to round-off-level loss.
    func testFitReachesATightLoss() {
        var rng = PhiloxGenerator(seed: 1)
        var network = DenseNetwork64(sizes: [1, 16, 16, 1], activation: .tanh, using: &rng)
        let xs = (0..<16).map { -1 + 2 * Double($0) / 15 }
        let model = network
        let (losses, lbfgs) = network.fit(adamSteps: 300, learningRate: 1e-2, lbfgsIterations: 400) { p in
            var value = 0.0, gradient = [Double](repeating: 0, count: p.count)
            for x in xs {
                let residual = model.output([x], parameters: p)[0] - Foundation.sin(2 * x)
                value += residual * residual / 16
                model.accumulateGradient([x], parameters: p, outputGradient: [2 * residual / 16], into: &gradient)
            }
            return (value, gradient)
        }
        XCTAssertEqual(losses.count, 300)
        XCTAssertLessThan(losses.last!, losses.first!)
        XCTAssertLessThan(lbfgs!.value, 1e-8, "L-BFGS finishes far below Adam's \(losses.last!)")
        XCTAssertEqual(network.parameters, lbfgs!.x)
        XCTAssertEqual(network([0.5])[0], Foundation.sin(1), accuracy: 1e-3)
    }
}
