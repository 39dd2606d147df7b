import Foundation
import InertiaData
import InertiaDistributed
import InertiaNN
import InertiaOptim
import InertiaTensor

/// Data-parallel training on a world against its definition: the ranks train the built-in
/// digits MLP (SGD with momentum, then Muon with its orthogonalisations split over the ranks; a
/// global batch of 32, one epoch), each from its own seed.
/// Passes when every rank holds bit-identical parameters after every step (rank 0's start is
/// broadcast) and rank 0's result equals one process reading whole batches within `tolerance`
/// (the ranks' gradients are averaged instead of computed in one product: Float32 rounding, 2e-7
/// measured for two ranks). `inertia distributed check` runs it under `mpirun`; every rank must
/// call it.
public enum DataParallelCheck {
    public static func run(on world: any Communicator, tolerance: Float = 1e-5) throws -> [(name: String, passed: Bool)]
    {
        let (train, test) = try Digits.load().split(testFraction: 0.2, seed: 1)
        func trainer(_ communicator: any Communicator, seed: UInt64, muon: Bool) throws -> (Trainer, Module) {
            var rng = PhiloxGenerator(seed: seed)
            let model = MLP(sizes: [64, 32, 10], using: &rng)
            let optimizer =
                muon
                ? try OptimizerRegistry.entry(named: "muon")!([:], model: model)
                : try SGD(learningRate: 0.1, momentum: 0.9)
            let trainer = try Trainer(
                model: model, optimizer: optimizer, loader: try DataLoader(train, batchSize: 32, seed: 5),
                testSet: test, options: TrainingOptions(epochs: 1), communicator: communicator)
            return (trainer, model)
        }
        func parameters(_ model: Module) -> [Float] { model.namedParameters().flatMap { $0.parameter.value.scalars } }

        var results: [(String, Bool)] = []
        for muon in [false, true] {
            let label = muon ? "Muon (orthogonalisations sharded)" : "SGD"
            let (distributed, model) = try trainer(world, seed: 100 + UInt64(world.rank), muon: muon)
            var identical = true, steps = 0
            var failure: Error?
            try distributed.run { event in
                guard case .step = event, failure == nil else { return }
                steps += 1
                let mine = parameters(model)
                do {
                    let all = try world.allGather(mine)
                    for r in 0..<world.size where Array(all[(r * mine.count)..<((r + 1) * mine.count)]) != mine {
                        identical = false
                    }
                } catch { failure = error }
            }
            if let failure { throw failure }
            results.append(("\(label): parameters bit-identical on every rank after each of \(steps) steps", identical))

            let (single, singleModel) = try trainer(SingleProcessCommunicator(), seed: 100, muon: muon)
            try single.run()
            let difference = zip(parameters(model), parameters(singleModel)).map { Swift.abs($0 - $1) }.max() ?? 0
            results.append(
                (
                    "\(label): equal to one process with the same global batch within \(tolerance) (max difference \(difference))",
                    difference <= tolerance
                ))
        }
        var failures = [Double(results.filter { !$0.1 }.count)]
        try world.allReduce(&failures, .sum)
        results.append(("every rank passed every training check", failures[0] == 0))
        return results
    }
}
