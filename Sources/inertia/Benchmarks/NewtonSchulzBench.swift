import ArgumentParser
import Foundation
import Inertia

/// `inertia bench newton-schulz`: Muon's 5-step quintic Newton–Schulz on the shapes of
/// `shared/peers/newton_schulz.py`, in milliseconds.
struct NewtonSchulzBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "newton-schulz", abstract: "5-step Newton-Schulz (Muon) on 256x256, 1024x1024, 1024x4096, in ms.")

    @Option(name: .long, parsing: .upToNextOption, help: "Shapes as ROWSxCOLS.")
    var shapes: [String] = ["256x256", "1024x1024", "1024x4096"]

    @OptionGroup var options: BenchOptions

    func run() throws {
        let parsed = try shapes.map { text -> (Int, Int) in
            let parts = text.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("bad shape '\(text)' (use ROWSxCOLS)")
            }
            return (parts[0], parts[1])
        }
        let loadStart = BenchEnvironment.loadAverage
        var results: [(String, JSONValue)] = [("gemm_backend", .string(GEMM.backend.rawValue))]
        let saved = Parallel.threadCount
        for threads in options.threads {
            Parallel.threadCount = threads
            for (rows, columns) in parsed {
                var rng = PhiloxGenerator(seed: 0)
                let g = Tensor.normal([rows, columns], using: &rng)
                let r = measure(minTime: options.minTime) { _ = NewtonSchulz.orthogonalize(g) }
                results.append(
                    (
                        "\(threads)thr_\(rows)x\(columns)",
                        .object([("ms", .number(r.median * 1e3)), ("ms_best", .number(r.min * 1e3))])
                    ))
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "newton-schulz %d thr %dx%d: %.2f ms (best)\n", threads, rows, columns, r.min * 1e3
                        ).utf8))
            }
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "newton_schulz", threads: options.threads, loadStart: loadStart, results: .object(results)))
    }
}
