import Foundation
import InertiaNN
import InertiaTensor

/// AdamP (Heo et al., "AdamP: Slowing Down the Slowdown for Momentum Optimizers on
/// Scale-invariant Weights", ICLR 2021) as the official `clovaai/AdamP` code computes it
/// (`shared/papers/adamp.md` 2.2): the Adam direction `m/denom` (or its Nesterov form), its
/// radial component removed on (nearly) scale-invariant weights (`RadialProjection`), decoupled
/// decay reduced by `wd_ratio` when the projection fires. With `delta = 0` it is AdamW.
public final class AdamP: FusedOptimizer {
    public let beta1: Double, beta2: Double, epsilon: Double, delta: Double, weightDecayRatio: Double
    public let nesterov: Bool
    /// Which view fired, per parameter name.
    public private(set) var projections: [String: RadialProjection.Statistics] = [:]

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 1e-3
        public var beta1 = 0.9
        public var beta2 = 0.999
        public var epsilon = 1e-8
        public var weightDecay = 0.0
        public var delta = 0.1
        public var weightDecayRatio = 0.1
        public var nesterov = false

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("beta1", \.beta1, "decay of the first moment"),
                .number("beta2", \.beta2, "decay of the second moment"),
                .number("eps", \.epsilon, "added to the denominator"),
                .number("weight_decay", \.weightDecay, "weight decay"),
                .number("delta", \.delta, "cosine threshold of the projection"),
                .number("wd_ratio", \.weightDecayRatio, "weight-decay factor on projected parameters"),
                .flag("nesterov", \.nesterov, "Nesterov momentum"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon,
            weightDecay: c.weightDecay,
            delta: c.delta, weightDecayRatio: c.weightDecayRatio, nesterov: c.nesterov)
    }

    public init(
        learningRate: Double = Configuration().learningRate, beta1: Double = Configuration().beta1,
        beta2: Double = Configuration().beta2, epsilon: Double = Configuration().epsilon,
        weightDecay: Double = Configuration().weightDecay, delta: Double = Configuration().delta,
        weightDecayRatio: Double = Configuration().weightDecayRatio,
        nesterov: Bool = Configuration().nesterov
    ) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.delta = delta
        self.weightDecayRatio = weightDecayRatio
        self.nesterov = nesterov
        try super.init(name: "adamp", learningRate: learningRate, weightDecay: weightDecay, maximize: false)
        try check(
            (0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must lie in [0, 1), got (\(beta1), \(beta2))")
        try check(delta >= 0 && weightDecayRatio >= 0 && epsilon >= 0, "delta, wd_ratio and eps must be >= 0")
    }

    public static let registryEntry = OptimizerEntry(
        name: "adamp",
        summary: "AdamP: Adam with the radial component removed on scale-invariant weights (clovaai/AdamP)",
        paper: "Heo et al., ICLR 2021 (arXiv 2006.08217)"
    ) { try AdamP($0) }

    public override var slotNames: [String] { ["exp_avg", "exp_avg_sq"] }
    public override var otherHyperparameters: [String: Double] {
        [
            "beta1": beta1, "beta2": beta2, "eps": epsilon, "delta": delta, "wd_ratio": weightDecayRatio,
            "nesterov": nesterov ? 1 : 0,
        ]
    }

    public override func update(_ u: inout ParameterUpdate) {
        let n = u.count, p = u.parameter, g = u.gradient, m = u.slots[0], v = u.slots[1]
        let t = Double(u.step)
        let root2 = Float((1 - Foundation.pow(beta2, t)).squareRoot())
        let stepSize = Float(u.learningRate / (1 - Foundation.pow(beta1, t)))
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
        var direction = [Float](repeating: 0, count: n)
        direction.withUnsafeMutableBufferPointer { d in
            Kernels.table.pointee.adamp_direction(g, m, v, d.baseAddress!, n, b1, b2, root2, eps, nesterov ? 1 : 0)
            let outcome = RadialProjection.apply(
                weight: p, gradient: g, update: d.baseAddress!, shape: u.shape, delta: delta, eps: epsilon)
            projections[u.name, default: .init()].record(outcome)
            let ratio = outcome == .none ? 1 : weightDecayRatio
            let decay = Float(1 - u.learningRate * u.weightDecay * ratio)
            for i in 0..<n {
                if u.weightDecay > 0 { p[i] *= decay }
                p[i] -= stepSize * d[i]
            }
        }
    }
}
