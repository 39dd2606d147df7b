import InertiaNN
import InertiaTensor

/// RMSprop (Hinton, Lecture 6e of "Neural Networks for Machine Learning", 2012) exactly as
/// `torch.optim.RMSprop`: `v ← αv + (1−α)g²`, optionally centered by the running mean of `g`,
/// `ε` added after the square root, optional momentum on `g / (√v + ε)`, coupled weight decay.
public final class RMSprop: FusedOptimizer {
    public let alpha: Double, epsilon: Double, momentum: Double
    public let centered: Bool

    public init(learningRate: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8, weightDecay: Double = 0,
                momentum: Double = 0, centered: Bool = false, maximize: Bool = false) throws {
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
        paper: "Hinton, Coursera lecture 6e, 2012",
        defaults: ["lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0, "momentum": 0, "centered": 0, "maximize": 0]
    ) { h in
        try RMSprop(learningRate: h["lr"]!, alpha: h["alpha"]!, epsilon: h["eps"]!, weightDecay: h["weight_decay"]!,
                    momentum: h["momentum"]!, centered: h["centered"]! != 0, maximize: h["maximize"]! != 0)
    }

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
