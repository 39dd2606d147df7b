import Foundation
import InertiaData
import InertiaDistributed
import InertiaNN
import InertiaOptim
import InertiaTensor

/// What the training loop reports.
public enum TrainingEvent {
    case step(StepReport)
    case evaluation(EvaluationReport)
    case checkpoint(path: String, step: Int)
}

/// One optimizer step: epoch, step, loss, accuracy, learning rate and throughput.
public struct StepReport {
    public var epoch: Int
    /// Optimizer steps taken so far (this one included).
    public var step: Int
    public var totalSteps: Int
    public var loss: Double
    /// Accuracy on this step's batches, for classification.
    public var accuracy: Double?
    public var samplesPerSecond: Double
    public var elapsedSeconds: Double
    public var learningRate: Double
}

/// The loss and accuracy of the model on a test set.
public struct EvaluationReport {
    public var epoch: Int
    public var step: Int
    public var loss: Double
    public var accuracy: Double?
}

/// How a run goes: epochs, accumulation, evaluation and checkpoint intervals, clipping, stopping.
public struct TrainingOptions {
    public var epochs: Int
    /// Micro-batches whose gradients add up before each optimizer step (loss scaled by 1/k).
    public var accumulationSteps: Int
    /// Evaluate on the test set every this many optimizer steps (0: at the end of each epoch).
    public var evaluateEvery: Int
    /// Write a checkpoint every this many optimizer steps (0: at the end of each epoch), when
    /// `checkpointPath` is set.
    public var checkpointEvery: Int
    public var checkpointPath: String?
    /// Clip gradients to this global norm before each step (PyTorch's `clip_grad_norm_`).
    public var clipGradientNorm: Double?
    /// Asked after every step; `true` ends the run there (Ctrl-C), reported in the summary.
    public var shouldStop: (() -> Bool)?

    public init(
        epochs: Int, accumulationSteps: Int = 1, evaluateEvery: Int = 0, checkpointEvery: Int = 0,
        checkpointPath: String? = nil,
        clipGradientNorm: Double? = nil
    ) {
        self.epochs = epochs
        self.clipGradientNorm = clipGradientNorm
        self.accumulationSteps = accumulationSteps
        self.evaluateEvery = evaluateEvery
        self.checkpointEvery = checkpointEvery
        self.checkpointPath = checkpointPath
    }
}

/// What a run did: steps, time, final losses, whether it was interrupted.
public struct TrainingSummary {
    public var steps: Int
    public var epochs: Int
    public var finalTrainLoss: Double
    public var finalEvaluation: EvaluationReport?
    public var seconds: Double
    /// Whether `shouldStop` ended the run early.
    public var interrupted = false
}

/// A run that cannot start or go on: invalid options (such as no batches), a non-finite loss or
/// gradient.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case nonFiniteLoss(epoch: Int, step: Int, value: Double)
    case nonFiniteGradient(String)
    case invalidOptions(String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let epoch, let step, let value):
            return
                "training stopped: the loss is \(value) at epoch \(epoch + 1), step \(step + 1) (the last checkpoint, if any, is intact)"
        case .nonFiniteGradient(let detail):
            return "training stopped: \(detail) (the last checkpoint, if any, is intact)"
        case .invalidOptions(let detail): return "invalid training options: \(detail)"
        }
    }
}

/// The training loop: mini-batches from a `DataLoader`, a loss, backward, an optimizer step;
/// evaluation and atomic checkpoints on a schedule; exact resume from a checkpoint.
public final class Trainer {
    public let model: Module
    public let optimizer: Optimizer
    public let loader: DataLoader
    public let testSet: Dataset?
    public let options: TrainingOptions
    /// The data-parallel world: each rank reads its share of every batch, the gradients are averaged
    /// over the ranks before each step (so every rank takes the same step), and only rank 0 writes
    /// checkpoints. One process by default.
    public let communicator: any Communicator
    /// `loss(outputs, targets)`; cross-entropy for classification datasets unless given.
    public let loss: (Tensor, Tensor) -> Tensor
    /// Position: the next micro-batch to run.
    public private(set) var epoch = 0
    public private(set) var batch = 0
    public private(set) var step = 0

    public init(
        model: Module, optimizer: Optimizer, loader: DataLoader, testSet: Dataset? = nil, options: TrainingOptions,
        loss: ((Tensor, Tensor) -> Tensor)? = nil, communicator: any Communicator = SingleProcessCommunicator()
    ) throws {
        guard options.epochs > 0 else {
            throw TrainingError.invalidOptions("epochs must be positive, got \(options.epochs)")
        }
        guard options.accumulationSteps > 0 else {
            throw TrainingError.invalidOptions("accumulation steps must be positive, got \(options.accumulationSteps)")
        }
        if let clip = options.clipGradientNorm, !(clip > 0) {
            throw TrainingError.invalidOptions("the clipping norm must be positive, got \(clip)")
        }
        guard options.evaluateEvery >= 0, options.checkpointEvery >= 0 else {
            throw TrainingError.invalidOptions("evaluation and checkpoint intervals must be >= 0")
        }
        guard loader.batchCount > 0 else {
            let dropped =
                loader.dropsLast && loader.dataset.count > 0 ? ", and the last incomplete batch is dropped" : ""
            throw TrainingError.invalidOptions(
                "the training set has no batches: \(loader.dataset.count) examples at batch size \(loader.batchSize)\(dropped)"
            )
        }
        if optimizer.stepsFromOutputs {
            guard options.accumulationSteps == 1, options.clipGradientNorm == nil else {
                throw TrainingError.invalidOptions(
                    "\(optimizer.name) steps from the model's outputs on each batch: it takes neither gradient accumulation nor clipping"
                )
            }
        }
        if communicator.size > 1 {
            guard !optimizer.stepsFromOutputs else {
                throw TrainingError.invalidOptions(
                    "\(optimizer.name) steps from the model's outputs; data-parallel training needs a gradient optimizer"
                )
            }
            // Muon's orthogonalisations are split over the ranks (each computes its share and
            // broadcasts it), whether it is the optimizer or the matrix route of one.
            let muons =
                [optimizer as? Muon] + ((optimizer as? RoutedOptimizer)?.routes.map { $0.optimizer as? Muon } ?? [])
            for muon in muons.compactMap({ $0 }) {
                muon.sharing = MatrixWorkSharing(rank: communicator.rank, size: communicator.size) { values, root in
                    do { try communicator.broadcast(&values, root: root) } catch {
                        fatalError("Muon's sharded orthogonalisation failed on rank \(communicator.rank): \(error)")
                    }
                }
            }
            if let mkor = optimizer as? MKOR {
                // MKOR's factor vectors are averaged over the ranks through its reducer hook, so
                // every rank inverts the same factors.
                mkor.statisticsReducer = { vector in
                    var reduced = vector
                    do { try communicator.allReduce(&reduced, .mean) } catch {
                        fatalError("MKOR's statistics all-reduce failed on rank \(communicator.rank): \(error)")
                    }
                    return reduced
                }
            }
        }
        try optimizer.validate(model.namedParameters().filter { !$0.parameter.isFrozen })
        self.communicator = communicator
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.testSet = testSet
        self.options = options
        if let loss {
            self.loss = loss
        } else if loader.dataset.classCount != nil {
            self.loss = { Loss.crossEntropy(logits: $0, targets: $1) }
        } else {
            self.loss = { Loss.meanSquaredError($0, $1) }
        }
    }

    /// The loss's gradient with respect to the outputs `z` (what an optimizer that steps from
    /// outputs calls its oracle).
    func lossGradient(_ z: Tensor, _ targets: Tensor) -> Tensor {
        let leaf = z.detached().requiringGrad()
        withGradients { loss(leaf, targets).backward() }
        return leaf.grad ?? Tensor.zeros(z.shape)
    }

    var stepsPerEpoch: Int { (loader.batchCount + options.accumulationSteps - 1) / options.accumulationSteps }

    /// Runs from the current position to the last epoch.
    @discardableResult
    public func run(onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainingSummary {
        let start = DispatchTime.now().uptimeNanoseconds
        let total = stepsPerEpoch * options.epochs
        var lastLoss = Double.nan
        var lastEvaluation: EvaluationReport?
        let named = model.namedParameters()
        let classification = loader.dataset.classCount != nil
        let distributed = communicator.size > 1
        if distributed { try broadcastParameters(named) }
        while epoch < options.epochs {
            let order = loader.order(epoch: epoch)
            model.train()
            while batch < loader.batchCount {
                let stepStart = DispatchTime.now().uptimeNanoseconds
                let group = min(options.accumulationSteps, loader.batchCount - batch)
                var lossSum = 0.0, correct = 0.0, samples = 0
                var nonFinite: Double?
                model.zeroGradients()
                for micro in 0..<group {
                    let (x, y, whole) = loader.batch(
                        epoch: epoch, index: batch + micro, order: order, rank: communicator.rank,
                        worldSize: communicator.size)
                    let count = x.shape[0]
                    guard count > 0, nonFinite == nil else { continue }
                    let outputs = optimizer.stepsFromOutputs ? withoutGradients { model(x) } : model(x)
                    let value = loss(outputs, y)
                    let scalar = Double(value.item)
                    guard scalar.isFinite else {
                        // Every rank must learn of it before anyone stops (below), never a hang.
                        nonFinite = scalar
                        continue
                    }
                    if optimizer.stepsFromOutputs {
                        optimizer.step(named, outputs: { self.model(x) }, lossGradient: { self.lossGradient($0, y) })
                    } else {
                        // The whole batch's mean is the mean over the ranks of each share's mean
                        // weighted by `size` times its share of the batch (1 for equal shares, so
                        // per-example gradients, and MKOR's statistics of them, have the scale
                        // they have in one process).
                        let weight = Double(count * communicator.size) / Double(whole) / Double(group)
                        (value * Float(weight)).backward()
                    }
                    lossSum += scalar * Double(count)
                    samples += count
                    if classification {
                        correct +=
                            Metrics.accuracy(logits: outputs.detached(), labels: y.scalars.map { Int($0) })
                            * Double(count)
                    }
                }
                if distributed {
                    var totals = [lossSum, Double(samples), correct, nonFinite == nil ? 0 : 1]
                    try communicator.allReduce(&totals, .sum)
                    if totals[3] > 0 {
                        throw TrainingError.nonFiniteLoss(epoch: epoch, step: step, value: nonFinite ?? .nan)
                    }
                    lossSum = totals[0]
                    samples = Int(totals[1])
                    correct = totals[2]
                    try allReduceGradients(named)
                } else if let nonFinite {
                    throw TrainingError.nonFiniteLoss(epoch: epoch, step: step, value: nonFinite)
                }
                if !optimizer.stepsFromOutputs {
                    if let clip = options.clipGradientNorm { GradientClipping.clipGlobalNorm(named, maxNorm: clip) }
                    optimizer.step(named)
                }
                if let error = optimizer.nonFiniteError {
                    throw TrainingError.nonFiniteGradient("\(error)")
                }
                batch += group
                step += 1
                lastLoss = lossSum / Double(samples)
                let now = DispatchTime.now().uptimeNanoseconds
                onEvent(
                    .step(
                        StepReport(
                            epoch: epoch, step: step, totalSteps: total, loss: lastLoss,
                            accuracy: classification ? correct / Double(samples) : nil,
                            samplesPerSecond: Double(samples) / (Double(now - stepStart) * 1e-9),
                            elapsedSeconds: Double(now - start) * 1e-9, learningRate: optimizer.currentLearningRate)))
                let endOfEpoch = batch >= loader.batchCount
                if endOfEpoch {
                    epoch += 1
                    batch = 0
                }
                if testSet != nil, options.evaluateEvery > 0 ? step % options.evaluateEvery == 0 : endOfEpoch {
                    let report = evaluate()
                    lastEvaluation = report
                    onEvent(.evaluation(report))
                    model.train()
                }
                if let path = options.checkpointPath,
                    options.checkpointEvery > 0 ? step % options.checkpointEvery == 0 : endOfEpoch
                {
                    if communicator.rank == 0 {
                        try saveCheckpoint(to: path)
                        onEvent(.checkpoint(path: path, step: step))
                    }
                    if distributed { try communicator.barrier() }
                }
                if let stop = options.shouldStop, stop() {
                    var summary = TrainingSummary(
                        steps: step, epochs: epoch, finalTrainLoss: lastLoss, finalEvaluation: lastEvaluation,
                        seconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
                    summary.interrupted = true
                    return summary
                }
                if endOfEpoch { break }
            }
        }
        return TrainingSummary(
            steps: step, epochs: epoch, finalTrainLoss: lastLoss, finalEvaluation: lastEvaluation,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }

    /// Gradients averaged over the ranks in buckets of about a million values, in the parameters'
    /// fixed order (a parameter without a gradient on this rank contributes zeros), so every rank
    /// holds the same gradients.
    func allReduceGradients(_ named: [NamedParameter]) throws {
        let trainable = named.map(\.parameter).filter { !$0.isFrozen }
        var start = 0
        while start < trainable.count {
            var end = start, length = 0
            while end < trainable.count && (end == start || length + trainable[end].value.count <= 1 << 20) {
                length += trainable[end].value.count
                end += 1
            }
            var bucket = [Float](repeating: 0, count: length)
            bucket.withUnsafeMutableBufferPointer { destination in
                var offset = 0
                for parameter in trainable[start..<end] {
                    parameter.grad?.withUnsafeBufferPointer { source in
                        (destination.baseAddress! + offset).update(from: source.baseAddress!, count: source.count)
                    }
                    offset += parameter.value.count
                }
            }
            try communicator.allReduce(&bucket, .mean)
            bucket.withUnsafeBufferPointer { source in
                var offset = 0
                for parameter in trainable[start..<end] {
                    let count = parameter.value.count
                    parameter.value.grad = Tensor(
                        shape: parameter.shape,
                        unsafeUninitialized: { destination in
                            destination.baseAddress!.initialize(from: source.baseAddress! + offset, count: count)
                        })
                    offset += count
                }
            }
            start = end
        }
    }

    /// Every rank starts from rank 0's parameters.
    func broadcastParameters(_ named: [NamedParameter]) throws {
        for (_, parameter) in named {
            var values = parameter.value.scalars
            try communicator.broadcast(&values, root: 0)
            parameter.assign(Tensor(shape: parameter.shape, scalars: values))
        }
    }

    /// Loss and accuracy on the test set, in evaluation mode, without gradients; the model returns
    /// to training mode afterwards if it was in it.
    public func evaluate(batchSize: Int = 1000) -> EvaluationReport {
        guard let testSet else { return EvaluationReport(epoch: epoch, step: step, loss: .nan, accuracy: nil) }
        let wasTraining = model.isTraining
        model.eval()
        defer { if wasTraining { model.train() } }
        return withoutGradients {
            var lossSum = 0.0, correct = 0.0
            for start in stride(from: 0, to: testSet.count, by: batchSize) {
                let part = testSet.subset(Array(start..<min(testSet.count, start + batchSize)))
                let outputs = model(part.inputs)
                lossSum += Double(loss(outputs, part.targets).item) * Double(part.count)
                if testSet.classCount != nil {
                    correct += Metrics.accuracy(logits: outputs, labels: part.labels) * Double(part.count)
                }
            }
            return EvaluationReport(
                epoch: epoch, step: step, loss: lossSum / Double(testSet.count),
                accuracy: testSet.classCount != nil ? correct / Double(testSet.count) : nil)
        }
    }

    /// Writes weights, optimizer state, position and random-generator states (atomically).
    public func saveCheckpoint(to path: String) throws {
        try Checkpoint(
            model: model, optimizer: optimizer, epoch: epoch, batch: batch, step: step, loaderSeed: loader.seed,
            batchSize: loader.batchSize
        ).write(to: path)
    }

    /// Restores everything `saveCheckpoint` wrote; nothing changes when it throws.
    public func resume(from path: String) throws {
        let checkpoint = try Checkpoint.read(path)
        guard checkpoint.loaderSeed == loader.seed else {
            throw CheckpointError.mismatch(
                path: path,
                detail: "it was written with data seed \(checkpoint.loaderSeed), this run uses \(loader.seed)")
        }
        if let saved = checkpoint.batchSize, saved != loader.batchSize {
            throw CheckpointError.mismatch(
                path: path, detail: "it was written with batch size \(saved), this run uses \(loader.batchSize)")
        }
        // The position must be one this run's loop can reach: a batch of an epoch, and the step
        // count that epoch and batch give.
        func fits() -> Bool {
            guard checkpoint.batch < loader.batchCount else { return false }
            let (previous, overflow) = checkpoint.epoch.multipliedReportingOverflow(by: stepsPerEpoch)
            let within = (checkpoint.batch + options.accumulationSteps - 1) / options.accumulationSteps
            return !overflow && previous.addingReportingOverflow(within) == (checkpoint.step, false)
        }
        guard fits() else {
            throw CheckpointError.mismatch(
                path: path,
                detail:
                    "its position (epoch \(checkpoint.epoch), batch \(checkpoint.batch), step \(checkpoint.step)) does not fit this run's "
                    + "\(loader.batchCount) batches per epoch in \(stepsPerEpoch) steps (other data, batch size or accumulation?)"
            )
        }
        try checkpoint.restore(into: model, optimizer: optimizer, source: path)
        epoch = checkpoint.epoch
        batch = checkpoint.batch
        step = checkpoint.step
    }
}
