import InertiaNN
import InertiaTensor

/// SGDP (Heo et al., ICLR 2021) as the official `clovaai/AdamP` code computes it
/// (`shared/papers/adamp.md` 2.3): the buffer `b ← μb + (1 − τ)g` from zero (no special first
/// step), the direction `g + μb` (Nesterov) or `b`, projected like AdamP's, and decoupled decay
/// `lr·wd·ρ/(1 − μ)`. Without Nesterov the direction is the buffer itself, so a projection also
/// rewrites the stored buffer (the official behaviour; `projectsBuffer = false` projects only
/// the step).
public final class SGDP: FusedOptimizer {
    public let momentum: Double, dampening: Double, epsilon: Double, delta: Double, weightDecayRatio: Double
    public let nesterov: Bool
    public var projectsBuffer = true
    public private(set) var projections: [String: RadialProjection.Statistics] = [:]

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 0.1
        public var momentum = 0.0
        public var dampening = 0.0
        public var weightDecay = 0.0
        public var nesterov = false
        public var epsilon = 1e-8
        public var delta = 0.1
        public var weightDecayRatio = 0.1

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("momentum", \.momentum, "momentum"),
                .number("dampening", \.dampening, "dampening of the momentum"),
                .number("weight_decay", \.weightDecay, "weight decay"),
                .flag("nesterov", \.nesterov, "Nesterov momentum"),
                .number("eps", \.epsilon, "added to the denominator"),
                .number("delta", \.delta, "cosine threshold of the projection"),
                .number("wd_ratio", \.weightDecayRatio, "weight-decay factor on projected parameters"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, momentum: c.momentum, dampening: c.dampening, weightDecay: c.weightDecay,
            nesterov: c.nesterov, epsilon: c.epsilon, delta: c.delta, weightDecayRatio: c.weightDecayRatio)
    }

    public init(
        learningRate: Double, momentum: Double = Configuration().momentum,
        dampening: Double = Configuration().dampening, weightDecay: Double = Configuration().weightDecay,
        nesterov: Bool = Configuration().nesterov, epsilon: Double = Configuration().epsilon,
        delta: Double = Configuration().delta, weightDecayRatio: Double = Configuration().weightDecayRatio
    ) throws {
        self.momentum = momentum
        self.dampening = dampening
        self.epsilon = epsilon
        self.delta = delta
        self.weightDecayRatio = weightDecayRatio
        self.nesterov = nesterov
        try super.init(name: "sgdp", learningRate: learningRate, weightDecay: weightDecay, maximize: false)
        try check(
            momentum >= 0 && momentum < 1,
            "momentum must lie in [0, 1) (the decay divides by 1 - momentum), got \(momentum)")
        try check(delta >= 0 && weightDecayRatio >= 0 && epsilon >= 0, "delta, wd_ratio and eps must be >= 0")
    }

    public static let registryEntry = OptimizerEntry(
        name: "sgdp",
        summary: "SGDP: momentum SGD with the radial component removed on scale-invariant weights (clovaai/AdamP)",
        paper: "Heo et al., ICLR 2021 (arXiv 2006.08217)"
    ) { try SGDP($0) }

    public override var slotNames: [String] { ["momentum"] }
    public override var otherHyperparameters: [String: Double] {
        [
            "momentum": momentum, "dampening": dampening, "nesterov": nesterov ? 1 : 0, "delta": delta,
            "wd_ratio": weightDecayRatio,
        ]
    }

    public override func update(_ u: inout ParameterUpdate) {
        let n = u.count, p = u.parameter, g = u.gradient, b = u.slots[0]
        let mu = Float(momentum), keep = Float(1 - dampening)
        for i in 0..<n { b[i] = b[i] * mu + keep * g[i] }
        let inPlace = !nesterov && projectsBuffer
        var direction = inPlace ? [] : (0..<n).map { nesterov ? g[$0] + mu * b[$0] : b[$0] }
        let outcome: RadialProjection.Outcome = direction.withUnsafeMutableBufferPointer { d in
            RadialProjection.apply(
                weight: p, gradient: g, update: inPlace ? b : d.baseAddress!, shape: u.shape, delta: delta, eps: epsilon
            )
        }
        projections[u.name, default: .init()].record(outcome)
        let ratio = outcome == .none ? 1 : weightDecayRatio
        let decay = Float(1 - u.learningRate * u.weightDecay * ratio / (1 - momentum))
        let lr = Float(u.learningRate)
        for i in 0..<n {
            if u.weightDecay > 0 { p[i] *= decay }
            p[i] -= lr * (inPlace ? b[i] : direction[i])
        }
    }
}
