import Foundation
import InertiaNN
import InertiaTensor

/// Lion-K (Chen, Liu, Liang & Liu, "Lion Secretly Solves Constrained Optimization: As Lyapunov
/// Predicts", ICLR 2024): Lion with `sign` replaced by the gradient of a convex kernel K, in the
/// code convention of `shared/papers/lion-kappa.md` 2.2:
///
///     c ← β₁m + (1 − β₁)g ;  θ ← θ(1 − ηλ) − η∇K(c) ;  m ← β₂m + (1 − β₂)g
///
/// Per-tensor kernels (ℓ2, ℓ∞, ℓp, nuclear) act on each parameter tensor as a whole. With a kernel
/// whose gradient lies in the unit ball of a norm D, every step obeys
/// `‖θ_{t+1}‖_D ≤ (1 − ηλ)‖θ_t‖_D + η` (section 2.5); `boundMonitor` checks it after each step.
public final class LionK: FusedOptimizer {
    /// The convex kernel K, named by its gradient.
    public enum Kernel: Equatable, Sendable {
        /// K = ‖c‖₁, ∇K = sign(c): Lion. Bound in ℓ∞.
        case sign
        /// K = ‖c‖₂, ∇K = c/‖c‖₂ (0 at 0). Bound in ℓ2.
        case l2
        /// K = ‖c‖_∞, ∇K = sign(c_i*)e_i* at the first largest |c_i|. Bound in ℓ1.
        case linf
        /// K = ‖c‖_p (1 < p < ∞), ∇K = sign(c)|c|^(p−1)/‖c‖_p^(p−1). Bound in ℓq, 1/p + 1/q = 1.
        case lp(Double)
        /// K = Σ Huber_δ(c_i), ∇K = clip(c/δ, −1, 1). Bound in ℓ∞.
        case huber(delta: Double)
        /// K = Σ a·log cosh(c_i/a), ∇K = tanh(c/a). Bound in ℓ∞.
        case tanh(a: Double)
        /// K = ½‖c‖², ∇K = c: EMA momentum SGD with decoupled decay. No bound.
        case quadratic
        /// K = nuclear norm of a matrix, ∇K = U Vᵀ, the polar factor (matrices only). Bound in the
        /// spectral norm (not monitored: it needs an SVD per step).
        case nuclear

        public var name: String {
            switch self {
            case .sign: return "sign"
            case .l2: return "l2"
            case .linf: return "linf"
            case .lp(let p): return "lp(\(p))"
            case .huber(let d): return "huber(\(d))"
            case .tanh(let a): return "tanh(\(a))"
            case .quadratic: return "quadratic"
            case .nuclear: return "nuclear"
            }
        }

        /// The p of the ℓp norm in which the kernel's gradient has norm at most 1 (the monitored
        /// bound), or nil.
        public var boundNorm: Double? {
            switch self {
            case .sign, .huber, .tanh: return .infinity
            case .l2: return 2
            case .linf: return 1
            case .lp(let p): return p / (p - 1)
            case .quadratic, .nuclear: return nil
            }
        }
    }

    public let beta1: Double, beta2: Double
    public let kernel: Kernel
    /// The relative slack of the monitored one-step bound: a few Float32 rounding errors
    /// (lion-kappa spec 5.2 (a)), since the step is computed in Float32.
    public static let roundingSlack = 0x1p-22
    /// Check the per-step bound `‖θ_{t+1}‖_D ≤ c ‖θ_t‖_D + η` in the arithmetic the step runs in:
    /// `c` is `1 − ηλ` rounded to Float32 as the step applies it, and the bound gets a relative
    /// slack of `roundingSlack`.
    public var boundMonitor = false
    /// Steps (per parameter) on which the monitored bound failed.
    public private(set) var boundViolations = 0
    public private(set) var boundChecks = 0

    /// The hyper-parameters, declared once (the registry's names in `options`): the kernel by
    /// name, with the parameter of the kernels that take one.
    public struct Configuration: OptimizerConfiguration {
        /// The kernels by name.
        public enum KernelName: String, CaseIterable, Sendable {
            case sign, l2, linf, lp, huber, tanh, quadratic, nuclear
        }

        public var learningRate = 1e-4
        public var beta1 = 0.9
        public var beta2 = 0.99
        public var weightDecay = 0.0
        public var kernel = KernelName.sign
        public var p = 3.0
        public var delta = 1.0
        public var a = 1.0
        public var maximize = false

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("beta1", \.beta1, "interpolation of the update direction"),
                .number("beta2", \.beta2, "decay of the momentum"),
                .number("weight_decay", \.weightDecay, "decoupled weight decay"),
                .choice("kernel", \.kernel, "the convex kernel K"),
                .number("p", \.p, "exponent of the lp kernel"),
                .number("delta", \.delta, "width of the huber kernel"),
                .number("a", \.a, "scale of the tanh kernel"),
                .flag("maximize", \.maximize, "ascend instead of descend"),
            ]
        }

        /// The kernel this configuration names, with its parameter.
        public var resolvedKernel: Kernel {
            switch kernel {
            case .sign: return .sign
            case .l2: return .l2
            case .linf: return .linf
            case .lp: return .lp(p)
            case .huber: return .huber(delta: delta)
            case .tanh: return .tanh(a: a)
            case .quadratic: return .quadratic
            case .nuclear: return .nuclear
            }
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, weightDecay: c.weightDecay,
            kernel: c.resolvedKernel,
            maximize: c.maximize)
    }

    public init(
        learningRate: Double = Configuration().learningRate, beta1: Double = Configuration().beta1,
        beta2: Double = Configuration().beta2, weightDecay: Double = Configuration().weightDecay,
        kernel: Kernel = Configuration().resolvedKernel, maximize: Bool = Configuration().maximize
    ) throws {
        self.beta1 = beta1
        self.beta2 = beta2
        self.kernel = kernel
        try super.init(name: "lion-k", learningRate: learningRate, weightDecay: weightDecay, maximize: maximize)
        try check(
            (0...1).contains(beta1) && (0...1).contains(beta2), "betas must lie in [0, 1], got (\(beta1), \(beta2))")
        try check(learningRate * weightDecay <= 1, "lr * weight decay must be <= 1")
        switch kernel {
        case .lp(let p): try check(p > 1 && p.isFinite, "lp kernel needs 1 < p < infinity, got \(p)")
        case .huber(let d): try check(d > 0, "huber kernel needs delta > 0, got \(d)")
        case .tanh(let a): try check(a > 0, "tanh kernel needs a > 0, got \(a)")
        default: break
        }
    }

    public static let registryEntry = OptimizerEntry(
        name: "lion-k",
        summary:
            "Lion-K: Lion with the gradient of a convex kernel K (sign, l2, linf, lp, huber, tanh, quadratic, nuclear)",
        paper: "Chen, Liu, Liang & Liu, ICLR 2024 (arXiv 2310.05898)"
    ) { try LionK($0) }

    public override var slotNames: [String] { ["exp_avg"] }
    public override var otherHyperparameters: [String: Double] { ["beta1": beta1, "beta2": beta2] }

    public static func norm(_ x: UnsafePointer<Float>, _ n: Int, p: Double) -> Double {
        if p == .infinity { return (0..<n).reduce(0.0) { Swift.max($0, Double(Swift.abs(x[$1]))) } }
        if p == 1 { return (0..<n).reduce(0.0) { $0 + Double(Swift.abs(x[$1])) } }
        if p == 2 { return (0..<n).reduce(0.0) { $0 + Double(x[$1]) * Double(x[$1]) }.squareRoot() }
        return Foundation.pow((0..<n).reduce(0.0) { $0 + Foundation.pow(Double(Swift.abs(x[$1])), p) }, 1 / p)
    }

    public override func update(_ u: inout ParameterUpdate) {
        let n = u.count, p = u.parameter, g = u.gradient, m = u.slots[0]
        let b1 = Float(beta1), b2 = Float(beta2), sign = u.sign
        let lr = Float(u.learningRate), decay = Float(1 - u.learningRate * u.weightDecay)
        let before = boundMonitor ? kernel.boundNorm.map { LionK.norm(p, n, p: $0) } : nil
        // c, then ∇K(c) in place (per-tensor kernels need the whole of c first).
        var direction = [Float](repeating: 0, count: n)
        direction.withUnsafeMutableBufferPointer { d in
            let kernels = Kernels.table
            kernels.pointee.lionk_direction(g, m, d.baseAddress!, n, b1, sign)
            applyKernel(d.baseAddress!, n, shape: u.shape)
            kernels.pointee.lionk_step(p, g, m, d.baseAddress!, n, lr, decay, b2, sign)
        }
        if let before, let q = kernel.boundNorm {
            boundChecks += 1
            let after = LionK.norm(p, n, p: q)
            let bound = Double(decay) * before + Double(lr)
            if after > bound * (1 + LionK.roundingSlack) { boundViolations += 1 }
        }
    }

    /// Replaces `c` (n values of a tensor of `shape`) by ∇K(c).
    func applyKernel(_ c: UnsafeMutablePointer<Float>, _ n: Int, shape: [Int]) {
        switch kernel {
        case .sign:
            Kernels.table.pointee.lionk_sign(c, n)
        case .l2:
            let norm = LionK.norm(c, n, p: 2)
            for i in 0..<n { c[i] = norm > 0 ? Float(Double(c[i]) / norm) : 0 }
        case .linf:
            var best = 0, bestValue: Float = -1
            for i in 0..<n where Swift.abs(c[i]) > bestValue {
                best = i
                bestValue = Swift.abs(c[i])
            }
            let s: Float = n == 0 ? 0 : (c[best] > 0 ? 1 : (c[best] < 0 ? -1 : 0))
            for i in 0..<n { c[i] = 0 }
            if n > 0 { c[best] = s }
        case .lp(let q):
            let norm = LionK.norm(c, n, p: q)
            for i in 0..<n {
                let v = Double(c[i])
                c[i] = norm > 0 ? Float((v < 0 ? -1.0 : 1.0) * Foundation.pow(Swift.abs(v) / norm, q - 1)) : 0
            }
        case .huber(let delta):
            for i in 0..<n { c[i] = Swift.min(1, Swift.max(-1, Float(Double(c[i]) / delta))) }
        case .tanh(let a):
            for i in 0..<n { c[i] = Float(Foundation.tanh(Double(c[i]) / a)) }
        case .quadratic:
            break
        case .nuclear:
            precondition(shape.count == 2, "lion-k: the nuclear kernel needs matrix parameters, got shape \(shape)")
            LionK.polarFactor(c, rows: shape[0], columns: shape[1])
        }
    }

    /// The polar factor `UVᵀ` of a matrix, in place (`Matrix64.polarFactor`: zero singular values
    /// stay zero, giving the partial isometry of the matrix's range).
    static func polarFactor(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        let polar = Matrix64(rows: rows, columns: columns, scalars: (0..<(rows * columns)).map { Double(c[$0]) })
            .polarFactor
        for (i, x) in polar.scalars.enumerated() { c[i] = Float(x) }
    }
}
