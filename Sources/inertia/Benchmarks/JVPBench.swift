import ArgumentParser
import Foundation
import Inertia

/// `inertia bench jvp`: the forward-mode Jacobian-vector product of an MLP with respect to its
/// input (the 4x256 SiLU MLP at batch 1024: four `Linear` layers of width 256, SiLU
/// between them), against one plain forward pass of the same network; both off the reverse tape.
/// `bench/peers/jvp_mlp.py` times `torch.func.jvp` on the same network.
struct JVPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jvp", abstract: "Forward-mode JVP of a SiLU MLP against its forward pass (4x256, batch 1024).")

    @OptionGroup var options: BenchOptions

    @Option(help: "Width of the input, every hidden layer and the output.")
    var width = 256

    @Option(help: "Linear layers.")
    var layers = 4

    @Option(help: "Rows of the input.")
    var batch = 1024

    func validate() throws {
        guard width >= 1, layers >= 1, batch >= 1 else {
            throw ValidationError("--width, --layers and --batch must be positive")
        }
    }

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        var rng = PhiloxGenerator(seed: 0)
        let model = MLP(sizes: Array(repeating: width, count: layers + 1), activation: .silu, using: &rng)
        let x = Tensor.normal([batch, width], mean: 0, standardDeviation: 1, using: &rng)
        let u = Tensor.normal([batch, width], mean: 0, standardDeviation: 1, using: &rng)
        var rows: [(String, JSONValue)] = []
        let saved = Parallel.threadCount
        for threads in options.threads {
            Parallel.threadCount = threads
            var checksum: Float = 0
            let forward = measure(minTime: options.minTime) {
                checksum = withoutGradients { model(x) }.scalars[0]
            }
            let jvp = measure(minTime: options.minTime) {
                checksum = withoutGradients { Tensor.jvp(of: { model($0) }, at: x, tangent: u) }.jvp.scalars[0]
            }
            rows.append(
                (
                    "\(threads)thr",
                    .object([
                        ("forward_ms", .number(forward.min * 1e3)), ("jvp_ms", .number(jvp.min * 1e3)),
                        ("forward_ms_median", .number(forward.median * 1e3)),
                        ("jvp_ms_median", .number(jvp.median * 1e3)),
                        ("jvp_over_forward", .number(jvp.min / forward.min)), ("checksum", .number(Double(checksum))),
                    ])
                ))
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "jvp %d thr: forward %.2f ms, jvp %.2f ms (%.2fx)\n", threads, forward.min * 1e3,
                        jvp.min * 1e3, jvp.min / forward.min
                    ).utf8))
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "jvp", threads: options.threads, loadStart: loadStart, results: .object(rows),
                extra: [
                    ("width", .number(Double(width))), ("layers", .number(Double(layers))),
                    ("batch", .number(Double(batch))),
                ]))
    }
}
