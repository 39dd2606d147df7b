import InertiaNN
import InertiaTensor

/// Stochastic gradient descent with heavy-ball momentum, dampening, Nesterov momentum and coupled
/// weight decay, exactly as `torch.optim.SGD` (Polyak 1964; Sutskever et al., ICML 2013, in
/// PyTorch's form; `shared/papers/classic-momentum.md`, section 2.1):
///
///     g ← ±grad + wd·θ
///     b ← g on the first step, else μ·b + (1 − τ)·g
///     d ← g + μ·b (Nesterov) or b
///     θ ← θ − lr·d
public final class SGD: FusedOptimizer {
    public let momentum: Double
    public let dampening: Double
    public let nesterov: Bool

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 0.01
        public var momentum = 0.0
        public var dampening = 0.0
        public var weightDecay = 0.0
        public var nesterov = false
        public var maximize = false

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("momentum", \.momentum, "heavy-ball momentum"),
                .number("dampening", \.dampening, "dampening of the momentum"),
                .number("weight_decay", \.weightDecay, "coupled (L2) weight decay"),
                .flag("nesterov", \.nesterov, "Nesterov momentum"),
                .flag("maximize", \.maximize, "ascend instead of descend"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, momentum: c.momentum, dampening: c.dampening, weightDecay: c.weightDecay,
            nesterov: c.nesterov, maximize: c.maximize)
    }

    public init(
        learningRate: Double, momentum: Double = Configuration().momentum,
        dampening: Double = Configuration().dampening,
        weightDecay: Double = Configuration().weightDecay, nesterov: Bool = Configuration().nesterov,
        maximize: Bool = Configuration().maximize
    ) throws {
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        try super.init(name: "sgd", learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check(momentum >= 0, "momentum must be >= 0, got \(momentum)")
        try check(
            !nesterov || (momentum > 0 && dampening == 0),
            "Nesterov momentum requires momentum > 0 and zero dampening (got momentum \(momentum), dampening \(dampening))"
        )
    }

    public static let registryEntry = OptimizerEntry(
        name: "sgd",
        summary: "SGD with heavy-ball or Nesterov momentum, dampening, coupled weight decay (torch.optim.SGD)",
        paper: "Polyak 1964; Sutskever et al., ICML 2013"
    ) { try SGD($0) }

    public override var slotNames: [String] { momentum == 0 ? [] : ["momentum_buffer"] }
    public override var otherHyperparameters: [String: Double] {
        ["momentum": momentum, "dampening": dampening, "nesterov": nesterov ? 1 : 0]
    }

    public override func update(_ u: inout ParameterUpdate) {
        let scalars = inertia_sgd_scalars(
            learning_rate: Float(u.learningRate), weight_decay: Float(u.weightDecay), sign: u.sign,
            momentum: Float(momentum), keep: Float(1 - dampening), first_step: u.step == 1 ? 1 : 0,
            nesterov: nesterov ? 1 : 0)
        let p = u.parameter, g = u.gradient
        let b: UnsafeMutablePointer<Float>? = momentum == 0 ? nil : u.slots[0]
        let step = Kernels.table.pointee.sgd_step!
        withUnsafePointer(to: scalars) { h in
            forEachChunk(u.count) { range in
                let i = range.lowerBound
                step(p + i, g + i, b.map { $0 + i }, range.count, h)
            }
        }
    }
}
