import Foundation
import InertiaNN
import InertiaTensor

/// RAdam (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020)
/// exactly as `torch.optim.RAdam`: the adaptive step is used only once the length of the
/// approximated simple moving average `ρ_t` exceeds 5, rectified by
/// `sqrt((ρ_t−4)(ρ_t−2)ρ_∞ / ((ρ_∞−4)(ρ_∞−2)ρ_t))`; before that, bias-corrected momentum SGD.
public final class RAdam: FusedOptimizer {
    public let beta1: Double, beta2: Double, epsilon: Double
    public let decoupledWeightDecay: Bool

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 1e-3
        public var beta1 = 0.9
        public var beta2 = 0.999
        public var epsilon = 1e-8
        public var weightDecay = 0.0
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
                .flag("decoupled_weight_decay", \.decoupledWeightDecay, "AdamW-style decoupled decay"),
                .flag("maximize", \.maximize, "ascend instead of descend"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon,
            weightDecay: c.weightDecay,
            decoupledWeightDecay: c.decoupledWeightDecay, maximize: c.maximize)
    }

    public init(
        learningRate: Double = Configuration().learningRate, beta1: Double = Configuration().beta1,
        beta2: Double = Configuration().beta2, epsilon: Double = Configuration().epsilon,
        weightDecay: Double = Configuration().weightDecay,
        decoupledWeightDecay: Bool = Configuration().decoupledWeightDecay,
        maximize: Bool = Configuration().maximize
    ) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.decoupledWeightDecay = decoupledWeightDecay
        try super.init(name: "radam", learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check(
            (0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must lie in [0, 1), got (\(beta1), \(beta2))")
        try check(epsilon >= 0, "epsilon must be >= 0, got \(epsilon)")
    }

    public static let registryEntry = OptimizerEntry(
        name: "radam", summary: "Rectified Adam (torch.optim.RAdam)",
        paper: "Liu et al., ICLR 2020"
    ) { try RAdam($0) }

    public override var slotNames: [String] { ["exp_avg", "exp_avg_sq"] }
    public override var otherHyperparameters: [String: Double] { ["beta1": beta1, "beta2": beta2, "eps": epsilon] }

    public override func update(_ u: inout ParameterUpdate) {
        let t = Double(u.step)
        let biasCorrection1 = 1 - Foundation.pow(beta1, t)
        let biasCorrection2 = 1 - Foundation.pow(beta2, t)
        let rhoInfinity = 2 / (1 - beta2) - 1
        let rho = rhoInfinity - 2 * t * Foundation.pow(beta2, t) / biasCorrection2
        let rectified = rho > 5
        let rectification =
            rectified
            ? ((rho - 4) * (rho - 2) * rhoInfinity / ((rhoInfinity - 4) * (rhoInfinity - 2) * rho)).squareRoot() : 0
        let scalars = inertia_radam_scalars(
            sign: u.sign, weight_decay: Float(u.weightDecay), decay: Float(1 - u.learningRate * u.weightDecay),
            beta1: Float(beta1), beta2: Float(beta2), bias_correction1: Float(biasCorrection1),
            root2: Float(biasCorrection2.squareRoot()), epsilon: Float(epsilon), learning_rate: Float(u.learningRate),
            rectification: Float(rectification), decoupled: decoupledWeightDecay ? 1 : 0, rectified: rectified ? 1 : 0)
        let p = u.parameter, g = u.gradient, m = u.slots[0], v = u.slots[1]
        let step = Kernels.table.pointee.radam_step!
        withUnsafePointer(to: scalars) { h in
            forEachChunk(u.count) { range in
                let i = range.lowerBound
                step(p + i, g + i, m + i, v + i, range.count, h)
            }
        }
    }
}
