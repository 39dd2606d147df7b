import InertiaNN
import InertiaTensor

/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) as
/// `torch.optim.AdamW`: Adam with `θ ← θ(1 − lr·wd)` before the moment updates, the decay
/// multiplied by the current (scheduled) learning rate; default weight decay 0.01.
public final class AdamW: Adam {
    /// Adam's hyper-parameters with weight decay 0.01 by default.
    public struct Configuration: OptimizerConfiguration {
        public var adam: Adam.Configuration

        public init() {
            adam = Adam.Configuration()
            adam.weightDecay = 0.01
        }

        public static var options: [HyperparameterOption<Configuration>] {
            Adam.Configuration.options.map { $0.within(\.adam) }
        }
    }

    public convenience init(_ c: Configuration) throws {
        let a = c.adam
        try self.init(
            learningRate: a.learningRate, beta1: a.beta1, beta2: a.beta2, epsilon: a.epsilon,
            weightDecay: a.weightDecay,
            amsgrad: a.amsgrad, maximize: a.maximize)
    }

    public init(
        learningRate: Double = Configuration().adam.learningRate, beta1: Double = Configuration().adam.beta1,
        beta2: Double = Configuration().adam.beta2, epsilon: Double = Configuration().adam.epsilon,
        weightDecay: Double = Configuration().adam.weightDecay, amsgrad: Bool = Configuration().adam.amsgrad,
        maximize: Bool = Configuration().adam.maximize
    ) throws {
        try super.init(
            name: "adamw", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay, amsgrad: amsgrad, decoupledWeightDecay: true, maximize: maximize)
    }

    public override class var registryEntry: OptimizerEntry {
        OptimizerEntry(
            name: "adamw",
            summary: "Adam with decoupled, lr-scaled weight decay and optional AMSGrad (torch.optim.AdamW)",
            paper: "Loshchilov & Hutter, ICLR 2019"
        ) { (c: Configuration) in try AdamW(c) }
    }
}
