import Foundation
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaPhysics

/// The running-mean targets are the mean of every estimate so far; the network Laplacian matches
/// a closed form and central differences, and a loss of it backpropagates.
final class WalkOnSpheresSupervisionTests: XCTestCase {
    func testRunningMeansAverageEveryEstimate() {
        var targets = RunningMeanTargets(count: 2)
        let estimates = [0.5, -1.0, 2.0, 4.0]
        for (k, e) in estimates.enumerated() {
            let value = targets.update(1, with: e)
            XCTAssertEqual(value, estimates.prefix(k + 1).reduce(0, +) / Double(k + 1), accuracy: 1e-15)
        }
        XCTAssertEqual(targets.values[0], 0)
        XCTAssertEqual(targets.updates, [0, 4])
    }

    func testTheLaplacianOfAClosedFormAndOfANetwork() throws {
        // u = x0² x1 + sin(x0) + x2 (x2 is not a coordinate): Δu = 2 x1 − sin(x0).
        var rng = PhiloxGenerator(seed: 1)
        let x = Tensor.normal([6, 3], mean: 0, standardDeviation: 1, using: &rng)
        func closedForm(_ t: Tensor) -> Tensor {
            let x0 = t.slice(alongAxis: 1, 0..<1), x1 = t.slice(alongAxis: 1, 1..<2), x2 = t.slice(alongAxis: 1, 2..<3)
            return x0 * x0 * x1 + x0.sin() + x2
        }
        let (_, laplacian) = inputLaplacian(of: closedForm, at: x, coordinates: 2)
        for r in 0..<6 {
            let x0 = Double(x.scalars[3 * r]), x1 = Double(x.scalars[3 * r + 1])
            XCTAssertEqual(Double(laplacian.scalars[r]), 2 * x1 - Foundation.sin(x0), accuracy: 1e-5)
        }

        let net = MLP(sizes: [3, 16, 16, 1], activation: .silu, using: &rng)
        let (_, networkLaplacian) = inputLaplacian(of: { net($0) }, at: x, coordinates: 2)
        let h: Float = 1e-2
        for r in 0..<6 {
            var second = 0.0
            for k in 0..<2 {
                func value(_ shift: Float) -> Double {
                    var row = Array(x.scalars[(3 * r)..<(3 * r + 3)])
                    row[k] += shift
                    return Double(withoutGradients { net(Tensor(shape: [1, 3], scalars: row)) }.item)
                }
                second += (value(h) - 2 * value(0) + value(-h)) / Double(h * h)
            }
            XCTAssertEqual(
                Double(networkLaplacian.scalars[r]), second, accuracy: 2e-2 * Swift.max(1, Swift.abs(second)))
        }
        // A loss of the Laplacian reaches the parameters (third order through SiLU): its gradient
        // in a first-layer weight matches central differences.
        func loss() -> Tensor { inputLaplacian(of: { net($0) }, at: x, coordinates: 2).laplacian.squared().mean() }
        for p in net.parameters { p.zeroGrad() }
        let (_, again) = inputLaplacian(of: { net($0) }, at: x, coordinates: 2)
        for p in net.parameters { p.zeroGrad() }
        again.squared().mean().backward()
        let weight = net.parameters[0]
        let gradient = try XCTUnwrap(weight.grad).scalars
        let original = weight.value.detached()
        for entry in [0, 5, 17] {
            var values = original.scalars
            values[entry] += 1e-2
            weight.assign(Tensor(shape: original.shape, scalars: values))
            let up = Double(loss().item)
            values[entry] -= 2e-2
            weight.assign(Tensor(shape: original.shape, scalars: values))
            let down = Double(loss().item)
            weight.assign(original)
            let difference = (up - down) / 2e-2
            XCTAssertEqual(Double(gradient[entry]), difference, accuracy: 2e-2 * Swift.max(Swift.abs(difference), 1e-2))
        }
    }
}
