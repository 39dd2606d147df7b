import Foundation
import InertiaNN
import InertiaTensor

/// FISMO (C. Xu, W. Yan, Y.-J. A. Zhang, "FISMO: Fisher-Structured Momentum-Orthogonalized
/// Optimizer", arXiv 2601.21750, 2026), as `shared/papers/fismo.md` 2.2 transcribes it (no
/// official code exists; the spec is provisional). Muon's step measured in a Kronecker-factored
/// Fisher geometry `F ≈ Q ⊗ P`: for `W` of shape `m×n` with gradient `G`,
///
///     P ← sym(m·P̃ / tr P̃),  P̃ = γP + (1−γ)(G Q⁻¹ Gᵀ/n + μ·(tr P/m)·I)     (old Q)
///     Q ← sym(n·Q̃ / tr Q̃),  Q̃ = γQ + (1−γ)(Gᵀ P⁻¹ G/m + μ·(tr Q/n)·I)     (new P)
///     M ← βM + (1−β)·P^{-1/2} G Q^{-1/2}
///     W ← W(1 − η·wd) − η·s·P^{-1/2} Polar(M) Q^{-1/2}
///
/// The factor algebra runs in Float64 (`Matrix64`, `SymmetricEigen`); inverses and inverse roots
/// come from a symmetric eigendecomposition with eigenvalues floored at `1e-12·λ_max`. The
/// choices the spec marks as its own (2.3) are options: the polar method, the shape factor `s`,
/// how often the eigendecompositions are refreshed.
public final class FISMO: FusedOptimizer {
    /// How `Polar(M) = UVᵀ` is computed.
    public enum Polar: Sendable, Equatable {
        /// Muon's quintic Newton–Schulz iteration in Float32 (approximate; singular values near 1).
        case newtonSchulz(steps: Int)
        /// `(MMᵀ)^{-1/2}M` (or `M(MᵀM)^{-1/2}`) by Float64 eigendecomposition: exact, for tests.
        case exact
    }

    /// The factor multiplying the step.
    public enum ShapeFactor: Sendable, Equatable {
        /// 1 (the transcription).
        case none
        /// `sqrt(max(1, m/n))`, Muon's factor, for parity with Muon.
        case muon
    }

    /// Diagnostics of one parameter's factors after its last step.
    public struct FactorStatistics: Sendable, Equatable {
        /// `λ_max / λ_min` of `P` and of `Q`.
        public var leftCondition: Double, rightCondition: Double
        /// Steps whose eigendecompositions were recomputed (the rest reused the last ones).
        public var refreshes: Int
    }

    public let momentum: Double, factorDecay: Double, damping: Double
    public let polar: Polar, shapeFactor: ShapeFactor
    /// Eigendecompositions are recomputed every this many steps of a parameter; `nil`: every
    /// step for matrices up to 512 on a side and every 10 steps above (spec 2.3).
    public let refreshInterval: Int?
    /// One parameter's factor decompositions and the spectral functions the steps use, kept
    /// between refreshes (each spectral function is an `n³` product: computed once per refresh).
    private struct Factors {
        var left: SymmetricEigen, right: SymmetricEigen
        var leftInverse: Matrix64, leftRoot: Matrix64, rightInverse: Matrix64, rightRoot: Matrix64
        var refreshedAt: Int, refreshes: Int
    }
    private var cache: [String: Factors] = [:]
    public private(set) var factorStatistics: [String: FactorStatistics] = [:]

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 0.02
        public var momentum = 0.95
        public var factorDecay = 0.95
        public var damping = 1e-3
        public var newtonSchulzSteps = 5
        public var weightDecay = 0.0
        /// The AdamW for the parameters FISMO does not take (registry only).
        public var auxiliary = AuxiliaryAdamW()

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("momentum", \.momentum, "EMA momentum"),
                .number("factor_decay", \.factorDecay, "decay of the Kronecker factors"),
                .number("damping", \.damping, "damping of the factors"),
                .integer("ns_steps", \.newtonSchulzSteps, "Newton-Schulz iterations of the polar factor"),
                .number("weight_decay", \.weightDecay, "decoupled weight decay"),
            ]
                + AuxiliaryAdamW.options(within: \.auxiliary)
        }
    }

    public convenience init(_ c: Configuration) throws {
        try self.init(
            learningRate: c.learningRate, momentum: c.momentum, factorDecay: c.factorDecay, damping: c.damping,
            weightDecay: c.weightDecay, polar: .newtonSchulz(steps: c.newtonSchulzSteps))
    }

    public init(
        learningRate: Double, momentum: Double = Configuration().momentum,
        factorDecay: Double = Configuration().factorDecay, damping: Double = Configuration().damping,
        weightDecay: Double = Configuration().weightDecay,
        polar: Polar = .newtonSchulz(steps: Configuration().newtonSchulzSteps),
        shapeFactor: ShapeFactor = .none, refreshInterval: Int? = nil
    ) throws {
        self.momentum = momentum
        self.factorDecay = factorDecay
        self.damping = damping
        self.polar = polar
        self.shapeFactor = shapeFactor
        self.refreshInterval = refreshInterval
        try super.init(name: "fismo", learningRate: learningRate, weightDecay: weightDecay, maximize: false)
        try check((0..<1).contains(momentum), "momentum must lie in [0, 1), got \(momentum)")
        try check((0...1).contains(factorDecay), "factor decay must lie in [0, 1], got \(factorDecay)")
        try check(damping >= 0 && damping.isFinite, "damping must be >= 0, got \(damping)")
        if case .newtonSchulz(let steps) = polar {
            try check(steps >= 0, "Newton-Schulz steps must be >= 0, got \(steps)")
        }
        try check((refreshInterval ?? 1) >= 1, "refresh interval must be >= 1, got \(refreshInterval!)")
    }

    public static let registryEntry = OptimizerEntry(
        name: "fismo",
        summary: "FISMO: Muon's step in a Kronecker-factored Fisher geometry (provisional transcription)",
        paper: "Xu, Yan & Zhang, arXiv 2601.21750 (2026)"
    ) { try $0.auxiliary.routing(try FISMO($0)) }

    public override var minimumRank: Int { 2 }
    public override var slotNames: [String] { ["momentum_buffer", "left_factor", "right_factor"] }
    public override var otherHyperparameters: [String: Double] {
        ["momentum": momentum, "factor_decay": factorDecay, "damping": damping]
    }

    static func matrixShape(_ shape: [Int]) -> (rows: Int, columns: Int) {
        let rows = shape[0]
        return (rows, shape.reduce(1, *) / Swift.max(rows, 1))
    }

    public override func slotShape(_ slot: String, parameterShape: [Int]) -> [Int] {
        let (m, n) = Self.matrixShape(parameterShape)
        switch slot {
        case "left_factor": return [m, m]
        case "right_factor": return [n, n]
        default: return parameterShape
        }
    }

    public override func initialSlot(_ slot: String, shape: [Int]) -> Tensor {
        slot == "momentum_buffer" ? Tensor.zeros(shape) : Tensor.eye(shape[0])
    }

    public override func update(_ u: inout ParameterUpdate) {
        let (m, n) = Self.matrixShape(u.shape)
        let g = Matrix64(rows: m, columns: n, scalars: (0..<(m * n)).map { Double(u.gradient[$0]) * Double(u.sign) })
        var p = Self.read(u.slots[1], m), q = Self.read(u.slots[2], n)
        let interval = refreshInterval ?? (Swift.max(m, n) > 512 ? 10 : 1)
        let cached = cache[u.name]
        // A step at or before the last refresh means the state was loaded: recompute.
        let refresh = cached.map { u.step - $0.refreshedAt >= interval || u.step <= $0.refreshedAt } ?? true
        let gamma = factorDecay
        // Left factor with the old right one, then the right factor with the new left one.
        let oldRight = refresh ? SymmetricEigen(q) : cached!.right
        let oldRightInverse = refresh ? oldRight.power(-1) : cached!.rightInverse
        let left = g * oldRightInverse * g.transposed * (1 / Double(n))
        let pTilde = p * gamma + left.addingToDiagonal(damping * p.trace / Double(m)) * (1 - gamma)
        p = (pTilde * (Double(m) / pTilde.trace)).symmetrized
        let leftEigen = refresh ? SymmetricEigen(p) : cached!.left
        let leftInverse = refresh ? leftEigen.power(-1) : cached!.leftInverse
        let right = g.transposed * leftInverse * g * (1 / Double(m))
        let qTilde = q * gamma + right.addingToDiagonal(damping * q.trace / Double(n)) * (1 - gamma)
        q = (qTilde * (Double(n) / qTilde.trace)).symmetrized
        let rightEigen = refresh ? SymmetricEigen(q) : oldRight
        let factors =
            refresh
            ? Factors(
                left: leftEigen, right: rightEigen, leftInverse: leftInverse, leftRoot: leftEigen.power(-0.5),
                rightInverse: rightEigen.power(-1), rightRoot: rightEigen.power(-0.5), refreshedAt: u.step,
                refreshes: (cached?.refreshes ?? 0) + 1)
            : cached!
        cache[u.name] = factors
        factorStatistics[u.name] = FactorStatistics(
            leftCondition: Self.condition(leftEigen), rightCondition: Self.condition(rightEigen),
            refreshes: factors.refreshes)
        Self.write(p, to: u.slots[1])
        Self.write(q, to: u.slots[2])

        let leftRoot = factors.leftRoot, rightRoot = factors.rightRoot
        let whitened = leftRoot * g * rightRoot
        let beta = momentum, buffer = u.slots[0]
        var momentumMatrix = Matrix64(rows: m, columns: n)
        for i in 0..<(m * n) {
            let value = beta * Double(buffer[i]) + (1 - beta) * whitened.scalars[i]
            buffer[i] = Float(value)
            momentumMatrix.scalars[i] = Double(buffer[i])
        }
        let direction = leftRoot * Self.polarFactor(momentumMatrix, polar) * rightRoot
        let scale = shapeFactor == .muon ? Swift.max(1, Double(m) / Double(n)).squareRoot() : 1
        let step = u.learningRate * scale, decay = 1 - u.learningRate * u.weightDecay
        for i in 0..<(m * n) { u.parameter[i] = Float(Double(u.parameter[i]) * decay - step * direction.scalars[i]) }
    }

    /// `UVᵀ` of `M = UΣVᵀ` by the chosen method.
    static func polarFactor(_ mMatrix: Matrix64, _ method: Polar) -> Matrix64 {
        switch method {
        case .newtonSchulz(let steps): return Matrix64(NewtonSchulz.orthogonalize(mMatrix.tensor, steps: steps))
        case .exact: return mMatrix.polarFactor
        }
    }

    static func condition(_ e: SymmetricEigen) -> Double {
        guard let low = e.values.first, let high = e.values.last, low > 0 else { return .infinity }
        return high / low
    }

    static func read(_ pointer: UnsafeMutablePointer<Float>, _ n: Int) -> Matrix64 {
        Matrix64(rows: n, columns: n, scalars: (0..<(n * n)).map { Double(pointer[$0]) })
    }

    static func write(_ matrix: Matrix64, to pointer: UnsafeMutablePointer<Float>) {
        for (i, x) in matrix.scalars.enumerated() { pointer[i] = Float(x) }
    }
}
