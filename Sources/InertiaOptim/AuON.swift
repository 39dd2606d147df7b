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
    public enum Version: Sendable { case paper2025, repo2026 }

    public let momentum: Double, version: Version, hybrid: Bool, newtonSchulzSteps: Int, gamma: Double

    public init(learningRate: Double = 0.24, momentum: Double = 0.95, version: Version = .paper2025, hybrid: Bool = false,
                newtonSchulzSteps: Int? = nil, gamma: Double = 1.5, weightDecay: Double = 0) throws {
        self.momentum = momentum
        self.version = version
        self.hybrid = hybrid
        self.newtonSchulzSteps = newtonSchulzSteps ?? (version == .paper2025 ? 1 : 5)
        self.gamma = gamma
        try super.init(name: hybrid ? "hybrid-auon" : "auon", learningRate: learningRate, weightDecay: weightDecay, maximize: false)
        try check((0..<1).contains(momentum), "momentum must lie in [0, 1), got \(momentum)")
        try check(self.newtonSchulzSteps >= 1, "Newton-Schulz steps must be >= 1")
        try check(gamma > 0, "gamma must be positive")
    }

    static func entry(hybrid: Bool) -> OptimizerEntry {
        OptimizerEntry(
            name: hybrid ? "hybrid-auon" : "auon",
            summary: hybrid ? "Hybrid-AuON: one Newton-Schulz step, then the cosh-RMS brake (paper form; repo form with repo2026=1)"
                : "AuON: Frobenius-normalised Nesterov momentum with the cosh-RMS brake (paper form; repo form with repo2026=1)",
            paper: "Maity, 2025 (AuON)",
            defaults: ["lr": 0.24, "momentum": 0.95, "repo2026": 0, "ns_steps": 0, "gamma": 1.5, "weight_decay": 0]
        ) { h in
            let repo = h["repo2026"]! != 0
            return try AuON(learningRate: h["lr"]!, momentum: h["momentum"]!, version: repo ? .repo2026 : .paper2025, hybrid: hybrid,
                            newtonSchulzSteps: h["ns_steps"]! > 0 ? Int(h["ns_steps"]!) : nil, gamma: h["gamma"]!, weightDecay: h["weight_decay"]!)
        }
    }

    public static let registryEntry = entry(hybrid: false)
    public static let hybridRegistryEntry = entry(hybrid: true)

    public override var minimumRank: Int { 2 }
    public override var slotNames: [String] { ["momentum_buffer"] }
    public override var otherHyperparameters: [String: Double] {
        ["momentum": momentum, "gamma": gamma, "ns_steps": Double(newtonSchulzSteps), "repo2026": version == .repo2026 ? 1 : 0]
    }

    /// `sqrt(mean(cosh(scale·x)²))` over a buffer, with `cosh² = (cosh(2y) + 1)/2` from the vector
    /// `exp`: chunks sum in 8 Float lanes, chunk sums combine in Double in order (thread-count
    /// independent).
    static func coshRMS(_ x: UnsafePointer<Float>, _ n: Int, scale: Double) -> Double {
        let grain = Parallel.elementwiseGrain
        let chunks = Swift.max((n + grain - 1) / grain, 1)
        var partials = [Double](repeating: 0, count: chunks)
        let twice = SIMD8<Float>(repeating: Float(2 * scale)), half = SIMD8<Float>(repeating: 0.5)
        partials.withUnsafeMutableBufferPointer { out in
            Parallel.forEachRange(count: n, grain: grain) { range in
                var acc = SIMD8<Float>()
                Lanes.forEach(range) { i, lanes in
                    let y = Lanes.load(x, i, lanes) * twice
                    var c = half * (FastMath.exp(y) + FastMath.exp(-y))  // cosh(2y)
                    if lanes < 8 { for k in lanes..<8 { c[k] = -1 } }   // (c + 1)/2 = 0 in unused lanes
                    acc += half * (c + 1)
                }
                out[range.lowerBound / grain] = Double(acc.sum())
            }
        }
        return (partials.reduce(0, +) / Double(Swift.max(n, 1))).squareRoot()
    }

    public override func update(_ u: inout ParameterUpdate) {
        let n = u.count, p = u.parameter, g = u.gradient, m = u.slots[0]
        let rows = u.shape[0], columns = n / Swift.max(rows, 1)
        // Pass 1: momentum, the Nesterov direction and its squared norm (chunk sums in Double, in order).
        let beta = SIMD8<Float>(repeating: Float(momentum)), rest = SIMD8<Float>(repeating: Float(1 - momentum))
        let grain = Parallel.elementwiseGrain
        var partials = [Double](repeating: 0, count: Swift.max((n + grain - 1) / grain, 1))
        var direction = Tensor(shape: [rows, columns]) { d in
            partials.withUnsafeMutableBufferPointer { out in
                forEachChunk(n) { range in
                    var acc = SIMD8<Float>()
                    Lanes.forEach(range) { i, lanes in
                        let gv = Lanes.load(g, i, lanes)
                        let mv = beta * Lanes.load(m, i, lanes) + rest * gv
                        Lanes.store(mv, m, i, lanes)
                        let dv = rest * gv + beta * mv
                        Lanes.store(dv, d.baseAddress!, i, lanes)
                        acc += dv * dv
                    }
                    out[range.lowerBound / grain] = Double(acc.sum())
                }
            }
        }
        let frobenius = partials.reduce(0, +).squareRoot()
        let lr = u.learningRate
        switch version {
        case .paper2025:
            var scale = 1 / (frobenius + 1e-7)
            if hybrid {
                direction = NewtonSchulz.orthogonalize(direction * Float(scale), steps: newtonSchulzSteps)
                scale = 1
            }
            let r = direction.withUnsafeBufferPointer { AuON.coshRMS($0.baseAddress!, n, scale: scale) }
            let step = SIMD8<Float>(repeating: Float(lr * Swift.max(1, Double(rows) / Double(columns)).squareRoot() * scale / (r + 1e-8)))
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
                norm = direction.withUnsafeBufferPointer { b in b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
            }
            let r = direction.withUnsafeBufferPointer { AuON.coshRMS($0.baseAddress!, n, scale: gamma / (norm + 1e-7)) }
            let step = Float(lr / (r + 1e-8))
            direction.withUnsafeBufferPointer { d in for i in 0..<n { p[i] -= step * d[i] } }
        }
    }
}
