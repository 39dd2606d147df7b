import InertiaNN
import InertiaTensor

/// One parameter's update, handed to `FusedOptimizer.update`: raw buffers of the parameter, its
/// gradient and its state slots (in `slotNames` order), and the hyper-parameters in force.
public struct ParameterUpdate {
    public let name: String
    public let shape: [Int]
    public let count: Int
    public let parameter: UnsafeMutablePointer<Float>
    public let gradient: UnsafePointer<Float>
    public let slots: [UnsafeMutablePointer<Float>]
    /// This parameter's step, 1 on its first update.
    public let step: Int
    public let learningRate: Double
    public let weightDecay: Double
    /// -1 with `maximize`, else 1: multiplies the gradient.
    public let sign: Float
    /// The per-parameter scalar state (NAdam's running product), kept across steps.
    public var scalars: [Double]
}

/// The base of the optimizers: parameter groups, weight-decay masks, schedules, the non-finite
/// gradient policy, per-parameter state keyed by name, state save / load. A subclass declares
/// its state slots and writes `update`, one fused pass over one parameter (`forEachChunk` splits it
/// across threads with results independent of the thread count); matrix optimizers use the
/// whole buffers and the shape instead.
open class FusedOptimizer: Optimizer {
    public let name: String
    public var learningRate: Double
    public var weightDecay: Double
    public var groups: [ParameterGroup] = []
    public var schedule: Schedule = .constant
    public var weightDecayMask: WeightDecayMask = .none
    public var nonFiniteGradients: NonFiniteGradientPolicy {
        get { nonFiniteGuard.policy }
        set { nonFiniteGuard.policy = newValue }
    }
    public var maximize: Bool
    /// Calls of `step()` that updated (the schedule position).
    public private(set) var updates = 0
    public var skippedUpdates: Int { nonFiniteGuard.skipped }
    public var nonFiniteError: OptimizerError? { nonFiniteGuard.error }
    private var nonFiniteGuard = NonFiniteGradientGuard()
    private var steps: [String: Int] = [:]
    private var slotValues: [String: [StateBuffer]] = [:]
    private var scalarValues: [String: [Double]] = [:]

    public init(name: String, learningRate: Double, weightDecay: Double, maximize: Bool) throws {
        self.name = name
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.maximize = maximize
        try check(
            learningRate >= 0 && learningRate.isFinite,
            "learning rate must be a finite number >= 0, got \(learningRate)")
        try check(weightDecay >= 0 && weightDecay.isFinite, "weight decay must be >= 0, got \(weightDecay)")
    }

    public func check(_ condition: Bool, _ detail: @autoclosure () -> String) throws {
        if !condition { throw OptimizerError.invalidHyperparameter(optimizer: name, detail: detail()) }
    }

    /// The least rank of a parameter this optimizer updates (2 for matrix optimizers such as Muon).
    open var minimumRank: Int { 0 }

    /// Checks that every parameter can be updated; throws naming the first that cannot.
    public func validate(_ parameters: [NamedParameter]) throws {
        if let bad = parameters.first(where: { $0.parameter.value.rank < minimumRank }) {
            throw OptimizerError.invalidHyperparameter(
                optimizer: name,
                detail:
                    "parameter '\(bad.name)' has shape \(bad.parameter.shape); \(name) needs rank >= \(minimumRank) (route it to another optimizer with RoutedOptimizer)"
            )
        }
    }

    /// Names of the per-element state tensors, created at the first update of each parameter.
    open var slotNames: [String] { [] }
    /// Initial values of the per-parameter scalar state.
    open var initialScalars: [Double] { [] }
    /// Names of the per-parameter scalars in saved state.
    open var scalarNames: [String] { [] }
    /// The shape of a slot of a parameter of shape `parameterShape` (the same unless overridden,
    /// as for FISMO's Kronecker factors).
    open func slotShape(_ slot: String, parameterShape: [Int]) -> [Int] { parameterShape }
    /// The initial value of a slot of shape `slotShape(slot, ...)` (zeros unless overridden).
    open func initialSlot(_ slot: String, shape: [Int]) -> Tensor { Tensor.zeros(shape) }
    /// The hyper-parameters besides learning rate and weight decay, for logging.
    open var otherHyperparameters: [String: Double] { [:] }

    /// Called once per `step()` before any parameter is updated, with the parameters that will be
    /// (for optimizers that need global quantities, such as AM's inner products over all tensors).
    open func prepare(_ parameters: [NamedParameter]) {}

    /// Steps parameter `name` has taken.
    func stepCount(_ name: String) -> Int { steps[name, default: 0] }

    /// A state slot of a parameter that has taken at least one step, for `prepare`.
    func stateSlot(_ name: String, _ index: Int) -> UnsafeMutablePointer<Float>? { slotValues[name]?[index].pointer }

    /// Applies one update to one parameter. Subclasses override it.
    open func update(_ u: inout ParameterUpdate) {
        preconditionFailure("\(type(of: self)) does not implement update(_:)")
    }

    public var hyperparameters: [String: Double] {
        var h = otherHyperparameters
        h["lr"] = currentLearningRate
        h["base_lr"] = learningRate
        h["weight_decay"] = weightDecay
        h["maximize"] = maximize ? 1 : 0
        return h
    }

    public var currentLearningRate: Double { learningRate * schedule.factor(at: Swift.max(updates - 1, 0)) }

    /// Learning rate and weight decay of parameter `name` at update `k`.
    public func hyperparameters(
        for name: String, parameter: Parameter, update k: Int
    ) -> (learningRate: Double, weightDecay: Double) {
        let group = groups.first { $0.selects(name) }
        let lr = (group?.learningRate ?? learningRate) * (group?.schedule ?? schedule).factor(at: k)
        let wd = weightDecayMask.excludes(name, parameter) ? 0 : (group?.weightDecay ?? weightDecay)
        return (lr, wd)
    }

    public func step(_ parameters: [NamedParameter]) {
        let active = parameters.filter { !$0.parameter.isFrozen && $0.parameter.grad != nil }
        guard nonFiniteGuard.allowsStep(active, optimizer: name, update: updates) else { return }
        do { try validate(active) } catch { preconditionFailure("\(error)") }
        prepare(active)
        for (name, p) in active {
            let grad = p.grad!
            validated(
                grad.shape == p.shape,
                "\(self.name): gradient of '\(name)' has shape \(grad.shape), the parameter \(p.shape)")
            let step = steps[name, default: 0] + 1
            steps[name] = step
            let slots =
                slotValues[name]
                ?? slotNames.map { StateBuffer(initialSlot($0, shape: slotShape($0, parameterShape: p.shape))) }
            slotValues[name] = slots
            let (lr, wd) = hyperparameters(for: name, parameter: p, update: updates)
            let scalars = scalarValues[name] ?? initialScalars
            let shape = p.shape
            p.value.withUnsafeMutableBufferPointer { pp in
                grad.withUnsafeBufferPointer { gp in
                    var u = ParameterUpdate(
                        name: name, shape: shape, count: pp.count, parameter: pp.baseAddress!,
                        gradient: gp.baseAddress!,
                        slots: slots.map(\.pointer), step: step, learningRate: lr, weightDecay: wd,
                        sign: maximize ? -1 : 1,
                        scalars: scalars)
                    update(&u)
                    scalarValues[name] = u.scalars
                }
            }
        }
        updates += 1
    }

    public func state() -> OptimizerState {
        var slots: [String: Tensor] = [:]
        for (name, values) in slotValues {
            for (slot, value) in zip(slotNames, values) { slots["\(name)/\(slot)"] = value.tensor(shape: value.shape) }
        }
        for (name, values) in scalarValues {
            for (slot, value) in zip(scalarNames, values) {
                slots["\(name)/\(slot)"] = Tensor(shape: [], scalars: [Float(value)])
            }
        }
        return OptimizerState(optimizer: name, learningRate: learningRate, updates: updates, steps: steps, slots: slots)
    }

    public func load(_ state: OptimizerState, for parameters: [NamedParameter]) throws {
        func bad(_ detail: String) -> OptimizerError { .stateMismatch(optimizer: name, detail: detail) }
        guard state.optimizer == name else { throw bad("the state was saved by optimizer '\(state.optimizer)'") }
        let byName = Dictionary(parameters.map { ($0.name, $0.parameter) }, uniquingKeysWith: { a, _ in a })
        var newSlots: [String: [StateBuffer]] = [:], newScalars: [String: [Double]] = [:]
        for (name, count) in state.steps where count > 0 {
            guard let p = byName[name] else {
                throw bad("saved state for parameter '\(name)', which the model does not have")
            }
            newSlots[name] = try slotNames.map { slot in
                guard let t = state.slots["\(name)/\(slot)"] else {
                    throw bad("parameter '\(name)' lacks its saved '\(slot)'")
                }
                let expected = slotShape(slot, parameterShape: p.shape)
                guard t.shape == expected else {
                    throw bad(
                        "parameter '\(name)' of shape \(p.shape) needs its '\(slot)' of shape \(expected), the saved one has \(t.shape)"
                    )
                }
                return StateBuffer(t)
            }
            newScalars[name] = try scalarNames.map { slot in
                guard let t = state.slots["\(name)/\(slot)"], t.count == 1 else {
                    throw bad("parameter '\(name)' lacks its saved '\(slot)'")
                }
                return Double(t.scalars[0])
            }
        }
        let known = Set(slotNames + scalarNames)
        if let stray = state.slots.keys.sorted().first(where: { key in
            let parts = key.split(separator: "/")
            return parts.count < 2 || !known.contains(String(parts.last!))
                || state.steps[parts.dropLast().joined(separator: "/")] == nil
        }) {
            throw bad("unexpected state entry '\(stray)'")
        }
        steps = state.steps
        slotValues = newSlots
        scalarValues = scalarNames.isEmpty ? [:] : newScalars
        updates = state.updates
        learningRate = state.learningRate
    }

    /// Runs `body` over `0..<count` in chunks of `Parallel.elementwiseGrain`, in parallel above one
    /// chunk; chunk boundaries depend on `count` only.
    @inlinable
    public func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain, body)
    }
}

/// Memory of one state slot, owned by the optimizer (stable pointers for the fused passes).
final class StateBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let shape: [Int]
    let count: Int

    init(_ initial: Tensor) {
        shape = initial.shape
        count = initial.count
        pointer = .allocate(capacity: Swift.max(count, 1))
        initial.withUnsafeBufferPointer { if count > 0 { pointer.initialize(from: $0.baseAddress!, count: count) } }
    }

    deinit { pointer.deallocate() }

    func tensor(shape: [Int]) -> Tensor {
        Tensor(shape: shape) { out in if count > 0 { out.baseAddress!.update(from: pointer, count: count) } }
    }
}
