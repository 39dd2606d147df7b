import ArgumentParser
import Foundation
import Inertia

/// `inertia train`: trains a model on built-in, synthetic, Fashion-MNIST or CSV data, with a
/// progress bar, metrics as JSON lines, checkpoints and exact resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model; writes metrics.jsonl, checkpoint.safetensors and model.safetensors to --out.",
        discussion: """
            Data: digits (built in), moons, circles, spirals, checkerboard (synthetic), fashion-mnist \
            (Debian's dataset-fashion-mnist package), or a CSV file of numbers whose last column is the class.
            """)

    @OptionGroup var common: DataOptions

    @Option(help: "The network: an MLP, or a small CNN for square images.")
    var model: ModelKind = .mlp

    @Option(help: "Optimizer (see `inertia optimizers` for each one's hyper-parameters and defaults).")
    var optimizer = "adamw"

    @Option(help: "Peak learning rate (the optimizer's default if not given); short for --set lr=X.")
    var lr: Double?

    @Option(help: "Momentum, for optimizers that have one; short for --set momentum=X.")
    var momentum: Double?

    @Option(help: "Weight decay (the optimizer's default if not given); short for --set weight_decay=X.")
    var weightDecay: Double?

    @Option(
        name: .customLong("set"),
        help: "Other hyper-parameters as name=value (e.g. --set beta2=0.95 --set nesterov=true).")
    var settings: [String] = []

    @Option(help: "Learning-rate schedule.")
    var schedule: ScheduleName = .constant

    @Option(help: "Warmup steps (warmup-cosine, wsd).")
    var warmup = 0

    @Option(help: "Clip gradients to this global norm.")
    var clip: Double?

    @Option(
        help: "No weight decay on parameters whose name contains one of these comma-separated words (e.g. bias,norm).")
    var noDecayOn: String?

    @Option(help: "Micro-batches per optimizer step.")
    var accumulation = 1

    @Option(help: "Seed of initialization, data split and shuffling.")
    var seed: UInt64 = 0

    @Option(help: "Fraction held out for testing (built-in, synthetic and CSV data).")
    var testFraction = 0.2

    @Option(help: "Start from the weights of this safetensors file (names and shapes must match the model).")
    var initFrom: String?

    @Flag(inversion: .prefixedNo, help: "Reshuffle the training data every epoch.")
    var shuffle = true

    @Option(help: "Use only the first N training samples.")
    var limit: Int?

    @Option(help: "Run folder.")
    var out = "runs/train"

    @Flag(help: "Continue from the checkpoint in --out.")
    var resume = false

    @Flag(
        help: ArgumentHelp(
            "Data-parallel over the MPI world (launch with mpirun; needs a build with --traits MPI).",
            discussion:
                "Each rank reads its share of every --batch-size batch; gradients are averaged over the ranks before each step; rank 0 prints and writes the run folder. A checkpoint resumes with any number of ranks."
        ))
    var distributed = false

    func validate() throws {
        try requireFinite([
            "lr": lr, "momentum": momentum, "weight-decay": weightDecay, "clip": clip, "test-fraction": testFraction,
        ])
        if let lr, !(lr > 0) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard OptimizerRegistry.entry(named: optimizer) != nil else {
            throw ValidationError(
                "unknown --optimizer '\(optimizer)' (available: \(OptimizerRegistry.entries.map(\.name).joined(separator: ", ")))"
            )
        }
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0") }
        if let clip, !(clip > 0) { throw ValidationError("--clip must be positive, got \(clip)") }
        do {
            try OptimizerRegistry.entry(named: optimizer)!.validate(try hyperparameters())
        } catch let error as OptimizerError {
            throw ValidationError("\(error)")
        }
        guard accumulation > 0 else { throw ValidationError("--accumulation must be positive") }
        guard testFraction > 0 && testFraction < 1 else { throw ValidationError("--test-fraction must be in (0, 1)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be positive") }
    }

    /// The optimizer's hyper-parameters from the flags (the rest keep the registry's defaults).
    func hyperparameters() throws -> [String: HyperparameterValue] {
        var h: [String: HyperparameterValue] = [:]
        if let lr { h["lr"] = .number(lr) }
        if let momentum { h["momentum"] = .number(momentum) }
        if let weightDecay { h["weight_decay"] = .number(weightDecay) }
        for setting in settings {
            guard let (name, value) = nameValue(setting) else {
                throw ValidationError("--set takes name=value, got '\(setting)'")
            }
            h[name] = .text(value)
        }
        return h
    }

    func makeSchedule(totalSteps: Int) -> Schedule {
        switch schedule {
        case .cosine: return .cosine(steps: max(totalSteps, 1), endFactor: 0, periodic: false)
        case .warmupCosine:
            return .linearWarmupCosine(
                warmup: min(warmup, max(totalSteps - 1, 0)), total: max(totalSteps, 1), endFactor: 0, startFactor: 0)
        case .step: return .stepDecay(every: max(totalSteps / 3, 1), gamma: 0.1)
        case .wsd:
            let decay = max(totalSteps / 5, 1)
            return .warmupStableDecay(
                warmup: max(warmup, 1), stable: max(totalSteps - max(warmup, 1) - decay, 0), decay: decay, endFactor: 0)
        case .constant: return .constant
        }
    }

    func makeModel(features: Int, classes: Int, using rng: inout PhiloxGenerator) throws -> Module {
        if model == .mlp { return MLP(sizes: [features] + common.hiddenSizes + [classes], using: &rng) }
        let side = Int(Double(features).squareRoot())
        guard side * side == features, side >= 4 else {
            throw ValidationError("--model cnn needs square images; this data has \(features) features")
        }
        let pooled = side / 4
        return Sequential(
            Reshape([1, side, side]),
            Conv2d(1, 16, kernelSize: 3, padding: 1, using: &rng), Activation(.relu), MaxPool2d(kernelSize: 2),
            Conv2d(16, 32, kernelSize: 3, padding: 1, using: &rng), Activation(.relu), MaxPool2d(kernelSize: 2),
            Flatten(), Linear(32 * pooled * pooled, classes, using: &rng))
    }

    func run() throws {
        common.applyThreads()
        if distributed && !World.supportsMPI {
            throw CommandFailure(
                "--distributed: this build has no MPI; build with `swift build -c release --traits MPI` and launch with mpirun"
            )
        }
        let world: any Communicator = distributed ? try World.communicator() : SingleProcessCommunicator()
        let lead = world.rank == 0
        // Rank 0 holds the run folder; the other ranks only read its checkpoint on --resume.
        let folder = lead ? try RunFolder(out) : nil
        func file(_ name: String) -> String { folder?.file(name) ?? out + "/" + name }
        var (train, test) = try common.load(testFraction: testFraction, seed: seed)
        if let limit { train = train.subset(Array(0..<min(limit, train.count))) }
        guard let classes = train.classCount else { throw CommandFailure("the data has no classes") }
        var rng = PhiloxGenerator(seed: seed)
        let network = try makeModel(features: train.inputs.shape[1], classes: classes, using: &rng)
        if let initFrom {
            do {
                try network.loadStateDictionary(try SafeTensors.read(initFrom).dictionary)
            } catch {
                throw CommandFailure("--init-from \(initFrom): \(error)")
            }
        }
        let optim = try OptimizerRegistry.entry(named: optimizer)!(try hyperparameters(), model: network)
        let loader = try DataLoader(train, batchSize: common.batchSize, shuffles: shuffle, seed: seed)
        optim.schedule = makeSchedule(
            totalSteps: common.epochs * ((loader.batchCount + accumulation - 1) / accumulation))
        try optim.schedule.validate()
        if let noDecayOn {
            optim.weightDecayMask = .names(ParameterGroup.containing(noDecayOn.split(separator: ",").map(String.init)))
        }
        let checkpoint = file("checkpoint.safetensors")
        Interrupt.install()
        var options = TrainingOptions(
            epochs: common.epochs, accumulationSteps: accumulation, checkpointPath: checkpoint, clipGradientNorm: clip)
        if world.size > 1 {
            // Every rank stops at the same step: a stop seen by any rank is summed over the world.
            options.shouldStop = {
                var flag = [Interrupt.requested ? 1.0 : 0]
                do { try world.allReduce(&flag, .sum) } catch { return true }
                return flag[0] > 0
            }
        } else {
            options.shouldStop = { Interrupt.requested }
        }
        let trainer = try Trainer(
            model: network, optimizer: optim, loader: loader, testSet: test, options: options, communicator: world)
        if resume {
            guard FileManager.default.fileExists(atPath: checkpoint) else {
                throw CommandFailure("--resume: no checkpoint at \(checkpoint)")
            }
            try trainer.resume(from: checkpoint)
            guard trainer.epoch < common.epochs else {
                throw CommandFailure(
                    "--resume: the checkpoint is at the end of epoch \(trainer.epoch) and --epochs is \(common.epochs): "
                        + "nothing is left to train (raise --epochs)")
            }
        }
        let metrics = try MetricsLog(
            path: lead ? file("metrics.jsonl") : nil, keepingStepsThrough: resume ? trainer.step : nil)
        let progress = ProgressDisplay(isEnabled: lead)
        func say(_ line: String) { if lead { print(line) } }
        say(
            "training \(model.rawValue) (\(network.parameterCount()) parameters) on \(common.data): \(train.count) train / \(test.count) test samples, \(common.epochs) epochs"
        )
        if world.size > 1 { say("data-parallel over \(world.size) ranks: \(common.batchSize) samples a step in all") }
        say(
            "optimizer \(optim.name): "
                + optim.hyperparameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: " ")
                + ", schedule \(schedule.rawValue)")
        if resume { say("resumed at epoch \(trainer.epoch + 1), step \(trainer.step)") }
        let summary: TrainingSummary
        do {
            summary = try trainer.run { event in
                switch event {
                case .step(let r):
                    progress.update(r)
                    metrics.write([
                        ("event", "step"), ("epoch", .number(Double(r.epoch + 1))), ("step", .number(Double(r.step))),
                        ("loss", .number(r.loss)), ("accuracy", r.accuracy.map { .number($0) } ?? .null),
                        ("lr", .number(r.learningRate)), ("samples_per_s", .number(r.samplesPerSecond)),
                    ])
                case .evaluation(let e):
                    progress.finishLine()
                    say(
                        String(
                            format: "epoch %d  step %d  test loss %.4f  test accuracy %.4f", e.epoch, e.step, e.loss,
                            e.accuracy ?? .nan))
                    metrics.write([
                        ("event", "evaluation"), ("epoch", .number(Double(e.epoch))), ("step", .number(Double(e.step))),
                        ("test_loss", .number(e.loss)), ("test_accuracy", e.accuracy.map { .number($0) } ?? .null),
                    ])
                case .checkpoint: break
                }
            }
        } catch {
            progress.finishLine()
            throw CommandFailure(world.size > 1 ? "rank \(world.rank): \(error)" : "\(error)")
        }
        progress.finishLine()
        guard lead else { return }
        if summary.interrupted {
            try trainer.saveCheckpoint(to: checkpoint)
            print("interrupted at step \(summary.steps): checkpoint written to \(checkpoint); continue with --resume")
            try Interrupt.exitIfRequested()
        }
        let weights = file("model.safetensors")
        try SafeTensors.write(
            SafeTensors.File(
                tensors: network.stateDictionary().map { (name: $0.name, tensor: $0.value) },
                metadata: ["format": "pt"]), to: weights)
        print(
            String(
                format: "done: %d steps in %.1f s, final train loss %.4f, test accuracy %.4f", summary.steps,
                summary.seconds,
                summary.finalTrainLoss, summary.finalEvaluation?.accuracy ?? .nan))
        print("wrote \(weights), \(checkpoint), \(file("metrics.jsonl"))")
    }
}

extension TrainCommand {
    enum ModelKind: String, ExpressibleByArgument, CaseIterable { case mlp, cnn }

    enum ScheduleName: String, ExpressibleByArgument, CaseIterable {
        case constant, cosine, warmupCosine = "warmup-cosine", step, wsd
    }
}
