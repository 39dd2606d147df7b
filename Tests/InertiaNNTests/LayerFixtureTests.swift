import Foundation
import InertiaTensor
import XCTest

@testable import InertiaNN

/// Layer outputs and gradients against PyTorch (`Scripts/fixtures/make_nn_fixtures.py`).
final class LayerFixtureTests: XCTestCase {
    func module(for c: [String: Any]) -> Module {
        var rng = PhiloxGenerator(seed: 0)
        let name = c["name"] as! String
        let params = c["parameters"] as! [String: Any]
        func weightShape() -> [Int] { (params["weight"] as! [String: Any])["shape"] as! [Int] }
        switch name {
        case "linear", "linear_batched":
            let s = weightShape()
            return Linear(s[1], s[0], using: &rng)
        case let n where n.hasPrefix("conv"):
            let s = weightShape()
            let groups = c["groups"] as! Int
            return Conv2d(
                s[1] * groups, s[0], kernelSize: c["kernel"] as! Int, stride: c["stride"] as! Int,
                padding: c["padding"] as! Int, dilation: c["dilation"] as! Int, groups: groups,
                bias: params["bias"] != nil, using: &rng)
        case "maxpool", "maxpool_padded":
            return MaxPool2d(
                kernelSize: c["kernel"] as! Int, stride: c["stride"] as? Int, padding: c["padding"] as! Int)
        case "avgpool_padded":
            return AvgPool2d(
                kernelSize: c["kernel"] as! Int, stride: c["stride"] as? Int, padding: c["padding"] as! Int)
        case "layernorm": return LayerNorm(weightShape())
        case "rmsnorm": return RMSNorm(weightShape()[0])
        case let n where n.hasPrefix("batchnorm"): return BatchNorm(weightShape()[0])
        case "attention_rope":
            let d = (params["query.weight"] as! [String: Any])["shape"] as! [Int]
            return CausalSelfAttention(dimension: d[0], heads: c["heads"] as! Int, rotary: true, using: &rng)
        default: fatalError("unknown fixture case \(name)")
        }
    }

    func testEveryLayerMatchesPyTorch() throws {
        let fixture = try loadFixture("nn_layers.json")
        let cases = fixture["cases"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(cases.count, 14)
        for c in cases {
            let name = c["name"] as! String
            let m = module(for: c)
            let params = c["parameters"] as! [String: Any]
            let named = Dictionary(uniqueKeysWithValues: m.namedParameters().map { ($0.name, $0.parameter) })
            XCTAssertEqual(Set(named.keys), Set(params.keys), name)
            for (key, value) in params { named[key]!.assign(fixtureTensor(value)) }
            if name.hasSuffix("_eval") {
                m.eval()
                for (key, buffer) in m.namedBuffers() {
                    buffer.value = fixtureTensor((c["buffers"] as! [String: Any])[key])
                }
            }
            let x = fixtureTensor(c["input"]).requiringGrad()
            let y = m(x)
            assertClose(y, fixtureTensor(c["output"]), tolerance: 2e-5, "\(name) output")
            (y * fixtureTensor(c["upstream"])).sum().backward()
            assertClose(x.grad!, fixtureTensor(c["input_grad"]), tolerance: 5e-5, "\(name) input gradient")
            for (key, value) in c["parameter_grads"] as! [String: Any] {
                assertClose(named[key]!.grad!, fixtureTensor(value), tolerance: 5e-5, "\(name) gradient of \(key)")
            }
            for (key, buffer) in m.namedBuffers() {
                assertClose(
                    buffer.value, fixtureTensor((c["buffers"] as! [String: Any])[key]), tolerance: 1e-5,
                    "\(name) buffer \(key)")
            }
            // Forward mode through the layer, along the input gradient's direction, against the
            // double-backward JVP (after the buffer checks: a training-mode forward updates them).
            let direction = x.grad!
            let forward = Tensor.jvp(of: { m($0) }, at: x.detached(), tangent: direction)
            let reference = Tensor.jvpByDoubleBackward(of: { m($0) }, at: x.detached(), tangent: direction)
            assertClose(forward.value, y.detached(), tolerance: 0, "\(name) forward-mode value")
            assertClose(forward.jvp, reference.jvp, tolerance: 1e-4, "\(name) tangent")
        }
    }

    func testLossesMatchPyTorch() throws {
        let l = try loadFixture("nn_layers.json")["losses"] as! [String: Any]
        func value(_ key: String) -> Float { (l[key] as! NSNumber).floatValue }
        let logits = fixtureTensor(l["logits"])
        let labels = l["labels"] as! [Int]
        XCTAssertEqual(Loss.crossEntropy(logits: logits, labels: labels).item, value("cross_entropy"), accuracy: 1e-5)
        XCTAssertEqual(
            Loss.crossEntropy(logits: logits, labels: labels, labelSmoothing: 0.1).item,
            value("cross_entropy_smoothed"), accuracy: 1e-5)
        let ignored = [0, -100, 2, 2, -100, 3]
        XCTAssertEqual(
            Loss.crossEntropy(logits: logits, labels: ignored, ignoreIndex: -100).item, value("cross_entropy_ignore"),
            accuracy: 1e-5)
        XCTAssertEqual(
            Loss.crossEntropy(logits: logits, labels: ignored, labelSmoothing: 0.2, ignoreIndex: -100).item,
            value("cross_entropy_smoothed_ignore"), accuracy: 1e-5)
        XCTAssertEqual(
            Loss.crossEntropy(logits: logits, labels: labels, reduction: .sum).item, value("cross_entropy_sum"),
            accuracy: 1e-4)
        let x = fixtureTensor(l["x"]), y = fixtureTensor(l["y"])
        XCTAssertEqual(
            Loss.binaryCrossEntropyWithLogits(logits: x, targets: y).item, value("bce_with_logits"), accuracy: 1e-5)
        XCTAssertEqual(Loss.meanSquaredError(x, y).item, value("mse"), accuracy: 1e-4)
        XCTAssertEqual(Loss.l1(x, y).item, value("l1"), accuracy: 1e-5)
        XCTAssertEqual(Loss.huber(x, y, delta: 0.7).item, value("huber"), accuracy: 1e-5)
        XCTAssertEqual(
            Loss.klDivergence(input: fixtureTensor(l["kl_input"]), target: fixtureTensor(l["kl_target"])).item,
            value("kl_batchmean"), accuracy: 1e-5)
    }
}
