import Foundation
import InertiaNN
import InertiaTensor

/// Muon (K. Jordan et al., "Muon: An optimizer for hidden layers in neural networks", 2024; as
/// `KellerJordan/Muon` and `shared/papers/muon.md` 2.2): EMA momentum, its Nesterov form,
/// orthogonalised by `NewtonSchulz`, scaled by the shape factor, with decoupled decay:
///
///     M ← βM + (1 − β)G ;  U ← (1 − β)G + βM (Nesterov) or M
///     W ← W(1 − lr·wd) − lr · NS₅(U) · scale(rows, cols)
///
/// Matrices only (convolution filters are viewed as `[out, in·kh·kw]`); route biases, gains,
/// embeddings and the classifier to AdamW with `RoutedOptimizer` (spec 2.3).
public final class Muon: FusedOptimizer {
    /// The factor multiplying `NS(U)` (spec 2.4).
    public enum Scale: String, CaseIterable, Sendable {
        /// `sqrt(max(1, rows/cols))` (KellerJordan/Muon, torch.optim.Muon's default).
        case original
        /// `0.2·sqrt(max(rows, cols))` (update RMS ≈ 0.2, AdamW learning rates transfer).
        case matchRMSAdamW = "match-rms-adamw"
        /// `sqrt(rows/cols)`.
        case spectralUnclamped = "spectral-unclamped"

        func factor(rows: Int, columns: Int) -> Double {
            switch self {
            case .original: return Swift.max(1, Double(rows) / Double(columns)).squareRoot()
            case .matchRMSAdamW: return 0.2 * Double(Swift.max(rows, columns)).squareRoot()
            case .spectralUnclamped: return (Double(rows) / Double(columns)).squareRoot()
            }
        }
    }

    public let momentum: Double, nesterov: Bool, steps: Int, scale: Scale
    /// Orthogonalise with the exact polar factor (Float64 eigendecomposition, `Matrix64.polarFactor`)
    /// instead of `steps` Newton–Schulz iterations: the reference Muon approximates, for tests and
    /// small matrices.
    public let exactPolar: Bool

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 0.02
        public var momentum = 0.95
        public var nesterov = true
        public var steps = 5
        public var weightDecay = 0.0
        public var scale = Scale.original
        /// The AdamW for the parameters Muon does not take (registry only).
        public var auxiliary = AuxiliaryAdamW()

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("momentum", \.momentum, "EMA momentum"),
                .flag("nesterov", \.nesterov, "Nesterov form of the momentum"),
                .integer("ns_steps", \.steps, "Newton-Schulz iterations"),
                .number("weight_decay", \.weightDecay, "decoupled weight decay"),
                .choice("scale", \.scale, "factor of the orthogonalised update"),
            ]
                + AuxiliaryAdamW.options(within: \.auxiliary)
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, momentum: c.momentum, nesterov: c.nesterov, steps: c.steps,
            weightDecay: c.weightDecay,
            scale: c.scale)
    }

    public init(
        learningRate: Double, momentum: Double = Configuration().momentum,
        nesterov: Bool = Configuration().nesterov, steps: Int = Configuration().steps,
        weightDecay: Double = Configuration().weightDecay, scale: Scale = Configuration().scale,
        exactPolar: Bool = false
    ) throws {
        self.exactPolar = exactPolar
        self.momentum = momentum
        self.nesterov = nesterov
        self.steps = steps
        self.scale = scale
        try super.init(name: "muon", learningRate: learningRate, weightDecay: weightDecay, maximize: false)
        try check((0..<1).contains(momentum), "momentum must lie in [0, 1), got \(momentum)")
        try check(steps >= 0, "Newton-Schulz steps must be >= 0, got \(steps)")
    }

    public static let registryEntry = OptimizerEntry(
        name: "muon", summary: "Muon: Newton-Schulz-orthogonalised Nesterov momentum for matrices (KellerJordan/Muon)",
        paper: "Jordan et al., 2024 (kellerjordan.github.io/posts/muon)"
    ) { try $0.auxiliary.routing(try Muon($0)) }

    /// The standard split (spec 2.3) in one call: parameters of rank >= 2 that `excluded` does
    /// not name (embeddings, the output head, a CNN's first convolution) go to Muon, everything
    /// else (biases, norm gains, the excluded) to AdamW.
    public static func withAuxiliaryAdamW(
        muon: Muon, adamW: Optimizer,
        excluded: @escaping (String) -> Bool = ParameterGroup.containing(["embed", "head"])
    ) -> RoutedOptimizer {
        RoutedOptimizer.matricesAndRest(matrix: muon, rest: adamW, excluded: excluded)
    }

    public override var minimumRank: Int { 2 }
    public override var slotNames: [String] { ["momentum_buffer"] }
    public override var otherHyperparameters: [String: Double] {
        ["momentum": momentum, "nesterov": nesterov ? 1 : 0, "ns_steps": Double(steps)]
    }

    /// Data-parallel ranks sharing the orthogonalisations (`nil`: this process does them all).
    public var sharing: MatrixWorkSharing?
    /// Matrices this process has orthogonalised itself (with `sharing`, its share only).
    public private(set) var orthogonalizedMatrices = 0
    private var matrixIndex = 0

    public override func prepare(_ parameters: [NamedParameter]) { matrixIndex = 0 }

    public override func update(_ u: inout ParameterUpdate) {
        let n = u.count, p = u.parameter, g = u.gradient, m = u.slots[0]
        let beta = Float(momentum)
        let rows = u.shape[0], columns = n / Swift.max(rows, 1)
        let direction = Tensor(shape: [rows, columns]) { d in
            for i in 0..<n {
                m[i] = beta * m[i] + (1 - beta) * g[i]
                d[i] = nesterov ? (1 - beta) * g[i] + beta * m[i] : m[i]
            }
        }
        let owner = sharing.map { matrixIndex % $0.size }
        matrixIndex += 1
        var orthogonal = direction
        if owner == nil || owner == sharing?.rank {
            orthogonal =
                exactPolar
                ? Matrix64(direction).polarFactor.tensor : NewtonSchulz.orthogonalize(direction, steps: steps)
            orthogonalizedMatrices += 1
        }
        if let sharing, let owner {
            var values = orthogonal.scalars
            sharing.broadcast(&values, owner)
            orthogonal = Tensor(shape: [rows, columns], scalars: values)
        }
        let step = Float(u.learningRate * scale.factor(rows: rows, columns: columns))
        let decay = Float(1 - u.learningRate * u.weightDecay)
        orthogonal.withUnsafeBufferPointer { o in
            for i in 0..<n { p[i] = p[i] * decay - step * o[i] }
        }
    }
}
