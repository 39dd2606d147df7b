import Foundation
import InertiaData
import InertiaDistributed
import InertiaNN
import InertiaOptim
import InertiaTensor
import XCTest

@testable import InertiaTraining

/// Data-parallel training with threads as ranks (`InProcessCommunicator`; CI runs the MPI
/// world under `mpirun -np 2` through `inertia distributed check`).
final class DataParallelTrainingTests: XCTestCase {
    var folder: String!

    override func setUp() {
        folder =
            FileManager.default.temporaryDirectory.appendingPathComponent("inertia-dp-\(getpid())-\(UUID().uuidString)")
            .path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    /// The digits MLP (no dropout: a mask is drawn per rank) with SGD and momentum (or MKOR
    /// around SGD), global batch 32.
    func makeRun(
        _ communicator: any Communicator, seed: UInt64 = 0, epochs: Int = 1, checkpoint: String? = nil,
        loss: ((Tensor, Tensor) -> Tensor)? = nil, mkor: Bool = false
    ) throws -> (Trainer, Module) {
        let (train, test) = try Digits.load().split(testFraction: 0.2, seed: 1)
        var rng = PhiloxGenerator(seed: seed)
        let model = MLP(sizes: [64, 32, 10], using: &rng)
        let optimizer =
            mkor
            ? try OptimizerRegistry.entry(named: "mkor")!(["base": .text("sgd"), "lr": .number(0.05)], model: model)
            : try SGD(learningRate: 0.1, momentum: 0.9)
        let trainer = try Trainer(
            model: model, optimizer: optimizer,
            loader: try DataLoader(train, batchSize: 32, seed: 5), testSet: test,
            options: TrainingOptions(epochs: epochs, checkpointPath: checkpoint), loss: loss, communicator: communicator
        )
        return (trainer, model)
    }

    func parameters(_ model: Module) -> [Float] { model.namedParameters().flatMap { $0.parameter.value.scalars } }

    /// Two ranks hold bit-identical parameters after every step (each rank started from its own
    /// seed: rank 0's parameters are broadcast first), and after one epoch they equal one process
    /// reading the whole batch to Float32 rounding: the ranks' half-batch gradients are summed
    /// instead of one matmul over the batch, a difference of a few ulps per step that 45 steps of
    /// SGD with momentum grow to 2e-7 here (bound 1e-5).
    func testTwoRanksStayIdenticalAndMatchOneProcess() throws {
        let results = InProcessCommunicator.run(size: 2) { world -> ([[Float]], [Float], [Double]) in
            let (trainer, model) = try self.makeRun(world, seed: UInt64(world.rank) + 10)
            var history: [[Float]] = [], losses: [Double] = []
            try trainer.run { event in
                if case .step(let report) = event {
                    history.append(self.parameters(model))
                    losses.append(report.loss)
                }
            }
            return (history, self.parameters(model), losses)
        }
        let rank0 = try results[0].get(), rank1 = try results[1].get()
        XCTAssertEqual(rank0.0.count, 45)
        for (step, (a, b)) in zip(rank0.0, rank1.0).enumerated() {
            XCTAssertEqual(a, b, "the ranks' parameters differ after step \(step + 1)")
        }
        XCTAssertEqual(rank0.2, rank1.2, "every rank reports the whole batch's loss")

        let (single, singleModel) = try makeRun(SingleProcessCommunicator(), seed: 10)
        var singleLosses: [Double] = []
        try single.run { if case .step(let report) = $0 { singleLosses.append(report.loss) } }
        let difference = zip(rank0.1, parameters(singleModel)).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(difference, 1e-5)
        XCTAssertGreaterThan(difference, 0, "summing half-batch gradients rounds differently somewhere")
        for (a, b) in zip(rank0.2, singleLosses) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
    }

    /// MKOR's factor vectors are averaged over the ranks through its reducer hook: the ranks stay
    /// identical and match one process (whose factors come from whole batches) to rounding.
    func testMKORReducesItsFactorsOverTheRanks() throws {
        let results = InProcessCommunicator.run(size: 2) { world -> [Float] in
            let (trainer, model) = try self.makeRun(world, seed: UInt64(world.rank) + 20, mkor: true)
            try trainer.run()
            return self.parameters(model)
        }
        let rank0 = try results[0].get(), rank1 = try results[1].get()
        XCTAssertEqual(rank0, rank1)
        let (single, singleModel) = try makeRun(SingleProcessCommunicator(), seed: 20, mkor: true)
        try single.run()
        XCTAssertLessThan(zip(rank0, parameters(singleModel)).map { abs($0 - $1) }.max()!, 1e-5)
        // Without the reducer each rank preconditions with its own half-batch factors: the ranks
        // drift apart.
        let own = InProcessCommunicator.run(size: 2) { world -> [Float] in
            let (trainer, model) = try self.makeRun(world, seed: UInt64(world.rank) + 20, mkor: true)
            (trainer.optimizer as! MKOR).statisticsReducer = { $0 }
            try trainer.run()
            return self.parameters(model)
        }
        XCTAssertGreaterThan(zip(try own[0].get(), try own[1].get()).map { abs($0 - $1) }.max()!, 1e-3)
    }

    /// Rank 0 alone writes the checkpoint; a run resumed with the other world size continues to
    /// the same parameters within the same tolerance, both ways.
    func testResumeWithTheOtherWorldSize() throws {
        let (straight, straightModel) = try makeRun(SingleProcessCommunicator(), epochs: 2)
        try straight.run()
        let reference = parameters(straightModel)

        let twoRankCheckpoint = folder + "/two.safetensors"
        let first = InProcessCommunicator.run(size: 2) { world in
            try self.makeRun(world, epochs: 1, checkpoint: twoRankCheckpoint).0.run()
        }
        for result in first { _ = try result.get() }
        let (resumed, resumedModel) = try makeRun(SingleProcessCommunicator(), seed: 3, epochs: 2)
        try resumed.resume(from: twoRankCheckpoint)
        XCTAssertEqual(resumed.epoch, 1)
        try resumed.run()
        XCTAssertLessThan(zip(parameters(resumedModel), reference).map { abs($0 - $1) }.max()!, 1e-5)

        let oneRankCheckpoint = folder + "/one.safetensors"
        try makeRun(SingleProcessCommunicator(), epochs: 1, checkpoint: oneRankCheckpoint).0.run()
        let second = InProcessCommunicator.run(size: 2) { world -> [Float] in
            let (trainer, model) = try self.makeRun(world, seed: 7, epochs: 2)
            try trainer.resume(from: oneRankCheckpoint)
            try trainer.run()
            return self.parameters(model)
        }
        for result in second {
            XCTAssertLessThan(zip(try result.get(), reference).map { abs($0 - $1) }.max()!, 1e-5)
        }
    }

    /// A non-finite loss on one rank stops every rank with the error (no rank waits forever).
    func testANonFiniteLossOnOneRankStopsEveryRank() {
        let results = InProcessCommunicator.run(size: 2, timeout: 30) { world in
            let poisoned: (Tensor, Tensor) -> Tensor = { outputs, targets in
                let value = Loss.crossEntropy(logits: outputs, targets: targets)
                return world.rank == 1 ? value * Float.nan : value
            }
            try self.makeRun(world, loss: poisoned).0.run()
        }
        for (rank, result) in results.enumerated() {
            XCTAssertThrowsError(try result.get(), "rank \(rank)") { error in
                guard case TrainingError.nonFiniteLoss(let epoch, let step, _) = error else {
                    return XCTFail("rank \(rank): \(error)")
                }
                XCTAssertEqual([epoch, step], [0, 0])
            }
        }
    }
}

/// The check `inertia distributed check` runs under mpirun, here on two threads and on one process.
final class DataParallelCheckTests: XCTestCase {
    func testPassesOnTwoThreadsAndOnOneProcess() throws {
        for result in InProcessCommunicator.run(size: 2, { try DataParallelCheck.run(on: $0) }) {
            let checks = try result.get()
            XCTAssertEqual(checks.count, 5)
            for check in checks { XCTAssertTrue(check.passed, check.name) }
            XCTAssertTrue(checks[0].name.contains("each of 45 steps"), checks[0].name)
            XCTAssertTrue(checks[2].name.hasPrefix("Muon"), checks[2].name)
        }
        for check in try DataParallelCheck.run(on: SingleProcessCommunicator()) {
            XCTAssertTrue(check.passed, check.name)
        }
    }
}

/// Muon (with AdamW on the rest, as the registry routes it) sharded over two ranks: each rank
/// orthogonalises half of the matrices, the ranks stay bit-identical and equal one process to
/// rounding.
final class ShardedMuonTests: XCTestCase {
    func makeRun(_ communicator: any Communicator, seed: UInt64) throws -> (Trainer, Module) {
        let (train, _) = try Digits.load().split(testFraction: 0.2, seed: 1)
        var rng = PhiloxGenerator(seed: seed)
        let model = MLP(sizes: [64, 32, 10], using: &rng)
        let optimizer = try OptimizerRegistry.entry(named: "muon")!([:], model: model)
        let trainer = try Trainer(
            model: model, optimizer: optimizer, loader: try DataLoader(train, batchSize: 32, seed: 5),
            options: TrainingOptions(epochs: 1), communicator: communicator)
        return (trainer, model)
    }

    func muon(_ trainer: Trainer) -> Muon {
        (trainer.optimizer as! RoutedOptimizer).routes.compactMap { $0.optimizer as? Muon }.first!
    }

    func testEachRankOrthogonalisesItsShare() throws {
        let results = InProcessCommunicator.run(size: 2) { world -> ([Float], Int) in
            let (trainer, model) = try self.makeRun(world, seed: UInt64(world.rank) + 30)
            try trainer.run()
            return (
                model.namedParameters().flatMap { $0.parameter.value.scalars },
                self.muon(trainer).orthogonalizedMatrices
            )
        }
        let (rank0, count0) = try results[0].get(), (rank1, count1) = try results[1].get()
        XCTAssertEqual(rank0, rank1)
        // Two weight matrices a step, 45 steps: one each.
        XCTAssertEqual([count0, count1], [45, 45])
        let (single, singleModel) = try makeRun(SingleProcessCommunicator(), seed: 30)
        try single.run()
        XCTAssertEqual(muon(single).orthogonalizedMatrices, 90)
        let reference = singleModel.namedParameters().flatMap { $0.parameter.value.scalars }
        XCTAssertLessThan(zip(rank0, reference).map { abs($0 - $1) }.max()!, 1e-5)
    }
}
