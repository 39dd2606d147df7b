import ArgumentParser
import Foundation
import Inertia

/// `inertia bench sample`: samples per second of Heun on the probability-flow ODE of a linear
/// flow-matching model, 10 000 2-D points, 50 steps (100 network evaluations), with
/// `DenoiserNetwork`'s 3x128 SiLU MLP (16 Fourier time features) at its seed-0 initial weights;
/// with `--train`, training steps per second of the shared denoiser loop (`DiffusionModel.fit`:
/// flow-matching velocity loss, Adam 1e-3) at batch 256 on data of `--dimension`.
/// `bench/peers/sample_mlp.py` runs the same network, sampler and training loop in PyTorch.
struct SampleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Heun sampling throughput of a 3x128 MLP flow model (10 000 2-D points, 50 steps).")

    @OptionGroup var options: BenchOptions

    @Option(help: "Points sampled at once.")
    var points = 10_000

    @Option(help: "Heun steps (two network evaluations each).")
    var steps = 50

    @Flag(help: "Time training steps (batch --batch, Adam) instead of sampling.")
    var train = false

    @Option(help: "--train: rows per training step.")
    var batch = 256

    @Option(help: "--train: training steps per timed run.")
    var trainSteps = 200

    @Option(help: "--train: the data's dimension (2: the moons model; 16: the PFGM++ toy).")
    var dimension = 2

    func validate() throws {
        guard points > 0, steps > 0 else { throw ValidationError("--points and --steps must be positive") }
        guard batch > 0, trainSteps > 0, dimension > 0 else {
            throw ValidationError("--batch, --train-steps and --dimension must be positive")
        }
    }

    func run() throws {
        if train { return try runTraining() }
        let loadStart = BenchEnvironment.loadAverage
        var rng = PhiloxGenerator(seed: 0)
        let schedule = DiffusionSchedule.linearFlowDefault
        let model = DiffusionModel(
            network: DenoiserNetwork(dimension: 2, using: &rng), schedule: schedule, prediction: .velocity)
        let start = Matrix64(rows: points, columns: 2, scalars: (0..<(2 * points)).map { _ in rng.nextNormal() })
        let grid = TimeGrid.uniform(from: 0.999, to: 1e-3, steps: steps)
        var rows: [(String, JSONValue)] = []
        let saved = Parallel.threadCount
        for threads in options.threads {
            Parallel.threadCount = threads
            var checksum = 0.0
            let time = measure(warmup: 1, minReps: 3, minTime: options.minTime) {
                checksum = DiffusionSampler.heun(start, grid: grid, schedule: schedule, model: model.denoiser()).scalars
                    .reduce(0, +)
            }
            rows.append(
                (
                    "\(threads)thr",
                    .object([
                        ("seconds_median", .number(time.median)), ("seconds_min", .number(time.min)),
                        ("reps", .number(Double(time.reps))),
                        ("samples_per_s", .number(Double(points) / time.min)), ("checksum", .number(checksum)),
                    ])
                ))
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "sample %d thr: %.3f s (min), %.0f samples/s\n", threads, time.min,
                        Double(points) / time.min
                    ).utf8))
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "sample", threads: options.threads, loadStart: loadStart, results: .object(rows),
                extra: [
                    ("points", .number(Double(points))), ("steps", .number(Double(steps))),
                    ("evaluations", .number(Double(2 * steps))),
                ]))
    }

    /// Training steps per second of `DiffusionModel.fit` on 20 000 standard normal points.
    func runTraining() throws {
        let loadStart = BenchEnvironment.loadAverage
        var rng = PhiloxGenerator(seed: 0)
        let data = Matrix64(
            rows: 20_000, columns: dimension, scalars: (0..<(20_000 * dimension)).map { _ in rng.nextNormal() })
        let labels = [Int](repeating: 0, count: data.rows)
        var rows: [(String, JSONValue)] = []
        let saved = Parallel.threadCount
        for threads in options.threads {
            Parallel.threadCount = threads
            var model = PhiloxGenerator(seed: 0)
            let trained = DiffusionModel(
                network: DenoiserNetwork(dimension: dimension, using: &model), schedule: .linearFlowDefault,
                prediction: .velocity)
            var lastLoss: Float = 0
            var stream = PhiloxGenerator(seed: 1)
            var failure: Error?
            let time = measure(warmup: 1, minReps: 3, minTime: options.minTime) {
                do {
                    try trained.fit(
                        points: data, labels: labels, steps: trainSteps, batchSize: batch, timeRange: 1e-5...1,
                        unconditionalProbability: 0, using: &stream
                    ) { _, loss in
                        lastLoss = loss
                        return true
                    }
                } catch { failure = error }
            }
            if let failure { throw failure }
            rows.append(
                (
                    "\(threads)thr",
                    .object([
                        ("seconds_median", .number(time.median)), ("seconds_min", .number(time.min)),
                        ("reps", .number(Double(time.reps))),
                        ("steps_per_s", .number(Double(trainSteps) / time.min)),
                        ("last_loss", .number(Double(lastLoss))),
                    ])
                ))
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "train %d thr: %.3f s (min) for %d steps, %.0f steps/s\n", threads, time.min,
                        trainSteps,
                        Double(trainSteps) / time.min
                    ).utf8))
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "sample-train", threads: options.threads, loadStart: loadStart, results: .object(rows),
                extra: [
                    ("batch", .number(Double(batch))), ("train_steps", .number(Double(trainSteps))),
                    ("dimension", .number(Double(dimension))),
                ]))
    }
}
