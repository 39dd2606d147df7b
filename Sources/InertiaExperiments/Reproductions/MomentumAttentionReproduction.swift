import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor

/// `shared/papers/momentum-attention.md`, section 5: single-query induction (vocabulary 16, length
/// 24) with attention-only models: standard attention with one layer (M1) and two (M2), momentum
/// attention with one layer (MA) over the coupling sweep; the optional RoPE toy (post- against
/// pre-RoPE momentum at the best coupling), the key-only ablation, and the spectral forensics of a
/// trained head (spec 2.7) against the filter's gain.
public struct MomentumAttentionReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5 (M1)", "median accuracy, standard attention, 1 layer", .atMost, 0.30),
        SpecCheck("spec 5 (M2)", "median accuracy, standard attention, 2 layers", .atLeast, 0.95),
        SpecCheck(
            "spec 5 (MA)", "median accuracy, momentum attention, 1 layer, best gamma of the sweep", .atLeast, 0.85),
        SpecCheck("spec 5 (MA - M1)", "best-gamma momentum median minus the M1 median", .atLeast, 0.5),
    ]

    public init() {}

    public let slug = "momentum-attention"
    public let paper =
        "K. Maitra, \"Momentum Attention: The Physics of In-Context Learning and Spectral Forensics for Mechanistic Interpretability\", arXiv 2602.04902, 2026"
    public let claim = """
        Shearing queries and keys by their velocity along the sequence (q + gamma (q_t - q_{t-1})) lets a single \
        attention layer form induction, which standard transformers need two layers for.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1, 2] }

    /// The toy's sizes and training protocol (spec 5).
    struct Setup {
        let task: InductionTask
        let dimension = 64, heads = 2, batch = 64
        let learningRate = 3e-3
        let steps: Int, heldOut: Int
        /// Training loss is recorded as the mean over windows of this many steps.
        let lossWindow: Int

        init(budget: Budget) throws {
            task = try InductionTask(vocabulary: 16, length: 24)
            steps = budget == .quick ? 60 : 3000
            heldOut = budget == .quick ? 500 : 2000
            lossWindow = budget == .quick ? 10 : 100
        }
    }

    /// One arm: its layers' shears and how positions enter.
    struct Arm {
        let label: String
        let momentum: [MomentumShear?]
        var positions: AttentionOnlyTransformer.Positions = .learned
    }

    struct Run {
        let accuracy: Double
        let losses: [Double]
        let model: AttentionOnlyTransformer
    }

    /// Trains `arm` from the seed's initial weights on the seed's stream of fresh batches and
    /// scores the last position on the held-out sequences.
    static func train(_ arm: Arm, seed: UInt64, setup p: Setup, heldOut: InductionTask.Batch) throws -> Run {
        var weights = PhiloxGenerator(seed: seed)
        let model = AttentionOnlyTransformer(
            vocabulary: p.task.vocabulary, length: p.task.length, dimension: p.dimension, heads: p.heads,
            momentum: arm.momentum, positions: arm.positions, using: &weights)
        let optimizer = try Adam(learningRate: p.learningRate)
        var stream = PhiloxGenerator(seed: 10_000 &+ seed)
        var losses: [Double] = [], window = 0.0
        for step in 0..<p.steps {
            let batch = p.task.batch(count: p.batch, using: &stream)
            model.zeroGradients()
            let loss = Loss.crossEntropy(logits: model.lastLogits(batch.tokens), labels: batch.labels)
            loss.backward()
            optimizer.step(model.namedParameters())
            window += Double(loss.item)
            if (step + 1) % p.lossWindow == 0 {
                losses.append(window / Double(p.lossWindow))
                window = 0
            }
        }
        return Run(accuracy: accuracy(model, heldOut), losses: losses, model: model)
    }

    static func accuracy(_ model: AttentionOnlyTransformer, _ sequences: InductionTask.Batch) -> Double {
        withoutGradients {
            Metrics.accuracy(logits: model.lastLogits(sequences.tokens), labels: sequences.labels)
        }
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws -> ReproductionResult {
        let p = try Setup(budget: budget)
        var heldOutStream = PhiloxGenerator(seed: 777)
        let heldOut = p.task.batch(count: p.heldOut, using: &heldOutStream)
        let gammas: [Float] = [0.5, 1, 2, MomentumShear.coupling(layers: 1)]
        let arms =
            [
                Arm(label: "M1 standard, 1 layer", momentum: [nil]),
                Arm(label: "M2 standard, 2 layers", momentum: [nil, nil]),
            ]
            + gammas.map { Arm(label: "MA gamma \(Self.format($0))", momentum: [MomentumShear(gamma: $0)]) }
        var accuracies = [[Double]](repeating: [], count: arms.count)
        var curves = [[[Double]]](repeating: [], count: arms.count)
        var partial = false
        var table = Table(
            title:
                "Induction toy (V \(p.task.vocabulary), T \(p.task.length)): accuracy at the last position on \(p.heldOut) held-out sequences after \(p.steps) Adam steps (lr \(p.learningRate), batch \(p.batch))",
            header: ["arm", "seed", "accuracy", "final training loss"], rows: [])
        var firstModels: [Int: AttentionOnlyTransformer] = [:]
        seedLoop: for seed in seeds {
            for (index, arm) in arms.enumerated() {
                if shouldStop() {
                    partial = true
                    break seedLoop
                }
                progress("\(arm.label), seed \(seed)")
                let run = try Self.train(arm, seed: seed, setup: p, heldOut: heldOut)
                accuracies[index].append(run.accuracy)
                curves[index].append(run.losses)
                if firstModels[index] == nil { firstModels[index] = run.model }
                table.rows.append([
                    arm.label, "\(seed)", String(format: "%.4f", run.accuracy),
                    run.losses.last.map { String(format: "%.4f", $0) } ?? "-",
                ])
            }
        }
        let complete = accuracies.map(\.count).min() ?? 0
        func median(_ index: Int) -> Double? {
            complete == 0 ? nil : Comparison.median(Array(accuracies[index].prefix(complete)))
        }
        let momentumMedians = gammas.indices.map { median(2 + $0) }
        let bestSweepIndex = momentumMedians.indices.max { (momentumMedians[$0] ?? -1) < (momentumMedians[$1] ?? -1) }!
        let best = momentumMedians[bestSweepIndex]
        let seedNote = "median over \(complete) seed(s)"
        var checks = [
            Check(
                name: "median accuracy, standard attention, 1 layer", measured: median(0), relation: .atMost,
                threshold: 0.30, source: "spec 5 (M1)", note: seedNote),
            Check(
                name: "median accuracy, standard attention, 2 layers", measured: median(1), relation: .atLeast,
                threshold: 0.95, source: "spec 5 (M2)", note: seedNote),
            Check(
                name: "median accuracy, momentum attention, 1 layer, best gamma of the sweep", measured: best,
                relation: .atLeast, threshold: 0.85, source: "spec 5 (MA)",
                note: "best gamma \(Self.format(gammas[bestSweepIndex])); medians "
                    + zip(gammas, momentumMedians).map {
                        "gamma \(Self.format($0)): \($1.map { String(format: "%.3f", $0) } ?? "-")"
                    }
                    .joined(separator: ", ") + "; \(seedNote)"),
        ]
        checks.append(
            Check(
                name: "best-gamma momentum median minus the M1 median",
                measured: best.flatMap { b in median(0).map { b - $0 } }, relation: .atLeast, threshold: 0.5,
                source: "spec 5 (MA - M1)", note: seedNote))
        var notes = [
            "Attention-only models (no MLP, no LayerNorm): token embedding + learned absolute positions (D \(p.dimension)), residual attention blocks of \(p.heads) heads (d_h \(p.dimension / p.heads), no bias), unembedding of the last position; embeddings N(0, 0.02), projections N(0, 1/D). Momentum: post-RoPE form (no RoPE here, so it shears the projected queries and keys), p_0 = 0, one shared gamma. Every arm of a seed starts from the same generator and sees the same batches; the held-out sequences are the same for all.",
            "gamma = \(Self.format(MomentumShear.coupling(layers: 1))) is the reported gamma* = 4.17 N^-0.74 at N = 1 under the spec's reading N = depth; the spec's own calibration found the optimum near 1-2 on this toy, so the toy neither confirms nor refutes the law.",
        ]
        var tables = [table]
        var figures: [Figure] = []
        figures.append(
            .chart(
                Plot(
                    title: "Held-out accuracy against gamma (median, seed range)", xLabel: "gamma",
                    yLabel: "accuracy (fraction)",
                    series: complete == 0
                        ? []
                        : [
                            Series(
                                name: "MA, 1 layer", x: gammas.map(Double.init),
                                acrossRuns: gammas.indices.map { Array(accuracies[2 + $0].prefix(complete)) },
                                style: .line),
                            Series(
                                name: "M1 standard, 1 layer", x: [0, Double(gammas.last!)],
                                y: [median(0)!, median(0)!], style: .dashed),
                            Series(
                                name: "M2 standard, 2 layers", x: [0, Double(gammas.last!)],
                                y: [median(1)!, median(1)!], style: .dashed),
                        ], yRange: 0...1)))
        figures.append(
            .chart(
                Plot(
                    title: "Training loss (\(p.lossWindow)-step means, median of seeds)", xLabel: "step",
                    yLabel: "cross-entropy",
                    series: arms.indices.compactMap { i in
                        Series(name: arms[i].label, curves: curves[i]) { Double(($0 + 1) * p.lossWindow) }
                    }, logY: true)))

        // The optional RoPE toy and the key-only ablation, at the best coupling, on the first
        // seeds; reported without thresholds.
        if complete > 0, !shouldStop() {
            let gamma = gammas[bestSweepIndex]
            let rotary = AttentionOnlyTransformer.Positions.rotary(base: 10_000, pairing: .adjacent)
            let extras = [
                Arm(label: "standard, 1 layer, RoPE", momentum: [nil], positions: rotary),
                Arm(
                    label: "MA gamma \(Self.format(gamma)), post-RoPE", momentum: [MomentumShear(gamma: gamma)],
                    positions: rotary),
                Arm(
                    label: "MA gamma \(Self.format(gamma)), pre-RoPE",
                    momentum: [MomentumShear(gamma: gamma, beforeRotary: true)], positions: rotary),
                Arm(
                    label: "keys only, gamma \(Self.format(gamma)) (not the paper's model)",
                    momentum: [MomentumShear(gamma: gamma, shearsQueries: false)]),
            ]
            var extraTable = Table(
                title:
                    "Reported without thresholds: the RoPE toy (base 10000, adjacent pairs, no learned positions) and the key-only shear, at the best coupling",
                header: ["arm", "seeds' accuracies", "median"], rows: [])
            for arm in extras {
                var values: [Double] = []
                for seed in seeds.prefix(complete) {
                    if shouldStop() {
                        partial = true
                        break
                    }
                    progress("\(arm.label), seed \(seed)")
                    values.append(try Self.train(arm, seed: seed, setup: p, heldOut: heldOut).accuracy)
                }
                extraTable.rows.append([
                    arm.label, values.map { String(format: "%.3f", $0) }.joined(separator: ", "),
                    values.isEmpty ? "-" : String(format: "%.3f", Comparison.median(values)),
                ])
            }
            tables.append(extraTable)
        }
        if let model = firstModels[2 + bestSweepIndex] {
            let (table, figure, note) = Self.spectralForensics(model, heldOut: heldOut, sweep: gammas)
            tables.append(table)
            figures.append(figure)
            notes.append(note)
        }
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: figures, notes: notes,
            isPartial: partial)
    }

    /// Spec 2.7: the DFT along time of a trained head's queries before (`q̃`) and after (`q̂`) the
    /// shear on the held-out sequences, the ratio of mean magnitudes per frequency bin against the
    /// analytic gain `|H(e^{iω})|` (the Bode plot, with the sweep's analytic curves).
    static func spectralForensics(
        _ model: AttentionOnlyTransformer, heldOut: InductionTask.Batch, sweep: [Float]
    ) -> (Table, Figure, String) {
        let layer = model.blocks[0]
        let shear = layer.momentum!
        let inputs = withoutGradients { layer.headInputs(model.residualStreams(heldOut.tokens)[0]) }
        let (raw, sheared) = (inputs.rotatedQueries.scalars, inputs.queries.scalars)
        let shape = inputs.queries.shape
        let (rows, length, width) = (shape[0] * shape[1], shape[2], shape[3])
        let dft = RealFourierTransform(length: length)
        var before = [Double](repeating: 0, count: dft.binCount), after = before
        var column = [Double](repeating: 0, count: length)
        for row in 0..<rows {
            for channel in 0..<width {
                for t in 0..<length { column[t] = Double(raw[(row * length + t) * width + channel]) }
                for (k, m) in dft.magnitudes(column).enumerated() { before[k] += m }
                for t in 0..<length { column[t] = Double(sheared[(row * length + t) * width + channel]) }
                for (k, m) in dft.magnitudes(column).enumerated() { after[k] += m }
            }
        }
        let bins = Array(0..<dft.binCount)
        let omegas = bins.map(dft.frequency(ofBin:))
        let empirical = bins.map { after[$0] / before[$0] }
        let analytic = omegas.map(shear.gain(atFrequency:))
        var table = Table(
            title:
                "Spectral forensics of the trained head (gamma \(format(shear.gamma)), first seed): mean DFT magnitude along time of the sheared over the unsheared queries, \(rows) sequence-heads x \(width) channels",
            header: ["bin", "omega (rad)", "|H| analytic", "empirical ratio", "relative deviation"], rows: [])
        for k in bins {
            table.rows.append([
                "\(k)", String(format: "%.3f", omegas[k]), String(format: "%.4f", analytic[k]),
                String(format: "%.4f", empirical[k]),
                String(format: "%+.1f %%", 100 * (empirical[k] / analytic[k] - 1)),
            ])
        }
        let decibels = { (gain: Double) in 20 * Foundation.log10(gain) }
        let grid = (0...60).map { Double.pi * Double($0) / 60 }
        let figure = Figure.chart(
            Plot(
                title: "Bode plot: |H(e^{iw})| and a trained head's gain",
                xLabel: "angular frequency w (rad / token)", yLabel: "gain (dB)",
                series: sweep.map { g in
                    Series(
                        name: "analytic, gamma \(format(g))", x: grid,
                        y: grid.map { decibels(MomentumShear(gamma: g).gain(atFrequency: $0)) })
                } + [
                    Series(
                        name: "trained head, gamma \(format(shear.gamma))", x: omegas, y: empirical.map(decibels),
                        style: .points)
                ]
            ))
        let deviation = zip(empirical, analytic).map { Swift.abs($0 / $1 - 1) }.max() ?? 0
        let note =
            "Spectral forensics (spec 2.7, reported): the trained head's empirical gain deviates from |H| by at most \(String(format: "%.1f", 100 * deviation)) % over the \(bins.count) bins of a length-\(length) DFT. The spec's 5 % test is for white noise (a unit test); trained queries are not white, and with p_0 = 0 the first position is not filtered, so the finite-length ratio differs from the filter's gain most at low frequencies."
        return (table, figure, note)
    }

    static func format(_ gamma: Float) -> String { String(format: "%g", Double(gamma)) }
}
