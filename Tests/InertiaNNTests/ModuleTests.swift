import Foundation
import InertiaTensor
import XCTest

@testable import InertiaNN

final class ModuleTests: XCTestCase {
    func testNamesNestCountsAndFreezing() {
        var rng = PhiloxGenerator(seed: 1)
        let mlp = MLP(sizes: [4, 8, 3], using: &rng)
        XCTAssertEqual(
            mlp.namedParameters().map(\.name), ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"])
        XCTAssertEqual(mlp.parameterCount(), 4 * 8 + 8 + 8 * 3 + 3)
        let frozen = mlp.freeze { $0.hasSuffix("bias") }
        XCTAssertEqual(frozen, ["layers.0.bias", "layers.2.bias"])
        XCTAssertEqual(mlp.parameterCount(), 4 * 8 + 8 * 3)
        mlp(Tensor.ones([2, 4])).sum().backward()
        XCTAssertNil(mlp.namedParameters()[1].parameter.grad)
        XCTAssertNotNil(mlp.namedParameters()[0].parameter.grad)
        var rng2 = PhiloxGenerator(seed: 2)
        let block = TransformerBlock(dimension: 8, heads: 2, using: &rng2)
        XCTAssertTrue(block.namedParameters().map(\.name).contains("attention.query.weight"))
        XCTAssertTrue(block.namedParameters().map(\.name).contains("mlp.2.bias"))
    }

    func testTrainEvalModeReachesChildrenAndDropoutIsSeeded() {
        let a = Sequential(Dropout(probability: 0.5, seed: 7)), b = Sequential(Dropout(probability: 0.5, seed: 7))
        let x = Tensor.ones([1000])
        let ya = a(x), yb = b(x)
        XCTAssertEqual(ya, yb)
        XCTAssertEqual(Set(ya.scalars), [0, 2])
        XCTAssertEqual(ya.mean().item, 1, accuracy: 0.1)
        a.eval()
        XCTAssertEqual(a(x), x)
        XCTAssertFalse((a.layers[0]).isTraining)
    }

    func testStateDictionaryRoundTripAndErrorsNameTheParameter() throws {
        var rng = PhiloxGenerator(seed: 3)
        let m = Sequential(Linear(3, 2, using: &rng), BatchNorm(2))
        var state = Dictionary(uniqueKeysWithValues: m.stateDictionary().map { ($0.name, $0.value) })
        XCTAssertEqual(
            Set(state.keys),
            ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"])
        var other = PhiloxGenerator(seed: 4)
        let n = Sequential(Linear(3, 2, using: &other), BatchNorm(2))
        try n.loadStateDictionary(state)
        XCTAssertEqual(n.namedParameters()[0].parameter.value, m.namedParameters()[0].parameter.value)
        state["0.weight"] = Tensor.zeros([3, 2])
        XCTAssertThrowsError(try n.loadStateDictionary(state)) { error in
            XCTAssertEqual("\(error)", "parameter '0.weight' has shape [2, 3] in the model but [3, 2] in the file")
        }
        state["0.weight"] = nil
        XCTAssertThrowsError(try n.loadStateDictionary(state)) {
            XCTAssertEqual("\($0)", "no entry for parameter '0.weight'")
        }
    }

    func testInitializersFollowPyTorchBounds() {
        var rng = PhiloxGenerator(seed: 5)
        let linear = Linear(100, 50, using: &rng)
        XCTAssertLessThanOrEqual(linear.weight.value.abs().max().item, 0.1)
        XCTAssertGreaterThan(linear.weight.value.abs().max().item, 0.09)
        let q = Initializer.orthogonal(gain: 1).make([6, 4], using: &rng)
        let gram = Tensor.matmul(q, q, transposingA: true)
        for (i, v) in gram.scalars.enumerated() { XCTAssertEqual(v, i % 5 == 0 ? 1 : 0, accuracy: 1e-5) }
        XCTAssertEqual(Initializer.fans([8, 3, 5, 5]).fanIn, 75)
        let xavier = Initializer.xavierUniform().make([200, 300], using: &rng)
        XCTAssertLessThanOrEqual(xavier.abs().max().item, Float((6.0 / 500).squareRoot()))
    }

    func testGradientCheckOfConvolutionAndAttentionThroughModules() {
        var rng = PhiloxGenerator(seed: 6)
        let conv = Conv2d(
            4, 2, kernelSize: (2, 3), stride: (2, 1), padding: (1, 0), dilation: (1, 2), groups: 2, using: &rng)
        checkModuleGradients(conv, input: Tensor.normal([2, 4, 5, 6], using: &rng))
        let attention = CausalSelfAttention(dimension: 4, heads: 2, using: &rng)
        checkModuleGradients(attention, input: Tensor.normal([1, 3, 4], using: &rng))
        checkModuleGradients(LayerNorm(4), input: Tensor.normal([2, 4], using: &rng))
        checkModuleGradients(MaxPool2d(kernelSize: 2), input: Tensor.normal([1, 1, 4, 4], using: &rng))
    }

    /// Central differences of `sum(module(x) * w)` with respect to the input and every parameter.
    func checkModuleGradients(_ m: Module, input: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        var rng = PhiloxGenerator(seed: 77)
        let x = input.requiringGrad()
        let y = m(x)
        let w = Tensor.normal(y.shape, using: &rng)
        m.zeroGradients()
        (y * w).sum().backward()
        func objective() -> Double {
            withoutGradients { zip(m(input).scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
        }
        let h: Float = 1e-2
        for (name, p) in m.namedParameters() {
            let analytic = p.grad!.scalars
            for i in 0..<p.value.count {
                let original = p.value.scalars[i]
                p.value.withUnsafeMutableBufferPointer { $0[i] = original + h }
                let plus = objective()
                p.value.withUnsafeMutableBufferPointer { $0[i] = original - h }
                let minus = objective()
                p.value.withUnsafeMutableBufferPointer { $0[i] = original }
                let numeric = (plus - minus) / Double(2 * h)
                if Swift.abs(numeric - Double(analytic[i])) > 2e-2 * Swift.max(1, Swift.abs(numeric)) {
                    XCTFail(
                        "\(type(of: m)) \(name)[\(i)]: analytic \(analytic[i]) numeric \(numeric)", file: file,
                        line: line)
                    return
                }
            }
        }
        let analytic = x.grad!.scalars
        for i in 0..<input.count {
            var plusInput = input, minusInput = input
            plusInput.withUnsafeMutableBufferPointer { $0[i] += h }
            minusInput.withUnsafeMutableBufferPointer { $0[i] -= h }
            let f = { (t: Tensor) in
                withoutGradients { zip(m(t).scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
            }
            let numeric = (f(plusInput) - f(minusInput)) / Double(2 * h)
            if Swift.abs(numeric - Double(analytic[i])) > 2e-2 * Swift.max(1, Swift.abs(numeric)) {
                XCTFail(
                    "\(type(of: m)) input[\(i)]: analytic \(analytic[i]) numeric \(numeric)", file: file, line: line)
                return
            }
        }
    }
}
