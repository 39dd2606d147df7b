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

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0,
                delta: Double = 0.1, weightDecayRatio: Double = 0.1, nesterov: Bool = false) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.delta = delta
        self.weightDecayRatio = weightDecayRatio
        self.nesterov = nesterov
        try super.init(name: "adamp", learningRate: learningRate, weightDecay: weightDecay, maximize: false)
        try check((0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must lie in [0, 1), got (\(beta1), \(beta2))")
        try check(delta >= 0 && weightDecayRatio >= 0 && epsilon >= 0, "delta, wd_ratio and eps must be >= 0")
    }

    public static let registryEntry = OptimizerEntry(
        name: "adamp", summary: "AdamP: Adam with the radial component removed on scale-invariant weights (clovaai/AdamP)",
        paper: "Heo et al., ICLR 2021 (arXiv 2006.08217)",
        defaults: ["lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0, "delta": 0.1, "wd_ratio": 0.1, "nesterov": 0]
    ) { h in
        try AdamP(learningRate: h["lr"]!, beta1: h["beta1"]!, beta2: h["beta2"]!, epsilon: h["eps"]!, weightDecay: h["weight_decay"]!,
                  delta: h["delta"]!, weightDecayRatio: h["wd_ratio"]!, nesterov: h["nesterov"]! != 0)
    }

    public override var slotNames: [String] { ["exp_avg", "exp_avg_sq"] }
    public override var otherHyperparameters: [String: Double] {
        ["beta1": beta1, "beta2": beta2, "eps": epsilon, "delta": delta, "wd_ratio": weightDecayRatio, "nesterov": nesterov ? 1 : 0]
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
            let outcome = RadialProjection.apply(weight: p, gradient: g, update: d.baseAddress!, shape: u.shape, delta: delta, eps: epsilon)
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
