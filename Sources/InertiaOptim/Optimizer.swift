import Foundation
import InertiaNN
import InertiaTensor

/// A parameter with the name that keys its optimizer state.
public typealias NamedParameter = (name: String, parameter: Parameter)

/// The interface every optimizer implements.
///
/// `step` updates, in place and without recording gradients, every parameter that has a
/// gradient; a parameter without one (absent, not zero) is skipped and its state does not
/// advance, as in PyTorch. State is kept per parameter name, so it is saved and loaded by name.
public protocol Optimizer: AnyObject {
    /// The registry name (`"sgd"`, `"adamw"`).
    var name: String { get }
    /// The base learning rate (schedules multiply it).
    var learningRate: Double { get set }
    /// The learning rate the last step used for parameters of the default group.
    var currentLearningRate: Double { get }
    /// The hyper-parameters in force, for logging.
    var hyperparameters: [String: Double] { get }
    /// The learning-rate schedule, a factor of the base rate by update.
    var schedule: Schedule { get set }
    /// Parameters that take no weight decay.
    var weightDecayMask: WeightDecayMask { get set }
    /// What `step` does with a gradient holding NaN or infinite entries.
    var nonFiniteGradients: NonFiniteGradientPolicy { get set }
    /// The error of the last `step()` under the `.stop` policy, nil after a step that updated.
    var nonFiniteError: OptimizerError? { get }
    /// Calls of `step()` skipped under the `.skip` policy.
    var skippedUpdates: Int { get }
    /// Checks that every parameter can be updated (a matrix optimizer refuses vectors); throws
    /// naming the first that cannot. `step` on such a parameter is a programming error.
    func validate(_ parameters: [NamedParameter]) throws
    func step(_ parameters: [NamedParameter])
    /// Whether it steps from the model's outputs on the batch (SSO) rather than from parameter
    /// gradients; the Trainer then calls `step(_:outputs:lossGradient:)` once per batch.
    var stepsFromOutputs: Bool { get }
    /// One step from the batch's outputs: `outputs()` evaluates the model on the batch (with
    /// gradients recorded) and `lossGradient(z)` is the loss's gradient at outputs `z`.
    func step(_ parameters: [NamedParameter], outputs: () -> Tensor, lossGradient: (Tensor) -> Tensor)
    /// State keyed by parameter name.
    func state() -> OptimizerState
    /// Restores state saved by `state()`; fails naming the parameter whose entry is missing or
    /// has another shape, and changes nothing then.
    func load(_ state: OptimizerState, for parameters: [NamedParameter]) throws
}

extension Optimizer {
    public var stepsFromOutputs: Bool { false }

    /// The chain rule: the parameter gradients `Jᵀ ∂L/∂z` from one backward pass through the
    /// outputs, then `step(parameters)`.
    public func step(_ parameters: [NamedParameter], outputs: () -> Tensor, lossGradient: (Tensor) -> Tensor) {
        for (_, p) in parameters { p.zeroGrad() }
        let z = withGradients { outputs() }
        let g = lossGradient(z.detached())
        withGradients { (z * g).sum().backward() }
        step(parameters)
    }
}

/// What to do when a gradient has NaN or infinite entries.
public enum NonFiniteGradientPolicy: Sendable {
    /// No check (PyTorch's behaviour, and the fastest).
    case ignore
    /// Leave every parameter and state unchanged for this `step()` and count it in `skippedUpdates`.
    case skip
    /// Stop: `step()` records the error in `nonFiniteError` and changes nothing.
    case stop
}

/// The non-finite gradient policy of one optimizer, applied before each step.
struct NonFiniteGradientGuard {
    var policy = NonFiniteGradientPolicy.ignore
    var skipped = 0
    var error: OptimizerError?

    /// Whether the step over `active` (the parameters with a gradient) may go on; records a
    /// skipped step or the error otherwise.
    mutating func allowsStep(_ active: [NamedParameter], optimizer: String, update: Int) -> Bool {
        allows(active.map { ($0.name, $0.parameter.grad!) }, optimizer: optimizer, update: update)
    }

    /// Whether a step from these named gradients may go on (`allowsStep` for gradients that
    /// belong to no parameter, such as a loss gradient in output space).
    mutating func allows(_ gradients: [(name: String, gradient: Tensor)], optimizer: String, update: Int) -> Bool {
        error = nil
        guard policy != .ignore, let bad = gradients.first(where: { !Self.isFinite($0.gradient) }) else {
            return true
        }
        if policy == .skip {
            skipped += 1
        } else {
            error = .nonFiniteGradient(optimizer: optimizer, parameter: bad.name, update: update)
        }
        return false
    }

    static func isFinite(_ t: Tensor) -> Bool {
        t.withUnsafeBufferPointer { p in
            var acc: Float = 0
            for x in p { acc += x * 0 }
            return acc == 0
        }
    }
}

/// Saved optimizer state: the number of `step()` calls (the schedule position), per-parameter
/// step counts and per-parameter state tensors, all keyed by parameter name.
public struct OptimizerState: Equatable {
    public static let formatVersion = 1
    public var optimizer: String
    public var learningRate: Double
    /// Calls of `step()` so far.
    public var updates: Int
    /// Steps taken by each parameter.
    public var steps: [String: Int]
    /// State tensors keyed `"<parameter>/<slot>"` (slot: `momentum_buffer`, `exp_avg`, ...).
    public var slots: [String: Tensor]

    public init(
        optimizer: String, learningRate: Double, updates: Int = 0, steps: [String: Int], slots: [String: Tensor]
    ) {
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.updates = updates
        self.steps = steps
        self.slots = slots
    }

    /// Writes the state as a safetensors file (atomically): the tensors under their keys, the
    /// rest in the metadata with a format version.
    public func write(to path: String) throws {
        let steps = String(decoding: try JSONEncoder.sorted.encode(self.steps), as: UTF8.self)
        let metadata = [
            "format": "inertia-optimizer-state", "format_version": String(Self.formatVersion), "optimizer": optimizer,
            "learning_rate": String(learningRate.bitPattern), "updates": String(updates), "steps": steps,
        ]
        try SafeTensors.write(
            SafeTensors.File(
                tensors: slots.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) },
                metadata: metadata), to: path)
    }

    public static func read(_ path: String) throws -> OptimizerState {
        try decode(SafeTensors.read(path), source: path)
    }

    /// The state in a decoded safetensors file (`source` names it in errors).
    public static func decode(_ file: SafeTensors.File, source path: String) throws -> OptimizerState {
        let m = file.metadata
        func bad(_ detail: String) -> OptimizerError {
            .stateMismatch(optimizer: m["optimizer"] ?? "?", detail: "\(path): \(detail)")
        }
        guard m["format"] == "inertia-optimizer-state" else { throw bad("not an Inertia optimizer state file") }
        guard m["format_version"] == String(formatVersion) else {
            throw bad(
                "format version \(m["format_version"] ?? "none") is not supported (this build reads \(formatVersion))")
        }
        guard let optimizer = m["optimizer"], let lr = m["learning_rate"].flatMap(UInt64.init),
            let updates = m["updates"].flatMap(Int.init),
            let stepsText = m["steps"],
            let steps = try? JSONDecoder().decode([String: Int].self, from: Data(stepsText.utf8))
        else { throw bad("malformed metadata") }
        return OptimizerState(
            optimizer: optimizer, learningRate: Double(bitPattern: lr), updates: updates, steps: steps,
            slots: file.dictionary)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }
}

/// An optimizer's refusal: a hyper-parameter out of range or of the wrong kind, state that does not fit the
/// parameters, a non-finite gradient under the `.stop` policy, a preconditioner built without its model.
public enum OptimizerError: Error, Equatable, CustomStringConvertible {
    case invalidHyperparameter(optimizer: String, detail: String)
    case stateMismatch(optimizer: String, detail: String)
    case nonFiniteGradient(optimizer: String, parameter: String, update: Int)
    case needsModel(optimizer: String)

    public var description: String {
        switch self {
        case .invalidHyperparameter(let optimizer, let detail):
            return "\(optimizer): invalid hyper-parameter: \(detail)"
        case .stateMismatch(let optimizer, let detail): return "\(optimizer): cannot load state: \(detail)"
        case .nonFiniteGradient(let optimizer, let parameter, let update):
            return "\(optimizer): the gradient of '\(parameter)' has NaN or infinite entries at update \(update + 1)"
        case .needsModel(let optimizer):
            return "\(optimizer): needs the model (it attaches to the model's layers): build it with `model:`"
        }
    }
}
