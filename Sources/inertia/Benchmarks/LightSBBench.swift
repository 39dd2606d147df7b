import ArgumentParser
import Foundation
import Inertia

/// `inertia bench lightsb`: training steps per second of the Light Schrödinger Bridge at the
/// spec's benchmark sizes (K = 50 components, batch 128, D = 16 and 64, ε = 1): the objective on
/// fixed standard normal batches, its backward pass and one Adam step. `bench/peers/lightsb_step.py`
/// runs the official code's step (its `get_log_potential` / `get_log_C`) in PyTorch.
struct LightSBBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lightsb", abstract: "LightSB training steps per second (K = 50, batch 128, D = 16 and 64).")

    @OptionGroup var options: BenchOptions

    @Option(name: .long, parsing: .upToNextOption, help: "Dimensions D.")
    var dimensions: [Int] = [16, 64]

    @Option(help: "Mixture components K.")
    var components = 50

    @Option(help: "Rows of each of the two batches.")
    var batch = 128

    @Option(help: "Training steps per timed run.")
    var steps = 100

    func validate() throws {
        guard dimensions.allSatisfy({ $0 >= 1 }), components >= 1, batch >= 1, steps >= 1 else {
            throw ValidationError("--dimensions, --components, --batch and --steps must be positive")
        }
    }

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        var rows: [(String, JSONValue)] = []
        let saved = Parallel.threadCount
        for d in dimensions {
            var rng = PhiloxGenerator(seed: 0)
            let x0 = Tensor.normal([batch, d], mean: 0, standardDeviation: 1, using: &rng)
            let x1 = Tensor.normal([batch, d], mean: 0, standardDeviation: 1, using: &rng)
            for threads in options.threads {
                Parallel.threadCount = threads
                var initial = PhiloxGenerator(seed: 1)
                let model = LightSchrodingerBridge(components: components, dimension: d, epsilon: 1, using: &initial)
                let adam = try Adam(learningRate: 1e-3)
                let parameters = model.parameters
                var loss: Float = 0
                let time = measure(warmup: 1, minReps: 3, minTime: options.minTime) {
                    for _ in 0..<steps {
                        for (_, parameter) in parameters { parameter.zeroGrad() }
                        let value = model.loss(source: x0, target: x1)
                        value.backward()
                        adam.step(parameters)
                        loss = value.item
                    }
                }
                rows.append(
                    (
                        "D\(d)_\(threads)thr",
                        .object([
                            ("seconds_median", .number(time.median)), ("seconds_min", .number(time.min)),
                            ("reps", .number(Double(time.reps))), ("steps_per_s", .number(Double(steps) / time.min)),
                            ("last_loss", .number(Double(loss))),
                        ])
                    ))
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "lightsb D = %d, %d thr: %.0f steps/s\n", d, threads, Double(steps) / time.min
                        ).utf8))
            }
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "lightsb", threads: options.threads, loadStart: loadStart, results: .object(rows),
                extra: [
                    ("components", .number(Double(components))), ("batch", .number(Double(batch))),
                    ("steps", .number(Double(steps))), ("dimensions", .array(dimensions.map { .number(Double($0)) })),
                ]))
    }
}
