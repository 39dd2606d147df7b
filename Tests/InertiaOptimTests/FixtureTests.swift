import Foundation
import InertiaExperiments
import InertiaNN
import InertiaTensor
@_exported import InertiaTestSupport
import XCTest

@testable import InertiaOptim

/// Builds the optimizer of a fixture case from PyTorch's class name and keyword arguments.
func makeOptimizer(_ className: String, _ h: [String: Any]) throws -> FusedOptimizer {
    func d(_ key: String, _ fallback: Double) -> Double { (h[key] as? NSNumber)?.doubleValue ?? fallback }
    func b(_ key: String) -> Bool { (h[key] as? NSNumber)?.boolValue ?? false }
    let betas = (h["betas"] as? [NSNumber])?.map(\.doubleValue)
    switch className {
    case "SGD":
        return try SGD(
            learningRate: d("lr", 0), momentum: d("momentum", 0), dampening: d("dampening", 0),
            weightDecay: d("weight_decay", 0), nesterov: b("nesterov"), maximize: b("maximize"))
    case "Adam":
        return try Adam(
            learningRate: d("lr", 1e-3), beta1: betas?[0] ?? 0.9, beta2: betas?[1] ?? 0.999, epsilon: d("eps", 1e-8),
            weightDecay: d("weight_decay", 0), amsgrad: b("amsgrad"), maximize: b("maximize"))
    case "AdamW":
        return try AdamW(
            learningRate: d("lr", 1e-3), beta1: betas?[0] ?? 0.9, beta2: betas?[1] ?? 0.999, epsilon: d("eps", 1e-8),
            weightDecay: d("weight_decay", 0.01), amsgrad: b("amsgrad"), maximize: b("maximize"))
    case "NAdam":
        return try NAdam(
            learningRate: d("lr", 2e-3), beta1: betas?[0] ?? 0.9, beta2: betas?[1] ?? 0.999, epsilon: d("eps", 1e-8),
            weightDecay: d("weight_decay", 0), momentumDecay: d("momentum_decay", 4e-3),
            decoupledWeightDecay: b("decoupled_weight_decay"), maximize: b("maximize"))
    case "RAdam":
        return try RAdam(
            learningRate: d("lr", 1e-3), beta1: betas?[0] ?? 0.9, beta2: betas?[1] ?? 0.999, epsilon: d("eps", 1e-8),
            weightDecay: d("weight_decay", 0), decoupledWeightDecay: b("decoupled_weight_decay"),
            maximize: b("maximize"))
    case "RMSprop":
        return try RMSprop(
            learningRate: d("lr", 1e-2), alpha: d("alpha", 0.99), epsilon: d("eps", 1e-8),
            weightDecay: d("weight_decay", 0),
            momentum: d("momentum", 0), centered: b("centered"), maximize: b("maximize"))
    case "Adagrad":
        return try Adagrad(
            learningRate: d("lr", 1e-2), learningRateDecay: d("lr_decay", 0), weightDecay: d("weight_decay", 0),
            initialAccumulator: d("initial_accumulator_value", 0), epsilon: d("eps", 1e-10), maximize: b("maximize"))
    default:
        throw XCTSkip("no optimizer for \(className)")
    }
}

final class FixtureTests: XCTestCase {
    /// Replays every case step by step; Float32 round-off tolerance 2e-6 absolute (spec 5.1).
    func replay(_ data: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let p0 = doubles(data["p0"]).map(Float.init)
        let grads = (data["grads"] as! [Any]).map { doubles($0).map(Float.init) }
        let cases = data["cases"] as! [[String: Any]]
        for c in cases {
            let name = c["name"] as! String
            let optimizer = try makeOptimizer(c["optimizer"] as! String, c["hyperparameters"] as! [String: Any])
            let p = Parameter(Tensor(p0))
            for (t, g) in grads.enumerated() {
                p.value.grad = Tensor(g)
                optimizer.step([("p", p)])
                let expected = doubles((c["params"] as! [Any])[t])
                for (a, e) in zip(p.value.scalars, expected) where Swift.abs(Double(a) - e) > 2e-6 {
                    XCTFail("\(name) step \(t + 1): \(p.value.scalars) vs \(expected)", file: file, line: line)
                    break
                }
            }
        }
        return cases.count
    }

    func testClassicMomentumTrajectoriesOfPyTorch() throws {
        XCTAssertGreaterThan(try replay(try fixture("classic-momentum", "torch_optim_trajectories.json")), 0)
    }

    func testNAdamRAdamRMSpropAdagradAndMaximizeTrajectoriesOfPyTorch() throws {
        XCTAssertGreaterThan(try replay(try fixture("torch-optim-extra", "trajectories.json")), 0)
    }

    /// Every schedule's settings are read from its key ("T_max=10", "start0.2") or the
    /// description ("warmup W = 5, total T = 20", "milestones=[5]"); the tolerance from the
    /// description too (optax's float32 arrays 1e-7, the float64 ones 1e-10).
    func testSchedulesMatchPyTorchAndOptax() throws {
        let s = try fixture("classic-momentum", "schedules.json")
        let description = try XCTUnwrap(s["description"] as? String)
        func setting(_ name: String, in text: String) throws -> Double {
            try XCTUnwrap(SpecFixture.writtenNumber(name, in: text), "\(name) in \(text)")
        }
        let warmup = Int(try setting("W", in: description)), total = Int(try setting("T", in: description))
        let milestone = Int(try setting("milestones=[", in: description))
        XCTAssertEqual(Int(try setting("total_iters", in: description)), milestone)
        let floatTolerance = 1e-7, doubleTolerance = 1e-10
        // The canonical formula is optax's warmup-cosine with init 0 and optax's end value.
        let optaxWarmupCosine = try XCTUnwrap(s.keys.first { $0.hasPrefix("optax_warmup_cosine_decay") })
        let canonicalEnd = try setting("end", in: optaxWarmupCosine)
        var checked = 0
        for key in s.keys.sorted() where !key.hasPrefix("description") && !key.hasPrefix("canonical_formula") {
            let schedule: Schedule, tolerance: Double
            if key.hasPrefix("optax_warmup_cosine_decay") {
                XCTAssertEqual(try setting("peak", in: key), 1, "factors are relative to the peak")
                schedule = .linearWarmupCosine(
                    warmup: Int(try setting("W", in: key)), total: Int(try setting("decay_steps", in: key)),
                    endFactor: try setting("end", in: key), startFactor: try setting("init", in: key))
                tolerance = floatTolerance
            } else if key == "canonical_values" {
                schedule = .linearWarmupCosine(warmup: warmup, total: total, endFactor: canonicalEnd, startFactor: 0)
                tolerance = doubleTolerance
            } else if key.hasPrefix("torch_SequentialLR_LinearLR") {
                schedule = .sequence(
                    [
                        .linearWarmup(steps: milestone, startFactor: try setting("start", in: key)),
                        .cosine(steps: Int(try setting("Tmax", in: key)), endFactor: 0, periodic: true),
                    ], milestones: [milestone])
                tolerance = doubleTolerance
            } else if key.hasPrefix("torch_LambdaLR_warmup_(t+1)/W") {
                // (t + 1) / W reaches 1 at t = W - 1: a linear warmup over W - 1 steps from 1 / W.
                schedule = .sequence(
                    [
                        .linearWarmup(steps: warmup - 1, startFactor: 1 / Double(warmup)),
                        .cosine(steps: total - warmup, endFactor: 0, periodic: true),
                    ], milestones: [warmup])
                tolerance = doubleTolerance
            } else if key.hasPrefix("torch_CosineAnnealingLR") {
                schedule = .cosine(
                    steps: Int(try setting("T_max", in: key)), endFactor: try setting("eta_min", in: key),
                    periodic: true)
                tolerance = doubleTolerance
            } else if key.hasPrefix("optax_cosine_decay_schedule") {
                XCTAssertEqual(try setting("init", in: key), 1, "factors are relative to init")
                schedule = .cosine(
                    steps: Int(try setting("decay_steps", in: key)), endFactor: try setting("alpha", in: key),
                    periodic: false)
                tolerance = floatTolerance
            } else {
                XCTFail("schedules.json has a schedule this test does not know: \(key)")
                continue
            }
            let expected = doubles(s[key])
            XCTAssertGreaterThan(expected.count, total / 2, key)
            for (k, e) in expected.enumerated() {
                XCTAssertEqual(schedule.factor(at: k), e, accuracy: tolerance, "\(key) at step \(k)")
            }
            checked += 1
        }
        XCTAssertEqual(checked, 6)
    }

    func testScheduleMultipliesTheLearningRateWithPyTorchIndexing() throws {
        let sgd = try SGD(learningRate: 0.5)
        sgd.schedule = .stepDecay(every: 2, gamma: 0.1)
        let p = Parameter(Tensor([0]))
        var moves: [Float] = []
        for _ in 0..<4 {
            let before = p.value.item
            p.value.grad = Tensor([1])
            sgd.step([("p", p)])
            moves.append(before - p.value.item)
        }
        XCTAssertEqual(moves[0], 0.5, accuracy: 1e-7)
        XCTAssertEqual(moves[1], 0.5, accuracy: 1e-7)
        XCTAssertEqual(moves[2], 0.05, accuracy: 1e-7)
        XCTAssertEqual(moves[3], 0.05, accuracy: 1e-7)
        XCTAssertEqual(sgd.currentLearningRate, 0.05, accuracy: 1e-12)
        XCTAssertThrowsError(try Schedule.linearWarmup(steps: 5, startFactor: 0).validate()) {
            XCTAssertTrue("\($0)".contains("start factor"))
        }
        XCTAssertEqual(Schedule.warmupStableDecay(warmup: 2, stable: 2, decay: 4, endFactor: 0).factor(at: 6), 0.5)
        XCTAssertEqual(Schedule.polynomial(steps: 4, power: 2, endFactor: 0).factor(at: 2), 0.25)
    }
}
