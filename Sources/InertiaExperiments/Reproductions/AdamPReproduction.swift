import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor
import InertiaTraining

/// `shared/papers/adamp.md`, section 5 (Heo et al., ICLR 2021): removing the radial component of
/// the update on scale-invariant weights keeps their norm from growing (and the effective step
/// from shrinking), without costing accuracy.
public struct AdamPReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5.1", "each optimizer: |final ‖w‖ − the spec's|", .atMost, 1e-3),
        SpecCheck("spec 5.1", "each optimizer: first step with cos > 0.99, after the spec's", .atMost, 0),
        SpecCheck("spec 5.2 (a)", "each hidden weight: norm growth, projected / baseline", .atMost, 0.8),
        SpecCheck("spec 5.2 (b)", "projection rate on the hidden weights", .atLeast, 0.9),
        SpecCheck("spec 5.2 (b)", "projection rate on the classifier", .atMost, 0.05),
        SpecCheck("spec 5.2 (c)", "test accuracy, projected − baseline", .atLeast, -0.005),
    ]

    public init() {}

    public let slug = "adamp"
    public let paper =
        "Heo et al., \"AdamP: Slowing Down the Slowdown for Momentum Optimizers on Scale-invariant Weights\", ICLR 2021"
    public let claim = """
        On scale-invariant weights SGDP/AdamP keep the weight norm much smaller than SGD/AdamW (the radial part of momentum \
        is removed), the projection fires on the normalised layers and not on the classifier, and accuracy does not suffer.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1, 2] }

    /// Spec 5.1: minimise −cos(w, (1, 0)) from 135°, lr 0.1, 200 steps, no decay; returns the final
    /// norm, the first step with cos > 0.99 and the norm curve.
    static func cosineToy(_ optimizer: Optimizer) -> (norm: Double, firstStep: Int?, norms: [Double]) {
        let w = Parameter(
            Tensor(shape: [1, 2], scalars: [Float(cos(0.75 * Double.pi)), Float(sin(0.75 * Double.pi))]))
        let target = Tensor(shape: [1, 2], scalars: [1, 0])
        var first: Int?
        var norms: [Double] = []
        for step in 1...200 {
            w.zeroGrad()
            let cosine = (w.value * target).sum() / w.value.norm()
            (-cosine).backward()
            optimizer.step([("w", w)])
            let v = w.value.scalars.map(Double.init)
            let norm = (v[0] * v[0] + v[1] * v[1]).squareRoot()
            norms.append(norm)
            if first == nil && v[0] / norm > 0.99 { first = step }
        }
        return (norms.last!, first, norms)
    }

    /// The runs of `adamp/cosine_toy.json`: label, optimizer, expected final norm and first step
    /// with cos > 0.99. A row's name says the optimizer (`sgd` / `sgdp`, `keep_buffer`: the stored
    /// buffer is not projected) and the momentum (`no_momentum` or `momentum_<μ>`).
    static func cosineToyRuns() throws -> [(String, () throws -> Optimizer, Double, Int)] {
        let results = try FixtureReader("adamp", "cosine_toy.json").child("results")
        return try results.keys.map { key in
            let row = try results.child(key)
            let parts = key.split(separator: "_").map(String.init)
            let momentum = parts.last == "momentum" ? 0 : Double(parts.last ?? "")
            guard let momentum, let kind = parts.first, kind == "sgd" || kind == "sgdp" else {
                throw SpecFixture.Problem(
                    file: "adamp/cosine_toy.json", detail: "cannot read the optimizer of row '\(key)'")
            }
            let keepsBuffer = key.contains("keep_buffer")
            let label =
                "\(kind.uppercased()), μ = \(parts.last == "momentum" ? "0" : parts.last!)\(keepsBuffer ? ", buffer kept" : "")"
            let make: () throws -> Optimizer = {
                guard kind == "sgdp" else { return try SGD(learningRate: 0.1, momentum: momentum) }
                let o = try SGDP(learningRate: 0.1, momentum: momentum)
                o.projectsBuffer = !keepsBuffer
                return o
            }
            return (label, make, try row.number("final_norm"), Int(try row.number("first_step_cos_gt_0.99")))
        }
    }

    /// The network of 5.2: 784-256-256-10, hidden `Linear` without bias, each followed by BatchNorm
    /// and ReLU (so the hidden weights are scale-invariant per output neuron).
    static func network(using rng: inout PhiloxGenerator) -> Sequential {
        Sequential(
            Linear(784, 256, bias: false, using: &rng), BatchNorm(256), Activation(.relu),
            Linear(256, 256, bias: false, using: &rng), BatchNorm(256), Activation(.relu), Linear(256, 10, using: &rng))
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        var checks: [Check] = [], tables: [Table] = [], plots: [Plot] = [], notes: [String] = []
        progress("cosine toy (5.1)")
        // The spec writer's float64 runs (spec 5.1, `adamp/cosine_toy.json`), one per row of the
        // fixture, the optimizer and momentum read from the row's name; Float32 acceptance 1e-3.
        let toy = try AdamPReproduction.cosineToyRuns()
        var toyRows: [[String]] = []
        var toySeries: [Series] = []
        for (label, make, norm, step) in toy {
            let r = AdamPReproduction.cosineToy(try make())
            checks.append(
                Check(
                    name: "\(label): |final ‖w‖ − \(String(format: "%.4f", norm))|", measured: Swift.abs(r.norm - norm),
                    relation: .atMost, threshold: 1e-3, source: "spec 5.1"))
            checks.append(
                Check(
                    name: "\(label): first step with cos > 0.99 (spec \(step))",
                    measured: r.firstStep.map { Double(Swift.abs($0 - step)) } ?? .infinity,
                    relation: .atMost, threshold: 0, source: "spec 5.1",
                    note: r.firstStep == nil ? "cos never exceeds 0.99" : nil, infinityIsAResult: true))
            toyRows.append([
                label, String(format: "%.4f", r.norm), String(format: "%.4f", norm),
                r.firstStep.map(String.init) ?? "never", "\(step)",
            ])
            toySeries.append(Series(name: label, x: (1...200).map(Double.init), y: r.norms))
        }
        tables.append(
            Table(
                title: "Cosine toy, 200 steps (measured vs the spec's figures)",
                header: ["run", "final ‖w‖", "spec", "first step cos > 0.99", "spec"], rows: toyRows))
        plots.append(Plot(title: "Cosine toy: weight norm", xLabel: "step", yLabel: "‖w‖", series: toySeries))

        let data = FashionMNIST.forReproduction(unmeasured: "the network checks (5.2) are inconclusive", notes: &notes)
        var partial = false
        if let data {
            let subset = data.train.subset(Array(0..<10_000))
            let epochs = budget == .quick ? 2 : 10
            let steps = epochs * ((subset.count + 127) / 128)
            let pairs: [(String, () throws -> FusedOptimizer)] = [
                ("SGD", { try SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true) }),
                ("SGDP", { try SGDP(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true) }),
                ("AdamW", { try AdamW(learningRate: 1e-3, weightDecay: 1e-2) }),
                ("AdamP", { try AdamP(learningRate: 1e-3, weightDecay: 1e-2) }),
            ]
            var normRatio: [String: [Double]] = [:], accuracy: [String: [Double]] = [:]
            var hiddenRate: [String: [Double]] = [:], classifierRate: [String: [Double]] = [:]
            let hidden = ["0.weight", "3.weight"], classifier = "6.weight"
            for seed in seeds where !shouldStop() {
                for (label, make) in pairs where !shouldStop() {
                    progress("network: \(label), seed \(seed)")
                    var rng = PhiloxGenerator(seed: seed)
                    let model = AdamPReproduction.network(using: &rng)
                    let byName = Dictionary(
                        uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
                    let initialNorms = hidden.map { Double(byName[$0]!.value.norm().item) }
                    let optimizer = try make()
                    optimizer.schedule = .cosine(steps: steps, endFactor: 0, periodic: false)
                    var options = TrainingOptions(epochs: epochs)
                    options.shouldStop = shouldStop
                    let trainer = try Trainer(
                        model: model, optimizer: optimizer, loader: try DataLoader(subset, batchSize: 128, seed: seed),
                        testSet: data.test, options: options)
                    let summary = try trainer.run()
                    if summary.interrupted {
                        partial = true
                        continue
                    }
                    for (weight, initial) in zip(hidden, initialNorms) {
                        normRatio["\(label) \(weight)", default: []].append(
                            Double(byName[weight]!.value.norm().item) / initial)
                    }
                    accuracy[label, default: []].append(trainer.evaluate().accuracy ?? .nan)
                    let stats = (optimizer as? SGDP)?.projections ?? (optimizer as? AdamP)?.projections
                    if let stats {
                        hiddenRate[label, default: []].append(hidden.map { stats[$0]?.rate ?? 0 }.min()!)
                        classifierRate[label, default: []].append(stats[classifier]?.rate ?? 0)
                    }
                }
            }
            let median = { (d: [String: [Double]], k: String) in d[k].map(Comparison.median) }
            for (projected, baseline) in [("SGDP", "SGD"), ("AdamP", "AdamW")] {
                for weight in hidden {
                    let ratio = median(normRatio, "\(projected) \(weight)").flatMap { p in
                        median(normRatio, "\(baseline) \(weight)").map { p / $0 }
                    }
                    checks.append(
                        Check(
                            name: "\(weight) norm growth: \(projected) / \(baseline)", measured: ratio,
                            relation: .atMost,
                            threshold: 0.8, source: "spec 5.2 (a)"))
                }
                checks.append(
                    Check(
                        name: "\(projected): projection rate on the hidden weights (lowest)",
                        measured: median(hiddenRate, projected),
                        relation: .atLeast, threshold: 0.9, source: "spec 5.2 (b)"))
                checks.append(
                    Check(
                        name: "\(projected): projection rate on the classifier",
                        measured: median(classifierRate, projected),
                        relation: .atMost, threshold: 0.05, source: "spec 5.2 (b)"))
                let gap = median(accuracy, projected).flatMap { p in median(accuracy, baseline).map { p - $0 } }
                checks.append(
                    Check(
                        name: "test accuracy: \(projected) − \(baseline)", measured: gap, relation: .atLeast,
                        threshold: -0.005,
                        source: "spec 5.2 (c)"))
            }
            tables.append(
                Table(
                    title: "Fashion-MNIST 10k, 784-256-256-10 with BatchNorm, batch 128, \(epochs) epochs, cosine lr",
                    header: [
                        "optimizer", "seeds", "norm final/initial, 0.weight / 3.weight", "test accuracy",
                        "projection rate hidden / classifier",
                    ],
                    rows: pairs.map { label, _ in
                        [
                            label, "\(accuracy[label]?.count ?? 0)",
                            hidden.map { w in
                                median(normRatio, "\(label) \(w)").map { String(format: "%.3f", $0) } ?? "n/a"
                            }
                            .joined(separator: " / "),
                            median(accuracy, label).map { String(format: "%.4f", $0) } ?? "n/a",
                            median(hiddenRate, label).map { h in
                                String(format: "%.3f / %.3f", h, median(classifierRate, label) ?? 0)
                            } ?? "-",
                        ]
                    }))
            if budget == .quick {
                notes.append(
                    "Quick budget: 2 epochs, 1 seed; the spec's protocol is 10 epochs and 3 seeds (--budget full).")
            }
        }
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: plots.map(Figure.chart),
            notes: notes,
            isPartial: partial)
    }
}
