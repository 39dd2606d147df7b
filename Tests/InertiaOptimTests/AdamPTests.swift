import Foundation
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaOptim

/// SGDP and AdamP against the official code's trajectories (`shared/fixtures/adamp`) and the
/// invariants of the spec's section 6.2.
final class AdamPTests: XCTestCase {
    func matrix(_ any: Any?) -> [Float] { (any as! [Any]).flatMap { doubles($0).map(Float.init) } }

    func testOfficialTrajectoriesStepByStep() throws {
        let f = try fixture("adamp", "official_trajectories.json")
        let w0 = matrix(f["W0"])
        // The weight's shape, the cases and their hyper-parameters are the fixture's.
        let rows = (f["W0"] as! [Any]).count, columns = w0.count / rows
        let cases = f["cases"] as! [[String: Any]]
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let h = c["hyperparameters"] as! [String: Any]
            func d(_ k: String) -> Double { (h[k] as! NSNumber).doubleValue }
            let kind = c["gradient_kind"] as! String
            let name = c["optimizer"] as! String
            let optimizer: FusedOptimizer =
                name == "SGDP"
                ? try SGDP(
                    learningRate: d("lr"), momentum: d("momentum"), dampening: d("dampening"),
                    weightDecay: d("weight_decay"),
                    nesterov: (h["nesterov"] as! NSNumber).boolValue, epsilon: d("eps"), delta: d("delta"),
                    weightDecayRatio: d("wd_ratio"))
                : try AdamP(
                    learningRate: d("lr"), beta1: doubles(h["betas"])[0], beta2: doubles(h["betas"])[1],
                    epsilon: d("eps"),
                    weightDecay: d("weight_decay"), delta: d("delta"), weightDecayRatio: d("wd_ratio"),
                    nesterov: (h["nesterov"] as! NSNumber).boolValue)
            let w = Parameter(Tensor(shape: [rows, columns], scalars: w0))
            for (t, step) in (c["steps"] as! [[String: Any]]).enumerated() {
                let g = matrix(step["grad"])
                let channel = w.value.withUnsafeBufferPointer { wp in
                    g.withUnsafeBufferPointer {
                        RadialProjection.cosines(
                            wp.baseAddress!, $0.baseAddress!, rows: rows, columns: columns, eps: d("eps"))
                    }
                }
                for (a, e) in zip(channel, doubles(step["channel_cos"])) {
                    XCTAssertEqual(a, e, accuracy: 1e-6, "\(name) \(kind) cos")
                }
                w.value.grad = Tensor(shape: [rows, columns], scalars: g)
                optimizer.step([("w", w)])
                let stats = (optimizer as? AdamP)?.projections["w"] ?? (optimizer as! SGDP).projections["w"]!
                let fired =
                    stats.channel > 0 && stats.channel == t + 1
                    ? "channel" : (stats.layer == t + 1 ? "layer" : (stats.none == t + 1 ? "none" : "?"))
                XCTAssertEqual(fired, step["projection_applied"] as? String, "\(name) \(kind) step \(t + 1)")
                for (a, e) in zip(
                    w.value.scalars, doubles((step["param_after"] as! [Any]).flatMap { $0 as! [NSNumber] }))
                {
                    XCTAssertEqual(Double(a), e, accuracy: 2e-6, "\(name) \(kind) step \(t + 1)")
                }
            }
        }
        let bias = f["bias_case"] as! [String: Any]
        let b = Parameter(Tensor(doubles(bias["p0"]).map(Float.init)))
        b.value.grad = Tensor(doubles(bias["grad"]).map(Float.init))
        let hyperparameters = bias["hyperparameters"] as! [String: NSNumber]
        let adamp = try AdamP(
            learningRate: hyperparameters["lr"]!.doubleValue, weightDecay: hyperparameters["weight_decay"]!.doubleValue)
        adamp.step([("b", b)])
        for (a, e) in zip(b.value.scalars, doubles(bias["param_after"])) {
            XCTAssertEqual(Double(a), e, accuracy: 1e-6)
        }
        XCTAssertEqual(adamp.projections["b"]?.none, 1)
    }

    func testDeltaZeroGivesAdamWAndSGD() throws {
        var rng = PhiloxGenerator(seed: 1)
        let start = Tensor.normal([4, 5], using: &rng)
        let grads = (0..<5).map { _ in Tensor.normal([4, 5], using: &rng) }
        func run(_ opt: Optimizer) -> Tensor {
            let p = Parameter(start)
            for g in grads {
                p.value.grad = g
                opt.step([("p", p)])
            }
            return p.value
        }
        let adamp = run(try AdamP(learningRate: 0.01, weightDecay: 0.1, delta: 0))
        let adamw = run(try AdamW(learningRate: 0.01, weightDecay: 0.1))
        for (a, b) in zip(adamp.scalars, adamw.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let sgdp = run(try SGDP(learningRate: 0.1, momentum: 0.9, nesterov: true, delta: 0))
        let sgd = run(try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true))
        for (a, b) in zip(sgdp.scalars, sgd.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testProjectionRemovesTheRadialPartAndTheDecisionIsScaleFree() {
        var rng = PhiloxGenerator(seed: 2)
        let w = Tensor.normal([3, 6], using: &rng)
        // A gradient orthogonal to each row of w.
        var g = Tensor.normal([3, 6], using: &rng).scalars
        for r in 0..<3 {
            let row = Array(w.scalars[(r * 6)..<(r * 6 + 6)])
            let dot = zip(row, g[(r * 6)..<(r * 6 + 6)]).reduce(0) { $0 + $1.0 * $1.1 } / row.reduce(0) { $0 + $1 * $1 }
            for j in 0..<6 { g[r * 6 + j] -= dot * row[j] }
        }
        var u = Tensor.normal([3, 6], using: &rng).scalars
        let outcome = w.withUnsafeBufferPointer { wp in
            g.withUnsafeBufferPointer { gp in
                u.withUnsafeMutableBufferPointer {
                    RadialProjection.apply(
                        weight: wp.baseAddress!, gradient: gp.baseAddress!, update: $0.baseAddress!, shape: [3, 6],
                        delta: 0.1, eps: 1e-8)
                }
            }
        }
        XCTAssertEqual(outcome, .channel)
        for r in 0..<3 {
            let dot = (0..<6).reduce(0.0) { $0 + Double(w.scalars[r * 6 + $1]) * Double(u[r * 6 + $1]) }
            XCTAssertEqual(dot, 0, accuracy: 1e-6)
        }
        let scaled = (w * 7).scalars
        var v = u
        let again = scaled.withUnsafeBufferPointer { wp in
            g.withUnsafeBufferPointer { gp in
                v.withUnsafeMutableBufferPointer {
                    RadialProjection.apply(
                        weight: wp.baseAddress!, gradient: gp.baseAddress!, update: $0.baseAddress!, shape: [3, 6],
                        delta: 0.1, eps: 1e-8)
                }
            }
        }
        XCTAssertEqual(again, .channel)
    }

    func testZeroGradientOnAMatrixProjectsAndReducesDecay() throws {
        let adamp = try AdamP(learningRate: 0.1, weightDecay: 0.5)
        let w = Parameter(Tensor.ones([2, 2]))
        w.value.grad = Tensor.zeros([2, 2])
        adamp.step([("w", w)])
        XCTAssertEqual(adamp.projections["w"]?.channel, 1)
        XCTAssertEqual(w.value.scalars, [Float](repeating: Float(1 - 0.1 * 0.5 * 0.1), count: 4))
    }
}
