import ArgumentParser
import Foundation
import Inertia

/// `inertia bench optim`: one optimizer step over N Float32 parameters, in ns per parameter, with
/// the row fields of `shared/peers/optim_step.py` (opt, impl, variant, n, ns_per_param,
/// ns_per_param_min, reps, eff_GBps_best) and its parameter shape `(N/1000, 1000)`.
struct OptimBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optim",
        abstract:
            "ns per parameter per optimizer step (SGD-momentum, Adam, AdamW, Lion, AdamP, SGDP; --all for every one).")

    @Option(name: .long, parsing: .upToNextOption, help: "Parameter counts N (multiples of 1000).")
    var sizes: [Int] = [100_000, 1_000_000, 10_000_000]

    @Flag(help: "Every registered optimizer, not only the three of the peers' table.")
    var all = false

    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard sizes.allSatisfy({ $0 >= 1000 && $0 % 1000 == 0 }) else {
            throw ValidationError("--sizes must be multiples of 1000")
        }
    }

    /// Least bytes moved per parameter (reads and writes of p, grad and state), as the peers count.
    static let minimumBytes: [String: Int] = [
        "sgd_momentum": 20, "adam": 28, "adamw": 28, "nadam": 28, "radam": 28, "rmsprop": 16, "adagrad": 16, "sgd": 12,
        "lion": 20, "lion-k": 20, "adamp": 28, "sgdp": 20,
    ]

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        var cases: [(String, OptimizerEntry, [String: HyperparameterValue])] = [
            ("sgd_momentum", OptimizerRegistry.entry(named: "sgd")!, ["lr": 1e-3, "momentum": 0.9]),
            ("adam", OptimizerRegistry.entry(named: "adam")!, ["lr": 1e-3]),
            ("adamw", OptimizerRegistry.entry(named: "adamw")!, ["lr": 1e-3, "weight_decay": 0.01]),
            ("lion", OptimizerRegistry.entry(named: "lion")!, ["lr": 1e-4, "weight_decay": 0.01]),
            ("adamp", OptimizerRegistry.entry(named: "adamp")!, ["lr": 1e-3, "weight_decay": 0.01]),
            (
                "sgdp", OptimizerRegistry.entry(named: "sgdp")!,
                ["lr": 0.1, "momentum": 0.9, "weight_decay": 1e-5, "nesterov": true]
            ),
        ]
        if all {
            for e in OptimizerRegistry.entries
            where !["sgd", "adam", "adamw", "lion", "adamp", "sgdp", "fismo", "sso"].contains(e.name) && !e.needsModel {
                cases.append((e.name, e, ["lr": 1e-3]))
            }
            // FISMO's cost is its Kronecker factors' eigendecompositions (cubic in each side), not
            // a per-parameter pass: a (N/1000)x1000 weight would time a 1000x1000 decomposition.
            // MKOR attaches to a model's layers (`inertia bench mkor`); SSO steps from a model's
            // outputs by autodiff, its cost the model's forward and backward passes.
            FileHandle.standardError.write(
                Data(
                    "optim fismo, mkor, sso: not timed per parameter (cubic factor cost; per layer, `bench mkor`; per model pass)\n"
                        .utf8))
        }
        var rows: [JSONValue] = []
        let saved = Parallel.threadCount
        for threads in options.threads {
            Parallel.threadCount = threads
            for n in sizes {
                var rng = PhiloxGenerator(seed: 0)
                let parameter = Parameter(Tensor.normal([n / 1000, 1000], using: &rng))
                parameter.value.grad = Tensor.normal([n / 1000, 1000], standardDeviation: 1e-2, using: &rng)
                for (label, entry, h) in cases {
                    let optimizer = try entry(h)
                    let r = measure(minTime: options.minTime) { optimizer.step([("p", parameter)]) }
                    let bytes = Double(Self.minimumBytes[label] ?? 28)
                    rows.append(
                        .object([
                            ("opt", .string(label)), ("impl", "inertia"), ("variant", "fused"),
                            ("threads", .number(Double(threads))),
                            ("n", .number(Double(n))), ("ns_per_param", .number(1e9 * r.median / Double(n))),
                            ("ns_per_param_min", .number(1e9 * r.min / Double(n))), ("reps", .number(Double(r.reps))),
                            ("eff_GBps_best", .number(bytes * Double(n) / r.min / 1e9)),
                        ]))
                    FileHandle.standardError.write(
                        Data(
                            String(
                                format: "optim %@ %d thr n=%d: %.3f ns/param (best)\n", label, threads, n,
                                1e9 * r.min / Double(n)
                            ).utf8))
                }
            }
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "optim_step", threads: options.threads, loadStart: loadStart,
                results: .object([
                    ("steps", .array(rows)),
                    (
                        "min_bytes_per_param",
                        .object(
                            Self.minimumBytes.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })
                    ),
                    ("param_shape", "(N/1000, 1000) float32"),
                ])))
    }
}
