import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor

/// `shared/papers/auon.md`, section 5 (Maity, 2025): a Frobenius-normalised, cosh-braked momentum
/// step trains the hidden matrices of an MLP nearly as well as AdamW at a fraction of Muon's cost,
/// and one Newton–Schulz step (Hybrid-AuON) closes most of the gap to Muon.
public struct AuONReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 6.3", "brake: max |r − closed form|", .atMost, 1e-5),
        SpecCheck("spec 5.4", "step cost AuON / Muon (256x256)", .atMost, 0.5),
        SpecCheck("spec 5.1", "runs with a NaN or infinite loss; epoch-average loss increases", .atMost, 0),
        SpecCheck("spec 5.2", "best Muon − AdamW (test accuracy)", .atLeast, -0.005),
        SpecCheck("spec 5.3", "best AuON − AdamW (test accuracy)", .atLeast, -0.03),
        SpecCheck("spec 5.3", "best Hybrid-AuON − best AuON (test accuracy)", .atLeast, -0.005),
    ]

    public init() {}

    public let slug = "auon"
    public let paper = "Maity, \"AuON: A Linear-time Alternative to Semi-Orthogonal Momentum Updates\", 2025"
    public let claim = """
        On a Fashion-MNIST MLP, AuON (best lr) is within 3 pp of AdamW and Hybrid-AuON within 0.5 pp of AuON, with no NaN and \
        decreasing epoch losses; an AuON step on a 256x256 weight costs at most half a Muon step; the brake has its closed forms.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1, 2] }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        var checks: [Check] = [], tables: [Table] = [], notes: [String] = [], figures: [Figure] = []
        var partial = false

        // 6.3: the brake's closed forms, 4x6 and 256x256.
        var brakeRows: [[String]] = [], worstBrake = 0.0
        for n in [24, 65_536] {
            let side = n == 24 ? (4, 6) : (256, 256)
            let uniform = Tensor(shape: [side.0, side.1], scalars: (0..<n).map { $0 % 3 == 0 ? -1 : 1 })
            var oneHot = [Float](repeating: 0, count: n)
            oneHot[n / 2] = 1
            let expectedUniform = cosh(1 / Double(n).squareRoot())
            let expectedOneHot = ((cosh(1.0) * cosh(1.0) + Double(n) - 1) / Double(n)).squareRoot()
            let measuredUniform = AuON.brake(of: uniform),
                measuredOneHot = AuON.brake(of: Tensor(shape: [side.0, side.1], scalars: oneHot))
            worstBrake = Swift.max(
                worstBrake, Swift.abs(measuredUniform - expectedUniform), Swift.abs(measuredOneHot - expectedOneHot))
            brakeRows.append([
                "\(side.0)x\(side.1)", String(format: "%.7f", measuredUniform), String(format: "%.7f", expectedUniform),
                String(format: "%.7f", measuredOneHot), String(format: "%.7f", expectedOneHot),
            ])
        }
        tables.append(
            Table(
                title: "The cosh-RMS brake r (γ = 1) against its closed forms (spec 6.3)",
                header: ["shape", "uniform r", "cosh(1/√N)", "one-hot r", "sqrt((cosh²1 + N − 1)/N)"], rows: brakeRows))
        checks.append(
            Check(
                name: "brake: max |r − closed form| (uniform and one-hot, 4x6 and 256x256)", measured: worstBrake,
                relation: .atMost,
                threshold: 1e-5, source: "spec 6.3"))

        // 5.4: optimizer-step cost on one 256x256 weight.
        let repetitions = budget == .quick ? 100 : 1000
        progress("step cost, \(repetitions) steps each")
        let auonStep = HiddenMatrixStudy.stepSeconds(try AuON(), repetitions: repetitions)
        let muonStep = HiddenMatrixStudy.stepSeconds(try Muon(learningRate: 0.02), repetitions: repetitions)
        let hybridStep = HiddenMatrixStudy.stepSeconds(try AuON(hybrid: true), repetitions: repetitions)
        let adamWStep = HiddenMatrixStudy.stepSeconds(try AdamW(learningRate: 1e-3), repetitions: repetitions)
        tables.append(
            Table(
                title:
                    "Optimizer step on one 256x256 weight, best of \(repetitions) (microseconds, \(Parallel.threadCount) thread(s))",
                header: ["AdamW", "AuON", "Hybrid-AuON (1 NS step)", "Muon (5 NS steps)"],
                rows: [[adamWStep, auonStep, hybridStep, muonStep].map { String(format: "%.1f", $0 * 1e6) }]))
        figures.append(
            .bars(
                BarChart(
                    title: "Optimizer step on one 256x256 weight (best of \(repetitions))", xLabel: "optimizer",
                    yLabel: "microseconds", categories: ["AdamW", "AuON", "Hybrid-AuON", "Muon"],
                    series: [
                        BarChart.Bars(
                            name: "step", values: [adamWStep, auonStep, hybridStep, muonStep].map { $0 * 1e6 })
                    ])))
        checks.append(
            Check(
                name: "step cost AuON / Muon (256x256)", measured: auonStep / muonStep, relation: .atMost,
                threshold: 0.5,
                source: "spec 5.4"))

        let data = FashionMNIST.forReproduction(unmeasured: "the MLP checks are inconclusive", notes: &notes)
        if let data {
            let epochs = budget == .quick ? 1 : 5
            let auonGrid = budget == .quick ? [0.24] : [0.1, 0.24, 0.5]
            let muonGrid = budget == .quick ? [0.02] : [0.01, 0.02, 0.05]
            let sweep = try HiddenMatrixStudy.sweep(
                [
                    ("Muon", muonGrid, { try Muon(learningRate: $0) }),
                    ("AuON", auonGrid, { try AuON(learningRate: $0) }),
                    ("Hybrid-AuON", auonGrid, { try AuON(learningRate: $0, hybrid: true) }),
                ], baseline: true, data: data, seeds: seeds, epochs: epochs, shouldStop: shouldStop, progress: progress)
            partial = partial || sweep.partial
            let (best, adamW, runs) = (sweep.best, sweep.adamW, sweep.runs)
            tables.append(HiddenMatrixStudy.table(sweep, epochs: epochs, seeds: seeds.count))
            figures += HiddenMatrixStudy.figures(sweep)
            let complete = !partial
            checks.append(
                Check(
                    name: "runs with a NaN or infinite loss (of \(runs): AdamW, Muon, AuON and Hybrid-AuON)",
                    measured: complete ? Double(sweep.nonFiniteRuns) : nil,
                    relation: .atMost,
                    threshold: 0, source: "spec 5.1"))
            checks.append(
                Check(
                    name: "epoch-average loss increases (all \(runs) runs)",
                    measured: complete && epochs > 1 ? Double(sweep.lossIncreases) : nil,
                    relation: .atMost, threshold: 0, source: "spec 5.1",
                    note: epochs > 1 ? nil : "one epoch: nothing to compare"))
            checks.append(
                Check(
                    name: "best Muon − AdamW (test accuracy)",
                    measured: complete ? best["Muon"].map { $0 - Comparison.median(adamW) } : nil, relation: .atLeast,
                    threshold: -0.005, source: "spec 5.2"))
            let auonGap = complete ? best["AuON"].map { $0 - Comparison.median(adamW) } : nil
            checks.append(
                Check(
                    name: "best AuON − AdamW (test accuracy)", measured: auonGap, relation: .atLeast, threshold: -0.03,
                    source: "spec 5.3"))
            let hybridGap = complete ? best["Hybrid-AuON"].flatMap { h in best["AuON"].map { h - $0 } } : nil
            checks.append(
                Check(
                    name: "best Hybrid-AuON − best AuON (test accuracy)", measured: hybridGap, relation: .atLeast,
                    threshold: -0.005,
                    source: "spec 5.3"))
            if budget == .quick {
                notes.append(
                    "Quick budget: Fashion-MNIST for 1 epoch at lr 0.24 (Muon 0.02) only, and 100 timed steps; the spec asks 5 epochs, lr 0.1 / 0.24 / 0.5, 3 seeds and 1000 steps (--budget full)."
                )
            }
        }
        notes.append(
            "AuON and Hybrid-AuON in the paper form (paper2025, the default) on the two hidden matrices; AdamW lr 1e-3 without decay on the classifier and biases. `inertia reproduce muon` runs Muon on the same protocol."
        )
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: figures, notes: notes,
            isPartial: partial)
    }
}
