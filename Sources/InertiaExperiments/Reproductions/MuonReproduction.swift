import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor

/// `shared/papers/muon.md`, section 5 (Jordan et al., 2024): orthogonalised momentum reaches the
/// noise floor of an ill-conditioned matrix regression with Newton–Schulz as with the exact polar
/// factor, and trains the hidden layers of an MLP at least about as well as AdamW.
public struct MuonReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5", "max over lr of |NS5 / exact − 1| (final loss)", .atMost, 0.2),
        SpecCheck("spec 5", "lr 0.3: final loss, exact polar and NS5", .atMost, 1e-3),
        SpecCheck("spec 5 (auon.md 5.2)", "best Muon − AdamW (test accuracy)", .atLeast, -0.005),
    ]

    public init() {}

    public let slug = "muon"
    public let paper = "Jordan et al., \"Muon: An optimizer for hidden layers in neural networks\", 2024"
    public let claim = """
        Five quintic Newton-Schulz steps are as good as the exact polar factor (final loss within 20 % at every lr, both below \
        1e-3 at lr 0.3 on matrix regression), and Muon on the hidden matrices of a Fashion-MNIST MLP is within 0.5 pp of AdamW.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1, 2] }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        var checks: [Check] = [], tables: [Table] = [], notes: [String] = [], figures: [Figure] = []
        var partial = false
        let rates = [0.1, 0.3, 1.0]
        var exact: [Double] = [], newtonSchulz: [Double] = []
        for lr in rates {
            if shouldStop() {
                partial = true
                break
            }
            progress("matrix regression, lr \(lr)")
            var e: [Double] = [], n: [Double] = []
            for seed in seeds {
                let (x, y) = FISMOReproduction.regression(condition: 1e2, seed: seed)
                e.append(FISMOReproduction.regressionRun(try Muon(learningRate: lr, exactPolar: true), x: x, y: y))
                n.append(FISMOReproduction.regressionRun(try Muon(learningRate: lr), x: x, y: y))
            }
            exact.append(Comparison.median(e))
            newtonSchulz.append(Comparison.median(n))
        }
        tables.append(
            Table(
                title:
                    "Matrix regression 16x32, condition 1e2, 300 full-batch steps, cosine lr to 0: median final loss over \(seeds.count) seed(s) (spec's float64: SVD 7.9e-4 / 7.4e-4 / 7.4e-4, NS5 8.5e-4 / 7.4e-4 / 7.4e-4)",
                header: ["lr", "Muon, exact polar", "Muon, NS5", "NS5 / exact"],
                rows: zip(rates, zip(exact, newtonSchulz)).map { lr, pair in
                    [
                        String(format: "%g", lr), String(format: "%.2e", pair.0), String(format: "%.2e", pair.1),
                        String(format: "%.3f", pair.1 / pair.0),
                    ]
                }))
        figures.append(
            .chart(
                Plot(
                    title: "Matrix regression: final loss against lr (median over seeds)", xLabel: "learning rate",
                    yLabel: "final loss",
                    series: [
                        Series(name: "Muon, exact polar", x: Array(rates.prefix(exact.count)), y: exact),
                        Series(name: "Muon, NS5", x: Array(rates.prefix(newtonSchulz.count)), y: newtonSchulz),
                    ], logY: true, logX: true)))
        let complete = exact.count == rates.count
        let worst = zip(newtonSchulz, exact).map { Swift.abs($0 / $1 - 1) }.max()
        checks.append(
            Check(
                name: "max over lr of |NS5 / exact − 1| (final loss)", measured: complete ? worst : nil,
                relation: .atMost,
                threshold: 0.2, source: "spec 5"))
        checks.append(
            Check(
                name: "exact polar, lr 0.3: final loss", measured: complete ? exact[1] : nil, relation: .atMost,
                threshold: 1e-3,
                source: "spec 5"))
        checks.append(
            Check(
                name: "NS5, lr 0.3: final loss", measured: complete ? newtonSchulz[1] : nil, relation: .atMost,
                threshold: 1e-3,
                source: "spec 5"))

        let data = FashionMNIST.forReproduction(unmeasured: "the MLP check is inconclusive", notes: &notes)
        if let data, !partial {
            let epochs = budget == .quick ? 1 : 5
            let grid = budget == .quick ? [0.02] : [0.01, 0.02, 0.05]
            let sweep = try HiddenMatrixStudy.sweep(
                [("Muon", grid, { try Muon(learningRate: $0) })], baseline: true, data: data, seeds: seeds,
                epochs: epochs, shouldStop: shouldStop, progress: progress)
            partial = sweep.partial
            tables.append(HiddenMatrixStudy.table(sweep, epochs: epochs, seeds: seeds.count))
            figures += HiddenMatrixStudy.figures(sweep)
            checks.append(
                Check(
                    name: "best Muon − AdamW (test accuracy)",
                    measured: partial ? nil : sweep.best["Muon"].map { $0 - Comparison.median(sweep.adamW) },
                    relation: .atLeast, threshold: -0.005, source: "spec 5 (auon.md 5.2)"))
            if budget == .quick {
                notes.append(
                    "Quick budget: Fashion-MNIST for 1 epoch at lr 0.02 only; the spec's grid is 0.01, 0.02, 0.05 with 5 epochs and 3 seeds (--budget full)."
                )
            }
        }
        notes.append(
            "At lr 0.1 the outcome depends on the data draw: 300 cosine steps of total spectral length 15 barely cover W*'s largest singular value (about 9.5), and NS5's shrunken small singular values lose the race on some draws. On this engine's seed-0 data a float64 numpy Muon gives the same NS5 loss (1.85e-3 vs SVD 7.97e-4), so the gap is the method on these draws, not Float32 or the kernels."
        )
        notes.append(
            "Muon: Nesterov, β = 0.95, shape factor sqrt(max(1, rows/cols)); the exact polar factor comes from a Float64 eigendecomposition (Matrix64.polarFactor). AdamW lr 1e-3 without decay on the classifier and biases."
        )
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: figures, notes: notes,
            isPartial: partial)
    }
}
