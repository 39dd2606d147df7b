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

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0, decoupledWeightDecay: Bool = false, maximize: Bool = false) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.decoupledWeightDecay = decoupledWeightDecay
        try super.init(name: "radam", learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check((0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must lie in [0, 1), got (\(beta1), \(beta2))")
        try check(epsilon >= 0, "epsilon must be >= 0, got \(epsilon)")
    }

    public static let registryEntry = OptimizerEntry(
        name: "radam", summary: "Rectified Adam (torch.optim.RAdam)", paper: "Liu et al., ICLR 2020",
        defaults: ["lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0, "decoupled_weight_decay": 0, "maximize": 0]
    ) { h in
        try RAdam(learningRate: h["lr"]!, beta1: h["beta1"]!, beta2: h["beta2"]!, epsilon: h["eps"]!, weightDecay: h["weight_decay"]!,
                  decoupledWeightDecay: h["decoupled_weight_decay"]! != 0, maximize: h["maximize"]! != 0)
    }

    public override var slotNames: [String] { ["exp_avg", "exp_avg_sq"] }
    public override var otherHyperparameters: [String: Double] { ["beta1": beta1, "beta2": beta2, "eps": epsilon] }

    public override func update(_ u: inout ParameterUpdate) {
        let t = Double(u.step)
        let biasCorrection1 = 1 - Foundation.pow(beta1, t)
        let biasCorrection2 = 1 - Foundation.pow(beta2, t)
        let rhoInfinity = 2 / (1 - beta2) - 1
        let rho = rhoInfinity - 2 * t * Foundation.pow(beta2, t) / biasCorrection2
        let rectified = rho > 5
        let rectification = rectified
            ? ((rho - 4) * (rho - 2) * rhoInfinity / ((rhoInfinity - 4) * (rhoInfinity - 2) * rho)).squareRoot() : 0
        let lr = Float(u.learningRate), rect = Float(rectification), bc1 = Float(biasCorrection1)
        let root2 = Float(biasCorrection2.squareRoot())
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
        let wd = Float(u.weightDecay), decay = Float(1 - u.learningRate * u.weightDecay), sign = u.sign
        let decoupled = decoupledWeightDecay
        let p = u.parameter, g = u.gradient, m = u.slots[0], v = u.slots[1]
        forEachChunk(u.count) { range in
            for i in range {
                var gi = sign * g[i]
                if decoupled { p[i] *= decay } else { gi += wd * p[i] }
                m[i] += (1 - b1) * (gi - m[i])
                v[i] = v[i] * b2 + (1 - b2) * (gi * gi)
                let corrected = m[i] / bc1
                if rectified {
                    let adaptive = root2 / (v[i].squareRoot() + eps)
                    p[i] += corrected * lr * adaptive * rect * -1
                } else {
                    p[i] += corrected * lr * -1
                }
            }
        }
    }
}
