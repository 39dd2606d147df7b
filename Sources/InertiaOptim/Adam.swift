import Foundation
import InertiaNN
import InertiaTensor

/// Adam (Kingma & Ba, ICLR 2015) with AMSGrad (Reddi et al., ICLR 2018), exactly as
/// `torch.optim.Adam` (`shared/papers/classic-momentum.md`, section 2.2): coupled L2 weight decay
/// added to the gradient, `ε` outside the square root after bias correction, AMSGrad's maximum
/// over the raw second moment. One fused pass reads parameter, gradient and moments once.
public class Adam: FusedOptimizer {
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public let amsgrad: Bool
    /// Decoupled, learning-rate-scaled decay `θ ← θ(1 − lr·wd)` before the moments (AdamW).
    public let decoupledWeightDecay: Bool

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 1e-3
        public var beta1 = 0.9
        public var beta2 = 0.999
        public var epsilon = 1e-8
        public var weightDecay = 0.0
        public var amsgrad = false
        public var maximize = false

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("beta1", \.beta1, "decay of the first moment"),
                .number("beta2", \.beta2, "decay of the second moment"),
                .number("eps", \.epsilon, "added to the root of the second moment"),
                .number("weight_decay", \.weightDecay, "weight decay"),
                .flag("amsgrad", \.amsgrad, "AMSGrad's running maximum of the second moment"),
                .flag("maximize", \.maximize, "ascend instead of descend"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon,
            weightDecay: c.weightDecay,
            amsgrad: c.amsgrad, maximize: c.maximize)
    }

    public init(
        name: String = "adam", learningRate: Double = Configuration().learningRate,
        beta1: Double = Configuration().beta1,
        beta2: Double = Configuration().beta2, epsilon: Double = Configuration().epsilon,
        weightDecay: Double = Configuration().weightDecay, amsgrad: Bool = Configuration().amsgrad,
        decoupledWeightDecay: Bool = false, maximize: Bool = Configuration().maximize
    ) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.decoupledWeightDecay = decoupledWeightDecay
        try super.init(name: name, learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check(
            (0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must lie in [0, 1), got (\(beta1), \(beta2))")
        try check(epsilon >= 0, "epsilon must be >= 0, got \(epsilon)")
    }

    public class var registryEntry: OptimizerEntry {
        OptimizerEntry(
            name: "adam", summary: "Adam with coupled L2 weight decay and optional AMSGrad (torch.optim.Adam)",
            paper: "Kingma & Ba, ICLR 2015; AMSGrad: Reddi et al., ICLR 2018"
        ) { (c: Configuration) in try Adam(c) }
    }

    public override var slotNames: [String] {
        amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"]
    }
    public override var otherHyperparameters: [String: Double] {
        ["beta1": beta1, "beta2": beta2, "eps": epsilon, "amsgrad": amsgrad ? 1 : 0]
    }

    public override func update(_ u: inout ParameterUpdate) {
        let t = Double(u.step)
        let biasCorrection1 = 1 - Foundation.pow(beta1, t)
        let biasCorrection2Root = (1 - Foundation.pow(beta2, t)).squareRoot()
        let scalars = inertia_adam_scalars(
            step_size: Float(u.learningRate / biasCorrection1), inverse_root2: Float(1 / biasCorrection2Root),
            epsilon: Float(epsilon), weight_decay: Float(u.weightDecay),
            decay: Float(1 - u.learningRate * u.weightDecay),
            weight1: Float(1 - beta1), rest1: 1 - Float(1 - beta1), beta2: Float(beta2),
            one_minus_beta2: Float(1 - beta2),
            sign: u.sign, decoupled: decoupledWeightDecay ? 1 : 0)
        let p = u.parameter, g = u.gradient, m = u.slots[0], v = u.slots[1]
        let vMax: UnsafeMutablePointer<Float>? = amsgrad ? u.slots[2] : nil
        let step = Kernels.table.pointee.adam_step!
        withUnsafePointer(to: scalars) { h in
            forEachChunk(u.count) { range in
                let i = range.lowerBound
                step(p + i, g + i, m + i, v + i, vMax.map { $0 + i }, range.count, h)
            }
        }
    }
}
