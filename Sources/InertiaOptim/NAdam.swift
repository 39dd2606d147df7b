import Foundation
import InertiaNN
import InertiaTensor

/// NAdam (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop) exactly as
/// `torch.optim.NAdam`: the momentum schedule `μ_t = β₁(1 − ½·0.96^(tψ))`, its running product
/// kept per parameter, and coupled (or decoupled) weight decay.
public final class NAdam: FusedOptimizer {
    public let beta1: Double, beta2: Double, epsilon: Double, momentumDecay: Double
    public let decoupledWeightDecay: Bool

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 2e-3
        public var beta1 = 0.9
        public var beta2 = 0.999
        public var epsilon = 1e-8
        public var weightDecay = 0.0
        public var momentumDecay = 4e-3
        public var decoupledWeightDecay = false
        public var maximize = false

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("beta1", \.beta1, "decay of the first moment"),
                .number("beta2", \.beta2, "decay of the second moment"),
                .number("eps", \.epsilon, "added to the denominator"),
                .number("weight_decay", \.weightDecay, "weight decay"),
                .number("momentum_decay", \.momentumDecay, "psi of the momentum schedule"),
                .flag("decoupled_weight_decay", \.decoupledWeightDecay, "AdamW-style decoupled decay"),
                .flag("maximize", \.maximize, "ascend instead of descend"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon,
            weightDecay: c.weightDecay,
            momentumDecay: c.momentumDecay, decoupledWeightDecay: c.decoupledWeightDecay, maximize: c.maximize)
    }

    public init(
        learningRate: Double = Configuration().learningRate, beta1: Double = Configuration().beta1,
        beta2: Double = Configuration().beta2, epsilon: Double = Configuration().epsilon,
        weightDecay: Double = Configuration().weightDecay,
        momentumDecay: Double = Configuration().momentumDecay,
        decoupledWeightDecay: Bool = Configuration().decoupledWeightDecay,
        maximize: Bool = Configuration().maximize
    ) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.momentumDecay = momentumDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        try super.init(name: "nadam", learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check(
            (0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must lie in [0, 1), got (\(beta1), \(beta2))")
        try check(epsilon >= 0 && momentumDecay >= 0, "epsilon and momentum decay must be >= 0")
    }

    public static let registryEntry = OptimizerEntry(
        name: "nadam", summary: "Adam with Nesterov momentum and the momentum-decay schedule (torch.optim.NAdam)",
        paper: "Dozat, ICLR 2016 workshop"
    ) { try NAdam($0) }

    public override var slotNames: [String] { ["exp_avg", "exp_avg_sq"] }
    public override var scalarNames: [String] { ["mu_product"] }
    public override var initialScalars: [Double] { [1] }
    public override var otherHyperparameters: [String: Double] {
        ["beta1": beta1, "beta2": beta2, "eps": epsilon, "momentum_decay": momentumDecay]
    }

    public override func update(_ u: inout ParameterUpdate) {
        let t = Double(u.step)
        let biasCorrection2 = 1 - Foundation.pow(beta2, t)
        let mu = beta1 * (1 - 0.5 * Foundation.pow(0.96, t * momentumDecay))
        let muNext = beta1 * (1 - 0.5 * Foundation.pow(0.96, (t + 1) * momentumDecay))
        let muProduct = u.scalars[0] * mu
        u.scalars[0] = muProduct
        let gradientStep = Float(u.learningRate * (1 - mu) / (1 - muProduct))
        let momentumStep = Float(u.learningRate * muNext / (1 - muProduct * muNext))
        let scalars = inertia_nadam_scalars(
            sign: u.sign, weight_decay: Float(u.weightDecay), decay: Float(1 - u.learningRate * u.weightDecay),
            beta1: Float(beta1), beta2: Float(beta2), bias_correction2: Float(biasCorrection2), epsilon: Float(epsilon),
            gradient_step: gradientStep, momentum_step: momentumStep, decoupled: decoupledWeightDecay ? 1 : 0)
        let p = u.parameter, g = u.gradient, m = u.slots[0], v = u.slots[1]
        let step = Kernels.table.pointee.nadam_step!
        withUnsafePointer(to: scalars) { h in
            forEachChunk(u.count) { range in
                let i = range.lowerBound
                step(p + i, g + i, m + i, v + i, range.count, h)
            }
        }
    }
}
