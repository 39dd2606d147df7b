import Foundation
import XCTest
import InertiaNN
import InertiaOptim
import InertiaTensor
@testable import InertiaGenerative
import InertiaTestSupport

final class DiffusionTrainingTests: XCTestCase {
    func testSlicedWassersteinOfShiftedSetsIsTheShiftOverRootTwo() {
        var rng = PhiloxGenerator(seed: 1)
        let a = Matrix64(rows: 500, columns: 2, scalars: (0..<1000).map { _ in rng.nextNormal() })
        var b = a
        for i in 0..<500 { b[i, 0] += 0.3; b[i, 1] -= 0.4 }
        var r = PhiloxGenerator(seed: 2)
        XCTAssertEqual(slicedWasserstein(a, a, using: &r), 0)
        XCTAssertEqual(slicedWasserstein(a, b, directions: 2000, using: &r), 0.5 / 2.0.squareRoot(), accuracy: 0.02)
    }

    func testTargetsTrainingAndGuidedDenoiser() throws {
        var rng = PhiloxGenerator(seed: 3)
        let network = DenoiserNetwork(dimension: 2, hidden: [32, 32], classes: 2, using: &rng)
        let model = DiffusionModel(network: network, schedule: .linearFlowDefault, prediction: .velocity)
        // Flow matching's velocity target in diffusion time is ε − x₀.
        XCTAssertEqual(model.target(0.5, -1, 0.3), -1.5)
        let adam = try Adam(learningRate: 3e-3)
        var losses: [Float] = []
        for _ in 0..<300 {
            let x0 = Tensor(shape: [128, 2], scalars: (0..<256).map { i in Float(i % 2 == 0 ? 1 : -0.5) + Float(0.1 * rng.nextNormal()) })
            network.zeroGradients()
            let loss = model.loss(x0, labels: [Int](repeating: 0, count: 128), timeRange: 0...1, unconditionalProbability: 0.1, using: &rng)
            loss.backward()
            adam.step(network.namedParameters())
            losses.append(loss.item)
        }
        XCTAssertLessThan(losses.suffix(50).reduce(0, +), 0.8 * losses.prefix(50).reduce(0, +))
        let x = Matrix64(rows: 3, columns: 2, scalars: [0.1, 0.2, -1, 0.5, 2, -2])
        let plain = model.denoiser()(x, 0.5), unguided = model.denoiser(label: 0, guidance: 0)(x, 0.5)
        XCTAssertEqual(plain, unguided, "w = 0 is the unconditional model")
        XCTAssertTrue(model.denoiser(label: 1, guidance: 3)(x, 0.5).scalars.allSatisfy(\.isFinite))
        // Near t = 0 the trained flow's denoiser returns points near the data mean (1, −0.5).
        let cleaned = DiffusionSampler.euler(Matrix64(rows: 200, columns: 2, scalars: (0..<400).map { _ in rng.nextNormal() }),
                                             grid: TimeGrid.uniform(from: 1, to: 1e-3, steps: 50), schedule: .linearFlowDefault, model: model.denoiser())
        let meanX = (0..<200).reduce(0.0) { $0 + cleaned[$1, 0] } / 200, meanY = (0..<200).reduce(0.0) { $0 + cleaned[$1, 1] } / 200
        XCTAssertEqual(meanX, 1, accuracy: 0.2)
        XCTAssertEqual(meanY, -0.5, accuracy: 0.2)
    }
}
