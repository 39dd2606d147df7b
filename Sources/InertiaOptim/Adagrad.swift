import InertiaNN
import InertiaTensor

/// Adagrad (Duchi, Hazan & Singer, JMLR 2011) exactly as `torch.optim.Adagrad`: the sum of squared
/// gradients (from `initial_accumulator_value`), the step `lr / (1 + (t−1)·lr_decay)`, `ε` added
/// after the square root, coupled weight decay.
public final class Adagrad: FusedOptimizer {
    public let learningRateDecay: Double, initialAccumulator: Double, epsilon: Double

    public init(learningRate: Double = 1e-2, learningRateDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulator: Double = 0, epsilon: Double = 1e-10, maximize: Bool = false) throws {
        self.learningRateDecay = learningRateDecay
        self.initialAccumulator = initialAccumulator
        self.epsilon = epsilon
        try super.init(name: "adagrad", learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check(learningRateDecay >= 0 && initialAccumulator >= 0 && epsilon >= 0,
                  "lr decay, initial accumulator and epsilon must be >= 0")
    }

    public static let registryEntry = OptimizerEntry(
        name: "adagrad", summary: "Adagrad with lr decay and an initial accumulator (torch.optim.Adagrad)",
        paper: "Duchi, Hazan & Singer, JMLR 2011",
        defaults: ["lr": 1e-2, "lr_decay": 0, "weight_decay": 0, "initial_accumulator_value": 0, "eps": 1e-10, "maximize": 0]
    ) { h in
        try Adagrad(learningRate: h["lr"]!, learningRateDecay: h["lr_decay"]!, weightDecay: h["weight_decay"]!,
                    initialAccumulator: h["initial_accumulator_value"]!, epsilon: h["eps"]!, maximize: h["maximize"]! != 0)
    }

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
