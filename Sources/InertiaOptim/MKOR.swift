import Foundation
import InertiaNN
import InertiaTensor

/// MKOR (M. Mozaffari, S. Li, Z. Zhang, M. Mehri Dehnavi, "MKOR: Momentum-Enabled Kronecker-Factor-
/// Based Optimizer Using Rank-1 Updates", NeurIPS 2023; official code `Mohammad-Mozaffari/mkor`, as
/// `shared/papers/mkor.md` 2.2–2.7 reads it). A preconditioner around a first-order optimizer:
/// each `Linear` / `Conv2d` keeps inverse Kronecker factors `L⁻¹` (output side) and `R⁻¹` (input
/// side, with the bias column), refreshed every `inverseFrequency` steps by one Sherman–Morrison
/// update with the batch-mean vectors `ḡ`, `ā` (`LayerStatistics`, recorded in the ordinary
/// forward and backward passes), and every step the weight gradient `∇Ŵ = [∇W | ∇b]` becomes
///
///     V = L⁻¹ ∇Ŵ R⁻¹,   ∇Ŵ ← V · (‖∇W‖ + ‖∇b‖) / (‖V_W‖ + ‖V_b‖)
///
/// before the wrapped optimizer steps (its momentum acting on the preconditioned gradient).
/// Other parameters pass through. MKOR-H: set `hybrid`, report losses with `record(loss:)`, and
/// once second-order steps stop paying off the base optimizer continues alone, with its state.
public final class MKOR: Optimizer {
    /// How the inverse factors are refreshed.
    public enum FactorUpdate: Sendable, Equatable {
        /// The official code (2.2): `P⁻¹ ← SM(0.95·P⁻¹ + 0.05·I, v)`; when any entry of either
        /// inverse exceeds 2, both are reset to `I` at the next round. Both start flagged, so the
        /// first round installs identities.
        case officialCode
        /// The paper's EMA `P ← γP + (1−γ)vvᵀ` inverted exactly by Sherman–Morrison (2.3), after
        /// the stabiliser `P⁻¹ ← ζP⁻¹ + (1−ζ)I` when `max|P⁻¹| > threshold` (ζ, threshold: the spec
        /// writer's choice). Starts from `P = I`.
        case paperEMA(decay: Double, blend: Double, threshold: Double)

        public static let paperDefaults = FactorUpdate.paperEMA(decay: 0.95, blend: 0.9, threshold: 2)
    }

    /// One preconditioned layer.
    public final class Layer {
        public let name: String
        public let weight: Parameter
        public let bias: Parameter?
        public let statistics: LayerStatistics
        /// `[d_out, d_out]`.
        public internal(set) var leftInverse: Tensor
        /// `[d_in (+1 with a bias), same]`.
        public internal(set) var rightInverse: Tensor
        /// Reset flags of the right (input) and left (output) side: set, the next round installs `I`.
        var resetPending = (right: true, left: true)

        init(name: String, weight: Parameter, bias: Parameter?, statistics: LayerStatistics) {
            self.name = name
            self.weight = weight
            self.bias = bias
            self.statistics = statistics
            let rows = weight.shape[0], columns = weight.value.count / rows + (bias == nil ? 0 : 1)
            leftInverse = Tensor.eye(rows)
            rightInverse = Tensor.eye(columns)
        }

        var outputSize: Int { leftInverse.shape[0] }
        var inputSize: Int { rightInverse.shape[0] }
        var weightName: String { name.isEmpty ? "weight" : "\(name).weight" }
        var biasName: String { name.isEmpty ? "bias" : "\(name).bias" }
    }

    public let base: Optimizer
    public let layers: [Layer]
    public let inverseFrequency: Int
    public let warmupSteps: Int
    public let factorUpdate: FactorUpdate
    /// The switching rule of MKOR-H; `nil`: plain MKOR.
    public var hybrid: HybridSwitch?
    /// Data parallelism: averages a statistics vector over the workers (an MPI all-reduce), called
    /// at each factor round with all input vectors, then with all output-gradient vectors.
    public var statisticsReducer: (([Float]) -> [Float])?
    /// Calls of `step()` so far.
    public private(set) var updates = 0
    /// Factor rounds in which a reset was triggered (in Float32 a reset indicates a bug, 7).
    public private(set) var resets = 0
    /// The update at which MKOR-H handed over to the base optimizer.
    public private(set) var switchedAt: Int?
    private var nonFiniteGuard = NonFiniteGradientGuard()

    /// Wraps `base` around every `Linear` and `Conv2d` of `model` whose module name `excluded`
    /// does not select (the code's `sgd_layers`: a huge output projection, say), attaching
    /// `LayerStatistics` to them. Grouped convolutions are rejected.
    public init(
        model: Module, base: Optimizer, inverseFrequency: Int = 10, warmupSteps: Int = 0, clip: Float = 100,
        factorUpdate: FactorUpdate = .officialCode, excluded: (String) -> Bool = { _ in false }
    ) throws {
        func bad(_ detail: String) -> OptimizerError { .invalidHyperparameter(optimizer: "mkor", detail: detail) }
        guard inverseFrequency >= 1 else { throw bad("inverse frequency must be >= 1, got \(inverseFrequency)") }
        guard warmupSteps >= 0 else { throw bad("warmup steps must be >= 0, got \(warmupSteps)") }
        guard clip > 0 else { throw bad("clip must be > 0, got \(clip)") }
        if case .paperEMA(let decay, let blend, let threshold) = factorUpdate {
            guard decay > 0 && decay < 1 else { throw bad("factor decay must lie in (0, 1), got \(decay)") }
            guard (0...1).contains(blend) && threshold > 0 else {
                throw bad("stabiliser needs blend in [0, 1] and threshold > 0")
            }
        }
        var layers: [Layer] = []
        for (name, module) in model.namedModules() where !excluded(name) {
            let statistics = LayerStatistics(clip: clip)
            if let linear = module as? Linear {
                linear.statistics = statistics
                layers.append(Layer(name: name, weight: linear.weight, bias: linear.bias, statistics: statistics))
            } else if let conv = module as? Conv2d {
                guard conv.groups == 1 else {
                    throw bad(
                        "convolution '\(name)' has \(conv.groups) groups; MKOR preconditions groups == 1 only (exclude it)"
                    )
                }
                conv.statistics = statistics
                layers.append(Layer(name: name, weight: conv.weight, bias: conv.bias, statistics: statistics))
            }
        }
        self.base = base
        self.layers = layers
        self.inverseFrequency = inverseFrequency
        self.warmupSteps = warmupSteps
        self.factorUpdate = factorUpdate
        if factorUpdate != .officialCode { for layer in layers { layer.resetPending = (false, false) } }
    }

    /// The hyper-parameters, declared once; the base optimizer's come from its own entry.
    public struct Configuration: WrappingConfiguration {
        /// How the factors are refreshed, by name.
        public enum FactorRule: String, CaseIterable, Sendable {
            case officialCode = "official-code"
            case paperEMA = "paper-ema"
        }

        public var base = "sgd"
        public var inverseFrequency = 10
        public var warmupSteps = 0
        public var clip = 100.0
        public var factorRule = FactorRule.officialCode

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .name("base", \.base, "the registered optimizer MKOR wraps (its hyper-parameters are set alongside)"),
                .integer("inv_freq", \.inverseFrequency, "refresh the inverse factors every this many steps"),
                .integer("warmup_steps", \.warmupSteps, "refresh them at every step before this one"),
                .number("clip", \.clip, "clamp of the recorded layer statistics"),
                .choice("factor_update", \.factorRule, "the official code's update or the paper's EMA (spec 2.2, 2.3)"),
            ]
        }
    }

    /// MKOR around `base` for `model` with `configuration`'s settings.
    public convenience init(_ configuration: Configuration, base: Optimizer, model: Module) throws {
        try self.init(
            model: model, base: base, inverseFrequency: configuration.inverseFrequency,
            warmupSteps: configuration.warmupSteps, clip: Float(configuration.clip),
            factorUpdate: configuration.factorRule == .officialCode ? .officialCode : .paperDefaults)
    }

    public static let registryEntry = OptimizerEntry(
        name: "mkor",
        summary:
            "MKOR: rank-1 Kronecker-factored preconditioning of every Linear / Conv2d layer around a base optimizer (needs the model)",
        paper: "Mozaffari, Li, Zhang & Mehri Dehnavi, NeurIPS 2023",
        configuration: Configuration.self
    ) { configuration, base, model in try MKOR(configuration, base: base, model: model) }

    public var name: String { "mkor" }
    public var learningRate: Double {
        get { base.learningRate }
        set { base.learningRate = newValue }
    }
    public var currentLearningRate: Double { base.currentLearningRate }
    public var hyperparameters: [String: Double] {
        var h = base.hyperparameters
        h["inv_freq"] = Double(inverseFrequency)
        h["warmup_steps"] = Double(warmupSteps)
        return h
    }

    /// The base optimizer's schedule.
    public var schedule: Schedule {
        get { base.schedule }
        set { base.schedule = newValue }
    }

    /// The base optimizer's mask.
    public var weightDecayMask: WeightDecayMask {
        get { base.weightDecayMask }
        set { base.weightDecayMask = newValue }
    }

    /// Applied to the raw gradients, before preconditioning.
    public var nonFiniteGradients: NonFiniteGradientPolicy {
        get { nonFiniteGuard.policy }
        set { nonFiniteGuard.policy = newValue }
    }
    public var nonFiniteError: OptimizerError? { nonFiniteGuard.error }
    public var skippedUpdates: Int { nonFiniteGuard.skipped }

    public func validate(_ parameters: [NamedParameter]) throws { try base.validate(parameters) }

    /// Whether step `k` (0-based) refreshes the factors.
    func isFactorRound(_ k: Int) -> Bool { k % inverseFrequency == 0 || k < warmupSteps }

    /// The concatenated `ā` (with the bias 1) and `ḡ` of every layer that recorded both.
    public func statisticsVectors() -> (inputs: [Float], outputGradients: [Float]) {
        var inputs: [Float] = [], outputGradients: [Float] = []
        for layer in layers {
            guard let a = layer.statistics.inputMean, let g = layer.statistics.outputGradientMean else { continue }
            inputs += a.scalars + (layer.bias == nil ? [] : [1])
            outputGradients += g.scalars
        }
        return (inputs, outputGradients)
    }

    /// Reports the training loss of the step just taken (MKOR-H's switching rule reads it).
    public func record(loss: Double) {
        guard switchedAt == nil, var rule = hybrid else { return }
        rule.observe(loss: loss, update: updates)
        hybrid = rule
    }

    public func step(_ parameters: [NamedParameter]) {
        let active = parameters.filter { !$0.parameter.isFrozen && $0.parameter.grad != nil }
        guard nonFiniteGuard.allowsStep(active, optimizer: name, update: updates) else { return }
        if switchedAt == nil, let rule = hybrid, rule.shouldSwitch(atUpdate: updates) {
            switchedAt = updates
            for layer in layers {
                layer.statistics.isRecording = false
                layer.statistics.reset()
            }
        }
        if switchedAt == nil {
            if isFactorRound(updates) { refreshFactors() }
            for layer in layers { preconditionGradients(of: layer) }
        }
        base.step(parameters)
        updates += 1
        if switchedAt == nil {
            for layer in layers { layer.statistics.isRecording = isFactorRound(updates) }
        }
    }

    private func refreshFactors() {
        let recorded = layers.filter { $0.statistics.inputMean != nil && $0.statistics.outputGradientMean != nil }
        var (inputs, outputGradients) = statisticsVectors()
        if let reduce = statisticsReducer {
            inputs = reduce(inputs)
            outputGradients = reduce(outputGradients)
        }
        var i = 0, o = 0
        for layer in recorded {
            let a = Array(inputs[i..<(i + layer.inputSize)]), g = Array(outputGradients[o..<(o + layer.outputSize)])
            i += layer.inputSize
            o += layer.outputSize
            updateFactors(layer, input: a, outputGradient: g)
        }
        for layer in layers { layer.statistics.reset() }
    }

    /// One factor round of one layer from given vectors `ā` (with the bias 1) and `ḡ`, input
    /// side first (2.2 / 2.3); `step` calls it with the recorded statistics.
    public func updateFactors(_ layer: Layer, input a: [Float], outputGradient g: [Float]) {
        switch factorUpdate {
        case .officialCode:
            // The input side first: a trigger there resets the output side in this same round.
            let right = Self.officialRound(layer.rightInverse, reset: layer.resetPending.right, a)
            layer.rightInverse = right.inverse
            layer.resetPending.right = false
            if right.tooLarge { flagReset(layer) }
            let left = Self.officialRound(layer.leftInverse, reset: layer.resetPending.left, g)
            layer.leftInverse = left.inverse
            layer.resetPending.left = false
            if left.tooLarge { flagReset(layer) }
        case .paperEMA(let decay, let blend, let threshold):
            for side in [true, false] {
                var inverse = side ? layer.rightInverse : layer.leftInverse
                if Double(Self.maxAbs(inverse)) > threshold {
                    inverse = Self.blendedWithIdentity(inverse, Float(blend))
                }
                let updated = Self.exponentialAverageInverse(inverse, side ? a : g, decay: decay)
                if side { layer.rightInverse = updated } else { layer.leftInverse = updated }
            }
        }
    }

    private func flagReset(_ layer: Layer) {
        layer.resetPending = (true, true)
        resets += 1
    }

    /// One side of the official round: `I` when flagged, else `SM(0.95·P⁻¹ + 0.05·I, v)`, and
    /// whether an entry of the result exceeds 2.
    static func officialRound(_ inverse: Tensor, reset: Bool, _ v: [Float]) -> (inverse: Tensor, tooLarge: Bool) {
        if reset { return (Tensor.eye(inverse.shape[0]), false) }
        let updated = shermanMorrison(blendedWithIdentity(inverse, 0.95), v)
        return (updated, maxAbs(updated) > 2)
    }

    /// Replaces the layer's gradients by the rescaled `L⁻¹ ∇Ŵ R⁻¹` (2.4).
    public func preconditionGradients(of layer: Layer) {
        guard let gradW = layer.weight.grad else { return }
        let gradB = layer.bias?.grad
        if layer.bias != nil && gradB == nil { return }
        withoutGradients {
            let rows = layer.outputSize
            var combined = gradW.reshaped(to: [rows, -1])
            if let gradB { combined = Tensor.concatenate([combined, gradB.reshaped(to: [rows, 1])], alongAxis: 1) }
            let v = Tensor.matmul(Tensor.matmul(layer.leftInverse, combined), layer.rightInverse)
            let columns = gradW.count / rows
            let vW = gradB == nil ? v : v.slice(alongAxis: 1, 0..<columns)
            let vB = gradB == nil ? nil : v.slice(alongAxis: 1, columns..<(columns + 1))
            let before = Double(gradW.norm().item) + Double(gradB?.norm().item ?? 0)
            let after = Double(vW.norm().item) + Double(vB?.norm().item ?? 0)
            let s = before / after
            guard !s.isNaN else { return }
            layer.weight.value.grad = (vW * Float(s)).reshaped(to: gradW.shape)
            if let vB, let b = layer.bias { b.value.grad = (vB * Float(s)).reshaped(to: b.shape) }
        }
    }

    /// `SM(P, v) = P − (Pv)(vᵀP) / (1 + vᵀPv)`: `(P⁻¹ + vvᵀ)⁻¹` from `P`, in `O(d²)`.
    public static func shermanMorrison(_ p: Tensor, _ v: [Float]) -> Tensor {
        let d = v.count
        precondition(p.shape == [d, d], "MKOR: Sherman-Morrison needs a \(d)x\(d) matrix, got \(p.shape)")
        return p.withUnsafeBufferPointer { pp in
            var pv = [Double](repeating: 0, count: d), vp = [Double](repeating: 0, count: d)
            for i in 0..<d {
                var s = 0.0
                for j in 0..<d {
                    s += Double(pp[i * d + j]) * Double(v[j])
                    vp[j] += Double(v[i]) * Double(pp[i * d + j])
                }
                pv[i] = s
            }
            var quadratic = 1.0
            for i in 0..<d { quadratic += Double(v[i]) * pv[i] }
            return Tensor(shape: [d, d]) { out in
                for i in 0..<d {
                    let scaled = pv[i] / quadratic
                    for j in 0..<d { out[i * d + j] = Float(Double(pp[i * d + j]) - scaled * vp[j]) }
                }
            }
        }
    }

    /// `(γ·P + (1−γ)·vvᵀ)⁻¹` from `P⁻¹` (the corrected form of the paper's Algorithm 1, 2.3).
    public static func exponentialAverageInverse(_ inverse: Tensor, _ v: [Float], decay gamma: Double) -> Tensor {
        // SM(X, u) = (X⁻¹ + uuᵀ)⁻¹ with X = P⁻¹/γ and u = sqrt(1−γ)·v.
        let w = v.map { Float((1 - gamma).squareRoot() * Double($0)) }
        return shermanMorrison(inverse * Float(1 / gamma), w)
    }

    static func blendedWithIdentity(_ p: Tensor, _ weight: Float) -> Tensor {
        p * weight + Tensor.eye(p.shape[0]) * (1 - weight)
    }

    static func maxAbs(_ t: Tensor) -> Float { t.scalars.reduce(0) { Swift.max($0, Swift.abs($1)) } }

    public func state() -> OptimizerState {
        var s = base.state()
        s.slots["mkor/updates"] = Tensor(shape: [], scalars: [Float(updates)])
        s.slots["mkor/switched_at"] = Tensor(shape: [], scalars: [Float(switchedAt ?? -1)])
        for layer in layers {
            s.slots["mkor/\(layer.name)/left_inverse"] = layer.leftInverse
            s.slots["mkor/\(layer.name)/right_inverse"] = layer.rightInverse
            s.slots["mkor/\(layer.name)/reset_pending"] = Tensor([
                layer.resetPending.right ? 1 : 0, layer.resetPending.left ? 1 : 0,
            ])
        }
        if let hybrid {
            for (key, value) in hybrid.state {
                s.slots["mkor/hybrid/\(key)"] = Tensor(shape: [], scalars: [Float(value)])
            }
        }
        return s
    }

    public func load(_ state: OptimizerState, for parameters: [NamedParameter]) throws {
        func bad(_ detail: String) -> OptimizerError { .stateMismatch(optimizer: name, detail: detail) }
        func scalar(_ key: String) throws -> Float {
            guard let t = state.slots["mkor/\(key)"], t.count == 1 else {
                throw bad("the state lacks 'mkor/\(key)' (not saved by MKOR?)")
            }
            return t.scalars[0]
        }
        var loaded: [(Layer, Tensor, Tensor, (right: Bool, left: Bool))] = []
        for layer in layers {
            let left = state.slots["mkor/\(layer.name)/left_inverse"],
                right = state.slots["mkor/\(layer.name)/right_inverse"]
            guard let left, let right, left.shape == layer.leftInverse.shape, right.shape == layer.rightInverse.shape
            else {
                throw bad(
                    "layer '\(layer.name)' needs inverse factors of shapes \(layer.leftInverse.shape) and \(layer.rightInverse.shape)"
                )
            }
            guard let flags = state.slots["mkor/\(layer.name)/reset_pending"], flags.count == 2 else {
                throw bad("the state lacks the reset flags of layer '\(layer.name)'")
            }
            loaded.append((layer, left, right, (flags.scalars[0] != 0, flags.scalars[1] != 0)))
        }
        let newUpdates = Int(try scalar("updates")), switched = Int(try scalar("switched_at"))
        var hybridState: [String: Double] = [:]
        for (key, value) in state.slots where key.hasPrefix("mkor/hybrid/") {
            hybridState[String(key.dropFirst(12))] = Double(value.scalars[0])
        }
        var baseState = state
        baseState.slots = state.slots.filter { !$0.key.hasPrefix("mkor/") }
        try base.load(baseState, for: parameters)
        for (layer, left, right, reset) in loaded {
            layer.leftInverse = left
            layer.rightInverse = right
            layer.resetPending = reset
        }
        updates = newUpdates
        switchedAt = switched < 0 ? nil : switched
        if hybrid != nil { hybrid!.state = hybridState }
        for layer in layers { layer.statistics.isRecording = switchedAt == nil && isFactorRound(updates) }
    }
}

/// MKOR-H's hand-over rule (`mkor.md` 2.6; the paper's exact rule was not retrieved, this is the
/// spec's defensible version): an EMA of the training loss; every `window` updates the per-update
/// decrease `r` over the window; switch when `r < ratio·r*` (`r*` the best so far) for
/// `patience` consecutive windows, or at `switchStep`.
public struct HybridSwitch: Sendable, Equatable {
    public var lossDecay: Double, window: Int, ratio: Double, patience: Int, switchStep: Int?
    private(set) var average: Double?, windowStart: Double?, bestRate = 0.0, lowWindows = 0

    public init(
        lossDecay: Double = 0.98, window: Int = 100, ratio: Double = 0.1, patience: Int = 2, switchStep: Int? = nil
    ) {
        self.lossDecay = lossDecay
        self.window = window
        self.ratio = ratio
        self.patience = patience
        self.switchStep = switchStep
    }

    mutating func observe(loss: Double, update: Int) {
        guard loss.isFinite else { return }
        average = average.map { lossDecay * $0 + (1 - lossDecay) * loss } ?? loss
        if windowStart == nil { windowStart = average }
        // `update` steps have been taken; a window closes every `window` of them.
        guard update > 0, update % window == 0, let start = windowStart, let now = average else { return }
        let rate = (start - now) / Double(window)
        if rate < ratio * bestRate { lowWindows += 1 } else { lowWindows = 0 }
        bestRate = Swift.max(bestRate, rate)
        windowStart = now
    }

    func shouldSwitch(atUpdate update: Int) -> Bool {
        if let switchStep, update >= switchStep { return true }
        return lowWindows >= patience
    }

    var state: [String: Double] {
        get {
            [
                "average": average ?? .nan, "window_start": windowStart ?? .nan, "best_rate": bestRate,
                "low_windows": Double(lowWindows),
            ]
        }
        set {
            average = newValue["average"].flatMap { $0.isNaN ? nil : $0 }
            windowStart = newValue["window_start"].flatMap { $0.isNaN ? nil : $0 }
            bestRate = newValue["best_rate"] ?? 0
            lowWindows = Int(newValue["low_windows"] ?? 0)
        }
    }
}
