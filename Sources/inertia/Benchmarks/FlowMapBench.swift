import ArgumentParser
import Foundation
import Inertia

/// `inertia bench flow-map`: LSD training steps per second at `flow-maps.md` 5's sizes (the
/// 5 → 4 x 128 GELU → 2 MLP, batch 512 of checkerboard points, diagonal flow matching plus the
/// Lagrangian self-distillation loss with its forward-mode time derivative, backward, clipping at
/// norm 1, Adam). `bench/peers/flow_map_step.py` runs the same step with `torch.func.jvp`.
struct FlowMapBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow-map", abstract: "Flow-map LSD training steps per second (4 x 128 GELU, batch 512).")

    @OptionGroup var options: BenchOptions

    @Option(help: "Rows of each batch.")
    var batch = 512

    @Option(help: "Training steps per timed run.")
    var steps = 50

    func validate() throws {
        guard batch >= 1, steps >= 1 else { throw ValidationError("--batch and --steps must be positive") }
    }

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        var rows: [(String, JSONValue)] = []
        let saved = Parallel.threadCount
        var dataStream = PhiloxGenerator(seed: 1)
        let data = ToyDistribution.checkerboard.sample(200_000, using: &dataStream)
        for threads in options.threads {
            Parallel.threadCount = threads
            var rng = PhiloxGenerator(seed: 0)
            let model = FlowMapModel(dimension: 2, distillation: .lagrangian, using: &rng)
            var loss: Float = 0
            var failure: Error?
            let time = measure(warmup: 1, minReps: 3, minTime: options.minTime) {
                do {
                    try model.fit(points: data, steps: steps, batchSize: batch, using: &rng) { _, value in
                        loss = value
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
                        ("reps", .number(Double(time.reps))), ("steps_per_s", .number(Double(steps) / time.min)),
                        ("last_loss", .number(Double(loss))),
                    ])
                ))
            FileHandle.standardError.write(
                Data(String(format: "flow-map LSD, %d thr: %.0f steps/s\n", threads, Double(steps) / time.min).utf8))
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "flow-map", threads: options.threads, loadStart: loadStart, results: .object(rows),
                extra: [("batch", .number(Double(batch))), ("steps", .number(Double(steps)))]))
    }
}
