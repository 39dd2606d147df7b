import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

final class DiffusionTrainingTests: XCTestCase {
    func testSlicedWassersteinOfShiftedSetsIsTheShiftOverRootTwo() {
        var rng = PhiloxGenerator(seed: 1)
        let a = Matrix64(rows: 500, columns: 2, scalars: (0..<1000).map { _ in rng.nextNormal() })
        var b = a
        for i in 0..<500 {
            b[i, 0] += 0.3
            b[i, 1] -= 0.4
        }
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
            let x0 = Tensor(
                shape: [128, 2],
                scalars: (0..<256).map { i in Float(i % 2 == 0 ? 1 : -0.5) + Float(0.1 * rng.nextNormal()) })
            network.zeroGradients()
            let loss = model.loss(
                x0, labels: [Int](repeating: 0, count: 128), timeRange: 0...1, unconditionalProbability: 0.1,
                using: &rng)
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
        let cleaned = DiffusionSampler.euler(
            Matrix64(rows: 200, columns: 2, scalars: (0..<400).map { _ in rng.nextNormal() }),
            grid: TimeGrid.uniform(from: 1, to: 1e-3, steps: 50), schedule: .linearFlowDefault, model: model.denoiser())
        let meanX = (0..<200).reduce(0.0) { $0 + cleaned[$1, 0] } / 200,
            meanY = (0..<200).reduce(0.0) { $0 + cleaned[$1, 1] } / 200
        XCTAssertEqual(meanX, 1, accuracy: 0.2)
        XCTAssertEqual(meanY, -0.5, accuracy: 0.2)
    }

    func testWeightingScalesTheLossAndEDMTrainingLearnsTheGaussianPosterior() throws {
        var rng = PhiloxGenerator(seed: 8)
        let network = DenoiserNetwork(dimension: 2, hidden: [64, 64], using: &rng)
        var model = DiffusionModel(network: network, schedule: .vpCosineDefault, prediction: .epsilon)
        let x0 = Tensor(shape: [64, 2], scalars: (0..<128).map { _ in Float(rng.nextNormal()) })
        var first = PhiloxGenerator(seed: 1), second = PhiloxGenerator(seed: 1)
        let plain = model.loss(x0, labels: [], timeRange: 1e-3...0.999, unconditionalProbability: 0, using: &first).item
        model.weighting = { $0 < 0.5 ? 3 : 3 }
        XCTAssertEqual(
            model.loss(x0, labels: [], timeRange: 1e-3...0.999, unconditionalProbability: 0, using: &second).item,
            3 * plain, accuracy: 1e-5 * plain)
        // EDM's weight λ(σ) times c_out² is 1, so the preconditioned regression is λ‖D − x₀‖².
        for sigma in [0.01, 0.5, 3.0, 80.0] {
            let c = EDMPreconditioning(sigmaData: 0.5).coefficients(sigma)
            XCTAssertEqual(c.lossWeight * c.out * c.out, 1, accuracy: 1e-12)
        }
        // Data N((1, −0.5), 0.5² I): the trained EDM denoiser approaches the posterior mean
        // m + s²/(s² + σ²)(x − m) at small, medium and large σ.
        let edm = DiffusionModel.edm(network: DenoiserNetwork(dimension: 2, hidden: [64, 64], using: &rng))
        var points = Matrix64(rows: 4000, columns: 2)
        for i in 0..<4000 {
            points[i, 0] = 1 + 0.5 * rng.nextNormal()
            points[i, 1] = -0.5 + 0.5 * rng.nextNormal()
        }
        try edm.fit(
            points: points, labels: [Int](repeating: 0, count: 4000), steps: 800, batchSize: 256, learningRate: 3e-3,
            timeRange: 0.002...80, unconditionalProbability: 0, using: &rng)
        let denoiser = edm.denoiser()
        for sigma in [0.1, 0.5, 2.0] {
            let spreadOfX = (0.25 + sigma * sigma).squareRoot()
            var x = Matrix64(rows: 200, columns: 2)
            for i in 0..<200 {
                x[i, 0] = 1 + spreadOfX * rng.nextNormal()
                x[i, 1] = -0.5 + spreadOfX * rng.nextNormal()
            }
            let estimate = denoiser(x, sigma)
            let gain = 0.25 / (0.25 + sigma * sigma)
            var exact = x
            for i in 0..<200 {
                exact[i, 0] = 1 + gain * (x[i, 0] - 1)
                exact[i, 1] = -0.5 + gain * (x[i, 1] + 0.5)
            }
            let error = GaussianMixtureDenoiser.rootMeanSquareDistance(estimate, exact)
            let center = Matrix64(
                rows: 200, columns: 2,
                scalars: [Double](repeating: 0, count: 400).enumerated().map { $0.offset % 2 == 0 ? 1 : -0.5 })
            let spread = GaussianMixtureDenoiser.rootMeanSquareDistance(exact, center)
            XCTAssertLessThan(error, 0.1 * max(spread, 0.5), "sigma \(sigma): error \(error)")
        }
    }
}
