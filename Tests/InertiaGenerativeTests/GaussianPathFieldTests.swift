import Foundation
import InertiaTensor
import XCTest

@testable import InertiaGenerative

/// Flow matching on a Gaussian path: its regression target, the learned field's kinetic energy,
/// Euler sampling and a short training run.
final class GaussianPathFieldTests: XCTestCase {
    /// A raw-time network whose output is the constant `bias` (the last layer's weights zeroed).
    func constantField(_ bias: [Float], path: @escaping GaussianPathField.Path) -> GaussianPathField {
        var rng = PhiloxGenerator(seed: 1)
        let network = DenoiserNetwork(dimension: bias.count, hidden: [8], time: .raw, using: &rng)
        let last = network.namedParameters().suffix(2).map(\.parameter)
        last[0].assign(Tensor(repeating: 0, shape: last[0].shape))
        last[1].assign(Tensor(bias))
        return GaussianPathField(network: network, path: path)
    }

    /// With a zero network the loss is the target's mean square: on Cond-OT (σ̇ = −1, α̇ = 1)
    /// with every data row c it is `1 + mean(c²)`; on a path with other derivatives it follows them.
    func testLossRegressesTheConditionalVelocity() {
        let c: [Float] = [0.5, -2]
        let rows = 8192
        let data = Tensor(shape: [rows, 2], scalars: (0..<rows).flatMap { _ in c })
        var rng = PhiloxGenerator(seed: 2)
        let condOT = constantField([0, 0], path: KineticOptimalPath.conditionalOptimalTransport)
        let expected = 1 + Double(c.map { $0 * $0 }.reduce(0, +)) / 2
        // The per-element square of −z + c has variance 2 + 4c² per element.
        XCTAssertEqual(Double(withoutGradients { condOT.loss(data, using: &rng) }.item), expected, accuracy: 0.1)
        let slow = constantField([0, 0]) { t in (1 - t, t, -0.5, 2) }
        let slowExpected = 0.25 + 4 * Double(c.map { $0 * $0 }.reduce(0, +)) / 2
        XCTAssertEqual(Double(withoutGradients { slow.loss(data, using: &rng) }.item), slowExpected, accuracy: 0.1)
    }

    /// A constant field b: kinetic energy ‖b‖², and Euler moves every point by b.
    func testKineticEnergyAndEulerOfAConstantField() {
        let field = constantField([0.3, -1.2], path: KineticOptimalPath.conditionalOptimalTransport)
        var rng = PhiloxGenerator(seed: 3)
        let points = Matrix64(rows: 3, columns: 2, scalars: [1, 0, 0, 1, -1, -1])
        XCTAssertEqual(
            field.kineticEnergy(points: points, midpoints: 4, samples: 50, using: &rng), 0.09 + 1.44, accuracy: 1e-5)
        let start = Matrix64(rows: 2, columns: 2, scalars: [0, 0, 1, 1])
        let end = field.sample(start, steps: 7)
        XCTAssertEqual(end.scalars[0], 0.3, accuracy: 1e-5)
        XCTAssertEqual(end.scalars[3], 1 - 1.2, accuracy: 1e-5)
    }

    /// A short Cond-OT run on ring data lowers the loss.
    func testTrainingLowersTheLoss() throws {
        var rng = PhiloxGenerator(seed: 4)
        let points = GaussianMixtureDenoiser.ring(count: 8, radius: 2, standardDeviation: 0.1).sample(2000, using: &rng)
        let field = GaussianPathField(
            network: DenoiserNetwork(dimension: 2, hidden: [64, 64], time: .raw, using: &rng),
            path: KineticOptimalPath.conditionalOptimalTransport)
        var losses: [Float] = []
        try field.fit(points: points, steps: 300, batchSize: 256, using: &rng) { _, loss in
            losses.append(loss)
            return true
        }
        XCTAssertEqual(losses.count, 300)
        XCTAssertLessThan(losses.suffix(30).reduce(0, +) / 30, 0.8 * losses.prefix(10).reduce(0, +) / 10)
    }
}
