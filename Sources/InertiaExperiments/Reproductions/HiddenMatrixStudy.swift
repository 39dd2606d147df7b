import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor
import InertiaTraining

/// The Fashion-MNIST protocol that `muon.md` 5 and `auon.md` 5 share: the first 10 k training
/// images, the full test set, an MLP 784-256-256-10 with ReLU, batch 128, cosine lr to 0. A matrix
/// optimizer takes the two hidden weights; AdamW (lr 1e-3, no decay) the classifier and biases.
enum HiddenMatrixStudy {
    struct Outcome {
        var accuracy: Double
        var epochLosses: [Double]
        var allFinite: Bool
    }

    static let hiddenWeights: Set<String> = ["layers.0.weight", "layers.2.weight"]

    /// One run; `hidden == nil` is the AdamW baseline (lr 1e-3, wd 0.01 on everything). `nil`
    /// when interrupted. A run whose loss turns NaN or infinite ends there, not finite, and counts
    /// test accuracy 0 (it classifies nothing), so that medians over seeds stay ordered.
    static func run(
        hidden: ((Double) throws -> FusedOptimizer)?, lr: Double, data: (train: Dataset, test: Dataset), seed: UInt64,
        epochs: Int, shouldStop: @escaping () -> Bool
    ) throws -> Outcome? {
        var rng = PhiloxGenerator(seed: seed)
        let model = MLP(sizes: [784, 256, 256, 10], using: &rng)
        let subset = data.train.subset(Array(0..<10_000))
        let loader = try DataLoader(subset, batchSize: 128, seed: seed)
        let schedule = Schedule.cosine(steps: epochs * loader.batchCount, endFactor: 0, periodic: false)
        let optimizer: Optimizer
        if let hidden {
            let matrix = try hidden(lr), auxiliary = try AdamW(learningRate: 1e-3, weightDecay: 0)
            matrix.schedule = schedule
            auxiliary.schedule = schedule
            optimizer = RoutedOptimizer([
                .init(selects: { name, _ in hiddenWeights.contains(name) }, optimizer: matrix),
                .init(selects: { _, _ in true }, optimizer: auxiliary),
            ])
        } else {
            let adamW = try AdamW(learningRate: 1e-3, weightDecay: 0.01)
            adamW.schedule = schedule
            optimizer = adamW
        }
        var options = TrainingOptions(epochs: epochs)
        options.shouldStop = shouldStop
        let trainer = try Trainer(
            model: model, optimizer: optimizer, loader: loader, testSet: data.test, options: options)
        var epochLosses: [Double] = [], current: [Double] = [], finite = true
        let summary: TrainingSummary
        do {
            summary = try trainer.run { event in
                if case .step(let r) = event {
                    current.append(r.loss)
                    finite = finite && r.loss.isFinite
                }
                if case .evaluation = event {
                    epochLosses.append(current.reduce(0, +) / Double(Swift.max(current.count, 1)))
                    current = []
                }
            }
        } catch TrainingError.nonFiniteLoss {
            return Outcome(accuracy: 0, epochLosses: epochLosses, allFinite: false)
        }
        if summary.interrupted { return nil }
        return Outcome(accuracy: summary.finalEvaluation?.accuracy ?? .nan, epochLosses: epochLosses, allFinite: finite)
    }

    /// Seconds per `step()` of `optimizer` on one weight of `shape` (256×256 unless given), the
    /// best of `repetitions`.
    static func stepSeconds(_ optimizer: FusedOptimizer, repetitions: Int, shape: [Int] = [256, 256]) -> Double {
        var rng = PhiloxGenerator(seed: 5)
        let w = Parameter(Tensor.normal(shape, using: &rng))
        w.value.grad = Tensor.normal(shape, using: &rng)
        var best = Double.infinity
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            optimizer.step([("w", w)])
            best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return best
    }

    /// Mean seconds per `step()` over `steps` consecutive steps on one weight of `shape`: the
    /// cost of an optimizer that refreshes something every few steps (FISMO's eigendecompositions).
    static func meanStepSeconds(_ optimizer: FusedOptimizer, steps: Int, shape: [Int]) -> Double {
        var rng = PhiloxGenerator(seed: 5)
        let w = Parameter(Tensor.normal(shape, standardDeviation: 0.05, using: &rng))
        let gradients = (0..<steps).map { _ in Tensor.normal(shape, using: &rng) }
        let start = DispatchTime.now().uptimeNanoseconds
        for g in gradients {
            w.value.grad = g
            optimizer.step([("w", w)])
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(steps)
    }
}
