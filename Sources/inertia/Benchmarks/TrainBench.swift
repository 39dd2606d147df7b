import ArgumentParser
import Foundation
import Inertia

/// `inertia bench train`: the 784-256-256-10 ReLU MLP of `shared/peers/mlp_train.py` (AdamW with
/// PyTorch's defaults and lr 1e-3, batch 128, one epoch of 60000 samples = 469 steps, reshuffled
/// each epoch; two epochs, the second timed), on the peers' random data (SplitMix64 seeds 7 and 8,
/// bit-identical to theirs) and on Fashion-MNIST when installed; and a small CNN on the same data.
/// With `--distributed` under `mpirun`, the ranks train data-parallel (the global batch stays 128).
struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training epoch time of the peers' MLP (and a small CNN), with test accuracy on Fashion-MNIST.")

    enum DataName: String, ExpressibleByArgument, CaseIterable { case random, fashion }

    @Option(name: .long, parsing: .upToNextOption, help: "The peers' random data, Fashion-MNIST, or both.")
    var datasets: [DataName] = [.random, .fashion]

    @Option(name: .long, parsing: .upToNextOption, help: "The networks to time.")
    var models: [TrainCommand.ModelKind] = [.mlp, .cnn]

    @Option(help: "Epochs (the last is the timed one).")
    var epochs = 2

    @Option(help: "Threads.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Flag(
        help:
            "Data-parallel over the MPI world (launch with mpirun; a build with --traits MPI): the batch of 128 is split over the ranks; rank 0 reports."
    )
    var distributed = false

    func validate() throws {
        guard epochs > 0, threads > 0 else { throw ValidationError("--epochs and --threads must be positive") }
    }

    /// The peers' random data: inputs uniform from SplitMix64 seed 7, labels seed-8 outputs mod 10.
    static func randomData() -> Dataset {
        let inputs = Tensor(shape: [60000, 784], scalars: SplitMix64.uniformFloat32(seed: 7, count: 60000 * 784))
        let labels = (0..<60000).map { Float(SplitMix64.value(seed: 8, index: UInt64($0)) % 10) }
        return try! Dataset(inputs: inputs, targets: Tensor(labels), classCount: 10)
    }

    func model(_ kind: TrainCommand.ModelKind, using rng: inout PhiloxGenerator) -> Module {
        if kind == .mlp { return MLP(sizes: [784, 256, 256, 10], using: &rng) }
        return Sequential(
            Reshape([1, 28, 28]),
            Conv2d(1, 16, kernelSize: 3, padding: 1, using: &rng), Activation(.relu), MaxPool2d(kernelSize: 2),
            Conv2d(16, 32, kernelSize: 3, padding: 1, using: &rng), Activation(.relu), MaxPool2d(kernelSize: 2),
            Flatten(), Linear(32 * 7 * 7, 10, using: &rng))
    }

    func run() throws {
        Parallel.threadCount = threads
        if distributed && !World.supportsMPI {
            throw CommandFailure(
                "--distributed: this build has no MPI; build with `swift build -c release --traits MPI`")
        }
        let world: any Communicator = distributed ? try World.communicator() : SingleProcessCommunicator()
        let loadStart = BenchEnvironment.loadAverage
        var results: [(String, JSONValue)] = []
        for dataset in datasets {
            let name = dataset.rawValue
            let train: Dataset, test: Dataset?
            if dataset == .random {
                (train, test) = (Self.randomData(), nil)
            } else {
                do {
                    let (a, b) = try FashionMNIST.load()
                    (train, test) = (a, b)
                } catch {
                    results.append((name, .object([("error", .string("\(error)"))])))
                    continue
                }
            }
            for kind in models {
                var rng = PhiloxGenerator(seed: 0)
                let network = model(kind, using: &rng)
                let trainer = try Trainer(
                    model: network, optimizer: try AdamW(learningRate: 1e-3),
                    loader: try DataLoader(train, batchSize: 128, seed: 0),
                    testSet: test, options: TrainingOptions(epochs: epochs), communicator: world)
                var records: [JSONValue] = []
                var epochStart = DispatchTime.now().uptimeNanoseconds
                var lossSum = 0.0, steps = 0
                try trainer.run { event in
                    switch event {
                    case .step(let r):
                        lossSum += r.loss
                        steps += 1
                        guard r.step % trainer.loader.batchCount == 0 else { return }
                        let seconds = Double(DispatchTime.now().uptimeNanoseconds - epochStart) * 1e-9
                        var fields: [(String, JSONValue)] = [
                            ("epoch", .number(Double(r.epoch + 1))), ("seconds", .number(seconds)),
                            ("ms_per_step", .number(1e3 * seconds / Double(steps))),
                            ("train_loss", .number(lossSum / Double(steps))),
                        ]
                        if test != nil {
                            let evaluation = trainer.evaluate()
                            fields.append(("test_acc", evaluation.accuracy.map { .number($0) } ?? .null))
                        }
                        records.append(.object(fields))
                        guard world.rank == 0 else { return }
                        FileHandle.standardError.write(
                            Data(
                                "\(kind.rawValue) \(name) epoch \(r.epoch + 1): \(String(format: "%.3f", seconds)) s\n"
                                    .utf8))
                        lossSum = 0
                        steps = 0
                        epochStart = DispatchTime.now().uptimeNanoseconds
                    default: break
                    }
                }
                let last = records.last
                var summary: [(String, JSONValue)] = [("steps_per_epoch", .number(Double(trainer.loader.batchCount)))]
                if case .object(let fields)? = last {
                    for (k, v) in fields where k == "seconds" || k == "ms_per_step" {
                        summary.append((k == "seconds" ? "epoch_s" : k, v))
                    }
                }
                summary.append(("epochs", .array(records)))
                results.append((kind == .mlp ? name : "\(kind.rawValue)_\(name)", .object(summary)))
            }
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        guard world.rank == 0 else { return }
        print(
            BenchEnvironment.line(
                bench: "mlp_train", threads: [threads], loadStart: loadStart, results: .object(results),
                extra: [
                    ("batch", 128), ("lr", .number(1e-3)), ("optimizer", "AdamW, PyTorch defaults (fused pass)"),
                    ("arch", "784-256-256-10 ReLU; cnn: conv16-pool-conv32-pool-linear"),
                    ("max_rss_MiB", .number(Double(usage.ru_maxrss) / 1024)), ("ranks", .number(Double(world.size))),
                ]))
    }
}
