import Foundation
import InertiaNN
import InertiaTensor

/// Adaptive-memory momentum (Topollai & Choromanska, "Adaptive Memory Momentum via a Model-Based
/// Framework for Deep Learning Optimization", AISTATS 2026, arXiv 2510.04988), as reconstructed by
/// `shared/papers/adaptive-memory-momentum.md` (no official code; the marked choices are the
/// spec's): a proximal step on the maximum of two planes, one through the gradient and one through
/// the memory `d`, whose dual weight is an online momentum coefficient
///
///     β_t = clip(((1+λ)(f̂ − f)/η + ⟨g + λd, g − d⟩) / ‖g − d‖², 0, 1)
///     d ← ((β_t + λ) d + (1 − β_t) g) / (1 + λ)
///
/// with one β per step for the whole parameter set (sums over all tensors, in Double).
public enum AdaptiveMemory {
    /// Where the memory plane sits at the current point (spec 2.4).
    public enum Bias: String, CaseIterable, Sendable {
        /// Option A (default): `f̂ = f`; no loss values needed.
        case current
        /// Option B: the aggregated linearisation, tracked from the losses given to the optimizer.
        case aggregated
    }

    /// β from the sums `numerator = (1+λ)(f̂ − f)/η + Σ⟨g + λd, g − d⟩` and
    /// `denominator = Σ‖g − d‖²`; a vanishing denominator gives 1 when `f̂ > f`, else 0.
    public static func beta(numerator: Double, denominator: Double, scale: Double, biasGap: Double) -> Double {
        if denominator <= 1e-30 * scale || denominator == 0 { return biasGap > 0 ? 1 : 0 }
        return Swift.min(1, Swift.max(0, numerator / denominator))
    }

    /// Three sums over `count` elements in the fused passes' chunks: `chunk(range)` returns each
    /// chunk's three partial sums, combined in Double in chunk order, so β does not depend on the
    /// thread count.
    static func chunkSums(_ count: Int, _ chunk: (Range<Int>) -> (Double, Double, Double)) -> (Double, Double, Double) {
        let grain = Parallel.elementwiseGrain
        let chunks = (count + grain - 1) / grain
        var partials = [Double](repeating: 0, count: 3 * chunks)
        partials.withUnsafeMutableBufferPointer { out in
            Parallel.forEachRange(count: count, grain: grain) { range in
                let (a, b, c) = chunk(range)
                let k = range.lowerBound / grain
                out[3 * k] = a
                out[3 * k + 1] = b
                out[3 * k + 2] = c
            }
        }
        var total = (0.0, 0.0, 0.0)
        for k in 0..<chunks {
            total.0 += partials[3 * k]
            total.1 += partials[3 * k + 1]
            total.2 += partials[3 * k + 2]
        }
        return total
    }

    /// The closed form for one flat vector (spec 2.3), for tests and tools.
    public static func beta(g: [Double], d: [Double], f: Double, fHat: Double, eta: Double, lambda: Double) -> Double {
        var inner = 0.0, squared = 0.0, scale = 0.0
        for i in g.indices {
            inner += (g[i] + lambda * d[i]) * (g[i] - d[i])
            squared += (g[i] - d[i]) * (g[i] - d[i])
            scale += g[i] * g[i] + d[i] * d[i]
        }
        return beta(
            numerator: (1 + lambda) * (fHat - f) / eta + inner, denominator: squared, scale: scale, biasGap: fHat - f)
    }
}

/// AM-SGD: EMA-form momentum SGD with the adaptive β of `AdaptiveMemory`, decoupled weight decay.
public final class AMSGD: FusedOptimizer {
    public let lambda: Double
    public let bias: AdaptiveMemory.Bias
    /// The loss at the current point, needed by `.aggregated` before every step.
    public var loss: Double?
    /// β of the last step (readable for logging and plots).
    public private(set) var lastBeta = 0.0
    public private(set) var betaHistory: [Double] = []
    private var memoryBias: Double?
    private var stepWeight = 0.0

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 0.01
        public var weightDecay = 0.0
        public var lambda = 0.0
        public var bias = AdaptiveMemory.Bias.current

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("weight_decay", \.weightDecay, "decoupled weight decay"),
                .number("lambda", \.lambda, "proximal weight lambda"),
                .choice("bias", \.bias, "where the memory plane sits: current or aggregated (needs losses)"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(learningRate: c.learningRate, weightDecay: c.weightDecay, lambda: c.lambda, bias: c.bias)
    }

    public init(
        learningRate: Double, weightDecay: Double = Configuration().weightDecay,
        lambda: Double = Configuration().lambda, bias: AdaptiveMemory.Bias = Configuration().bias
    ) throws {
        self.lambda = lambda
        self.bias = bias
        try super.init(name: "am-sgd", learningRate: learningRate, weightDecay: weightDecay, maximize: false)
        try check(lambda >= 0, "lambda must be >= 0, got \(lambda)")
    }

    public static let registryEntry = OptimizerEntry(
        name: "am-sgd",
        summary: "AM-SGD: momentum SGD with an online beta from a two-plane proximal model (reconstruction)",
        paper: "Topollai & Choromanska, AISTATS 2026 (arXiv 2510.04988)"
    ) { try AMSGD($0) }

    public override var slotNames: [String] { ["memory"] }
    public override var otherHyperparameters: [String: Double] { ["lambda": lambda, "beta": lastBeta] }

    public override func prepare(_ parameters: [NamedParameter]) {
        let lr = learningRate * schedule.factor(at: updates)
        var inner = 0.0, squared = 0.0, scale = 0.0
        var first = true
        let lam = SIMD8<Float>(repeating: Float(lambda))
        for (name, p) in parameters {
            guard let d = stateSlot(name, 0) else { continue }
            first = false
            let sums = p.grad!.withUnsafeBufferPointer { gb in
                let g = gb.baseAddress!
                return AdaptiveMemory.chunkSums(p.value.count) { range in
                    var a = SIMD8<Float>(), b = SIMD8<Float>(), c = SIMD8<Float>()
                    Lanes.forEach(range) { i, n in
                        let gv = Lanes.load(g, i, n), dv = Lanes.load(d, i, n)
                        let difference = gv - dv
                        a += (gv + lam * dv) * difference
                        b += difference * difference
                        c += gv * gv + dv * dv
                    }
                    return (Double(a.sum()), Double(b.sum()), Double(c.sum()))
                }
            }
            inner += sums.0
            squared += sums.1
            scale += sums.2
        }
        var gap = 0.0
        if bias == .aggregated {
            guard let f = loss else {
                preconditionFailure("am-sgd: the aggregated bias needs `loss` set before every step")
            }
            gap = (memoryBias ?? f) - f
        }
        lastBeta =
            first
            ? 0
            : AdaptiveMemory.beta(
                numerator: (1 + lambda) * gap / lr + inner, denominator: squared, scale: scale, biasGap: gap)
        betaHistory.append(lastBeta)
        stepWeight = (lastBeta + lambda) / (1 + lambda)
        if bias == .aggregated {
            // f̂ ← w f̂ + (1 − w) f − η‖d_new‖²; the norm is added after the update (see `update`).
            memoryBias = stepWeight * (memoryBias ?? loss!) + (1 - stepWeight) * loss!
            biasLearningRate = lr
        }
    }

    /// The scheduled learning rate of this step, for the memory-plane update.
    private var biasLearningRate = 0.0

    public override func update(_ u: inout ParameterUpdate) {
        let w = SIMD8<Float>(repeating: Float(stepWeight)), lr = SIMD8<Float>(repeating: Float(u.learningRate))
        let decay = SIMD8<Float>(repeating: Float(1 - u.learningRate * u.weightDecay)), one = SIMD8<Float>(repeating: 1)
        let p = u.parameter, g = u.gradient, d = u.slots[0]
        let grain = Parallel.elementwiseGrain
        // ‖d_new‖² of this tensor per chunk, for option B.
        var norms = [Double](repeating: 0, count: (u.count + grain - 1) / grain)
        norms.withUnsafeMutableBufferPointer { out in
            forEachChunk(u.count) { range in
                var norm = SIMD8<Float>()
                Lanes.forEach(range) { i, n in
                    let dv = w * Lanes.load(d, i, n) + (one - w) * Lanes.load(g, i, n)
                    Lanes.store(dv, d, i, n)
                    Lanes.store(Lanes.load(p, i, n) * decay - lr * dv, p, i, n)
                    norm += dv * dv
                }
                out[range.lowerBound / grain] = Double(norm.sum())
            }
        }
        if bias == .aggregated { memoryBias = (memoryBias ?? 0) - biasLearningRate * norms.reduce(0, +) }
    }
}

/// AM-AdamW (spec 2.6, a choice consistent with the paper's summary): the AM β with Adam's
/// diagonal preconditioner `D = 1/(√v̂ + ε)` as the metric, `m ← ((β+λ)m + (1−β)g)/(1+λ)` without
/// bias correction, decoupled decay, step `θ ← θ − η D m`. At λ = 0 its first step is Adam's.
public final class AMAdamW: FusedOptimizer {
    public let beta2: Double, epsilon: Double, lambda: Double
    public private(set) var lastBeta = 0.0
    public private(set) var betaHistory: [Double] = []
    private var stepWeight = 0.0

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 1e-3
        public var beta2 = 0.999
        public var epsilon = 1e-8
        public var weightDecay = 0.01
        public var lambda = 0.0

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("beta2", \.beta2, "decay of the second moment"),
                .number("eps", \.epsilon, "added to the denominator"),
                .number("weight_decay", \.weightDecay, "decoupled weight decay"),
                .number("lambda", \.lambda, "proximal weight lambda"),
            ]
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, beta2: c.beta2, epsilon: c.epsilon, weightDecay: c.weightDecay,
            lambda: c.lambda)
    }

    public init(
        learningRate: Double = Configuration().learningRate, beta2: Double = Configuration().beta2,
        epsilon: Double = Configuration().epsilon, weightDecay: Double = Configuration().weightDecay,
        lambda: Double = Configuration().lambda
    ) throws {
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lambda = lambda
        try super.init(name: "am-adamw", learningRate: learningRate, weightDecay: weightDecay, maximize: false)
        try check((0..<1).contains(beta2), "beta2 must lie in [0, 1), got \(beta2)")
        try check(lambda >= 0 && epsilon >= 0, "lambda and eps must be >= 0")
    }

    public static let registryEntry = OptimizerEntry(
        name: "am-adamw",
        summary: "AM-AdamW: AdamW's preconditioner with the adaptive-memory beta (reconstruction, spec 2.6)",
        paper: "Topollai & Choromanska, AISTATS 2026 (arXiv 2510.04988)"
    ) { try AMAdamW($0) }

    public override var slotNames: [String] { ["exp_avg", "exp_avg_sq"] }
    public override var otherHyperparameters: [String: Double] {
        ["beta2": beta2, "eps": epsilon, "lambda": lambda, "beta": lastBeta]
    }

    /// First pass, read-only: sums the D-weighted inner products over all tensors, with the
    /// metric built from this step's second moment (the spec's `v̂_t`), which `update` stores. Each chunk sums in 8 Float lanes; the chunks'
    /// sums are combined in Double in chunk order, so β does not depend on the thread count.
    public override func prepare(_ parameters: [NamedParameter]) {
        var inner = 0.0, squared = 0.0, scale = 0.0
        var first = true
        for (name, p) in parameters {
            guard let m = stateSlot(name, 0), let v = stateSlot(name, 1) else { continue }
            first = false
            let t = Double(stepCount(name) + 1)
            let scalars = kernelScalars(inverseCorrection: Float(1 / (1 - Foundation.pow(beta2, t))))
            let kernel = Kernels.table.pointee.am_adamw_sums!
            let sums = p.grad!.withUnsafeBufferPointer { gb in
                let g = gb.baseAddress!
                return withUnsafePointer(to: scalars) { h in
                    AdaptiveMemory.chunkSums(p.value.count) { range in
                        var out = (0.0, 0.0, 0.0)
                        withUnsafeMutableBytes(of: &out) { raw in
                            let i = range.lowerBound
                            kernel(
                                g + i, m + i, v + i, range.count, h,
                                raw.baseAddress!.assumingMemoryBound(to: Double.self))
                        }
                        return out
                    }
                }
            }
            inner += sums.0
            squared += sums.1
            scale += sums.2
        }
        lastBeta = first ? 0 : AdaptiveMemory.beta(numerator: inner, denominator: squared, scale: scale, biasGap: 0)
        betaHistory.append(lastBeta)
        stepWeight = (lastBeta + lambda) / (1 + lambda)
    }

    /// Second pass: the second moment, the memory, decoupled decay and the preconditioned step.
    public override func update(_ u: inout ParameterUpdate) {
        var scalars = kernelScalars(inverseCorrection: 0)
        scalars.step_weight = Float(stepWeight)
        scalars.learning_rate = Float(u.learningRate)
        scalars.decay = Float(1 - u.learningRate * u.weightDecay)
        scalars.root2 = Float((1 - Foundation.pow(beta2, Double(u.step))).squareRoot())
        let p = u.parameter, g = u.gradient, m = u.slots[0], v = u.slots[1]
        let kernel = Kernels.table.pointee.am_adamw_step!
        withUnsafePointer(to: scalars) { h in
            forEachChunk(u.count) { range in
                let i = range.lowerBound
                kernel(p + i, g + i, m + i, v + i, range.count, h)
            }
        }
    }

    /// The kernels' scalars that do not change within a step.
    private func kernelScalars(inverseCorrection: Float) -> inertia_am_adamw_scalars {
        inertia_am_adamw_scalars(
            beta2: Float(beta2), one_minus_beta2: Float(1 - beta2), inverse_correction: inverseCorrection,
            epsilon: Float(epsilon),
            lambda: Float(lambda), step_weight: 0, learning_rate: 0, decay: 1, root2: 1)
    }
}
