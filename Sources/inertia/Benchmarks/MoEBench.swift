import ArgumentParser
import Foundation
import Inertia

/// `inertia bench moe`: one forward and backward pass of a `SparseMixtureOfExperts` layer
/// (MomentumSMoE's router, experts and balance loss) on `--tokens` random tokens, the loss
/// `sum(y * u) + 0.01 * balance`. `bench/peers/moe_layer.py` times the same layer ported to
/// PyTorch (the port `Scripts/fixtures/make_moe_fixture.py` checks the layer against).
struct MoEBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moe", abstract: "Forward + backward of a top-k mixture-of-experts layer.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Tokens (rows) per pass.")
    var tokens = 1024

    @Option(help: "Token width d.")
    var dimension = 64

    @Option(help: "Hidden width of each expert.")
    var hidden = 128

    @Option(help: "Experts E.")
    var experts = 8

    @Option(help: "Experts per token k.")
    var topK = 2

    func validate() throws {
        guard tokens >= 1, dimension >= 1, hidden >= 1, experts >= 1, (1...experts).contains(topK) else {
            throw ValidationError("sizes must be positive and --top-k in 1...--experts")
        }
    }

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        var rng = PhiloxGenerator(seed: 0)
        let layer = SparseMixtureOfExperts(
            dimension: dimension, hidden: hidden, experts: experts, topK: topK, using: &rng)
        let x = Tensor.normal([tokens, dimension], mean: 0, standardDeviation: 1, using: &rng)
        let u = Tensor.normal([tokens, dimension], mean: 0, standardDeviation: 1, using: &rng)
        var rows: [(String, JSONValue)] = []
        let saved = Parallel.threadCount
        for threads in options.threads {
            Parallel.threadCount = threads
            var checksum: Float = 0
            let forward = measure(minTime: options.minTime) {
                checksum = withoutGradients { layer(x) }.scalars[0]
            }
            let step = measure(minTime: options.minTime) {
                layer.zeroGradients()
                let loss = (layer(x) * u).sum() + layer.balanceLoss! * 0.01
                loss.backward()
                checksum = layer.router.weight.grad!.scalars[0]
            }
            rows.append(
                (
                    "\(threads)thr",
                    .object([
                        ("forward_ms", .number(forward.min * 1e3)), ("step_ms", .number(step.min * 1e3)),
                        ("forward_ms_median", .number(forward.median * 1e3)),
                        ("step_ms_median", .number(step.median * 1e3)), ("checksum", .number(Double(checksum))),
                    ])
                ))
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "moe %d thr: forward %.3f ms, forward + backward %.3f ms\n", threads,
                        forward.min * 1e3, step.min * 1e3
                    ).utf8))
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "moe", threads: options.threads, loadStart: loadStart, results: .object(rows),
                extra: [
                    ("tokens", .number(Double(tokens))), ("dimension", .number(Double(dimension))),
                    ("hidden", .number(Double(hidden))), ("experts", .number(Double(experts))),
                    ("top_k", .number(Double(topK))),
                ]))
    }
}
