import Foundation
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
        regression with condition 1e2 and 1e4, FISMO's best final loss is within 1.5x of Muon's best.
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

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        var checks: [Check] = [], rows: [[String]] = [], notes: [String] = []
        let rates = [0.1, 0.3, 1.0]
        let methods: [(String, (Double) throws -> FusedOptimizer)] = [
            ("FISMO", { try FISMO(learningRate: $0, momentum: 0.95, factorDecay: 0.95, damping: 1e-3, polar: .exact) }),
            ("Muon", { try Muon(learningRate: $0) }),
            ("AdamW", { try AdamW(learningRate: $0, weightDecay: 0) }),
        ]
        var partial = false
        for condition in [1e2, 1e4] {
            var best: [String: Double] = [:]
            for (name, make) in methods {
                var cells: [String] = []
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
                }
                rows.append([String(format: "%.0e", condition), name] + cells)
            }
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
        let tables = [
            Table(
                title:
                    "Matrix regression 16x32, N = 512, 300 full-batch steps, cosine lr to 0: median final loss over \(seeds.count) seed(s) (noise floor ≈ 7.4e-4)",
                header: ["condition", "optimizer"] + rates.map { "lr \($0)" }, rows: rows)
        ]
        notes.append(
            "FISMO as transcribed (2.2) with the exact polar factor, β = 0.95, γ = 0.95, μ = 1e-3. Muon is Inertia's Muon (Nesterov, 5 Newton-Schulz steps); the spec writer's analogue used an exact SVD. AdamW without weight decay."
        )
        notes.append(
            "The spec is provisional (no official code, paper body not retrieved): the verdict is about the transcription. Section 5.2 (Fashion-MNIST MLP) is not run here: FISMO's 784x784 right factor costs an eigendecomposition per refresh that makes it several minutes per run."
        )
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, notes: notes, isPartial: partial)
    }
}
