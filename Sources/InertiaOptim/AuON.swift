import Foundation
import InertiaNN
import InertiaTensor

/// AuON and Hybrid-AuON (D. Maity, "AuON: A Linear-time Alternative to Semi-Orthogonal Momentum
/// Updates", 2025), both code paths of `shared/papers/auon.md`: Nesterov EMA momentum
/// `U = (1−β)G + βM` (`M ← βM + (1−β)G`), normalised and braked by the cosh-RMS
/// `r = sqrt(mean(cosh(X)²))`.
///
/// - `.paper2025` (default, the paper's equations): `X = U/(‖U‖_F + 1e-7)`, optionally one (or
///   `newtonSchulzSteps`) Newton–Schulz step (Hybrid), `W ← W − lr·sqrt(max(1, rows/cols))·X/(r + 1e-8)`.
/// - `.repo2026` (the later `AuON` / `HybridAuON` classes): decoupled decay first; skip a zero
///   `U`; Hybrid replaces `U` by its Newton–Schulz output; `X = γU/(‖U‖_F + 1e-7)`,
///   `W ← W − lr·U/(r + 1e-8)` (the raw direction rescaled, no shape factor).
public final class AuON: FusedOptimizer {
    /// Which statement of the method: the 2025 paper's or the 2026 reference repository's.
    public enum Version: String, CaseIterable, Sendable {
        case paper2025 = "paper-2025"
        case repo2026 = "repo-2026"
    }

    public let momentum: Double, version: Version, hybrid: Bool, newtonSchulzSteps: Int, gamma: Double

    /// The hyper-parameters, declared once (the registry's names in `options`).
    public struct Configuration: OptimizerConfiguration {
        public var learningRate = 0.24
        public var momentum = 0.95
        public var version = Version.paper2025
        /// Newton-Schulz steps of Hybrid-AuON; 0: the version's own (1 in the paper, 5 in the repo).
        public var newtonSchulzSteps = 0
        public var gamma = 1.5
        public var weightDecay = 0.0
        /// The AdamW for the parameters AuON does not take (registry only).
        public var auxiliary = AuxiliaryAdamW()

        public init() {}

        public static var options: [HyperparameterOption<Configuration>] {
            [
                .number("lr", \.learningRate, "learning rate"),
                .number("momentum", \.momentum, "EMA momentum"),
                .choice("version", \.version, "the paper's equations or the later repository's"),
                .integer("ns_steps", \.newtonSchulzSteps, "Newton-Schulz steps of the hybrid (0: the version's own)"),
                .number("gamma", \.gamma, "scale inside the cosh brake (repo version)"),
                .number("weight_decay", \.weightDecay, "decoupled weight decay (repo version)"),
            ]
                + AuxiliaryAdamW.options(within: \.auxiliary)
        }
    }

    public convenience init(_ c: Configuration, hybrid: Bool) throws {
        try self.init(
            learningRate: c.learningRate, momentum: c.momentum, version: c.version, hybrid: hybrid,
            newtonSchulzSteps: c.newtonSchulzSteps > 0 ? c.newtonSchulzSteps : nil, gamma: c.gamma,
            weightDecay: c.weightDecay)
    }

    public init(
        learningRate: Double = Configuration().learningRate, momentum: Double = Configuration().momentum,
        version: Version = Configuration().version, hybrid: Bool = false, newtonSchulzSteps: Int? = nil,
        gamma: Double = Configuration().gamma, weightDecay: Double = Configuration().weightDecay
    ) throws {
        self.momentum = momentum
        self.version = version
        self.hybrid = hybrid
        self.newtonSchulzSteps = newtonSchulzSteps ?? (version == .paper2025 ? 1 : 5)
        self.gamma = gamma
        try super.init(
            name: hybrid ? "hybrid-auon" : "auon", learningRate: learningRate, weightDecay: weightDecay, maximize: false
        )
        try check((0..<1).contains(momentum), "momentum must lie in [0, 1), got \(momentum)")
        try check(self.newtonSchulzSteps >= 1, "Newton-Schulz steps must be >= 1")
        try check(gamma > 0, "gamma must be positive")
    }

    static func entry(hybrid: Bool) -> OptimizerEntry {
        OptimizerEntry(
            name: hybrid ? "hybrid-auon" : "auon",
            summary: hybrid
                ? "Hybrid-AuON: one Newton-Schulz step, then the cosh-RMS brake (paper form; repo form with version=repo-2026)"
                : "AuON: Frobenius-normalised Nesterov momentum with the cosh-RMS brake (paper form; repo form with version=repo-2026)",
            paper: "Maity, 2025 (AuON)"
        ) { (c: Configuration) in try c.auxiliary.routing(try AuON(c, hybrid: hybrid)) }
    }

    public static let registryEntry = entry(hybrid: false)
    public static let hybridRegistryEntry = entry(hybrid: true)

    public override var minimumRank: Int { 2 }
    public override var slotNames: [String] { ["momentum_buffer"] }
    public override var otherHyperparameters: [String: Double] {
        [
            "momentum": momentum, "gamma": gamma, "ns_steps": Double(newtonSchulzSteps),
            "repo2026": version == .repo2026 ? 1 : 0,
        ]
    }

    /// The cosh-RMS brake `r = sqrt(mean(cosh(γ·X)²))` of `X = U/‖U‖_F` (spec 6.3: `cosh(γ/√N)` for
    /// a uniform matrix, `sqrt((cosh²γ + N − 1)/N)` for a one-hot one).
    public static func brake(of u: Tensor, gamma: Double = 1) -> Double {
        let norm = Double(u.norm().item)
        return u.withUnsafeBufferPointer { coshRMS($0.baseAddress!, u.count, scale: gamma / norm) }
    }

    /// `sqrt(mean(cosh(scale·x)²))` over a buffer.
    static func coshRMS(_ x: UnsafePointer<Float>, _ n: Int, scale: Double) -> Double {
        coshRMS(n, scale: scale) { i, lanes in Lanes.load(x, i, lanes) }
    }

    /// `sqrt(mean(cosh(scale·x)²)) = sqrt(1 + mean(sinh(scale·x)²))` over the values `load` gives,
    /// from one vector `exp` per element (`sinh = (e − 1/e)/2`); summing the small `sinh²` rather
    /// than `cosh² ≈ 1` keeps Float32 accurate for large matrices. Chunks sum in 8 Float lanes,
    /// chunk sums combine in Double in order (thread-count independent).
    @inline(__always)
    static func coshRMS(_ n: Int, scale: Double, _ load: (Int, Int) -> SIMD8<Float>) -> Double {
        let grain = Parallel.elementwiseGrain
        let chunks = Swift.max((n + grain - 1) / grain, 1)
        var partials = [Double](repeating: 0, count: chunks)
        let factor = SIMD8<Float>(repeating: Float(scale)), half = SIMD8<Float>(repeating: 0.5),
            one = SIMD8<Float>(repeating: 1)
        partials.withUnsafeMutableBufferPointer { out in
            Parallel.forEachRange(count: n, grain: grain) { range in
                var acc = SIMD8<Float>()
                Lanes.forEach(range) { i, lanes in
                    let e = FastMath.exp(load(i, lanes) * factor)
                    var sinh = half * (e - one / e)
                    if lanes < 8 { for k in lanes..<8 { sinh[k] = 0 } }
                    acc += sinh * sinh
                }
                out[range.lowerBound / grain] = Double(acc.sum())
            }
        }
        return (1 + partials.reduce(0, +) / Double(Swift.max(n, 1))).squareRoot()
    }

    public override func update(_ u: inout ParameterUpdate) {
        let n = u.count, p = u.parameter, g = u.gradient, m = u.slots[0]
        let rows = u.shape[0], columns = n / Swift.max(rows, 1)
        let beta = SIMD8<Float>(repeating: Float(momentum)), rest = SIMD8<Float>(repeating: Float(1 - momentum))
        let lr = u.learningRate
        if version == .paper2025 && !hybrid {
            // Two passes and no buffer. The first updates M and sums the even powers of the Nesterov
            // direction d = (1 − β)g + βM; when every u = |d|/‖d‖ is at most 0.4 the brake follows
            // from them by the series sinh²u = u² + u⁴/3 + 2u⁶/45 + u⁸/315 + … (the rest < 1e-7
            // relative), else from one more pass with the vector exp. The Float sums of d⁴…d⁸ lose
            // entries below 3e-10…1.7e-5 to underflow; with 1/‖d‖ <= 2.7e4 those entries' terms
            // are below 1e-7 relative too. The second pass steps, recomputing d from g and M.
            let sums = AuON.momentumPowerPass(n, g, m, beta: Float(momentum), rest: Float(1 - momentum), forEachChunk)
            let scale = 1 / (sums.powers[0].squareRoot() + 1e-7)
            let r: Double
            if Double(sums.maxAbs) * scale <= 0.4 && scale <= 2.7e4 {
                var mean = 0.0, power = 1.0
                for (k, coefficient) in [1, 1.0 / 3, 2.0 / 45, 1.0 / 315].enumerated() {
                    power *= scale * scale
                    mean += coefficient * power * sums.powers[k]
                }
                r = (1 + mean / Double(Swift.max(n, 1))).squareRoot()
            } else {
                r = AuON.coshRMS(n, scale: scale) { i, lanes in
                    rest * Lanes.load(g, i, lanes) + beta * Lanes.load(m, i, lanes)
                }
            }
            let step = Float(lr * Swift.max(1, Double(rows) / Double(columns)).squareRoot() * scale / (r + 1e-8))
            let kernel = Kernels.table.pointee.auon_step!
            forEachChunk(n) { range in
                let i = range.lowerBound
                kernel(p + i, g + i, m + i, range.count, Float(momentum), Float(1 - momentum), step)
            }
            return
        }
        let frobenius = AuON.momentumPass(n, g, m, beta, rest, forEachChunk)
        var direction = Tensor(shape: [rows, columns]) { d in
            forEachChunk(n) { range in
                Lanes.forEach(range) { i, lanes in
                    Lanes.store(
                        rest * Lanes.load(g, i, lanes) + beta * Lanes.load(m, i, lanes), d.baseAddress!, i, lanes)
                }
            }
        }
        switch version {
        case .paper2025:
            direction = NewtonSchulz.orthogonalize(direction * Float(1 / (frobenius + 1e-7)), steps: newtonSchulzSteps)
            let r = direction.withUnsafeBufferPointer { AuON.coshRMS($0.baseAddress!, n, scale: 1) }
            let step = SIMD8<Float>(
                repeating: Float(lr * Swift.max(1, Double(rows) / Double(columns)).squareRoot() / (r + 1e-8)))
            direction.withUnsafeBufferPointer { d in
                forEachChunk(n) { range in
                    Lanes.forEach(range) { i, lanes in
                        Lanes.store(Lanes.load(p, i, lanes) - step * Lanes.load(d.baseAddress!, i, lanes), p, i, lanes)
                    }
                }
            }
        case .repo2026:
            if u.weightDecay != 0 {
                let decay = Float(1 - lr * u.weightDecay)
                for i in 0..<n { p[i] *= decay }
            }
            guard frobenius > 0 else { return }
            var norm = frobenius
            if hybrid {
                direction = NewtonSchulz.orthogonalize(direction, steps: newtonSchulzSteps)
                norm = direction.withUnsafeBufferPointer { b in
                    b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                }
            }
            let r = direction.withUnsafeBufferPointer { AuON.coshRMS($0.baseAddress!, n, scale: gamma / (norm + 1e-7)) }
            let step = Float(lr / (r + 1e-8))
            direction.withUnsafeBufferPointer { d in for i in 0..<n { p[i] -= step * d[i] } }
        }
    }

    /// `M ← βM + (1 − β)g` in place; returns `‖(1 − β)g + βM‖_F` (chunk sums in Double, in order).
    @inline(__always)
    static func momentumPass(
        _ n: Int, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ beta: SIMD8<Float>,
        _ rest: SIMD8<Float>, _ forEachChunk: (Int, (Range<Int>) -> Void) -> Void
    ) -> Double {
        let grain = Parallel.elementwiseGrain
        var partials = [Double](repeating: 0, count: Swift.max((n + grain - 1) / grain, 1))
        partials.withUnsafeMutableBufferPointer { out in
            forEachChunk(n) { range in
                var acc = SIMD8<Float>()
                Lanes.forEach(range) { i, lanes in
                    let gv = Lanes.load(g, i, lanes)
                    let mv = beta * Lanes.load(m, i, lanes) + rest * gv
                    Lanes.store(mv, m, i, lanes)
                    let dv = rest * gv + beta * mv
                    acc += dv * dv
                }
                out[range.lowerBound / grain] = Double(acc.sum())
            }
        }
        return partials.reduce(0, +).squareRoot()
    }

    /// `M ← βM + (1 − β)g` in place; returns `Σd², Σd⁴, Σd⁶, Σd⁸` of `d = (1 − β)g + βM` and
    /// `max|d|`, from the kernel layer (Float lanes per chunk, chunk sums combined in Double in
    /// order, so thread-count independent).
    @inline(__always)
    static func momentumPowerPass(
        _ n: Int, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, beta: Float, rest: Float,
        _ forEachChunk: (Int, (Range<Int>) -> Void) -> Void
    ) -> (powers: [Double], maxAbs: Float) {
        let grain = Parallel.elementwiseGrain
        let chunks = Swift.max((n + grain - 1) / grain, 1)
        var partials = [Double](repeating: 0, count: chunks * 5)
        let kernel = Kernels.table.pointee.auon_momentum_powers!
        partials.withUnsafeMutableBufferPointer { out in
            forEachChunk(n) { range in
                let i = range.lowerBound
                kernel(g + i, m + i, range.count, beta, rest, out.baseAddress! + 5 * (i / grain))
            }
        }
        var powers = [Double](repeating: 0, count: 4), maxAbs: Float = 0
        for c in 0..<chunks {
            for k in 0..<4 { powers[k] += partials[5 * c + k] }
            maxAbs = Swift.max(maxAbs, Float(partials[5 * c + 4]))
        }
        return (powers, maxAbs)
    }
}
