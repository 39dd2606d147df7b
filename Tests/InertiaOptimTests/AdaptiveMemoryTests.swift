import Foundation
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaOptim

/// AM-SGD and AM-AdamW against `shared/fixtures/adaptive-memory-momentum` and the spec's invariants.
final class AdaptiveMemoryTests: XCTestCase {
    func testClosedFormCases() throws {
        let f = try fixture("adaptive-memory-momentum", "beta_closed_form.json")
        let cases = f["cases"] as! [[String: Any]]
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            func n(_ k: String) -> Double { (c[k] as! NSNumber).doubleValue }
            let g = doubles(c["g"]), d = doubles(c["d"])
            let beta = AdaptiveMemory.beta(g: g, d: d, f: n("f"), fHat: n("f_hat"), eta: n("eta"), lambda: n("lambda"))
            XCTAssertEqual(beta, n("beta"), accuracy: 1e-10)
            // The optimizer's own step from memory d and gradient g (option A: f̂ = f, so only the
            // cases whose f̂ equals f): its β, its new memory and the parameter move x ← x − η d_next.
            guard n("f_hat") == n("f") else { continue }
            let opt = try AMSGD(learningRate: n("eta"), lambda: n("lambda"))
            let start = (0..<g.count).map { Float($0) }
            let x = Parameter(Tensor(start))
            try opt.load(
                OptimizerState(
                    optimizer: "am-sgd", learningRate: n("eta"), updates: 1, steps: ["x": 1],
                    slots: ["x/memory": Tensor(d.map(Float.init))]), for: [("x", x)])
            x.value.grad = Tensor(g.map(Float.init))
            opt.step([("x", x)])
            XCTAssertEqual(opt.lastBeta, n("beta"), accuracy: 1e-5)
            let next = doubles(c["d_next"])
            let memory = try XCTUnwrap(opt.state().slots["x/memory"]).scalars
            for (a, e) in zip(memory, next) { XCTAssertEqual(Double(a), e, accuracy: 1e-5) }
            for (i, value) in x.value.scalars.enumerated() {
                XCTAssertEqual(Double(value), Double(start[i]) - n("eta") * next[i], accuracy: 1e-5)
            }
        }
    }

    func testAMSGDOptionAOnTheQuadraticFollowsTheFixture() throws {
        let q =
            try fixture("adaptive-memory-momentum", "beta_closed_form.json")["am_sgd_variantA_quadratic"]
            as! [String: Any]
        // f(x) = ½ xᵀ A x with A = diag(...), start, η and λ as the fixture records them.
        let trajectory = q["trajectory"] as! [[String: Any]]
        let diagonalText = try XCTUnwrap(q["A"] as? String)
        XCTAssertTrue(diagonalText.hasPrefix("diag(") && diagonalText.hasSuffix(")"), diagonalText)
        let diagonal = try diagonalText.dropFirst(5).dropLast().split(separator: ",").map {
            try XCTUnwrap(Float($0.trimmingCharacters(in: .whitespaces)), diagonalText)
        }
        let opt = try AMSGD(
            learningRate: (q["eta"] as! NSNumber).doubleValue, lambda: (q["lambda"] as! NSNumber).doubleValue)
        let x = Parameter(Tensor(doubles(q["x0"]).map(Float.init)))
        XCTAssertEqual(diagonal.count, x.value.count)
        for step in trajectory {
            x.value.grad = Tensor(zip(diagonal, x.value.scalars).map { $0 * $1 })
            opt.step([("x", x)])
            XCTAssertEqual(opt.lastBeta, (step["beta"] as! NSNumber).doubleValue, accuracy: 1e-5)
            for (a, e) in zip(x.value.scalars, doubles(step["x"])) { XCTAssertEqual(Double(a), e, accuracy: 1e-5) }
        }
        XCTAssertEqual(opt.betaHistory.count, trajectory.count)
    }

    func testInvariants() throws {
        var rng = PhiloxGenerator(seed: 3)
        let opt = try AMSGD(learningRate: 0.05)
        let a = Parameter(Tensor.normal([3, 4], using: &rng)), b = Parameter(Tensor.normal([5], using: &rng))
        var previous: [Float] = []
        for _ in 0..<30 {
            a.value.grad = Tensor.normal([3, 4], using: &rng)
            b.value.grad = Tensor.normal([5], using: &rng)
            let g = a.grad!.scalars + b.grad!.scalars
            opt.step([("a", a), ("b", b)])
            XCTAssertTrue((0...1).contains(opt.lastBeta))
            let memory = opt.state().slots["a/memory"]!.scalars + opt.state().slots["b/memory"]!.scalars
            if !previous.isEmpty {
                // λ = 0, f̂ = f: the new memory is the minimum-norm point of the segment [d, g].
                let norm = { (v: [Float]) in v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
                XCTAssertLessThanOrEqual(norm(memory), Swift.min(norm(previous), norm(g)) + 1e-5)
            }
            previous = memory
        }
        // Option A's β does not change when the loss is rescaled.
        func betas(scale: Float) throws -> [Double] {
            var r = PhiloxGenerator(seed: 9)
            let o = try AMSGD(learningRate: 0.01)
            let p = Parameter(Tensor.normal([6], using: &r))
            for _ in 0..<5 {
                p.value.grad = Tensor.normal([6], using: &r) * scale
                o.step([("p", p)])
            }
            return o.betaHistory
        }
        let unscaled = try betas(scale: 1), scaled = try betas(scale: 50)
        for (x, y) in zip(unscaled, scaled) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        // AM-AdamW's first step is Adam's.
        let amw = try AMAdamW(learningRate: 0.01, weightDecay: 0), adam = try Adam(learningRate: 0.01)
        let p1 = Parameter(Tensor([1, -2, 3])), p2 = Parameter(Tensor([1, -2, 3]))
        p1.value.grad = Tensor([0.3, -0.001, 7])
        p2.value.grad = Tensor([0.3, -0.001, 7])
        amw.step([("p", p1)])
        adam.step([("p", p2)])
        for (x, y) in zip(p1.value.scalars, p2.value.scalars) { XCTAssertEqual(x, y, accuracy: 1e-6) }
    }

    /// Option B (the aggregated plane, fed the losses) keeps β in [0, 1] and descends; on a convex
    /// quadratic its memory plane lies below the loss (f̂ ≤ f), which the bias gap turns into less
    /// momentum than option A takes from the same start.
    func testOptionBKeepsBetaInRangeAndTakesLessMomentumThanOptionAOnAConvexProblem() throws {
        func run(_ bias: AdaptiveMemory.Bias) throws -> (betas: [Double], loss: Float) {
            let opt = try AMSGD(learningRate: 0.18, bias: bias)
            let x = Parameter(Tensor([1, 1]))
            for _ in 0..<10 {
                let v = x.value.scalars
                opt.loss = Double(0.5 * (v[0] * v[0] + 10 * v[1] * v[1]))
                x.value.grad = Tensor([v[0], 10 * v[1]])
                opt.step([("x", x)])
                XCTAssertTrue((0...1).contains(opt.lastBeta), "\(bias): β \(opt.lastBeta)")
            }
            let v = x.value.scalars
            return (opt.betaHistory, 0.5 * (v[0] * v[0] + 10 * v[1] * v[1]))
        }
        let aggregated = try run(.aggregated), current = try run(.current)
        XCTAssertLessThan(aggregated.loss, 0.5 * (1 + 10))
        let mean = { (b: [Double]) in b.dropFirst().reduce(0, +) / Double(b.count - 1) }
        XCTAssertLessThan(mean(aggregated.betas), mean(current.betas))
    }
}
