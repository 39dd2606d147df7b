import ArgumentParser
import Foundation
import Inertia

/// `inertia bench wos`: walk-on-spheres jumps per second on `walk-on-spheres.md`'s disk problem
/// (`−Δu = 4` on the unit disk, `g = x² − y²`, start (0.3, 0.2), shell 1e-3), all walks from one
/// point. `bench/peers/wos_numpy.py` runs the same walker vectorised with numpy.
struct WoSBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wos", abstract: "Walk-on-spheres jumps per second (the fixture's disk problem).")

    @OptionGroup var options: BenchOptions

    @Option(help: "Walks per timed run.")
    var walks = 200_000

    func validate() throws {
        guard walks >= 1 else { throw ValidationError("--walks must be positive") }
    }

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        var rows: [(String, JSONValue)] = []
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        let walker = WalkOnSpheres(domain: Ball<SIMD2<Double>>())
        var seed: UInt64 = 0
        for threads in options.threads {
            Parallel.threadCount = threads
            var estimate: WalkOnSpheres<Ball<SIMD2<Double>>>.Estimate?
            let time = measure(warmup: 1, minReps: 3, minTime: options.minTime) {
                seed += 1
                estimate =
                    walker.estimate(
                        at: [SIMD2(0.3, 0.2)], walks: walks, boundary: { $0.x * $0.x - $0.y * $0.y },
                        source: { _ in 4 },
                        seed: seed)[0]
            }
            let steps = (estimate?.meanSteps ?? 0) * Double(walks)
            rows.append(
                (
                    "\(threads)thr",
                    .object([
                        ("seconds_median", .number(time.median)), ("seconds_min", .number(time.min)),
                        ("reps", .number(Double(time.reps))), ("walker_steps", .number(steps)),
                        ("steps_per_s", .number(steps / time.min)), ("estimate", .number(estimate?.mean ?? .nan)),
                    ])
                ))
            FileHandle.standardError.write(
                Data(String(format: "wos, %d thr: %.1f M jumps/s\n", threads, steps / time.min / 1e6).utf8))
        }
        print(
            BenchEnvironment.line(
                bench: "wos", threads: options.threads, loadStart: loadStart, results: .object(rows),
                extra: [("walks", .number(Double(walks)))]))
    }
}
