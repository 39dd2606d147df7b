import Foundation
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaOptim

/// MKOR and MKOR-H against `shared/fixtures/mkor` and the invariants of `mkor.md` 6.
final class MKORTests: XCTestCase {
    func matrix(_ any: Any?) -> Tensor {
        let rows = (any as! [Any]).map(doubles)
        return Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0.map(Float.init) })
    }

    func vector(_ any: Any?) -> [Float] { doubles(any).map(Float.init) }

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    func inverse(_ t: Tensor) -> Tensor { SymmetricEigen(Matrix64(t)).power(-1).tensor }

    func testShermanMorrisonAndThePaperEMAInverseMatchTheFixture() throws {
        let f = try fixture("mkor", "mkor_numerics.json")
        let sm = f["sherman_morrison"] as! [String: Any]
        let p = matrix(sm["P"]), v = vector(sm["v"])
        XCTAssertLessThan(maxDifference(MKOR.shermanMorrison(inverse(p), v), matrix(sm["inverse_of_P_plus_vvT"])), 1e-6)
        let ema = f["paper_ema_inverse"] as! [String: Any]
        let result = MKOR.exponentialAverageInverse(
            inverse(matrix(ema["L"])), vector(ema["g"]), decay: (ema["gamma"] as! NSNumber).doubleValue)
        XCTAssertLessThan(maxDifference(result, matrix(ema["result"])), 1e-6)
        // SM(P, 0) = P; SM(P, v) = inv(inv(P) + vvᵀ) on a random SPD matrix, which stays SPD.
        var rng = PhiloxGenerator(seed: 21)
        let a = Matrix64(Tensor.normal([6, 6], using: &rng))
        let spd = (a * a.transposed).addingToDiagonal(0.5)
        XCTAssertEqual(MKOR.shermanMorrison(spd.tensor, [Float](repeating: 0, count: 6)), spd.tensor)
        let w = Tensor.normal([6], using: &rng).scalars
        let direct =
            (Matrix64(inverse(spd.tensor))
                + Matrix64(rows: 6, columns: 6, scalars: (0..<36).map { Double(w[$0 / 6] * w[$0 % 6]) }))
        let updated = MKOR.shermanMorrison(spd.tensor, w)
        XCTAssertLessThan(maxDifference(updated, inverse(direct.tensor)), 1e-4)
        XCTAssertGreaterThan(SymmetricEigen(Matrix64(updated)).values[0], 0)
    }

    func testTwoFactorRoundsOfALinearLayerMatchTheCodeSemantics() throws {
        let f = try fixture("mkor", "mkor_numerics.json")["linear_layer_code_semantics"] as! [String: Any]
        var rng = PhiloxGenerator(seed: 22)
        let layer = Linear(
            (f["n_in"] as! NSNumber).intValue, (f["n_out"] as! NSNumber).intValue,
            bias: (f["bias"] as! NSNumber).boolValue,
            using: &rng)
        let mkor = try MKOR(model: layer, base: try SGD(learningRate: 0))
        let l = try XCTUnwrap(mkor.layers.first)
        XCTAssertEqual(l.weightName, "weight")
        // The fixture's rounds in order: round<k>, checked against after_round<k>.
        let rounds = f.keys.filter { $0.hasPrefix("round") }.sorted {
            Int($0.dropFirst(5)) ?? 0 < Int($1.dropFirst(5)) ?? 0
        }
        XCTAssertFalse(rounds.isEmpty)
        for round in rounds {
            let vectors = f[round] as! [String: Any]
            mkor.updateFactors(l, input: vector(vectors["a_bar_with_1"]), outputGradient: vector(vectors["g_bar"]))
            layer.weight.value.grad = matrix(f["grad_W"])
            layer.bias!.value.grad = Tensor(vector(f["grad_b"]))
            mkor.preconditionGradients(of: l)
            let expected = f["after_\(round)"] as! [String: Any]
            XCTAssertLessThan(maxDifference(l.rightInverse, matrix(expected["R_inv"])), 1e-6, round)
            XCTAssertLessThan(maxDifference(l.leftInverse, matrix(expected["L_inv"])), 1e-6, round)
            XCTAssertLessThan(maxDifference(layer.weight.grad!, matrix(expected["precond_grad_W"])), 1e-6, round)
            XCTAssertLessThan(maxDifference(layer.bias!.grad!, Tensor(vector(expected["precond_grad_b"]))), 1e-6, round)
            // The sum of norms is preserved exactly by the rescaling (up to Float32 round-off).
            let norms = layer.weight.grad!.norm().item + layer.bias!.grad!.norm().item
            XCTAssertEqual(
                Double(norms), Double(matrix(f["grad_W"]).norm().item + Tensor(vector(f["grad_b"])).norm().item),
                accuracy: 1e-6)
        }
        XCTAssertFalse(l.resetPending.right || l.resetPending.left)
        XCTAssertEqual(mkor.resets, 0)
    }

    func testLayerStatisticsAreTheClampedMeansOfTheForwardAndBackwardRows() throws {
        var rng = PhiloxGenerator(seed: 23)
        let linear = Linear(4, 3, using: &rng)
        linear.statistics = LayerStatistics(clip: 1.5)
        let x = Tensor.normal([2, 5, 4], using: &rng) * 2
        let target = Tensor.normal([2, 5, 3], using: &rng)
        let y = linear(x)
        let loss = ((y - target).squared()).mean()
        loss.backward()
        let rows = x.reshaped(to: [10, 4])
        XCTAssertLessThan(
            maxDifference(linear.statistics!.inputMean!, rows.clamped(lower: -1.5, upper: 1.5).mean(alongAxis: 0)), 1e-6
        )
        // ∂L/∂y = 2(y − t)/30; per-example rows are n = 10 times that.
        let perExample = (y.detached() - target) * (2.0 / 30.0 * 10)
        let expected = perExample.reshaped(to: [10, 3]).clamped(lower: -1.5, upper: 1.5).mean(alongAxis: 0)
        XCTAssertLessThan(maxDifference(linear.statistics!.outputGradientMean!, expected), 1e-6)
        // Convolutions: patches and output gradients averaged over positions.
        let conv = Conv2d(2, 3, kernelSize: 2, using: &rng)
        conv.statistics = LayerStatistics()
        let image = Tensor.normal([2, 2, 3, 3], using: &rng)
        let out = conv(image)
        out.sum().backward()
        let patches = image.windows(conv.window).reshaped(to: [2, 8, 4]).mean(alongAxis: 2).mean(alongAxis: 0)
        XCTAssertLessThan(maxDifference(conv.statistics!.inputMean!, patches), 1e-6)
        // d(sum)/dy = 1 everywhere: n · mean over positions = 2.
        XCTAssertLessThan(maxDifference(conv.statistics!.outputGradientMean!, Tensor.ones([3]) * 2), 1e-6)
        XCTAssertThrowsError(
            try MKOR(model: Conv2d(4, 4, kernelSize: 1, groups: 2, using: &rng), base: try SGD(learningRate: 0.1))
        ) {
            XCTAssertTrue("\($0)".contains("has 2 groups"), "\($0)")
        }
    }

    func testOrthogonalDirectionsAreUntouchedAndAResetRestoresIdentities() throws {
        // SM(I, ā) only changes the ā direction: rows of ∇Ŵ orthogonal to ā pass unchanged.
        let a: [Float] = [1, 2, 0, -1]
        let gradient = Tensor([[2, -1, 5, 0], [0, 0, 1, 0]])
        XCTAssertLessThan(
            maxDifference(Tensor.matmul(gradient, MKOR.shermanMorrison(Tensor.eye(4), a)), gradient), 1e-6)
        // An input-side inverse that has blown up (as fp16 factors can) flags both sides: the output
        // side resets in the same round (it comes second), the input side at the next round.
        var rng = PhiloxGenerator(seed: 24)
        let mkor = try MKOR(model: Linear(3, 2, using: &rng), base: try SGD(learningRate: 0.1))
        let layer = mkor.layers[0]
        mkor.updateFactors(layer, input: [0, 0, 0, 1], outputGradient: [0, 0])
        layer.rightInverse = Tensor.eye(4) * 50
        mkor.updateFactors(layer, input: [0.1, 0, 0, 1], outputGradient: [0.5, 0.5])
        XCTAssertEqual(mkor.resets, 1)
        XCTAssertEqual(layer.leftInverse, Tensor.eye(2))
        XCTAssertTrue(layer.resetPending.right)
        XCTAssertFalse(layer.resetPending.left)
        mkor.updateFactors(layer, input: [0.1, 0, 0, 1], outputGradient: [0.5, 0.5])
        XCTAssertEqual(layer.rightInverse, Tensor.eye(4))
        XCTAssertEqual(layer.leftInverse, MKOR.shermanMorrison(Tensor.eye(2), [0.5, 0.5]))
        XCTAssertFalse(layer.resetPending.right || layer.resetPending.left)
    }

    func model(seed: UInt64) -> Sequential {
        var rng = PhiloxGenerator(seed: seed)
        return Sequential([Linear(6, 8, using: &rng), Activation(.relu), Linear(8, 3, using: &rng)])
    }

    func trainingStep(_ net: Sequential, _ optimizer: Optimizer, _ x: Tensor, _ labels: [Int]) -> Float {
        net.zeroGradients()
        let loss = Loss.crossEntropy(logits: net(x), labels: labels)
        loss.backward()
        optimizer.step(net.namedParameters())
        return loss.item
    }

    func batch(_ k: Int) -> (Tensor, [Int]) {
        var rng = PhiloxGenerator(seed: 100 + UInt64(k))
        let x = Tensor.normal([16, 6], using: &rng)
        return (x, (0..<16).map { ($0 + k) % 3 })
    }

    func testIdentityFactorsMakeMKORTheBaseOptimizerAndRoundsChangeIt() throws {
        let plain = model(seed: 1), wrapped = model(seed: 1)
        let sgd = try SGD(learningRate: 0.05, momentum: 0.9)
        let mkor = try MKOR(model: wrapped, base: try SGD(learningRate: 0.05, momentum: 0.9), inverseFrequency: 5)
        for k in 0..<5 {
            let (x, y) = batch(k)
            XCTAssertEqual(trainingStep(plain, sgd, x, y), trainingStep(wrapped, mkor, x, y), "step \(k): identities")
        }
        XCTAssertEqual(plain.namedParameters().map(\.parameter.value), wrapped.namedParameters().map(\.parameter.value))
        for k in 5..<7 {
            let (x, y) = batch(k)
            _ = trainingStep(plain, sgd, x, y)
            _ = trainingStep(wrapped, mkor, x, y)
        }
        XCTAssertNotEqual(
            plain.namedParameters().map(\.parameter.value), wrapped.namedParameters().map(\.parameter.value))
        XCTAssertTrue(mkor.layers.allSatisfy { $0.leftInverse != Tensor.eye($0.outputSize) })
        // Recording only around factor rounds: step 7 is not one.
        XCTAssertFalse(mkor.layers[0].statistics.isRecording)
    }

    func testStateRoundTripResumesBitIdentically() throws {
        let a = model(seed: 2)
        let first = try MKOR(model: a, base: try SGD(learningRate: 0.05, momentum: 0.9), inverseFrequency: 3)
        for k in 0..<4 { _ = trainingStep(a, first, batch(k).0, batch(k).1) }
        let saved = first.state()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mkor-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try saved.write(to: path)
        let b = model(seed: 99)
        try b.loadStateDictionary(Dictionary(uniqueKeysWithValues: a.stateDictionary().map { ($0.name, $0.value) }))
        let second = try MKOR(model: b, base: try SGD(learningRate: 0.05, momentum: 0.9), inverseFrequency: 3)
        try second.load(try OptimizerState.read(path), for: b.namedParameters())
        for k in 4..<8 {
            XCTAssertEqual(
                trainingStep(a, first, batch(k).0, batch(k).1), trainingStep(b, second, batch(k).0, batch(k).1))
        }
        XCTAssertEqual(a.namedParameters().map(\.parameter.value), b.namedParameters().map(\.parameter.value))
        XCTAssertThrowsError(try SGD(learningRate: 0.1, momentum: 0.9).load(saved, for: a.namedParameters())) {
            XCTAssertTrue("\($0)".contains("mkor/"), "\($0)")
        }
        let other = try MKOR(
            model: Sequential([Linear(6, 3, using: &rngForShapes)]), base: try SGD(learningRate: 0.05, momentum: 0.9))
        XCTAssertThrowsError(try other.load(saved, for: a.namedParameters())) {
            XCTAssertTrue("\($0)".contains("needs inverse factors of shapes"), "\($0)")
        }
    }

    var rngForShapes = PhiloxGenerator(seed: 5)

    func testFourWorkersHoldBitIdenticalFactorsAfterTheAllReduce() throws {
        var rng = PhiloxGenerator(seed: 3)
        let reference = Sequential([
            Linear(784, 256, using: &rng), Activation(.relu), Linear(256, 256, using: &rng), Activation(.relu),
            Linear(256, 10, using: &rng),
        ])
        let state = Dictionary(uniqueKeysWithValues: reference.stateDictionary().map { ($0.name, $0.value) })
        var workers: [(Sequential, MKOR)] = []
        for _ in 0..<4 {
            var r = PhiloxGenerator(seed: 77)
            let net = Sequential([
                Linear(784, 256, using: &r), Activation(.relu), Linear(256, 256, using: &r), Activation(.relu),
                Linear(256, 10, using: &r),
            ])
            try net.loadStateDictionary(state)
            workers.append((net, try MKOR(model: net, base: try SGD(learningRate: 0.01), inverseFrequency: 1)))
        }
        for round in 0..<2 {
            var local: [([Float], [Float])] = []
            for (w, (net, mkor)) in workers.enumerated() {
                var r = PhiloxGenerator(seed: UInt64(1000 * round + w))
                let x = Tensor.normal([8, 784], using: &r)
                net.zeroGradients()
                Loss.crossEntropy(logits: net(x), labels: (0..<8).map { ($0 * (w + 1)) % 10 }).backward()
                local.append(mkor.statisticsVectors())
            }
            XCTAssertEqual(local[0].0.count + local[0].1.count, 1821, "Σ(d_in + 1 + d_out) for 784-256-256-10")
            let meanInputs = (0..<local[0].0.count).map { i in local.map { $0.0[i] }.reduce(0, +) / 4 }
            let meanGradients = (0..<local[0].1.count).map { i in local.map { $0.1[i] }.reduce(0, +) / 4 }
            for (_, mkor) in workers {
                mkor.statisticsReducer = { $0.count == meanInputs.count ? meanInputs : meanGradients }
            }
            // The gradients themselves are averaged by the usual data-parallel all-reduce.
            let names = workers[0].0.namedParameters().map(\.name)
            for name in names {
                let grads = workers.map { w in w.0.namedParameters().first { $0.name == name }!.parameter.grad! }
                let mean = grads.dropFirst().reduce(grads[0], +) / 4
                for w in workers { w.0.namedParameters().first { $0.name == name }!.parameter.value.grad = mean }
            }
            for (net, mkor) in workers { mkor.step(net.namedParameters()) }
        }
        for (_, mkor) in workers.dropFirst() {
            for (l, l0) in zip(mkor.layers, workers[0].1.layers) {
                XCTAssertEqual(l.leftInverse, l0.leftInverse)
                XCTAssertEqual(l.rightInverse, l0.rightInverse)
            }
        }
        XCTAssertNotEqual(workers[0].1.layers[0].rightInverse, Tensor.eye(785))
    }

    func testHybridSwitchesAtItsStepOrWhenProgressStallsAndKeepsTheBaseState() throws {
        let net = model(seed: 4)
        let mkor = try MKOR(model: net, base: try SGD(learningRate: 0.05, momentum: 0.9), inverseFrequency: 2)
        mkor.hybrid = HybridSwitch(switchStep: 3)
        for k in 0..<6 {
            mkor.record(loss: Double(trainingStep(net, mkor, batch(k).0, batch(k).1)))
        }
        XCTAssertEqual(mkor.switchedAt, 3)
        XCTAssertTrue(mkor.layers.allSatisfy { !$0.statistics.isRecording })
        XCTAssertNotNil(mkor.base.state().slots["0.weight/momentum_buffer"])
        // The rule: decreases of 1.0 per update, then a plateau.
        var rule = HybridSwitch(lossDecay: 0, window: 10, ratio: 0.1, patience: 2)
        var loss = 100.0
        var switchedAt: Int?
        for update in 1...60 {
            if update <= 30 { loss -= 1 }
            rule.observe(loss: loss, update: update)
            if switchedAt == nil && rule.shouldSwitch(atUpdate: update) { switchedAt = update }
        }
        XCTAssertEqual(switchedAt, 50, "two flat windows after the decrease stops at 30")
    }

    func testPaperEMAOptionAndNoResetInFloat32Training() throws {
        let net = model(seed: 6)
        let mkor = try MKOR(
            model: net, base: try SGD(learningRate: 0.05, momentum: 0.9), inverseFrequency: 1,
            factorUpdate: .paperDefaults)
        var losses: [Float] = []
        for k in 0..<40 { losses.append(trainingStep(net, mkor, batch(k % 4).0, batch(k % 4).1)) }
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(losses.suffix(4).reduce(0, +), losses.prefix(4).reduce(0, +))
        let code = model(seed: 6)
        let official = try MKOR(model: code, base: try SGD(learningRate: 0.05, momentum: 0.9), inverseFrequency: 1)
        for k in 0..<40 { _ = trainingStep(code, official, batch(k % 4).0, batch(k % 4).1) }
        XCTAssertEqual(official.resets, 0)
        XCTAssertTrue(
            official.layers.allSatisfy {
                MKOR.maxAbs($0.leftInverse) <= 1 + 1e-5 && MKOR.maxAbs($0.rightInverse) <= 1 + 1e-5
            })
        XCTAssertThrowsError(try MKOR(model: code, base: try SGD(learningRate: 0.1), inverseFrequency: 0))
    }
}
