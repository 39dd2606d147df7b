import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor

/// `shared/papers/momentum-auxiliary-network.md`, section 5: a ResNet-8 on a Fashion-MNIST subset
/// (the built-in digits when it is not installed, every width halved) cut into 4 local modules,
/// trained end to end (E2E), by DGL-style local learning (Local) and by local learning with the
/// Momentum Auxiliary Network (MAN); test accuracy and the peak bytes of activations the tape holds
/// during one training iteration.
public struct MomentumAuxiliaryNetworkReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck(
            "spec 5 (accuracy)",
            "MAN - Local median accuracy (points) against 0.3 x (E2E - Local) when that gap is >= 1 point, else -0.3",
            .atLeast, nil),
        SpecCheck("spec 5 (memory)", "peak activation bytes of the local arms / E2E's", .atMost, 0.6),
        SpecCheck(
            "spec 5 (MAN memory)", "MAN's peak activation bytes minus Local's, in one residual block's activations",
            .atMost, 1.5),
    ]

    public init() {}

    public let slug = "momentum-auxiliary-network"
    public let paper =
        "Su, Cai, Zhu, He, Xu, Guan & Si, \"Momentum Auxiliary Network for Supervised Local Learning\", ECCV 2024 (arXiv 2407.05623)"
    public let claim = """
        Giving each gradient-isolated module an auxiliary network that starts with an EMA copy of the next module's \
        first layer (plus a trainable copy) recovers much of the accuracy local learning loses to end-to-end \
        training, at a fraction of end-to-end training's activation memory.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1, 2] }

    enum Arm: String, CaseIterable {
        case endToEnd = "E2E", local = "Local", momentum = "Local + MAN"
    }

    /// The spec's ResNet-8 (stem conv + BN + ReLU, residual blocks R1-R4, pool, linear) in the 4
    /// modules {stem + R1}, {R2}, {R3}, {R4 + pool + linear}, with the auxiliary heads of `arm`
    /// (pool, linear to 64, ReLU, linear to 10). Every arm of a seed draws the network's weights
    /// first, so they all start from the same network.
    static func network(arm: Arm, widths: [Int], seed: UInt64) -> LocalLearningNetwork {
        var rng = PhiloxGenerator(seed: seed)
        let blocks = [
            ResidualBlock(widths[0], widths[0], using: &rng),
            ResidualBlock(widths[0], widths[1], stride: 2, using: &rng),
            ResidualBlock(widths[1], widths[1], using: &rng),
            ResidualBlock(widths[1], widths[2], stride: 2, using: &rng),
        ]
        let stages: [Module] = [
            Sequential(
                Conv2d(1, widths[0], kernelSize: 3, padding: 1, bias: false, using: &rng), BatchNorm(widths[0]),
                Activation(.relu), blocks[0]),
            Sequential(blocks[1]), Sequential(blocks[2]),
            Sequential(blocks[3], GlobalAveragePool2d(), Linear(widths[2], 10, using: &rng)),
        ]
        // A head reads its module's output (E2E, Local) or the next block's (MAN).
        let headInputs = arm == .momentum ? [widths[1], widths[1], widths[2]] : [widths[0], widths[1], widths[1]]
        let heads: [Module] = headInputs.map { channels in
            Sequential(
                GlobalAveragePool2d(), Linear(channels, 64, using: &rng), Activation(.relu), Linear(64, 10, using: &rng)
            )
        }
        return LocalLearningNetwork(
            stages: stages, heads: heads, auxiliaryInput: arm == .momentum ? .momentum(decay: 0.995) : .direct,
            firstLayer: { blocks[$0 + 1] },
            freshLayer: { j in
                ResidualBlock(
                    blocks[j + 1].inChannels, blocks[j + 1].outChannels, stride: blocks[j + 1].stride, using: &rng)
            })
    }

    /// One training iteration's gradients: the final loss's backward (E2E) or the local scheme.
    static func accumulate(_ model: LocalLearningNetwork, arm: Arm, _ x: Tensor, _ labels: [Int]) throws -> Float {
        if arm == .endToEnd {
            let loss = Loss.crossEntropy(logits: model(x), labels: labels)
            loss.backward()
            return loss.item
        }
        return try model.accumulateGradients(x, labels: labels).last!
    }

    static func accuracy(_ model: LocalLearningNetwork, _ data: Dataset, side: Int) -> Double {
        model.eval()
        defer { model.train() }
        var correct = 0.0
        for start in stride(from: 0, to: data.count, by: 1000) {
            let part = data.subset(Array(start..<Swift.min(data.count, start + 1000)))
            correct +=
                withoutGradients {
                    Metrics.accuracy(logits: model(part.inputs.reshaped(to: [-1, 1, side, side])), labels: part.labels)
                } * Double(part.count)
        }
        return correct / Double(data.count)
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws -> ReproductionResult {
        var notes: [String] = []
        let train: Dataset, test: Dataset, dataName: String, widths: [Int], side: Int
        if let fashion = FashionMNIST.forReproduction(unmeasured: "the digits fallback runs instead", notes: &notes) {
            let (trainCount, testCount) = budget == .quick ? (512, 500) : (10_000, fashion.test.count)
            train = fashion.train.subset(Array(0..<trainCount))
            test = fashion.test.subset(Array(0..<testCount))
            (dataName, widths, side) = ("Fashion-MNIST \(trainCount) / \(testCount)", [16, 32, 64], 28)
        } else {
            let digits = try Digits.load()
            train = digits.subset(Array(0..<1400))
            test = digits.subset(Array(1400..<digits.count))
            (dataName, widths, side) = ("digits 1400 / \(digits.count - 1400), widths halved", [8, 16, 32], 8)
        }
        let epochs = budget == .quick ? 1 : 10
        let batch = 128
        var accuracies = [[Double]](repeating: [], count: Arm.allCases.count)
        var peaks = [Int?](repeating: nil, count: Arm.allCases.count)
        var curves = [[[Double]]](repeating: [], count: Arm.allCases.count)
        var blockBytes = 0
        var partial = false
        var table = Table(
            title:
                "\(dataName): ResNet-8 (widths \(widths.map(String.init).joined(separator: "-"))) in 4 modules, SGD (Nesterov 0.9, lr 0.05 cosine, weight decay 5e-4), batch \(batch), \(epochs) epochs",
            header: ["arm", "seed", "test accuracy", "final training loss"], rows: [])
        seedLoop: for seed in seeds {
            for (index, arm) in Arm.allCases.enumerated() {
                if shouldStop() {
                    partial = true
                    break seedLoop
                }
                progress("\(arm.rawValue), seed \(seed)")
                let model = Self.network(arm: arm, widths: widths, seed: seed)
                let loader = try DataLoader(train, batchSize: batch, seed: seed)
                let optimizer = try SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true)
                optimizer.schedule = .cosine(steps: epochs * loader.batchCount, endFactor: 0, periodic: false)
                var losses: [Double] = []
                for epoch in 0..<epochs {
                    var sum = 0.0
                    for (inputs, targets) in loader.batches(epoch: epoch) {
                        let x = inputs.reshaped(to: [-1, 1, side, side])
                        let labels = targets.scalars.map { Int($0) }
                        model.zeroGradients()
                        if peaks[index] == nil {
                            let measured = try TapeMemory.measuring { try Self.accumulate(model, arm: arm, x, labels) }
                            peaks[index] = measured.peakBytes
                            sum += Double(measured.result)
                            if arm == .momentum {
                                blockBytes = try Self.largestBlockActivations(model, x)
                            }
                        } else {
                            sum += Double(try Self.accumulate(model, arm: arm, x, labels))
                        }
                        optimizer.step(model.namedParameters())
                    }
                    losses.append(sum / Double(loader.batchCount))
                }
                curves[index].append(losses)
                let accuracy = Self.accuracy(model, test, side: side)
                accuracies[index].append(accuracy)
                table.rows.append([
                    arm.rawValue, "\(seed)", String(format: "%.4f", accuracy),
                    String(format: "%.4f", losses.last ?? .nan),
                ])
            }
        }
        let complete = accuracies.map(\.count).min() ?? 0
        let medians = accuracies.map { complete == 0 ? nil : Comparison.median(Array($0.prefix(complete))) }
        var checks: [Check] = []
        if let e2e = medians[0], let local = medians[1], let man = medians[2] {
            let gap = 100 * (e2e - local), gain = 100 * (man - local)
            let threshold = gap >= 1 ? 0.3 * gap : -0.3
            checks.append(
                Check(
                    name: "MAN - Local median accuracy (points)", measured: gain, relation: .atLeast,
                    threshold: threshold, source: "spec 5 (accuracy)",
                    note: String(
                        format:
                            "medians E2E %.4f, Local %.4f, MAN %.4f over %d seed(s); E2E - Local = %.2f points, so the bar is %@",
                        e2e, local, man, complete, gap,
                        gap >= 1
                            ? String(format: "0.3 x %.2f = %.2f points", gap, threshold)
                            : "non-inferiority (-0.3 points)"
                    )))
        } else {
            checks.append(
                Check(
                    name: "MAN - Local median accuracy (points)", measured: nil, relation: .atLeast, threshold: -0.3,
                    source: "spec 5 (accuracy)", note: "no seed completed all three arms"))
        }
        let localPeak = [peaks[1], peaks[2]].compactMap { $0 }.max()
        checks.append(
            Check(
                name: "peak activation bytes of the local arms / E2E's",
                measured: localPeak.flatMap { l in peaks[0].map { Double(l) / Double($0) } }, relation: .atMost,
                threshold: 0.6, source: "spec 5 (memory)",
                note: "peaks (first iteration, batch \(batch)): "
                    + zip(Arm.allCases, peaks).map { "\($0.rawValue) \($1.map(Self.megabytes) ?? "-")" }.joined(
                        separator: ", ")))
        checks.append(
            Check(
                name: "MAN's peak activation bytes minus Local's, in one residual block's activations",
                measured: blockBytes == 0
                    ? nil : peaks[2].flatMap { m in peaks[1].map { Double(m - $0) / Double(blockBytes) } },
                relation: .atMost, threshold: 1.5, source: "spec 5 (MAN memory)",
                note:
                    "one block = the largest training-mode forward tape of a copied block (R2-R4) at its input: \(Self.megabytes(blockBytes))"
            ))
        notes.append(
            "Local learning is DGL-style: each of the first three modules trains on the cross-entropy of its auxiliary head (pool, Linear to 64, ReLU, Linear to 10) and passes on its output detached; MAN's head reads LB_j(x) + E_j(x), E_j the EMA (m 0.995) of the next module's first residual block, updated after each local backward from the parameters of before the step, its batch-norm statistics its own; LB_j, E_j and the next block start from independent draws, as in the official code. Peak bytes are the tape's saved tensors during the first training iteration (parameters excluded)."
        )
        let figures: [Figure] = [
            .chart(
                Plot(
                    title: "Training loss of the network's output (median of seeds)", xLabel: "epoch",
                    yLabel: "cross-entropy",
                    series: Arm.allCases.indices.compactMap { i in
                        Series(name: Arm.allCases[i].rawValue, curves: curves[i]) { Double($0 + 1) }
                    }, logY: true)),
            .bars(
                BarChart(
                    title: "Test accuracy (median of seeds)", xLabel: "arm", yLabel: "accuracy (fraction)",
                    categories: Arm.allCases.map(\.rawValue),
                    series: [BarChart.Bars(name: "test accuracy", values: medians.map { $0 ?? 0 })])),
            .bars(
                BarChart(
                    title: "Peak activation memory of one training iteration", xLabel: "arm", yLabel: "MB",
                    categories: Arm.allCases.map(\.rawValue),
                    series: [BarChart.Bars(name: "peak activations", values: peaks.map { Double($0 ?? 0) / 1e6 })])),
        ]
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: [table], figures: figures, notes: notes,
            isPartial: partial)
    }

    /// The largest tape bytes a training-mode forward of one copied block (the first block of
    /// modules 2-4) holds, on that block's input for the batch `x`: replicas run the forwards, so
    /// the network's running statistics stay as they are.
    static func largestBlockActivations(_ model: LocalLearningNetwork, _ x: Tensor) throws -> Int {
        var scratch = PhiloxGenerator(seed: 0)
        let blocks = model.stages.dropFirst().map { ($0 as! Sequential).layers[0] as! ResidualBlock }
        let replicas = try blocks.map { block in
            try block.cloned {
                ResidualBlock(block.inChannels, block.outChannels, stride: block.stride, using: &scratch)
            }
        }
        model.eval()
        defer { model.train() }
        var input = withoutGradients { model.stages[0](x) }
        var largest = 0
        for (j, replica) in replicas.enumerated() {
            largest = Swift.max(largest, TapeMemory.measuring { replica(input) }.peakBytes)
            input = withoutGradients { model.stages[j + 1](input) }
        }
        return largest
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
}
