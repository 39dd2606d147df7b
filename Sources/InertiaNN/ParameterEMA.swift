import InertiaTensor

extension Module {
    /// A copy of this module with its own parameters and buffers: `make` builds a fresh module of
    /// the same architecture (a subclass's configuration cannot be copied generically, as Python's
    /// `copy.deepcopy` does), which receives this module's values and train / eval mode. Throws a
    /// `ModuleError` naming the first parameter or buffer that does not fit.
    public func cloned<M: Module>(_ make: () throws -> M) throws -> M {
        let copy = try make()
        try copy.loadStateDictionary(Dictionary(uniqueKeysWithValues: stateDictionary().map { ($0.name, $0.value) }))
        if isTraining { copy.train() } else { copy.eval() }
        return copy
    }
}

/// An exponential moving average of a module's parameters, kept in a target module: BYOL's and
/// MSBReg's target network, MAN's EMA copy of the next block, EMA weights of a diffusion model.
/// `update(from: online)` sets every target parameter to `decay · target + (1 − decay) · online`
/// (BYOL's order of operations) in place and copies the buffers. The target's parameters are
/// frozen: no gradient reaches them.
public final class ParameterEMA {
    /// The averaged module.
    public let target: Module
    /// The weight of the old average in each update, in `0...1`.
    public var decay: Float {
        didSet { validated((0...1).contains(decay), "ParameterEMA: decay \(decay) is outside 0...1") }
    }

    /// Averages into `target` (typically `online.cloned { ... }`), which it freezes.
    public init(target: Module, decay: Float) {
        validated((0...1).contains(decay), "ParameterEMA: decay \(decay) is outside 0...1")
        self.target = target
        self.decay = decay
        _ = target.freeze(where: { _ in true })
    }

    /// Moves the average towards `online`'s current parameters and, unless `copyingBuffers` is
    /// false (MAN's average keeps the running statistics of its own forward passes), copies its
    /// buffers. Throws a `ModuleError` naming the first parameter or buffer whose name or shape
    /// differs from the target's; nothing changes then.
    public func update(from online: Module, copyingBuffers: Bool = true) throws {
        let state = Dictionary(uniqueKeysWithValues: online.stateDictionary().map { ($0.name, $0.value) })
        try target.checkStateDictionary(state)
        let keep = decay, take = 1 - decay
        for (name, parameter) in target.namedParameters() {
            state[name]!.withUnsafeBufferPointer { o in
                parameter.value.withUnsafeMutableBufferPointer { t in
                    for i in 0..<t.count { t[i] = t[i] * keep + o[i] * take }
                }
            }
        }
        if copyingBuffers { for (name, buffer) in target.namedBuffers() { buffer.value = state[name]! } }
    }
}
