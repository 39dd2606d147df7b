import InertiaNN
import InertiaTensor

/// Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023) as
/// `lucidrains/lion-pytorch` and `optax.lion` compute it (`shared/papers/lion-kappa.md`, 2.1):
///
///     c ← β₁m + (1 − β₁)g          (the old m)
///     θ ← θ(1 − ηλ) − η·sign(c)    (sign(0) = 0)
///     m ← β₂m + (1 − β₂)g
///
/// One fused pass (20 bytes per parameter). The `Lion-K` family is `LionK`.
public final class Lion: FusedOptimizer {
    public let beta1: Double, beta2: Double

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 1e-4
        public var beta1 = 0.9
        public var beta2 = 0.99
        public var weightDecay = 0.0
        public var maximize = false

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("beta1", \.beta1, "interpolation of the update direction"),
                .number("beta2", \.beta2, "decay of the momentum"),
                .number("weight_decay", \.weightDecay, "weight decay"),
                .flag("maximize", \.maximize, "ascend instead of descend"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, weightDecay: c.weightDecay,
            maximize: c.maximize)
    }

    public init(
        learningRate: Double = Configuration().learningRate, beta1: Double = Configuration().beta1,
        beta2: Double = Configuration().beta2, weightDecay: Double = Configuration().weightDecay,
        maximize: Bool = Configuration().maximize
    ) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        try super.init(name: "lion", learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check(
            (0...1).contains(beta1) && (0...1).contains(beta2), "betas must lie in [0, 1], got (\(beta1), \(beta2))")
        try check(
            learningRate * weightDecay <= 1,
            "lr * weight decay must be <= 1 (the decay factor 1 - lr*wd would flip signs)")
    }

    public static let registryEntry = OptimizerEntry(
        name: "lion", summary: "Lion: sign of an interpolated momentum, decoupled decay (lion-pytorch, optax.lion)",
        paper: "Chen et al., NeurIPS 2023 (arXiv 2302.06675)"
    ) { try Lion($0) }

    public override var slotNames: [String] { ["exp_avg"] }
    public override var otherHyperparameters: [String: Double] { ["beta1": beta1, "beta2": beta2] }

    public override func update(_ u: inout ParameterUpdate) {
        let scalars = inertia_lion_scalars(
            learning_rate: Float(u.learningRate), decay: Float(1 - u.learningRate * u.weightDecay),
            beta1: Float(beta1), one_minus_beta1: Float(1 - beta1), beta2: Float(beta2),
            one_minus_beta2: Float(1 - beta2),
            sign: u.sign)
        let p = u.parameter, g = u.gradient, m = u.slots[0]
        let step = Kernels.table.pointee.lion_step!
        withUnsafePointer(to: scalars) { h in
            forEachChunk(u.count) { range in
                let i = range.lowerBound
                step(p + i, g + i, m + i, range.count, h)
            }
        }
    }
}
