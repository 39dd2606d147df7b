import ArgumentParser
import Foundation
import Inertia

/// The batch and the steps per timed run of a training-step bench.
struct TrainingStepOptions: ParsableArguments {
    @Option(help: "Rows of each batch.")
    var batch = 512

    @Option(help: "Training steps per timed run.")
    var steps = 50

    func validate() throws {
        guard batch >= 1, steps >= 1 else { throw ValidationError("--batch and --steps must be positive") }
    }
}

/// Training steps per second of a model at each thread count of `options`, printed as one JSON
/// line `bench` with the fields of the peer scripts (`bench/peers/*_step.py`). `makeTrainer` builds
/// a fresh model at the current thread count and returns the closure that trains it for a number of
/// steps and gives the last loss.
func runTrainingStepBench(
    _ bench: String, label: String, options: BenchOptions, batch: Int, steps: Int,
    makeTrainer: () -> (Int) throws -> Float
) throws {
    let loadStart = BenchEnvironment.loadAverage
    var rows: [(String, JSONValue)] = []
    let saved = Parallel.threadCount
    defer { Parallel.threadCount = saved }
    for threads in options.threads {
        Parallel.threadCount = threads
        let train = makeTrainer()
        var loss: Float = 0
        var failure: Error?
        let time = measure(warmup: 1, minReps: 3, minTime: options.minTime) {
            do { loss = try train(steps) } catch { failure = error }
        }
        if let failure { throw failure }
        rows.append(
            (
                "\(threads)thr",
                .object([
                    ("seconds_median", .number(time.median)), ("seconds_min", .number(time.min)),
                    ("reps", .number(Double(time.reps))), ("steps_per_s", .number(Double(steps) / time.min)),
                    ("last_loss", .number(Double(loss))),
                ])
            ))
        FileHandle.standardError.write(
            Data(String(format: "%@, %d thr: %.0f steps/s\n", label, threads, Double(steps) / time.min).utf8))
    }
    print(
        BenchEnvironment.line(
            bench: bench, threads: options.threads, loadStart: loadStart, results: .object(rows),
            extra: [("batch", .number(Double(batch))), ("steps", .number(Double(steps)))]))
}
