import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaNN

/// `ResidualBlock` against PyTorch, and MAN's local learning against
/// `shared/fixtures/momentum-auxiliary-network/` and the spec's invariants (section 6).
final class MomentumAuxiliaryNetworkTests: XCTestCase {
    /// One parameter vector, for averaging checks.
    final class Vector: Module {
        let value: Parameter
        init(_ scalars: [Float]) {
            value = Parameter(Tensor(shape: [scalars.count], scalars: scalars))
            super.init()
            register(value, as: "value")
        }
    }

    func testResidualBlockMatchesPyTorch() throws {
        let fixture = try loadFixture("nn_residual.json")
        let cases = fixture["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let name = c["name"] as! String
            var rng = PhiloxGenerator(seed: 0)
            let block = ResidualBlock(
                c["in_channels"] as! Int, c["out_channels"] as! Int, stride: c["stride"] as! Int, using: &rng)
            let named = Dictionary(uniqueKeysWithValues: block.namedParameters().map { ($0.name, $0.parameter) })
            let parameters = c["parameters"] as! [String: Any]
            XCTAssertEqual(Set(named.keys), Set(parameters.keys), name)
            for (key, value) in parameters { named[key]!.assign(fixtureTensor(value)) }
            let x = fixtureTensor(c["input"]).requiringGrad()
            let y = block(x)
            assertClose(y, fixtureTensor(c["output"]), tolerance: 2e-5, "\(name) output")
            (y * fixtureTensor(c["upstream"])).sum().backward()
            assertClose(x.grad!, fixtureTensor(c["input_grad"]), tolerance: 5e-5, "\(name) input gradient")
            for (key, value) in c["parameter_grads"] as! [String: Any] {
                assertClose(named[key]!.grad!, fixtureTensor(value), tolerance: 5e-5, "\(name) gradient of \(key)")
            }
            let buffers = c["buffers"] as! [String: Any]
            XCTAssertEqual(Set(block.namedBuffers().map(\.name)), Set(buffers.keys), name)
            for (key, buffer) in block.namedBuffers() {
                assertClose(buffer.value, fixtureTensor(buffers[key]), tolerance: 1e-5, "\(name) buffer \(key)")
            }
        }
    }

    func testAverageTrajectoryAndLossWeightsMatchTheFixture() throws {
        let f = try fixture("momentum-auxiliary-network", "ema_and_schedule.json")
        let ema = f["ema"] as! [String: Any]
        let decay = (ema["m"] as! NSNumber).floatValue
        let average = ParameterEMA(
            target: Vector(InertiaTestSupport.doubles(ema["init"]).map(Float.init)), decay: decay)
        let sources = (ema["sources"] as! [Any]).map(InertiaTestSupport.doubles)
        let trajectory = (ema["trajectory"] as! [Any]).map(InertiaTestSupport.doubles)
        XCTAssertEqual(sources.count, trajectory.count)
        for (source, expected) in zip(sources, trajectory) {
            try average.update(from: Vector(source.map(Float.init)))
            let value = (average.target as! Vector).value.value.scalars.map(Double.init)
            XCTAssertLessThan(maxDifference(value, expected), 1e-6)
        }
        // The initial value's weight after n updates towards zero is m^n.
        for (key, weight) in f["weight_after_n_steps_of_initial_value"] as! [String: NSNumber] {
            let steps = Int(key)!
            let decaying = ParameterEMA(target: Vector([1]), decay: decay)
            for _ in 0..<steps { try decaying.update(from: Vector([0])) }
            let value = Double((decaying.target as! Vector).value.value.scalars[0])
            XCTAssertEqual(value, weight.doubleValue, accuracy: 1e-3 * weight.doubleValue, "n = \(steps)")
        }
        let table = f["aux_loss_weights_resnet32_K16_official_code"] as! [[String: Any]]
        // The table lists the modules with an auxiliary loss: K - 2 of them for the code's K.
        let localModules = table.count + 2
        for entry in table {
            let stage = (entry["ema_copies_block"] as! [Int])[0]
            let weights = LocalLearningNetwork.infoProLossWeights(stage: stage, localModules: localModules)
            XCTAssertEqual(weights.ratio, (entry["ratio"] as! NSNumber).doubleValue, accuracy: 1e-12)
            XCTAssertEqual(weights.reconstruction, (entry["lambda_recon"] as! NSNumber).doubleValue, accuracy: 1e-12)
            XCTAssertEqual(weights.classification, (entry["lambda_ce"] as! NSNumber).doubleValue, accuracy: 1e-12)
        }
    }

    /// A three-module network of small dense layers: each module's first layer is a `Linear`.
    func network(_ input: LocalLearningNetwork.AuxiliaryInput, seed: UInt64 = 1) -> LocalLearningNetwork {
        var rng = PhiloxGenerator(seed: seed)
        let widths = [5, 6, 6, 4]
        let stages: [Module] = (0..<3).map { i in
            i == 2
                ? Sequential(
                    Linear(widths[i], widths[i + 1], using: &rng), Activation(.tanh), Linear(widths[3], 3, using: &rng))
                : Sequential(Linear(widths[i], widths[i + 1], using: &rng), Activation(.tanh))
        }
        // A head reads the module's output, or with MAN the next layer's.
        let heads: [Module] = (0..<2).map { j in
            Linear(input == .direct ? widths[j + 1] : widths[j + 2], 3, using: &rng)
        }
        return LocalLearningNetwork(
            stages: stages, heads: heads, auxiliaryInput: input,
            firstLayer: { (stages[$0 + 1] as! Sequential).layers[0] },
            freshLayer: { Linear(widths[$0 + 1], widths[$0 + 2], using: &rng) })
    }

    /// Invariants 1, 3 and 5: the average's rule, with the parameters of before the step.
    func testAverageMovesWithTheNextLayersPreStepParameters() throws {
        var rng = PhiloxGenerator(seed: 2)
        let x = Tensor.normal([8, 5], using: &rng)
        let labels = (0..<8).map { $0 % 3 }
        for decay: Float in [1, 0, 0.9] {
            let model = network(.momentum(decay: decay))
            let before = model.averages.map { $0.target.stateDictionary().map(\.value.scalars) }
            let next = (1...2).map {
                (model.stages[$0] as! Sequential).layers[0].stateDictionary().map(\.value.scalars)
            }
            model.zeroGradients()
            _ = try model.accumulateGradients(x, labels: labels)
            descend(model.parameters, learningRate: 0.1)
            for j in 0..<2 {
                let after = model.averages[j].target.stateDictionary().map(\.value.scalars)
                for (k, tensor) in after.enumerated() {
                    let expected = zip(before[j][k], next[j][k]).map { decay * $0 + (1 - decay) * $1 }
                    XCTAssertEqual(
                        maxDifference(tensor.map(Double.init), expected.map(Double.init)), 0, accuracy: 1e-6,
                        "decay \(decay), boundary \(j)")
                }
            }
        }
        // With LB zeroed and frozen and m = 0, the auxiliary input is the next layer's output.
        let model = network(.momentum(decay: 0))
        for bias in model.learnableBiases {
            for p in bias.parameters { p.assign(Tensor.zeros(p.shape)) }
            _ = bias.freeze(where: { _ in true })
        }
        _ = try model.accumulateGradients(x, labels: labels)
        let hidden = withoutGradients { model.stages[0](x) }
        let next = (model.stages[1] as! Sequential).layers[0]
        XCTAssertEqual(
            withoutGradients { model.auxiliaryFeatures(0, hidden) }.scalars, withoutGradients { next(hidden) }.scalars)
    }

    /// Invariant 2: module j's gradient is the derivative of its own local loss only (finite
    /// differences), the averages get none, and the modules before a loss get nothing from it.
    func testGradientsAreIsolatedPerModule() throws {
        var rng = PhiloxGenerator(seed: 3)
        let x = Tensor.normal([6, 5], using: &rng)
        let labels = [0, 1, 2, 2, 1, 0]
        let model = network(.momentum(decay: 1))
        model.zeroGradients()
        _ = try model.accumulateGradients(x, labels: labels)
        for average in model.averages {
            XCTAssertTrue(
                average.target.parameters.allSatisfy { $0.grad == nil || $0.grad!.scalars.allSatisfy { $0 == 0 } })
        }
        func localLoss(_ j: Int) -> Double {
            withoutGradients {
                var input = x
                for i in 0..<j { input = model.stages[i](input) }
                let output = model.stages[j](input)
                let logits = j < 2 ? model.heads[j](model.auxiliaryFeatures(j, output)) : output
                return Double(Loss.crossEntropy(logits: logits, labels: labels).item)
            }
        }
        let h: Float = 1e-2
        for j in 0..<3 {
            for parameter in model.stages[j].parameters {
                let analytic = parameter.grad!.scalars
                for i in 0..<parameter.value.count {
                    parameter.value.withUnsafeMutableBufferPointer { $0[i] += h }
                    let plus = localLoss(j)
                    parameter.value.withUnsafeMutableBufferPointer { $0[i] -= 2 * h }
                    let minus = localLoss(j)
                    parameter.value.withUnsafeMutableBufferPointer { $0[i] += h }
                    XCTAssertEqual(Double(analytic[i]), (plus - minus) / Double(2 * h), accuracy: 2e-3, "module \(j)")
                }
            }
        }
        // The learnable biases and heads get their local loss's gradient.
        XCTAssertTrue(model.learnableBiases.allSatisfy { $0.parameters.allSatisfy { $0.grad != nil } })
    }

    /// Invariant 4: inference does not use the averages, the learnable biases or the heads.
    func testInferenceIgnoresTheAuxiliaryBranches() {
        var rng = PhiloxGenerator(seed: 4)
        let x = Tensor.normal([4, 5], using: &rng)
        let model = network(.momentum(decay: 0.995))
        model.eval()
        let before = withoutGradients { model(x) }.scalars
        for module in model.heads + model.learnableBiases + model.averages.map(\.target) {
            for p in module.parameters { p.assign(Tensor.normal(p.shape, using: &rng)) }
        }
        XCTAssertEqual(withoutGradients { model(x) }.scalars, before)
    }

    /// Invariant 6: the average's running statistics come from its own forward passes only.
    func testAverageKeepsItsOwnRunningStatistics() throws {
        var rng = PhiloxGenerator(seed: 5)
        let stages: [Module] = [
            Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1, using: &rng)),
            Sequential(ResidualBlock(4, 4, using: &rng), GlobalAveragePool2d(), Linear(4, 3, using: &rng)),
        ]
        let model = LocalLearningNetwork(
            stages: stages, heads: [Sequential(GlobalAveragePool2d(), Linear(4, 3, using: &rng))],
            auxiliaryInput: .momentum(decay: 0.5), firstLayer: { _ in (stages[1] as! Sequential).layers[0] },
            freshLayer: { _ in ResidualBlock(4, 4, using: &rng) })
        let x = Tensor.normal([3, 1, 5, 5], using: &rng)
        let average = model.averages[0].target
        let replica = try average.cloned { ResidualBlock(4, 4, using: &rng) }
        let hidden = withoutGradients { model.stages[0](x) }
        _ = try model.accumulateGradients(x, labels: [0, 1, 2])
        _ = withoutGradients { replica(hidden) }
        for ((name, buffer), (_, own)) in zip(average.namedBuffers(), replica.namedBuffers()) {
            XCTAssertEqual(buffer.value.scalars, own.value.scalars, name)
        }
        let next = (model.stages[1] as! Sequential).layers[0]
        XCTAssertNotEqual(
            average.namedBuffers().first { $0.name == "bn1.running_mean" }!.buffer.value.scalars,
            next.namedBuffers().first { $0.name == "bn1.running_mean" }!.buffer.value.scalars)
    }
}

/// One plain gradient-descent step (the NN tests do not depend on InertiaOptim).
func descend(_ parameters: [Parameter], learningRate: Float) {
    for p in parameters where !p.isFrozen { if let g = p.grad { p.assign(p.value - g * learningRate) } }
}
