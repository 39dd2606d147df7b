import Foundation
import InertiaNN
import InertiaTensor

/// SSO, target-based surrogates for stochastic optimization (J. W. Lavington, S. Vaswani,
/// R. Babanezhad, M. Schmidt, N. Le Roux, ICML 2023; official code `SGD_FMDOpt` + `LSOpt`, as
/// `shared/papers/target-surrogates.md` 2.4 reads it). For losses whose gradient with respect to
/// the model outputs ("targets") is expensive: per outer step one oracle call `G = ∂L/∂z` at the
/// current outputs `z`, then `m` cheap steps on the surrogate
///
///     surr(θ) = mean over the b·p entries of ( stepSize·G ⊙ f(θ) + (f(θ) − z)² )
///
/// (the paper's quadratic target-space majorizer with `η = stepSize/2`), each by Armijo
/// backtracking from a step that starts at 10 every outer step and grows by `2^(1/batches)`.
public final class TargetSurrogateOptimizer {
    /// How the inner loop steps on the surrogate.
    public enum InnerRule: Sendable, Equatable {
        /// The code's `LSOpt`: trial `s ← s·expand^(1/batchesPerEpoch)`, backtrack `s ← 0.9s` until
        /// `surr(θ − s g) <= surr(θ) − c·s·‖g‖²` (at most 100 trials or `s < 1e-6`).
        case armijo(initialStep: Double, expand: Double, c: Double, backtrack: Double)
        /// A fixed step `θ ← θ − lr·∇surr` (for tests and the "m = 1 is SGD" check).
        case fixed(Double)

        public static let code = InnerRule.armijo(initialStep: 10, expand: 2, c: 0.1, backtrack: 0.9)
    }

    public let innerSteps: Int
    public let stepSize: Double
    public let innerRule: InnerRule
    /// `N/b`, the exponent of the step growth.
    public let batchesPerEpoch: Int
    /// Expensive oracle calls so far (one per `step`).
    public private(set) var oracleCalls = 0

    /// `stepSize`: the code's (`1/4` for MSE, `2` for BCE with logits, `1/(1 − 1/K)` for K-class
    /// cross-entropy are its "optimal" choices).
    public init(
        innerSteps: Int = 5, stepSize: Double = 2, innerRule: InnerRule = .code, batchesPerEpoch: Int = 1
    ) throws {
        func bad(_ detail: String) -> OptimizerError { .invalidHyperparameter(optimizer: "sso", detail: detail) }
        guard innerSteps >= 0 else { throw bad("inner steps must be >= 0, got \(innerSteps)") }
        guard stepSize > 0 && stepSize.isFinite else { throw bad("step size must be positive, got \(stepSize)") }
        guard batchesPerEpoch >= 1 else { throw bad("batches per epoch must be >= 1") }
        self.innerSteps = innerSteps
        self.stepSize = stepSize
        self.innerRule = innerRule
        self.batchesPerEpoch = batchesPerEpoch
    }

    /// What one outer step did.
    public struct StepReport: Sendable {
        /// The surrogate before each inner step.
        public var surrogateValues: [Double]
        /// The step taken by each inner step and the surrogate evaluations its search used.
        public var stepSizes: [Double]
        public var trials: [Int]
    }

    /// `∂ loss(z)/∂z` by autodiff: the oracle for a loss that is cheap after all.
    public static func lossGradient(_ loss: @escaping (Tensor) -> Tensor) -> (Tensor) -> Tensor {
        { z in
            let leaf = z.detached().requiringGrad()
            withGradients { loss(leaf).backward() }
            return leaf.grad!
        }
    }

    /// One outer step on the batch whose outputs `outputs()` computes from `parameters`; calls
    /// `targetGradient` once.
    @discardableResult
    public func step(
        _ parameters: [NamedParameter], outputs: () -> Tensor, targetGradient: (Tensor) -> Tensor
    ) -> StepReport {
        let z = withoutGradients { outputs() }
        let g = targetGradient(z)
        oracleCalls += 1
        validated(g.shape == z.shape, "sso: the target gradient has shape \(g.shape), the outputs \(z.shape)")
        let scaled = g * Float(stepSize)
        func surrogate() -> Tensor {
            let f = outputs()
            let difference = f - z
            return (scaled * f + difference * difference).mean()
        }
        let active = parameters.filter { !$0.parameter.isFrozen }
        var report = StepReport(surrogateValues: [], stepSizes: [], trials: [])
        var s: Double
        if case .armijo(let initialStep, _, _, _) = innerRule { s = initialStep } else { s = 0 }
        for _ in 0..<innerSteps {
            for (_, p) in active { p.zeroGrad() }
            let value = withGradients { surrogate() }
            withGradients { value.backward() }
            let grads = active.map { $0.parameter.grad ?? Tensor.zeros($0.parameter.shape) }
            let squaredNorm = grads.reduce(0.0) { $0 + Double(($1 * $1).sum().item) }
            report.surrogateValues.append(Double(value.item))
            if squaredNorm.squareRoot() <= 1e-6 { break }
            let start = active.map(\.parameter.value)
            func move(_ step: Double) {
                for ((_, p), (origin, grad)) in zip(active, zip(start, grads)) {
                    p.assign(withoutGradients { origin - grad * Float(step) })
                }
            }
            switch innerRule {
            case .fixed(let lr):
                move(lr)
                report.stepSizes.append(lr)
                report.trials.append(0)
            case .armijo(_, let expand, let c, let backtrack):
                s *= Foundation.pow(expand, 1 / Double(batchesPerEpoch))
                var trials = 0
                for _ in 0..<100 {
                    move(s)
                    trials += 1
                    let trial = Double(withoutGradients { surrogate() }.item)
                    if trial <= Double(value.item) - c * s * squaredNorm || s < 1e-6 { break }
                    s *= backtrack
                }
                move(s)
                report.stepSizes.append(s)
                report.trials.append(trials)
            }
        }
        for (_, p) in active { p.zeroGrad() }
        return report
    }
}
