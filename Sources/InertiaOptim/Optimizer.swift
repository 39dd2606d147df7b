import InertiaNN
import InertiaTensor

/// A parameter with the name that keys its optimizer state.
public typealias NamedParameter = (name: String, parameter: Parameter)

/// The interface every optimizer implements.
///
/// `step` updates, in place and without recording gradients, every parameter that has a
/// gradient; a parameter without one (absent, not zero) is skipped and its state does not advance,
/// as PyTorch. State is kept per parameter name, so it can be saved and loaded by name.
public protocol Optimizer: AnyObject {
    /// The registry name (`"sgd"`, `"adamw"`).
    var name: String { get }
    /// The learning rate of the next step (schedules set it).
    var learningRate: Double { get set }
    /// The hyper-parameters in force, for logging.
    var hyperparameters: [String: Double] { get }
    func step(_ parameters: [NamedParameter])
    /// State keyed by parameter name.
    func state() -> OptimizerState
    /// Restores state saved by `state()`; fails naming the parameter whose entry is missing or
    /// has another shape.
    func load(_ state: OptimizerState, for parameters: [NamedParameter]) throws
}

/// Saved optimizer state: per-parameter step counts and state tensors, keyed by name.
public struct OptimizerState: Equatable {
    public static let formatVersion = 1
    public var optimizer: String
    public var learningRate: Double
    /// Steps taken by each parameter.
    public var steps: [String: Int]
    /// State tensors keyed `"<parameter>/<slot>"` (slot: `momentum_buffer`, `exp_avg`, ...).
    public var slots: [String: Tensor]

    public init(optimizer: String, learningRate: Double, steps: [String: Int], slots: [String: Tensor]) {
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.steps = steps
        self.slots = slots
    }
}

public enum OptimizerError: Error, Equatable, CustomStringConvertible {
    case invalidHyperparameter(optimizer: String, detail: String)
    case stateMismatch(optimizer: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidHyperparameter(optimizer, detail): return "\(optimizer): invalid hyper-parameter: \(detail)"
        case let .stateMismatch(optimizer, detail): return "\(optimizer): cannot load state: \(detail)"
        }
    }
}
