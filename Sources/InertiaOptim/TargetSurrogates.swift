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
///
/// As an `Optimizer` (registry name `sso`, `lr` the target-space `stepSize`) it steps from the
/// model's outputs (`stepsFromOutputs`), which the Trainer hands it per batch. Given parameter
/// gradients alone (`step(_:)`), the outputs are the parameters themselves: the targets are
/// `θ − stepSize·∇/2`, reached by the same inner steps.
public final class TargetSurrogateOptimizer: Optimizer {
    /// How the inner loop steps on the surrogate.
    public enum InnerRule: Sendable, Equatable {
        /// The code's `LSOpt`: trial `s ← s·expand^(1/batchesPerEpoch)`, backtrack `s ← 0.9s` until
        /// `surr(θ − s g) <= surr(θ) − c·s·‖g‖²` (at most 100 trials or `s < 1e-6`).
        case armijo(initialStep: Double, expand: Double, c: Double, backtrack: Double)
        /// A fixed step `θ ← θ − lr·∇surr` (for tests and the "m = 1 is SGD" check).
        case fixed(Double)

        public static let code = InnerRule.armijo(initialStep: 10, expand: 2, c: 0.1, backtrack: 0.9)
    }

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        /// The inner rule by name.
        public enum Rule: String, CaseIterable, Sendable {
            case armijo, fixed
        }

        public var stepSize = 1.0
        public var innerSteps = 5
        public var innerRule = Rule.armijo
        public var innerLearningRate = 0.1
        public var batchesPerEpoch = 1

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.stepSize, "target-space step size: the surrogate's targets are z − lr·∂L/∂z / 2"),
                .integer("inner_steps", \.innerSteps, "steps on the surrogate per oracle call (m)"),
                .choice("inner_rule", \.innerRule, "Armijo backtracking as the code, or a fixed step"),
                .number("inner_lr", \.innerLearningRate, "the fixed rule's step"),
                .integer("batches_per_epoch", \.batchesPerEpoch, "N/b: the Armijo step grows by 2^(1/N/b)"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            innerSteps: c.innerSteps, stepSize: c.stepSize,
            innerRule: c.innerRule == .armijo ? .code : .fixed(c.innerLearningRate), batchesPerEpoch: c.batchesPerEpoch)
    }

    public static let registryEntry = OptimizerEntry(
        name: "sso",
        summary: "SSO: m steps on a target-space surrogate per loss-gradient call (steps from the model's outputs)",
        paper: "Lavington, Vaswani, Babanezhad, Schmidt & Le Roux, ICML 2023"
    ) { try TargetSurrogateOptimizer($0) }

    public let innerSteps: Int
    /// The target-space step size (`lr`; schedules multiply it).
    public var stepSize: Double
    public let innerRule: InnerRule
    /// `N/b`, the exponent of the step growth.
    public let batchesPerEpoch: Int
    /// Expensive oracle calls so far (one per `step`).
    public private(set) var oracleCalls = 0
    public var schedule = Schedule.constant
    /// SSO has no weight decay; the mask is kept for the protocol.
    public var weightDecayMask = WeightDecayMask.none
    private var nonFiniteGuard = NonFiniteGradientGuard()

    /// `stepSize`: the code's (`1/4` for MSE, `2` for BCE with logits, `1/(1 − 1/K)` for K-class
    /// cross-entropy are its "optimal" choices).
    public init(
        innerSteps: Int = 5, stepSize: Double = 2, innerRule: InnerRule = .code, batchesPerEpoch: Int = 1
    ) throws {
        func bad(_ detail: String) -> OptimizerError { .invalidHyperparameter(optimizer: "sso", detail: detail) }
        guard innerSteps >= 0 else { throw bad("inner steps must be >= 0, got \(innerSteps)") }
        guard stepSize > 0 && stepSize.isFinite else { throw bad("step size must be positive, got \(stepSize)") }
        guard batchesPerEpoch >= 1 else { throw bad("batches per epoch must be >= 1") }
        if case .fixed(let lr) = innerRule, !(lr > 0 && lr.isFinite) {
            throw bad("the fixed inner step must be positive, got \(lr)")
        }
        self.innerSteps = innerSteps
        self.stepSize = stepSize
        self.innerRule = innerRule
        self.batchesPerEpoch = batchesPerEpoch
    }

    public var name: String { "sso" }
    public var learningRate: Double {
        get { stepSize }
        set { stepSize = newValue }
    }
    public var currentLearningRate: Double { stepSize * schedule.factor(at: Swift.max(oracleCalls - 1, 0)) }
    public var hyperparameters: [String: Double] {
        ["lr": stepSize, "inner_steps": Double(innerSteps), "batches_per_epoch": Double(batchesPerEpoch)]
    }
    /// Applied to the loss gradient in output space (the oracle's answer).
    public var nonFiniteGradients: NonFiniteGradientPolicy {
        get { nonFiniteGuard.policy }
        set { nonFiniteGuard.policy = newValue }
    }
    public var nonFiniteError: OptimizerError? { nonFiniteGuard.error }
    public var skippedUpdates: Int { nonFiniteGuard.skipped }
    public var stepsFromOutputs: Bool { true }

    public func validate(_ parameters: [NamedParameter]) throws {}

    /// The outputs are the parameters: targets `θ − stepSize·∇/2` from the gradients given.
    public func step(_ parameters: [NamedParameter]) {
        let active = parameters.filter { !$0.parameter.isFrozen && $0.parameter.grad != nil }
        guard !active.isEmpty else { return }
        let gradients = active.map { $0.parameter.grad! }
        outerStep(
            active, names: active.map(\.name), outputs: { active.map(\.parameter.value) },
            targetGradient: { _ in gradients })
    }

    public func step(_ parameters: [NamedParameter], outputs: () -> Tensor, lossGradient: (Tensor) -> Tensor) {
        step(parameters, outputs: outputs, targetGradient: lossGradient)
    }

    public func state() -> OptimizerState {
        OptimizerState(optimizer: name, learningRate: stepSize, updates: oracleCalls, steps: [:], slots: [:])
    }

    public func load(_ state: OptimizerState, for parameters: [NamedParameter]) throws {
        guard state.optimizer == name else {
            throw OptimizerError.stateMismatch(
                optimizer: name, detail: "the state was saved by optimizer '\(state.optimizer)'")
        }
        guard state.updates >= 0, state.slots.isEmpty else {
            throw OptimizerError.stateMismatch(optimizer: name, detail: "SSO keeps no per-parameter state")
        }
        oracleCalls = state.updates
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
        outerStep(parameters, names: ["outputs"], outputs: { [outputs()] }, targetGradient: { [targetGradient($0[0])] })
    }

    /// The outer step over a list of outputs (named for errors): the oracle once at copies of
    /// them, then the inner steps on the surrogate summed over every entry of every output.
    @discardableResult
    func outerStep(
        _ parameters: [NamedParameter], names: [String], outputs: () -> [Tensor],
        targetGradient: ([Tensor]) -> [Tensor]
    ) -> StepReport {
        var report = StepReport(surrogateValues: [], stepSizes: [], trials: [])
        let z = withoutGradients { outputs().map { Tensor(shape: $0.shape, scalars: $0.scalars) } }
        let g = targetGradient(z)
        for (k, (gk, zk)) in zip(g, z).enumerated() {
            validated(
                gk.shape == zk.shape, "sso: the target gradient has shape \(gk.shape), the \(names[k]) \(zk.shape)")
        }
        guard nonFiniteGuard.allows(zip(names, g).map { ($0, $1) }, optimizer: name, update: oracleCalls) else {
            return report
        }
        oracleCalls += 1
        let rate = Float(currentLearningRate)
        let scaled = g.map { $0 * rate }
        let count = Float(z.reduce(0) { $0 + $1.count })
        func surrogate() -> Tensor {
            zip(outputs(), zip(scaled, z)).map { f, target in
                let difference = f - target.1
                return (target.0 * f + difference * difference).sum()
            }.reduce(Tensor(0), +) / count
        }
        let active = parameters.filter { !$0.parameter.isFrozen }
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
