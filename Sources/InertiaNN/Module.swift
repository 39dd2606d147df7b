import InertiaTensor

/// A trainable tensor owned by a module. A reference type: the module, the optimizer and the
/// training loop all see the one value, which the optimizer updates in place.
public final class Parameter {
    /// The current value, a leaf that requires gradients (unless frozen). Optimizers write it in
    /// place (`value.withUnsafeMutableBufferPointer`); no property observer, which would turn each
    /// in-place write into a copy of the whole tensor. Use `assign` to replace it.
    public var value: Tensor
    /// A frozen parameter gets no gradient and no update.
    public var isFrozen: Bool {
        didSet { value.requiresGrad = !isFrozen }
    }

    public init(_ value: Tensor, isFrozen: Bool = false) {
        self.isFrozen = isFrozen
        self.value = isFrozen ? value.detached() : value.detached().requiringGrad()
    }

    /// The gradient accumulated by the last backward passes.
    public var grad: Tensor? { value.grad }
    public func zeroGrad() { value.zeroGrad() }
    public var shape: [Int] { value.shape }

    /// Replaces the values (same shape), keeping the parameter's identity on the tape.
    public func assign(_ newValue: Tensor) {
        validated(
            newValue.shape == value.shape, "assign: new value has shape \(newValue.shape), the parameter \(value.shape)"
        )
        value.withUnsafeMutableBufferPointer { dst in
            newValue.withUnsafeBufferPointer { src in _ = dst.update(fromContentsOf: src) }
        }
    }
}

/// A non-trainable tensor a module keeps (BatchNorm's running statistics), saved with the weights.
public final class Buffer {
    public var value: Tensor
    public init(_ value: Tensor) { self.value = value.detached() }
}

/// The base of every layer and model: named, nested parameters, train / eval mode.
///
/// A subclass registers its parameters, buffers and children in its initializer
/// (`register(_:as:)`); names nest with dots (`"blocks.0.attention.query.weight"`), as in
/// PyTorch, and are the key for optimizer state, weight-decay masks, routing and weight files.
open class Module {
    private(set) var ownParameters: [(String, Parameter)] = []
    private(set) var ownBuffers: [(String, Buffer)] = []
    private(set) var children: [(String, Module)] = []
    /// Training mode (dropout active, batch statistics used); `eval()` switches it off.
    public private(set) var isTraining = true

    public init() {}

    /// The layer's computation. Subclasses override it.
    open func forward(_ input: Tensor) -> Tensor {
        preconditionFailure("\(type(of: self)) does not implement forward(_:)")
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    @discardableResult
    public func register(_ parameter: Parameter, as name: String) -> Parameter {
        checkName(name)
        ownParameters.append((name, parameter))
        return parameter
    }

    @discardableResult
    public func register(_ buffer: Buffer, as name: String) -> Buffer {
        checkName(name)
        ownBuffers.append((name, buffer))
        return buffer
    }

    @discardableResult
    public func register<M: Module>(_ child: M, as name: String) -> M {
        checkName(name)
        children.append((name, child))
        return child
    }

    private func checkName(_ name: String) {
        validated(!name.isEmpty && !name.contains("."), "Module: bad name '\(name)' (non-empty, no dots)")
        let taken =
            ownParameters.contains { $0.0 == name } || ownBuffers.contains { $0.0 == name }
            || children.contains { $0.0 == name }
        validated(!taken, "Module: the name '\(name)' is registered twice in \(type(of: self))")
    }

    /// Every parameter with its dotted name, depth first in registration order.
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var out = ownParameters.map { (name: prefix + $0.0, parameter: $0.1) }
        for (name, child) in children { out += child.namedParameters(prefix: prefix + name + ".") }
        return out
    }

    /// Every buffer with its dotted name.
    public func namedBuffers(prefix: String = "") -> [(name: String, buffer: Buffer)] {
        var out = ownBuffers.map { (name: prefix + $0.0, buffer: $0.1) }
        for (name, child) in children { out += child.namedBuffers(prefix: prefix + name + ".") }
        return out
    }

    /// Every submodule with its dotted name (the module itself as `""`).
    public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
        var out: [(name: String, module: Module)] = [
            (name: prefix.isEmpty ? "" : String(prefix.dropLast()), module: self)
        ]
        for (name, child) in children { out += child.namedModules(prefix: prefix + name + ".") }
        return out
    }

    public var parameters: [Parameter] { namedParameters().map(\.parameter) }

    /// Number of scalars in all parameters (trainable only, unless asked).
    public func parameterCount(includingFrozen: Bool = false) -> Int {
        parameters.filter { includingFrozen || !$0.isFrozen }.reduce(0) { $0 + $1.value.count }
    }

    /// Switches this module and its children to training mode.
    public func train() { setTraining(true) }
    /// Switches this module and its children to evaluation mode.
    public func eval() { setTraining(false) }

    private func setTraining(_ on: Bool) {
        isTraining = on
        for (_, child) in children { child.setTraining(on) }
    }

    /// Freezes (or unfreezes) every parameter whose name satisfies `predicate`; returns their names.
    @discardableResult
    public func freeze(where predicate: (String) -> Bool, frozen: Bool = true) -> [String] {
        namedParameters().filter { predicate($0.name) }.map { entry in
            entry.parameter.isFrozen = frozen
            return entry.name
        }
    }

    public func zeroGradients() { for p in parameters { p.zeroGrad() } }

    /// Parameters and buffers by name (the content of a weight file).
    public func stateDictionary() -> [(name: String, value: Tensor)] {
        namedParameters().map { ($0.name, $0.parameter.value.detached()) }
            + namedBuffers().map { ($0.name, $0.buffer.value) }
    }

    /// Checks that `state` fits this module: every parameter and buffer name present with its
    /// shape, and (when `strict`) no other names. Throws naming the first entry that does not fit.
    public func checkStateDictionary(_ state: [String: Tensor], strict: Bool = true) throws {
        var expected: [String: [Int]] = [:]
        for (name, p) in namedParameters() { expected[name] = p.shape }
        for (name, b) in namedBuffers() { expected[name] = b.value.shape }
        for (name, shape) in expected.sorted(by: { $0.key < $1.key }) {
            guard let t = state[name] else { throw ModuleError.missingEntry(name) }
            guard t.shape == shape else { throw ModuleError.shapeMismatch(name: name, expected: shape, found: t.shape) }
        }
        if strict, let extra = state.keys.sorted().first(where: { expected[$0] == nil }) {
            throw ModuleError.unexpectedEntry(extra)
        }
    }

    /// Loads parameters and buffers by name (see `checkStateDictionary`). Nothing is changed when
    /// it throws.
    public func loadStateDictionary(_ state: [String: Tensor], strict: Bool = true) throws {
        try checkStateDictionary(state, strict: strict)
        let params = namedParameters(), buffers = namedBuffers()
        for (name, p) in params { p.assign(state[name]!) }
        for (name, b) in buffers { b.value = state[name]!.detached() }
    }
}

/// A state dictionary that does not fit the module: a missing, unexpected or wrongly shaped tensor.
public enum ModuleError: Error, Equatable, CustomStringConvertible {
    case missingEntry(String)
    case unexpectedEntry(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingEntry(let name): return "no entry for parameter '\(name)'"
        case .unexpectedEntry(let name): return "unexpected entry '\(name)' (no such parameter or buffer in the model)"
        case .shapeMismatch(let name, let expected, let found):
            return "parameter '\(name)' has shape \(expected) in the model but \(found) in the file"
        }
    }
}
