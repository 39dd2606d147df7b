import ArgumentParser
import Foundation
import Inertia

/// `inertia bench attention`: one training step of an `AttentionOnlyTransformer` with momentum
/// attention (the momentum-attention spec's toy model: learned positions, residual attention
/// blocks sheared with `--gamma`, the last position's logits): forward, cross-entropy, backward
/// and an Adam step on random tokens. `bench/peers/momentum_attention.py` times the same model
/// ported to PyTorch (the port `Scripts/fixtures/make_momentum_attention_fixture.py` checks the
/// layer against).
struct AttentionBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention", abstract: "A training step of an attention-only model with momentum attention.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Sequences per batch.")
    var batch = 64

    @Option(help: "Sequence length.")
    var length = 24

    @Option(help: "Model width D.")
    var dimension = 64

    @Option(help: "Heads per layer.")
    var heads = 2

    @Option(help: "Attention layers.")
    var layers = 1

    @Option(help: "Vocabulary size.")
    var vocabulary = 16

    @Option(help: "Momentum coupling gamma (0: standard attention).")
    var gamma: Float = 1

    func validate() throws {
        guard batch >= 1, length >= 1, layers >= 1, vocabulary >= 2, heads >= 1, dimension % heads == 0,
            (dimension / heads) % 2 == 0, gamma >= 0
        else {
            throw ValidationError(
                "sizes must be positive, --heads must divide --dimension into even head widths, --gamma >= 0")
        }
    }

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        var rng = PhiloxGenerator(seed: 0)
        let model = AttentionOnlyTransformer(
            vocabulary: vocabulary, length: length, dimension: dimension, heads: heads,
            momentum: Array(repeating: MomentumShear(gamma: gamma), count: layers), using: &rng)
        let optimizer = try Adam(learningRate: 3e-3)
        let tokens = IndexTensor(
            shape: [batch, length], indices: (0..<(batch * length)).map { _ in rng.nextInt(below: vocabulary) })
        let labels = (0..<batch).map { _ in rng.nextInt(below: vocabulary) }
        var rows: [(String, JSONValue)] = []
        let saved = Parallel.threadCount
        for threads in options.threads {
            Parallel.threadCount = threads
            var checksum: Float = 0
            let step = measure(minTime: options.minTime) {
                model.zeroGradients()
                let loss = Loss.crossEntropy(logits: model.lastLogits(tokens), labels: labels)
                loss.backward()
                optimizer.step(model.namedParameters())
                checksum = loss.item
            }
            rows.append(
                (
                    "\(threads)thr",
                    .object([
                        ("step_ms", .number(step.min * 1e3)), ("step_ms_median", .number(step.median * 1e3)),
                        ("checksum", .number(Double(checksum))),
                    ])
                ))
            FileHandle.standardError.write(
                Data(String(format: "attention %d thr: training step %.3f ms\n", threads, step.min * 1e3).utf8))
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "attention", threads: options.threads, loadStart: loadStart, results: .object(rows),
                extra: [
                    ("batch", .number(Double(batch))), ("length", .number(Double(length))),
                    ("dimension", .number(Double(dimension))), ("heads", .number(Double(heads))),
                    ("layers", .number(Double(layers))), ("vocabulary", .number(Double(vocabulary))),
                    ("gamma", .number(Double(gamma))),
                ]))
    }
}
