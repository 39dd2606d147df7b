import Foundation
import InertiaExperiments
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaOptim

/// Lion and Lion-K against `shared/fixtures/lion-kappa` and the invariants of the spec's section 6.
final class LionTests: XCTestCase {
    let kernels: [String: LionK.Kernel] = [
        "l1_sign (Lion)": .sign, "l2_normalized": .l2, "huber_delta1_clip": .huber(delta: 1),
        "logcosh_tanh": .tanh(a: 1),
        "linf_argmax": .linf, "half_squared_l2_identity": .quadratic,
    ]

    func replay(_ optimizer: Optimizer, x0: [Double], grads: [[Double]]) -> [[Float]] {
        let p = Parameter(Tensor(x0.map(Float.init)))
        return grads.map { g in
            p.value.grad = Tensor(g.map(Float.init))
            optimizer.step([("x", p)])
            return p.value.scalars
        }
    }

    func assertTrajectory(
        _ got: [[Float]], _ expected: Any?, tolerance: Double, _ label: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let rows = (expected as! [Any]).map(doubles)
        XCTAssertEqual(got.count, rows.count, label, file: file, line: line)
        for (t, (a, e)) in zip(got, rows).enumerated() {
            for (x, y) in zip(a, e) where Swift.abs(Double(x) - y) > tolerance {
                XCTFail("\(label) step \(t + 1): \(a) vs \(e)", file: file, line: line)
                return
            }
        }
    }

    func testLionMatchesLucidrainsAndOptaxAndEveryKernelItsSteps() throws {
        let f = try fixture("lion-kappa", "lion_k_steps.json")
        let x0 = doubles(f["x0"]), grads = (f["grads"] as! [Any]).map(doubles)
        let (lr, b1, b2, wd) = (
            (f["lr"] as! NSNumber).doubleValue, (f["beta1"] as! NSNumber).doubleValue,
            (f["beta2"] as! NSNumber).doubleValue, (f["weight_decay"] as! NSNumber).doubleValue
        )
        for key in ["lion_lucidrains_torch", "lion_optax"] {
            assertTrajectory(
                replay(try Lion(learningRate: lr, beta1: b1, beta2: b2, weightDecay: wd), x0: x0, grads: grads), f[key],
                tolerance: 1e-6, key)
        }
        let cases = f["lion_k"] as! [String: Any]
        XCTAssertEqual(Set(cases.keys), Set(kernels.keys))
        for (name, expected) in cases {
            let opt = try LionK(learningRate: lr, beta1: b1, beta2: b2, weightDecay: wd, kernel: kernels[name]!)
            assertTrajectory(replay(opt, x0: x0, grads: grads), expected, tolerance: 1e-6, name)
        }
    }

    func testConstraintExperimentReachesTheConstrainedMinimizers() throws {
        let c = try fixture("lion-kappa", "lion_k_steps.json")["constraint_experiment"] as! [String: Any]
        let x0 = doubles(c["x0"]).map(Float.init), target = Tensor(doubles(c["target"]).map(Float.init))
        let dualNorm: [String: Double] = [
            "l1_sign (Lion)": .infinity, "l2_normalized": 2, "huber_delta1_clip": .infinity, "linf_argmax": 1,
        ]
        // The hyper-parameters and step count as the problem's text writes them; the steps at
        // which the dual norm is recorded as its key names them.
        let problem = try XCTUnwrap(c["problem"] as? String)
        func setting(_ name: String) throws -> Double {
            try XCTUnwrap(SpecFixture.writtenNumber(name, in: problem), name)
        }
        let steps = Int(try setting("steps"))
        let results = c["results"] as! [String: [String: Any]]
        let normKey = try XCTUnwrap(results.first?.value.keys.first { $0.hasPrefix("dual_norm_at_steps_") })
        let recorded = try normKey.dropFirst("dual_norm_at_steps_[".count).dropLast().split(separator: ",").map {
            try XCTUnwrap(Int($0), normKey)
        }
        for (name, result) in results {
            let opt = try LionK(
                learningRate: try setting("lr"), beta1: try setting("beta1"), beta2: try setting("beta2"),
                weightDecay: try setting("wd(lambda)"), kernel: kernels[name]!)
            opt.boundMonitor = true
            let x = Parameter(Tensor(x0))
            var norms: [Double] = []
            for step in 0..<steps {
                x.value.grad = x.value - target
                opt.step([("x", x)])
                if recorded.contains(step) {
                    norms.append(
                        x.value.withUnsafeBufferPointer { LionK.norm($0.baseAddress!, $0.count, p: dualNorm[name]!) })
                }
            }
            for (a, e) in zip(x.value.scalars, doubles(result["x_final"])) {
                XCTAssertEqual(Double(a), e, accuracy: 1e-5, "\(name) final x")
            }
            for (a, e) in zip(norms, doubles(result[normKey])) {
                XCTAssertEqual(a, e, accuracy: 5e-5, "\(name) dual norm")
            }
            XCTAssertEqual(opt.boundViolations, 0, name)
            XCTAssertEqual(opt.boundChecks, steps)
        }
    }

    func testEnvelopeBoundHoldsForAdversarialGradientsWithEveryBoundedKernel() throws {
        var rng = PhiloxGenerator(seed: 4)
        for kernel in [LionK.Kernel.sign, .l2, .linf, .lp(3), .huber(delta: 0.5), .tanh(a: 2)] {
            let opt = try LionK(learningRate: 0.05, weightDecay: 2, kernel: kernel)
            opt.boundMonitor = true
            let x = Parameter(Tensor.normal([6, 7], standardDeviation: 3, using: &rng))
            for _ in 0..<200 {
                x.value.grad = Tensor.normal([6, 7], standardDeviation: 10, using: &rng)
                opt.step([("x", x)])
            }
            XCTAssertEqual(opt.boundViolations, 0, kernel.name)
            XCTAssertEqual(opt.boundChecks, 200)
        }
    }

    func testInvariantsOfSectionSix() throws {
        var rng = PhiloxGenerator(seed: 5)
        let grads = (0..<6).map { _ in Tensor.normal([5], using: &rng) }
        let x0 = Tensor.normal([5], using: &rng)
        func run(_ opt: Optimizer, scale: Float = 1) -> Tensor {
            let p = Parameter(x0)
            for g in grads {
                p.value.grad = g * scale
                opt.step([("p", p)])
            }
            return p.value
        }
        // Lion is invariant to the gradient scale.
        XCTAssertEqual(
            run(try Lion(learningRate: 0.01, weightDecay: 0.1)),
            run(try Lion(learningRate: 0.01, weightDecay: 0.1), scale: 37))
        // β1 = β2 = β with the identity kernel is EMA momentum SGD with decoupled decay.
        let ema = run(try LionK(learningRate: 0.1, beta1: 0.8, beta2: 0.8, weightDecay: 0.5, kernel: .quadratic))
        var m = Tensor.zeros([5]), x = x0
        for g in grads {
            m = m * 0.8 + g * 0.2
            x = x * Float(1 - 0.1 * 0.5) - m * 0.1
        }
        for (a, b) in zip(ema.scalars, x.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // β1 = 0 is signSGD with decoupled decay, whatever β2.
        let signSGD = run(try Lion(learningRate: 0.01, beta1: 0, beta2: 0.3, weightDecay: 0.2))
        var y = x0
        for g in grads { y = y * Float(1 - 0.01 * 0.2) - g.sign() * 0.01 }
        for (a, b) in zip(signSGD.scalars, y.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(run(try Lion(learningRate: 0.01, beta1: 0, beta2: 0.9, weightDecay: 0.2)), signSGD)
    }

    func testNuclearKernelGivesThePolarFactor() throws {
        var c: [Float] = [3, 0, 0, 0, 0.5, 0]  // 2x3, singular values 3 and 0.5
        c.withUnsafeMutableBufferPointer { LionK.polarFactor($0.baseAddress!, rows: 2, columns: 3) }
        assertClose(c, [1, 0, 0, 0, 1, 0], 1e-5)
        var rng = PhiloxGenerator(seed: 6)
        var a = Tensor.normal([4, 3], using: &rng).scalars
        a.withUnsafeMutableBufferPointer { LionK.polarFactor($0.baseAddress!, rows: 4, columns: 3) }
        let q = Tensor(shape: [4, 3], scalars: a)
        let gram = Tensor.matmul(q, q, transposingA: true)
        for (i, v) in gram.scalars.enumerated() { XCTAssertEqual(v, i % 4 == 0 ? 1 : 0, accuracy: 1e-5) }
        XCTAssertThrowsError(try LionK(learningRate: 0.1, kernel: .lp(1))) { XCTAssertTrue("\($0)".contains("1 < p")) }
    }
}
