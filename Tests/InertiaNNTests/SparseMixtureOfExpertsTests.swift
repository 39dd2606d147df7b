import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaNN

/// The top-k router, the experts and the balance loss against `shared/fixtures/momentum-smoe`
/// (`router_momentum.json`), and the spec's router invariants (section 6, 3-4).
final class SparseMixtureOfExpertsTests: XCTestCase {
    /// The fixture's layer: sizes from `dims`, every weight from `router` and `experts`.
    static func fixtureLayer(_ f: [String: Any]) -> SparseMixtureOfExperts {
        let dims = f["dims"] as! [String: Any]
        var rng = PhiloxGenerator(seed: 0)
        let layer = SparseMixtureOfExperts(
            dimension: dims["d"] as! Int, hidden: dims["expert_hidden"] as! Int, experts: dims["E"] as! Int,
            topK: dims["k"] as! Int, using: &rng)
        let router = f["router"] as! [String: Any], experts = f["experts"] as! [String: Any]
        func tensor(_ any: Any?) -> Tensor { Tensor(nested: any) }
        layer.router.weight.assign(tensor(router["Wg"]))
        layer.router.bias!.assign(tensor(router["bg"]))
        layer.firstWeight.assign(tensor(experts["W1"]))
        layer.firstBias.assign(tensor(experts["b1"]))
        layer.secondWeight.assign(tensor(experts["W2"]))
        layer.secondBias.assign(tensor(experts["b2"]))
        return layer
    }

    func testRouterGatesOutputAndBalanceLossMatchTheFixture() throws {
        let f = try fixture("momentum-smoe", "router_momentum.json")
        let layer = Self.fixtureLayer(f)
        let x = Tensor(nested: f["X0"])
        let (logits, experts, gates) = layer.route(x)
        // Float32 against a Float64 reference: the spec's tolerance, 1e-5 absolute.
        XCTAssertLessThan(maxDifference(logits.scalars.map(Double.init), doubles(flat: f["logits"])), 1e-5)
        XCTAssertEqual(experts.indices, (f["topk_idx_desc"] as! [[Int]]).flatMap { $0 })
        XCTAssertLessThan(maxDifference(gates.scalars.map(Double.init), doubles(flat: f["gate_weights"])), 1e-5)
        let y = layer(x)
        XCTAssertLessThan(maxDifference(y.scalars.map(Double.init), doubles(flat: f["moe_out"])), 1e-5)
        let balance = f["balance"] as! [String: Any]
        let pairs = Double(x.shape[0] * layer.topK)
        XCTAssertEqual(layer.expertLoads.map { Double($0) / pairs }, doubles(balance["frac"]))
        XCTAssertEqual(Double(layer.balanceLoss!.item), (balance["loss"] as! NSNumber).doubleValue, accuracy: 1e-6)
    }

    func testOutputsAndGradientsMatchPyTorch() throws {
        // `Scripts/fixtures/make_moe_fixture.py`: a PyTorch port of the layer, differentiated
        // through `sum(y * upstream) + w * balance`.
        let cases = try loadFixture("nn_moe.json")["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let name = c["name"] as! String
            var rng = PhiloxGenerator(seed: 0)
            let layer = SparseMixtureOfExperts(
                dimension: c["dimension"] as! Int, hidden: c["hidden"] as! Int, experts: c["experts"] as! Int,
                topK: c["top_k"] as! Int, using: &rng)
            let named = Dictionary(uniqueKeysWithValues: layer.namedParameters().map { ($0.name, $0.parameter) })
            let parameters = c["parameters"] as! [String: Any]
            XCTAssertEqual(Set(named.keys), Set(parameters.keys), name)
            for (key, value) in parameters { named[key]!.assign(fixtureTensor(value)) }
            let x = fixtureTensor(c["input"]).requiringGrad()
            let y = layer(x)
            assertClose(y, fixtureTensor(c["output"]), tolerance: 2e-5, "\(name) output")
            XCTAssertEqual(layer.balanceLoss!.item, (c["balance_loss"] as! NSNumber).floatValue, accuracy: 1e-6, name)
            let weight = (c["balance_weight"] as! NSNumber).floatValue
            ((y * fixtureTensor(c["upstream"])).sum() + layer.balanceLoss! * weight).backward()
            assertClose(x.grad!, fixtureTensor(c["input_grad"]), tolerance: 5e-5, "\(name) input gradient")
            for (key, value) in c["parameter_grads"] as! [String: Any] {
                assertClose(named[key]!.grad!, fixtureTensor(value), tolerance: 5e-5, "\(name) gradient of \(key)")
            }
        }
    }

    func testGatesSumToOneOnKExpertsAndIgnoreALogitShift() {
        var rng = PhiloxGenerator(seed: 3)
        let layer = SparseMixtureOfExperts(dimension: 6, hidden: 5, experts: 5, topK: 3, using: &rng)
        let x = Tensor.normal([7, 6], standardDeviation: 1, using: &rng)
        let (_, experts, gates) = layer.route(x)
        for row in 0..<7 {
            let g = Array(gates.scalars[(row * 3)..<(row * 3 + 3)])
            XCTAssertEqual(g.reduce(0, +), 1, accuracy: 1e-6)
            XCTAssertTrue(g.allSatisfy { $0 > 0 })
            XCTAssertEqual(Set(experts.indices[(row * 3)..<(row * 3 + 3)]).count, 3)
        }
        let before = layer(x).scalars
        layer.router.bias!.assign(layer.router.bias!.value + 2.5)
        let after = layer(x).scalars
        XCTAssertEqual(layer.route(x).experts, experts)
        XCTAssertLessThan(maxDifference(before.map(Double.init), after.map(Double.init)), 1e-6)
    }

    func testNoTokensGiveAnEmptyOutputAndNoBalanceLoss() {
        var rng = PhiloxGenerator(seed: 6)
        let layer = SparseMixtureOfExperts(dimension: 3, hidden: 4, experts: 4, topK: 2, using: &rng)
        let y = layer(Tensor.zeros([2, 0, 3]))
        XCTAssertEqual(y.shape, [2, 0, 3])
        XCTAssertEqual(layer.balanceLoss!.item, 0)
        XCTAssertEqual(layer.expertLoads, [0, 0, 0, 0])
    }

    func testBalanceLossIsOneOverKForEqualLogits() {
        // Equal logits (zero router weight, equal bias): prob_e = 1/(kE) and the loss is 1/k,
        // whatever experts the tie-break picked (the lowest indices).
        var rng = PhiloxGenerator(seed: 4)
        for (experts, k) in [(4, 2), (8, 2), (5, 3)] {
            let layer = SparseMixtureOfExperts(dimension: 3, hidden: 4, experts: experts, topK: k, using: &rng)
            layer.router.weight.assign(Tensor.zeros(layer.router.weight.shape))
            layer.router.bias!.assign(Tensor(repeating: 0.3, shape: [experts]))
            _ = layer(Tensor.normal([9, 3], standardDeviation: 1, using: &rng))
            XCTAssertEqual(layer.balanceLoss!.item, 1 / Float(k), accuracy: 1e-6)
            XCTAssertEqual(layer.route(Tensor.zeros([1, 3])).experts.indices, Array(0..<k))
        }
    }

    func testGradientsReachTheRouterThroughTheGatesAndTheBalanceLoss() {
        var rng = PhiloxGenerator(seed: 5)
        let layer = SparseMixtureOfExperts(dimension: 4, hidden: 6, experts: 4, topK: 2, using: &rng)
        let x = Tensor.normal([5, 4], standardDeviation: 1, using: &rng)
        let upstream = Tensor.normal([5, 4], standardDeviation: 1, using: &rng)
        func loss() -> Tensor { (layer(x) * upstream).sum() + layer.balanceLoss! * 0.5 }
        loss().backward()
        let named = Dictionary(uniqueKeysWithValues: layer.namedParameters().map { ($0.name, $0.parameter) })
        // Central differences in Float32 with a step of 1e-3, on a function that is smooth as long
        // as no top-k choice flips (checked: the chosen experts stay the same) and no expert's
        // ReLU crosses its kink (1e-2 did here).
        let chosen = layer.route(x).experts
        for (name, parameter) in named.sorted(by: { $0.key < $1.key }) {
            let analytic = parameter.grad!.scalars
            for i in stride(from: 0, to: parameter.value.count, by: 3) {
                let saved = parameter.value
                var plus = saved.scalars, minus = saved.scalars
                plus[i] += 1e-3
                minus[i] -= 1e-3
                parameter.assign(Tensor(shape: saved.shape, scalars: plus))
                let up = withoutGradients { loss().item }
                XCTAssertEqual(layer.route(x).experts, chosen, "\(name)[\(i)] flipped a choice")
                parameter.assign(Tensor(shape: saved.shape, scalars: minus))
                let down = withoutGradients { loss().item }
                parameter.assign(saved)
                XCTAssertEqual(analytic[i], (up - down) / 2e-3, accuracy: 2e-3, "\(name)[\(i)]")
            }
        }
    }
}

extension Tensor {
    /// A tensor from nested JSON arrays of numbers (shape from the nesting).
    init(nested any: Any?) {
        var shape: [Int] = []
        var level: Any? = any
        while let array = level as? [Any] {
            shape.append(array.count)
            level = array.first
        }
        self.init(shape: shape, scalars: doubles(flat: any).map(Float.init))
    }
}

/// Every number of nested JSON arrays, in row-major order.
func doubles(flat any: Any?) -> [Double] {
    if let number = any as? NSNumber { return [number.doubleValue] }
    return (any as! [Any]).flatMap { doubles(flat: $0) }
}
