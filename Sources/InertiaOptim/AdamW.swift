import InertiaNN
import InertiaTensor

/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) as
/// `torch.optim.AdamW`: Adam with `θ ← θ(1 − lr·wd)` before the moment updates, the decay
/// multiplied by the current (scheduled) learning rate; default weight decay 0.01.
public final class AdamW: Adam {
    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0.01, amsgrad: Bool = false, maximize: Bool = false) throws {
        try super.init(name: "adamw", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                       weightDecay: weightDecay, amsgrad: amsgrad, decoupledWeightDecay: true, maximize: maximize)
    }

    public override class var registryEntry: OptimizerEntry {
        OptimizerEntry(
            name: "adamw", summary: "Adam with decoupled, lr-scaled weight decay and optional AMSGrad (torch.optim.AdamW)",
            paper: "Loshchilov & Hutter, ICLR 2019",
            defaults: ["lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "amsgrad": 0, "maximize": 0]
        ) { h in
            try AdamW(learningRate: h["lr"]!, beta1: h["beta1"]!, beta2: h["beta2"]!, epsilon: h["eps"]!, weightDecay: h["weight_decay"]!,
                      amsgrad: h["amsgrad"]! != 0, maximize: h["maximize"]! != 0)
        }
    }
}
