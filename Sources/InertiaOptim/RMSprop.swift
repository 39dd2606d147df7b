import InertiaNN
import InertiaTensor

/// RMSprop (Hinton, Lecture 6e of "Neural Networks for Machine Learning", 2012) exactly as
/// `torch.optim.RMSprop`: `v ← αv + (1−α)g²`, optionally centered by the running mean of `g`,
/// `ε` added after the square root, optional momentum on `g / (√v + ε)`, coupled weight decay.
public final class RMSprop: FusedOptimizer {
    public let alpha: Double, epsilon: Double, momentum: Double
    public let centered: Bool

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 1e-2
        public var alpha = 0.99
        public var epsilon = 1e-8
        public var weightDecay = 0.0
        public var momentum = 0.0
        public var centered = false
        public var maximize = false

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("alpha", \.alpha, "decay of the squared-gradient average"),
                .number("eps", \.epsilon, "added to the denominator"),
                .number("weight_decay", \.weightDecay, "weight decay"),
                .number("momentum", \.momentum, "momentum"),
                .flag("centered", \.centered, "subtract the squared mean gradient"),
                .flag("maximize", \.maximize, "ascend instead of descend"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, alpha: c.alpha, epsilon: c.epsilon, weightDecay: c.weightDecay,
            momentum: c.momentum,
            centered: c.centered, maximize: c.maximize)
    }

    public init(
        learningRate: Double = Configuration().learningRate, alpha: Double = Configuration().alpha,
        epsilon: Double = Configuration().epsilon, weightDecay: Double = Configuration().weightDecay,
        momentum: Double = Configuration().momentum, centered: Bool = Configuration().centered,
        maximize: Bool = Configuration().maximize
    ) throws {
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
        try super.init(name: "rmsprop", learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check(alpha >= 0 && alpha <= 1, "alpha must lie in [0, 1], got \(alpha)")
        try check(epsilon >= 0 && momentum >= 0, "epsilon and momentum must be >= 0")
    }

    public static let registryEntry = OptimizerEntry(
        name: "rmsprop", summary: "RMSprop, optionally centered and with momentum (torch.optim.RMSprop)",
        paper: "Hinton, Coursera lecture 6e, 2012"
    ) { try RMSprop($0) }

    public override var slotNames: [String] {
        ["square_avg"] + (momentum > 0 ? ["momentum_buffer"] : []) + (centered ? ["grad_avg"] : [])
    }
    public override var otherHyperparameters: [String: Double] {
        ["alpha": alpha, "eps": epsilon, "momentum": momentum, "centered": centered ? 1 : 0]
    }

    public override func update(_ u: inout ParameterUpdate) {
        let scalars = inertia_rmsprop_scalars(
            sign: u.sign, weight_decay: Float(u.weightDecay), learning_rate: Float(u.learningRate), alpha: Float(alpha),
            epsilon: Float(epsilon), momentum: Float(momentum))
        let p = u.parameter, g = u.gradient, v = u.slots[0]
        let buffer: UnsafeMutablePointer<Float>? = momentum > 0 ? u.slots[1] : nil
        let mean: UnsafeMutablePointer<Float>? = centered ? u.slots[momentum > 0 ? 2 : 1] : nil
        let step = Kernels.table.pointee.rmsprop_step!
        withUnsafePointer(to: scalars) { h in
            forEachChunk(u.count) { range in
                let i = range.lowerBound
                step(p + i, g + i, v + i, buffer.map { $0 + i }, mean.map { $0 + i }, range.count, h)
            }
        }
    }
}
