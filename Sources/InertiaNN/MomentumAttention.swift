import Foundation
import InertiaTensor

/// The kinematic shear of momentum attention (K. Maitra, "Momentum Attention: The Physics of
/// In-Context Learning and Spectral Forensics for Mechanistic Interpretability", arXiv 2602.04902,
/// 2026; `shared/papers/momentum-attention.md`): each query and key is replaced by
/// `x̂_t = x_t + γ (x_t − x_{t−1})`, its position plus `γ` times its velocity along the sequence,
/// so the key at `i + 1` carries a copy of the key at `i` and one attention layer can match "the
/// token before me" (induction). Values are never sheared.
///
/// `CausalSelfAttention(momentum:)` applies it to every head, after the rotary embedding unless
/// `beforeRotary` is set (the two differ: spec 2.4). Along the sequence the shear is the FIR
/// filter `H(z) = (1 + γ) − γ z⁻¹`: gain 1 for constant content, `1 + 2γ` for alternating content
/// (`gain(atFrequency:)`, the "Bode plot" of a momentum head).
public struct MomentumShear: Sendable, Equatable {
    /// What the first position of a sequence takes as its predecessor.
    public enum FirstPosition: Sendable, Equatable {
        /// `p_0 = 0`: the first row is left unchanged (the spec's default).
        case noVelocity
        /// `x_{−1} = 0`: the first row is scaled by `1 + γ`, which inflates its logits by up to
        /// `(1 + γ)²` (an attention sink by construction, spec 2.5).
        case zeroPadding
    }

    /// The coupling `γ >= 0`; 0 gives standard attention.
    public var gamma: Float
    public var firstPosition: FirstPosition
    /// Shear the queries (the paper's form shears both).
    public var shearsQueries: Bool
    /// Shear the keys.
    public var shearsKeys: Bool
    /// Take the velocity before the rotary embedding (the spec's pre-RoPE ablation) instead of after.
    public var beforeRotary: Bool

    public init(
        gamma: Float, firstPosition: FirstPosition = .noVelocity, shearsQueries: Bool = true, shearsKeys: Bool = true,
        beforeRotary: Bool = false
    ) {
        validated(gamma >= 0 && gamma.isFinite, "MomentumShear: gamma must be finite and >= 0, got \(gamma)")
        self.gamma = gamma
        self.firstPosition = firstPosition
        self.shearsQueries = shearsQueries
        self.shearsKeys = shearsKeys
        self.beforeRotary = beforeRotary
    }

    /// The reported associative-recall optimum `γ* = 4.17 N^−0.74`, read with `N` the number of
    /// layers (the spec's interpretation; the abstract does not define `N`).
    public static func coupling(layers: Int) -> Float {
        validated(layers >= 1, "MomentumShear.coupling: needs at least one layer, got \(layers)")
        return Float(4.17 * Foundation.pow(Double(layers), -0.74))
    }

    /// Shears `x` of shape `[..., length, width]` along its second-to-last (time) axis.
    /// - Parameters:
    ///   - x: rows `[..., length, width]`, time along the second-to-last axis.
    ///   - previous: the row `[..., 1, width]` before `x`'s first row, when `x` continues a
    ///     sequence (incremental decoding); without it the first row follows `firstPosition`.
    ///   - restarts: 1 where a new sequence starts (the first real token after padding, a
    ///     document start in a packed batch) and 0 elsewhere, broadcastable to `[..., length, 1]`;
    ///     those rows follow `firstPosition`, so no velocity crosses a sequence boundary.
    public func callAsFunction(_ x: Tensor, previous: Tensor? = nil, restarts: Tensor? = nil) -> Tensor {
        validated(x.rank >= 2, "MomentumShear: needs [..., length, width], got \(x.shape)")
        let length = x.shape[x.rank - 2]
        if length == 0 { return x }
        if previous == nil && restarts == nil { return fused(x, adjoint: false) }
        let first: Tensor
        if let previous {
            var expected = x.shape
            expected[x.rank - 2] = 1
            validated(
                previous.shape == expected,
                "MomentumShear: the previous row has shape \(previous.shape), expected \(expected)")
            first = previous
        } else {
            first = firstPredecessor(of: x.slice(alongAxis: -2, 0..<1))
        }
        var predecessors =
            length == 1 ? first : Tensor.concatenate([first, x.slice(alongAxis: -2, 0..<(length - 1))], alongAxis: -2)
        if let restarts {
            validated(
                restarts.rank <= x.rank && restarts.shape.last == 1,
                "MomentumShear: restarts of shape \(restarts.shape) do not broadcast to [..., \(length), 1]")
            let atRestart = firstPredecessor(of: x)
            predecessors = predecessors + (atRestart - predecessors) * restarts
        }
        return x + (x - predecessors) * gamma
    }

    /// The shear of whole sequences (`adjoint: false`) or its transpose (`adjoint: true`) as one
    /// op: one pass over `x` instead of a slice, a concatenation and three arithmetic ops, each
    /// the other's backward and its own tangent (both are linear). The shear row is
    /// `x_t + (x_t − x_{t−1}) γ`, as the general path computes it; the transpose's row is
    /// `g_t + (g_t − g_{t+1}) γ`, with `g_{T}` taken as 0 and, for `p_0 = 0`, `g_0 − γ g_1` at the
    /// first row.
    private func fused(_ x: Tensor, adjoint: Bool) -> Tensor {
        let (length, width) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        let sequences = length * width == 0 ? 0 : x.count / (length * width)
        let (gamma, keepsFirst) = (gamma, firstPosition == .noVelocity)
        let result = Tensor(
            shape: x.shape,
            unsafeUninitialized: { out in
                x.withUnsafeBufferPointer { input in
                    let grain = Swift.max(1, Parallel.elementwiseGrain / Swift.max(1, length * width))
                    Parallel.forEachRange(count: sequences, grain: grain) { range in
                        for sequence in range {
                            let src = input.baseAddress! + sequence * length * width
                            let dst = out.baseAddress! + sequence * length * width
                            for t in 0..<length {
                                let row = src + t * width, target = dst + t * width
                                if adjoint {
                                    if t + 1 < length {
                                        let next = row + width
                                        if t == 0 && keepsFirst {
                                            for c in 0..<width { target[c] = row[c] - gamma * next[c] }
                                        } else {
                                            for c in 0..<width { target[c] = row[c] + (row[c] - next[c]) * gamma }
                                        }
                                    } else if t == 0 && keepsFirst {
                                        for c in 0..<width { target[c] = row[c] }
                                    } else {
                                        for c in 0..<width { target[c] = row[c] + row[c] * gamma }
                                    }
                                } else if t > 0 {
                                    let before = row - width
                                    for c in 0..<width { target[c] = row[c] + (row[c] - before[c]) * gamma }
                                } else if keepsFirst {
                                    for c in 0..<width { target[c] = row[c] }
                                } else {
                                    for c in 0..<width { target[c] = row[c] + row[c] * gamma }
                                }
                            }
                        }
                    }
                }
            })
        let rule: TangentRule = { t, _, _ in fused(t[0]!, adjoint: adjoint) }
        return Tensor.custom(
            adjoint ? "momentum_shear_adjoint" : "momentum_shear", inputs: [x], output: result,
            backward: { g, _ in [fused(g, adjoint: !adjoint)] }, tangent: rule)
    }

    /// The predecessor the first-position convention gives rows `x`.
    private func firstPredecessor(of x: Tensor) -> Tensor {
        firstPosition == .noVelocity ? x : Tensor.zeros(x.shape)
    }

    /// Recovers the unsheared rows `[..., length, width]` from sheared ones (the recursion
    /// `x_t = (x̂_t + γ x_{t−1}) / (1 + γ)`, spec 2.3): the shear is invertible.
    public func inverted(_ sheared: Tensor) -> Tensor {
        validated(sheared.rank >= 2, "MomentumShear.inverted: needs [..., length, width], got \(sheared.shape)")
        let (length, width) = (sheared.shape[sheared.rank - 2], sheared.shape[sheared.rank - 1])
        let scalars = sheared.scalars
        let g = Double(gamma)
        var result = [Float](repeating: 0, count: scalars.count)
        for start in stride(from: 0, to: scalars.count, by: Swift.max(1, length * width)) {
            for c in 0..<width {
                var before = 0.0
                for t in 0..<length {
                    let i = start + t * width + c
                    let value = Double(scalars[i])
                    let x =
                        t == 0 && firstPosition == .noVelocity ? value : (value + g * before) / (1 + g)
                    result[i] = Float(x)
                    before = x
                }
            }
        }
        return Tensor(shape: sheared.shape, scalars: result)
    }

    /// The lower bidiagonal `[length, length]` matrix `S_γ` with `x̂ = S_γ x` (spec 2.2).
    public func matrix(length: Int) -> Tensor {
        var s = [Float](repeating: 0, count: length * length)
        for t in 0..<length {
            s[t * length + t] = t == 0 && firstPosition == .noVelocity ? 1 : 1 + gamma
            if t > 0 { s[t * length + t - 1] = -gamma }
        }
        return Tensor(shape: [length, length], scalars: s)
    }

    /// `|H(e^{iω})| = sqrt(1 + 2γ(1 + γ)(1 − cos ω))`: the shear's gain at angular frequency `ω`.
    public func gain(atFrequency omega: Double) -> Double {
        let g = Double(gamma)
        return (1 + 2 * g * (1 + g) * (1 - Foundation.cos(omega))).squareRoot()
    }

    /// `arg H(e^{iω}) = atan2(γ sin ω, 1 + γ − γ cos ω)`.
    public func phase(atFrequency omega: Double) -> Double {
        let g = Double(gamma)
        return Foundation.atan2(g * Foundation.sin(omega), 1 + g - g * Foundation.cos(omega))
    }
}
