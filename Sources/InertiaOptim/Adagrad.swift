import InertiaNN
import InertiaTensor

/// Adagrad (Duchi, Hazan & Singer, JMLR 2011) exactly as `torch.optim.Adagrad`: the sum of squared
/// gradients (from `initial_accumulator_value`), the step `lr / (1 + (t−1)·lr_decay)`, `ε` added
/// after the square root, coupled weight decay.
public final class Adagrad: FusedOptimizer {
    public let learningRateDecay: Double, initialAccumulator: Double, epsilon: Double

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 1e-2
        public var learningRateDecay = 0.0
        public var weightDecay = 0.0
        public var initialAccumulator = 0.0
        public var epsilon = 1e-10
        public var maximize = false

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("lr_decay", \.learningRateDecay, "learning-rate decay"),
                .number("weight_decay", \.weightDecay, "weight decay"),
                .number("initial_accumulator_value", \.initialAccumulator, "initial sum of squares"),
                .number("eps", \.epsilon, "added to the denominator"),
                .flag("maximize", \.maximize, "ascend instead of descend"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, learningRateDecay: c.learningRateDecay, weightDecay: c.weightDecay,
            initialAccumulator: c.initialAccumulator, epsilon: c.epsilon, maximize: c.maximize)
    }

    public init(
        learningRate: Double = Configuration().learningRate,
        learningRateDecay: Double = Configuration().learningRateDecay,
        weightDecay: Double = Configuration().weightDecay,
        initialAccumulator: Double = Configuration().initialAccumulator,
        epsilon: Double = Configuration().epsilon, maximize: Bool = Configuration().maximize
    ) throws {
        self.learningRateDecay = learningRateDecay
        self.initialAccumulator = initialAccumulator
        self.epsilon = epsilon
        try super.init(name: "adagrad", learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check(
            learningRateDecay >= 0 && initialAccumulator >= 0 && epsilon >= 0,
            "lr decay, initial accumulator and epsilon must be >= 0")
    }

    public static let registryEntry = OptimizerEntry(
        name: "adagrad", summary: "Adagrad with lr decay and an initial accumulator (torch.optim.Adagrad)",
        paper: "Duchi, Hazan & Singer, JMLR 2011"
    ) { try Adagrad($0) }

    public override var slotNames: [String] { ["sum"] }
    public override func initialSlot(_ slot: String, shape: [Int]) -> Tensor {
        Tensor(repeating: Float(initialAccumulator), shape: shape)
    }
    public override var otherHyperparameters: [String: Double] {
        ["lr_decay": learningRateDecay, "initial_accumulator_value": initialAccumulator, "eps": epsilon]
    }

    public override func update(_ u: inout ParameterUpdate) {
        let clr = Float(u.learningRate / (1 + Double(u.step - 1) * learningRateDecay))
        let scalars = inertia_adagrad_scalars(
            sign: u.sign, weight_decay: Float(u.weightDecay), learning_rate: clr, epsilon: Float(epsilon))
        let p = u.parameter, g = u.gradient, s = u.slots[0]
        let step = Kernels.table.pointee.adagrad_step!
        withUnsafePointer(to: scalars) { h in
            forEachChunk(u.count) { range in
                let i = range.lowerBound
                step(p + i, g + i, s + i, range.count, h)
            }
        }
    }
}
