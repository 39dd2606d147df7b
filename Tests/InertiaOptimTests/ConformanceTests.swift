import Foundation
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaOptim

/// The checks every registered optimizer must pass.
final class ConformanceTests: XCTestCase {
    /// A learning rate at which each optimizer makes steady progress on the test problems. FISMO
    /// diverges on Rosenbrock at 1e-2: gradients in the thousands make its right factor nearly
    /// rank one, and the inverse root then magnifies the orthogonal direction.
    func learningRate(_ name: String) -> Double {
        [
            "sgd": 1e-3, "adam": 1e-2, "adamw": 1e-2, "nadam": 1e-2, "radam": 1e-2, "rmsprop": 1e-2, "adagrad": 1e-1,
            "sgdp": 1e-3, "am-sgd": 1e-3, "fismo": 5e-3, "mkor": 1e-3,
            "sso": 2e-3,
        ][name] ?? 1e-2
    }

    /// The entry's optimizer; one that attaches to a model (MKOR) gets a layer of its own, so
    /// that on the bare test parameters it shows the contract of the wrapper around its base
    /// (the preconditioning itself is tested in `MKORTests`).
    func make(_ entry: OptimizerEntry, _ extra: [String: HyperparameterValue] = [:]) throws -> Optimizer {
        var h = extra
        if h["lr"] == nil { h["lr"] = .number(learningRate(entry.name)) }
        var rng = PhiloxGenerator(seed: 0)
        return try entry(h, model: entry.needsModel ? Linear(2, 2, using: &rng) : nil)
    }

    /// Whether the registry hands this optimizer out routed: a matrix optimizer first, AdamW for the rest.
    func isMatrixOptimizer(_ optimizer: Optimizer) -> Bool {
        ((optimizer as? RoutedOptimizer)?.routes.first?.optimizer as? FusedOptimizer).map { $0.minimumRank >= 2 }
            ?? false
    }

    func testRegistryListsEveryOptimizerOnce() throws {
        let names = OptimizerRegistry.entries.map(\.name)
        XCTAssertEqual(
            names,
            [
                "sgd", "adam", "adamw", "nadam", "radam", "rmsprop", "adagrad", "lion", "lion-k", "adamp", "sgdp",
                "am-sgd", "am-adamw", "muon", "fismo", "auon", "hybrid-auon", "mkor", "sso",
            ])
        XCTAssertEqual(Set(names).count, names.count)
        for e in OptimizerRegistry.entries {
            XCTAssertFalse(e.paper.isEmpty)
            XCTAssertNotNil(e.defaultValue("lr"))
            XCTAssertEqual(Set(e.options.map(\.name)).count, e.options.count, e.name)
        }
        XCTAssertThrowsError(try OptimizerRegistry.entry(named: "adam")!(["betta": 1])) {
            XCTAssertTrue("\($0)".contains("unknown hyper-parameter 'betta'"))
        }
        // MKOR wraps a registered optimizer and attaches to a model: without one it says so, and
        // the settings it does not declare are its base optimizer's.
        let mkor = try XCTUnwrap(OptimizerRegistry.entry(named: "mkor"))
        XCTAssertTrue(mkor.needsModel)
        XCTAssertThrowsError(try mkor([:])) { XCTAssertEqual($0 as? OptimizerError, .needsModel(optimizer: "mkor")) }
        XCTAssertNoThrow(try mkor.validate(["base": "adamw", "lr": 1e-3, "inv_freq": 5]))
        XCTAssertThrowsError(try mkor.validate(["base": "mkor"])) {
            XCTAssertTrue("\($0)".contains("base 'mkor' is not an optimizer it can wrap"), "\($0)")
        }
        var rng = PhiloxGenerator(seed: 0)
        let wrapped = try XCTUnwrap(
            try mkor(["base": "adamw", "lr": 1e-3, "inv_freq": 5], model: Linear(3, 2, using: &rng)) as? MKOR)
        XCTAssertEqual(wrapped.base.name, "adamw")
        XCTAssertEqual(wrapped.learningRate, 1e-3)
        XCTAssertEqual(wrapped.inverseFrequency, 5)
        XCTAssertEqual(wrapped.layers.count, 1)
    }

    func testTypedHyperparametersDecodeFromTextWithNamedErrors() throws {
        let sgd = try XCTUnwrap(
            OptimizerRegistry.entry(named: "sgd")!(["lr": "0.5", "momentum": 0.9, "nesterov": "true"]) as? SGD)
        XCTAssertEqual(sgd.learningRate, 0.5)
        XCTAssertEqual(sgd.momentum, 0.9)
        XCTAssertTrue(sgd.nesterov)
        let lionK = try XCTUnwrap(OptimizerRegistry.entry(named: "lion-k")!(["kernel": "lp", "p": "4"]) as? LionK)
        XCTAssertEqual(lionK.kernel, .lp(4))
        let expectations: [(String, [String: HyperparameterValue], String)] = [
            ("sgd", ["momentum": "fast"], "sgd: invalid hyper-parameter: momentum expects a number, got 'fast'"),
            ("sgd", ["lr": "inf"], "sgd: invalid hyper-parameter: lr must be a finite number, got inf"),
            ("sgd", ["nesterov": "maybe"], "sgd: invalid hyper-parameter: nesterov expects true or false, got 'maybe'"),
            ("muon", ["ns_steps": 2.5], "muon: invalid hyper-parameter: ns_steps expects an integer, got '2.5'"),
            (
                "lion-k", ["kernel": "l3"],
                "lion-k: invalid hyper-parameter: kernel expects one of sign, l2, linf, lp, huber, tanh, quadratic, nuclear, got 'l3'"
            ),
        ]
        for (name, settings, message) in expectations {
            XCTAssertThrowsError(try OptimizerRegistry.entry(named: name)!(settings)) {
                XCTAssertEqual("\($0)", message)
            }
        }
        // Defaults are the configuration's, and the Swift initialiser's are the same values.
        let defaults = try XCTUnwrap(OptimizerRegistry.entry(named: "adamw")!() as? AdamW)
        let direct = try AdamW()
        XCTAssertEqual(defaults.hyperparameters, direct.hyperparameters)
        XCTAssertEqual(OptimizerRegistry.entry(named: "adamw")!.defaultValue("weight_decay"), .number(0.01))
    }

    /// The matrix optimizers come out of the registry routed: they train a model with biases.
    func testMatrixOptimizersFromTheRegistryTakeEveryParameter() throws {
        for name in ["muon", "fismo", "auon", "hybrid-auon"] {
            let opt = try OptimizerRegistry.entry(named: name)!(["adamw_lr": 0.01])
            XCTAssertEqual(opt.name, name)
            var rng = PhiloxGenerator(seed: 2)
            let weight = Parameter(Tensor.normal([4, 3], using: &rng)),
                bias = Parameter(Tensor.normal([4], using: &rng))
            let named: [NamedParameter] = [("0.weight", weight), ("0.bias", bias)]
            XCTAssertNoThrow(try opt.validate(named))
            let matrix = try XCTUnwrap((opt as? RoutedOptimizer)?.routes.first?.optimizer)
            XCTAssertThrowsError(try matrix.validate([("0.bias", bias)])) {
                XCTAssertTrue("\($0)".contains("parameter '0.bias' has shape [4]; \(name) needs rank >= 2"), "\($0)")
            }
            let before = (weight.value, bias.value)
            weight.value.grad = Tensor.normal([4, 3], using: &rng)
            bias.value.grad = Tensor.normal([4], using: &rng)
            opt.step(named)
            XCTAssertNotEqual(weight.value, before.0, name)
            XCTAssertNotEqual(bias.value, before.1, name)
            XCTAssertEqual(opt.state().steps["0.bias"], 1, name)
        }
    }

    /// `f(x) = 0.5 xᵀ diag(1..n) x` and the Rosenbrock valley from (-1.5, 2).
    func testEveryOptimizerDecreasesAQuadraticAndRosenbrock() throws {
        for entry in OptimizerRegistry.entries {
            let opt = try make(entry)
            let matrix = isMatrixOptimizer(opt)
            let x = Parameter(matrix ? Tensor([[1, -2], [3, 0.5]]) : Tensor([1, -2, 3, 0.5]))
            let scale = matrix ? Tensor([[1, 2], [3, 4]]) : Tensor([1, 2, 3, 4])
            let f = { (0.5 * scale * x.value * x.value).sum() }
            let start = f().item
            for _ in 0..<300 {
                x.zeroGrad()
                f().backward()
                opt.step([("x", x)])
            }
            XCTAssertLessThan(f().item, start * 0.5, "\(entry.name) on the quadratic")
            let r = Parameter(matrix ? Tensor([[-1.5, 2]]) : Tensor([-1.5, 2]))
            let rosenbrock = { () -> Tensor in
                let flat = r.value.flattened()
                let xs = flat.slice(alongAxis: 0, 0..<1), ys = flat.slice(alongAxis: 0, 1..<2)
                return ((1 - xs).squared() + 100 * (ys - xs.squared()).squared()).sum()
            }
            let r0 = rosenbrock().item
            let ropt = try make(entry, ["sgd", "sgdp", "mkor"].contains(entry.name) ? ["momentum": 0.9] : [:])
            for _ in 0..<2000 {
                r.zeroGrad()
                rosenbrock().backward()
                ropt.step([("r", r)])
            }
            XCTAssertLessThan(rosenbrock().item, r0 * 0.5, "\(entry.name) on Rosenbrock")
        }
    }

    func testSpecRosenbrockChecksForSGDAndAdam() throws {
        func run(_ opt: Optimizer, steps: Int) -> Int? {
            let r = Parameter(Tensor([-1.5, 2]))
            for k in 0..<steps {
                // The gradient in closed form (Float), as the spec's reference does.
                let x = r.value.scalars[0], y = r.value.scalars[1]
                if (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x) < 1e-3 { return k }
                r.value.grad = Tensor([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
                opt.step([("r", r)])
            }
            return nil
        }
        let sgdSteps = try XCTUnwrap(run(try SGD(learningRate: 1e-3, momentum: 0.9), steps: 20_000))
        let adamSteps = try XCTUnwrap(run(try Adam(learningRate: 1e-2), steps: 5_000))
        // The spec's float64 reference crosses after 666 (SGD) and 2391 (Adam) updates.
        XCTAssertEqual(Double(sgdSteps), 666, accuracy: 20)
        XCTAssertEqual(Double(adamSteps), 2391, accuracy: 50)
    }

    func testStateRoundTripIsBitExactThroughAFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-opt-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for entry in OptimizerRegistry.entries {
            var rng = PhiloxGenerator(seed: 1)
            let grads = (0..<6).map { _ in Tensor.normal([3, 5], using: &rng) }
            let start = Tensor.normal([3, 5], using: &rng)
            let a = try make(entry), pa = Parameter(start)
            for g in grads.prefix(3) {
                pa.value.grad = g
                a.step([("w", pa)])
            }
            let path = folder + "/\(entry.name).safetensors"
            try a.state().write(to: path)
            let b = try make(entry), pb = Parameter(pa.value)
            try b.load(try OptimizerState.read(path), for: [("w", pb)])
            for g in grads.suffix(3) {
                pa.value.grad = g
                a.step([("w", pa)])
                pb.value.grad = g
                b.step([("w", pb)])
            }
            XCTAssertEqual(pa.value, pb.value, entry.name)
            XCTAssertEqual(a.state(), b.state(), entry.name)
        }
    }

    func testLoadingIntoAnotherModelFailsNamingTheParameterAndChangesNothing() throws {
        let adam = try Adam()
        let w = Parameter(Tensor.ones([2, 2]))
        w.value.grad = Tensor.ones([2, 2])
        adam.step([("layer.weight", w)])
        let state = adam.state()
        let other = try Adam()
        XCTAssertThrowsError(try other.load(state, for: [("layer.weight", Parameter(Tensor.ones([3])))])) {
            XCTAssertTrue(
                "\($0)".contains(
                    "'layer.weight' of shape [3] needs its 'exp_avg' of shape [3], the saved one has [2, 2]"), "\($0)")
        }
        XCTAssertThrowsError(try other.load(state, for: [("other", Parameter(Tensor.ones([2, 2])))])) {
            XCTAssertTrue("\($0)".contains("parameter 'layer.weight', which the model does not have"), "\($0)")
        }
        XCTAssertEqual(other.state(), OptimizerState(optimizer: "adam", learningRate: 1e-3, steps: [:], slots: [:]))
        XCTAssertThrowsError(try SGD(learningRate: 0.1).load(state, for: [])) {
            XCTAssertTrue("\($0)".contains("saved by optimizer 'adam'"))
        }
    }

    func testZeroGradientsMoveNothingButWeightDecayAndGiveNoNaN() throws {
        for entry in OptimizerRegistry.entries {
            let opt = try make(entry, entry.defaultValue("weight_decay") != nil ? ["weight_decay": 0] : [:])
            let shape = isMatrixOptimizer(opt) ? [2, 2] : [4]
            let p = Parameter(Tensor(shape: shape, scalars: [1, -2, 0, 3]))
            for _ in 0..<5 {
                p.value.grad = Tensor.zeros(shape)
                opt.step([("p", p)])
            }
            XCTAssertEqual(p.value.scalars, [1, -2, 0, 3], entry.name)
        }
        // AdamW with g = 0 decays geometrically; Adam's coupled decay moves the parameter through the moments.
        let adamw = try AdamW(learningRate: 0.1, weightDecay: 0.5)
        let p = Parameter(Tensor([2]))
        for _ in 0..<4 {
            p.value.grad = Tensor([0])
            adamw.step([("p", p)])
        }
        XCTAssertEqual(p.value.item, 2 * Float(Foundation.pow(0.95, 4.0)), accuracy: 1e-6)
        let adam = try Adam(learningRate: 0.1, weightDecay: 0.5)
        let q = Parameter(Tensor([2]))
        q.value.grad = Tensor([0])
        adam.step([("q", q)])
        XCTAssertEqual(q.value.item, 2 - 0.1, accuracy: 1e-5)
    }

    func testAdamFirstStepIsLearningRateTimesSign() throws {
        let adam = try Adam(learningRate: 0.01)
        let p = Parameter(Tensor([1, 1, 1]))
        p.value.grad = Tensor([3, -0.002, 50])
        adam.step([("p", p)])
        assertClose(p.value.scalars, [0.99, 1.01, 0.99], 1e-6)
    }

    func testMasksGroupsFrozenParametersAndAbsentGradients() throws {
        let opt = try AdamW(learningRate: 0.1, weightDecay: 0.5)
        opt.weightDecayMask = .biasesAndNormGains
        opt.groups = [ParameterGroup(name: "head", selects: ParameterGroup.glob(["head.*"]), learningRate: 0.01)]
        let weight = Parameter(Tensor.ones([2, 2])), bias = Parameter(Tensor.ones([2]))
        let head = Parameter(Tensor.ones([2, 2])), frozen = Parameter(Tensor.ones([2]), isFrozen: true)
        let absent = Parameter(Tensor.ones([2]))
        for p in [weight, bias, head] { p.value.grad = Tensor.zeros(p.shape) }
        opt.step([
            ("body.weight", weight), ("body.bias", bias), ("head.weight", head), ("frozen", frozen), ("absent", absent),
        ])
        XCTAssertEqual(weight.value.scalars, [0.95, 0.95, 0.95, 0.95])
        XCTAssertEqual(bias.value.scalars, [1, 1])
        assertClose(head.value.scalars, [0.995, 0.995, 0.995, 0.995], 1e-7)
        XCTAssertEqual(frozen.value.scalars, [1, 1])
        XCTAssertEqual(absent.value.scalars, [1, 1])
        XCTAssertNil(opt.state().steps["absent"])
        XCTAssertEqual(opt.hyperparameters(for: "head.weight", parameter: head, update: 0).learningRate, 0.01)
        XCTAssertTrue(ParameterGroup.glob(["blocks.*.attn.*"])("blocks.3.attn.wq"))
        XCTAssertFalse(ParameterGroup.glob(["blocks.*.attn.*"])("blocks.3.mlp.w1"))
    }

    func testRoutingSendsMatricesAndVectorsToDifferentOptimizers() throws {
        let sgd = try SGD(learningRate: 0.1), adam = try Adam(learningRate: 0.1)
        let routed = RoutedOptimizer([
            .init(selects: { $1.value.rank == 2 }, optimizer: sgd),
            .init(selects: { _, _ in true }, optimizer: adam),
        ])
        let matrix = Parameter(Tensor.ones([2, 2])), vector = Parameter(Tensor.ones([2]))
        matrix.value.grad = Tensor(repeating: 2, shape: [2, 2])
        vector.value.grad = Tensor([2, 2])
        routed.step([("m", matrix), ("v", vector)])
        XCTAssertEqual(matrix.value.scalars, [0.8, 0.8, 0.8, 0.8])
        assertClose(vector.value.scalars, [0.9, 0.9], 1e-6)
        let saved = routed.state()
        XCTAssertEqual(saved.steps["v"], 1)
        XCTAssertNotNil(saved.slots["v/exp_avg"])
        let copy = RoutedOptimizer([
            .init(selects: { $1.value.rank == 2 }, optimizer: try SGD(learningRate: 0.1)),
            .init(selects: { _, _ in true }, optimizer: try Adam(learningRate: 0.1)),
        ])
        try copy.load(saved, for: [("m", matrix), ("v", vector)])
        XCTAssertEqual(copy.state(), saved)
    }

    func testWorksOnEveryRankAndIndependentlyOfThreadCount() throws {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for entry in OptimizerRegistry.entries {
            for shape in [[], [7], [3, 4], [2, 3, 2, 2], [300_001]] {
                var results: [Tensor] = []
                for threads in [1, 2] {
                    Parallel.threadCount = threads
                    var rng = PhiloxGenerator(seed: 3)
                    let p = Parameter(Tensor.normal(shape, using: &rng))
                    let opt = try make(entry, entry.defaultValue("weight_decay") != nil ? ["weight_decay": 0.01] : [:])
                    for _ in 0..<3 {
                        p.value.grad = Tensor.normal(shape, using: &rng)
                        opt.step([("p", p)])
                    }
                    XCTAssertFalse(p.value.scalars.contains { !$0.isFinite }, "\(entry.name) \(shape)")
                    results.append(p.value)
                }
                XCTAssertEqual(results[0], results[1], "\(entry.name) \(shape): 1 and 2 threads differ")
            }
        }
    }

    func testNonFiniteGradientsSkipOrStop() throws {
        let opt = try SGD(learningRate: 0.1)
        opt.nonFiniteGradients = .skip
        let p = Parameter(Tensor([1, 1]))
        p.value.grad = Tensor([1, .nan])
        opt.step([("p", p)])
        XCTAssertEqual(p.value.scalars, [1, 1])
        XCTAssertEqual(opt.skippedUpdates, 1)
        opt.nonFiniteGradients = .stop
        p.value.grad = Tensor([.infinity, 1])
        opt.step([("p", p)])
        XCTAssertEqual(p.value.scalars, [1, 1])
        XCTAssertEqual("\(opt.nonFiniteError!)", "sgd: the gradient of 'p' has NaN or infinite entries at update 1")
    }

    /// The policy is part of the contract: a routed optimizer skips or stops the whole step.
    func testRoutedOptimizersSkipOrStopTheWholeStep() throws {
        let routed = try OptimizerRegistry.entry(named: "muon")!()
        let weight = Parameter(Tensor.ones([2, 2])), bias = Parameter(Tensor([1, 1]))
        weight.value.grad = Tensor.ones([2, 2])
        bias.value.grad = Tensor([1, .nan])
        routed.nonFiniteGradients = .stop
        routed.step([("w", weight), ("b", bias)])
        XCTAssertEqual(weight.value.scalars, [1, 1, 1, 1])
        XCTAssertEqual("\(routed.nonFiniteError!)", "muon: the gradient of 'b' has NaN or infinite entries at update 1")
        routed.nonFiniteGradients = .skip
        routed.step([("w", weight), ("b", bias)])
        XCTAssertEqual(routed.skippedUpdates, 1)
        XCTAssertNil(routed.nonFiniteError)
        XCTAssertEqual(weight.value.scalars, [1, 1, 1, 1])
    }

    func testBadConfigurationsAreRejectedWithAClearMessage() {
        XCTAssertThrowsError(try SGD(learningRate: -0.1)) {
            XCTAssertEqual(
                "\($0)", "sgd: invalid hyper-parameter: learning rate must be a finite number >= 0, got -0.1")
        }
        XCTAssertThrowsError(try SGD(learningRate: 0.1, nesterov: true)) {
            XCTAssertTrue("\($0)".contains("Nesterov momentum requires momentum > 0"))
        }
        XCTAssertThrowsError(try Adam(beta1: 1)) { XCTAssertTrue("\($0)".contains("betas must lie in [0, 1)")) }
        XCTAssertThrowsError(try AdamW(beta2: -0.1)) { XCTAssertTrue("\($0)".contains("betas")) }
        XCTAssertThrowsError(try RMSprop(alpha: 2)) { XCTAssertTrue("\($0)".contains("alpha")) }
        XCTAssertThrowsError(try Adagrad(learningRate: .nan))
    }

    func testGlobalNormClippingFollowsPyTorchsFormula() {
        let a = Parameter(Tensor([3, 0])), b = Parameter(Tensor([4]))
        a.value.grad = Tensor([3, 0])
        b.value.grad = Tensor([4])
        let total = GradientClipping.clipGlobalNorm([("a", a), ("b", b)], maxNorm: 1)
        XCTAssertEqual(total, 5)
        let c = Float(1 / (5 + 1e-6))
        XCTAssertEqual(a.grad!.scalars, [3 * c, 0])
        XCTAssertEqual(b.grad!.scalars, [4 * c])
        XCTAssertEqual(
            GradientClipping.clipGlobalNorm([("a", a), ("b", b)], maxNorm: 10), Double(5 * c), accuracy: 1e-6)
        XCTAssertEqual(a.grad!.scalars, [3 * c, 0])
    }
}

func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) where Swift.abs(x - y) > tolerance {
        XCTFail("\(a) vs \(b)", file: file, line: line)
        return
    }
}
