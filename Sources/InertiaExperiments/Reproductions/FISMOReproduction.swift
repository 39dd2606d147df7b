import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor

/// `shared/papers/fismo.md`, section 5.1 (Xu, Yan & Zhang, arXiv 2601.21750; the spec is a
/// provisional transcription): on an ill-conditioned matrix regression, FISMO's Fisher-whitened
/// orthogonal step does at least about as well as Muon's.
public struct FISMOReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5.1", "each condition number: FISMO best / Muon best (final loss)", .atMost, 1.5),
        SpecCheck("spec 5.2", "Fashion-MNIST: FISMO − Muon median test accuracy at the best lr", .atLeast, -0.01),
        SpecCheck("spec 5.2", "Fashion-MNIST: runs with a NaN loss", .atMost, 0),
    ]

    public init() {}

    public let slug = "fismo"
    public let paper =
        "Xu, Yan & Zhang, \"FISMO: Fisher-Structured Momentum-Orthogonalized Optimizer\", arXiv 2601.21750 (2026)"
    public let claim = """
        Measuring Muon's trust region in a Kronecker-factored Fisher geometry trains at least as well as Muon: on matrix \
        regression with condition 1e2 and 1e4, FISMO's best final loss is within 1.5x of Muon's best; on the hidden \
        matrices of a Fashion-MNIST MLP its best median test accuracy is within 1 point of Muon's, with no NaN.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1, 2] }

    /// `X = R·diag(s)·Z` (R random orthogonal, s log-spaced from 1 to cond^{-1/2}), `Y = W*X + 0.01E`.
    static func regression(condition: Double, seed: UInt64) -> (x: Tensor, y: Tensor) {
        var rng = PhiloxGenerator(seed: 7_000 + seed)
        let rotation = Initializer.orthogonal(gain: 1).make([32, 32], using: &rng)
        let scales = Tensor(
            shape: [32, 1], scalars: (0..<32).map { Float(Foundation.pow(condition, -0.5 * Double($0) / 31)) })
        let x = Tensor.matmul(rotation, scales * Tensor.normal([32, 512], using: &rng))
        let target = Tensor.normal([16, 32], using: &rng)
        let y = Tensor.matmul(target, x) + Tensor.normal([16, 512], using: &rng) * 0.01
        return (x, y)
    }

    /// 300 full-batch steps of `0.5‖WX − Y‖²/N` from `W = 0` with a cosine schedule to 0; the final loss.
    static func regressionRun(_ optimizer: FusedOptimizer, x: Tensor, y: Tensor, steps: Int = 300) -> Double {
        optimizer.schedule = .cosine(steps: steps, endFactor: 0, periodic: false)
        let w = Parameter(Tensor.zeros([16, 32]))
        let n = Float(x.shape[1])
        func residual() -> Tensor { Tensor.matmul(w.value, x) - y }
        for _ in 0..<steps {
            w.value.grad = withoutGradients { Tensor.matmul(residual(), x, transposingB: true) / n }
            optimizer.step([("w", w)])
        }
        return withoutGradients { Double(residual().squared().sum().item) / (2 * Double(n)) }
    }

    /// Spec 5.2: the hidden matrices of a Fashion-MNIST MLP under FISMO or Muon (AdamW on the
    /// rest), the lr grid {0.01, 0.03, 0.1} (quick: 0.03, one epoch), and each one's step cost.
    static func fashionMNIST(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws -> (checks: [Check], tables: [Table], figures: [Figure], notes: [String], partial: Bool) {
        var notes: [String] = [], tables: [Table] = []
        guard let data = FashionMNIST.forReproduction(unmeasured: "section 5.2 is not measured", notes: &notes) else {
            return ([], [], [], notes, false)
        }
        let epochs = budget == .quick ? 1 : 5
        let grid = budget == .quick ? [0.03] : [0.01, 0.03, 0.1]
        let sweep = try HiddenMatrixStudy.sweep(
            [("FISMO", grid, { try FISMO(learningRate: $0) }), ("Muon", grid, { try Muon(learningRate: $0) })],
            baseline: false, data: data, seeds: seeds, epochs: epochs, shouldStop: shouldStop, progress: progress)
        if sweep.partial { return ([], tables, [], notes, true) }
        tables.append(
            HiddenMatrixStudy.table(
                sweep, epochs: epochs, seeds: seeds.count,
                title: "5.2: the hidden matrices under FISMO or Muon, AdamW 1e-3 on the rest. "))
        // The step cost on the two hidden weights, FISMO's eigendecompositions included at its
        // cadence (every step up to 512 on a side, every 10 above): the mean over 20 steps.
        var costRows: [[String]] = []
        for shape in [[256, 784], [256, 256]] {
            let fismo = HiddenMatrixStudy.meanStepSeconds(try FISMO(learningRate: 0.03), steps: 20, shape: shape)
            let muon = HiddenMatrixStudy.meanStepSeconds(try Muon(learningRate: 0.03), steps: 20, shape: shape)
            costRows.append([
                "\(shape[0])x\(shape[1])", String(format: "%.2f", 1e3 * fismo), String(format: "%.2f", 1e3 * muon),
                String(format: "%.1f", fismo / muon),
            ])
        }
        tables.append(
            Table(
                title: "5.2: optimizer time per step on each hidden weight (mean over 20 steps)",
                header: ["weight", "FISMO ms", "Muon ms", "FISMO / Muon"], rows: costRows))
        notes.append(
            "5.2: FISMO with its defaults (β 0.95, γ 0.95, μ 1e-3, Newton-Schulz polar, eigendecompositions in Float64: every step for the 256x256 weight, every 10 steps for the 256x784 one, whose right factor is 784x784); Muon with Nesterov and Newton-Schulz. A run whose loss turns non-finite counts accuracy 0."
        )
        let checks = [
            Check(
                name: "Fashion-MNIST: FISMO − Muon median test accuracy at the best lr",
                measured: sweep.best["FISMO"].flatMap { f in sweep.best["Muon"].map { f - $0 } }, relation: .atLeast,
                threshold: -0.01, source: "spec 5.2"),
            Check(
                name: "Fashion-MNIST: runs with a NaN loss (of \(sweep.runs))", measured: Double(sweep.nonFiniteRuns),
                relation: .atMost,
                threshold: 0, source: "spec 5.2"),
        ]
        return (checks, tables, HiddenMatrixStudy.figures(sweep, title: "5.2: "), notes, false)
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        var checks: [Check] = [], rows: [[String]] = [], notes: [String] = []
        let rates = [0.1, 0.3, 1.0]
        let methods: [(String, (Double) throws -> FusedOptimizer)] = [
            ("FISMO", { try FISMO(learningRate: $0, momentum: 0.95, factorDecay: 0.95, damping: 1e-3, polar: .exact) }),
            ("Muon", { try Muon(learningRate: $0, exactPolar: true) }),
            ("AdamW", { try AdamW(learningRate: $0, weightDecay: 0) }),
        ]
        var partial = false, panels: [Figure] = []
        for condition in [1e2, 1e4] {
            var best: [String: Double] = [:], curves: [Series] = []
            for (name, make) in methods {
                var cells: [String] = [], finals: [[Double]] = []
                for lr in rates {
                    if shouldStop() {
                        partial = true
                        break
                    }
                    progress("cond \(condition), \(name), lr \(lr)")
                    let losses = try seeds.map { seed -> Double in
                        let (x, y) = FISMOReproduction.regression(condition: condition, seed: seed)
                        return FISMOReproduction.regressionRun(try make(lr), x: x, y: y)
                    }
                    let median = Comparison.median(losses)
                    best[name] = Swift.min(best[name] ?? .infinity, median)
                    cells.append(String(format: "%.2e", median))
                    finals.append(losses)
                }
                rows.append([String(format: "%.0e", condition), name] + cells)
                curves.append(Series(name: name, x: Array(rates.prefix(finals.count)), acrossRuns: finals))
            }
            panels.append(
                .chart(
                    Plot(
                        title: String(format: "condition %.0e", condition), xLabel: "learning rate",
                        yLabel: "final loss", series: curves, logY: true, logX: true)))
            let ratio = partial ? nil : best["FISMO"].flatMap { f in best["Muon"].map { f / $0 } }
            checks.append(
                Check(
                    name: String(format: "cond %.0e: FISMO best / Muon best (final loss)", condition), measured: ratio,
                    relation: .atMost, threshold: 1.5, source: "spec 5.1"))
            if let ratio {
                notes.append(
                    String(
                        format: "cond %.0e: FISMO's best final loss is %.2fx Muon's (%@).", condition, ratio,
                        ratio < 1 ? "FISMO better" : "Muon better or equal"))
            }
        }
        var tables = [
            Table(
                title:
                    "Matrix regression 16x32, N = 512, 300 full-batch steps, cosine lr to 0: median final loss over \(seeds.count) seed(s) (noise floor ≈ 7.4e-4)",
                header: ["condition", "optimizer"] + rates.map { "lr \($0)" }, rows: rows)
        ]
        var figures: [Figure] = [
            .row(
                title: "5.1: matrix regression, final loss against lr (median and range over seeds)", panels: panels)
        ]
        notes.append(
            "FISMO as transcribed (2.2) with the exact polar factor, β = 0.95, γ = 0.95, μ = 1e-3; Muon with Nesterov and the exact polar factor (Float64 eigendecomposition, as the spec writer's SVD). AdamW without weight decay."
        )
        notes.append(
            "The spec is provisional (no official code, paper body not retrieved): the verdict is about the transcription."
        )
        if !partial {
            let network = try Self.fashionMNIST(
                budget: budget, seeds: seeds, shouldStop: shouldStop, progress: progress)
            checks += network.checks
            tables += network.tables
            figures += network.figures
            notes += network.notes
            partial = network.partial
        }
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: figures, notes: notes,
            isPartial: partial)
    }
}
