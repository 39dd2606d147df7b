import Foundation
import InertiaTensor

/// Rotary position embeddings (Su et al., "RoFormer", 2021): position `t` rotates pair `i` of the
/// head dimension by the angle `t * base^(-2i / d)`. Two pairings are in use: `.halves` pairs
/// coordinate `i` with `i + d/2` (GPT-NeoX, Hugging Face's LLaMA), `.adjacent` pairs `2i` with
/// `2i + 1` (the RoFormer paper, GPT-J, the momentum-attention spec).
public struct RotaryEmbedding: Sendable, Equatable {
    public enum Pairing: Sendable, Equatable {
        case halves, adjacent
    }

    public let headDimension: Int
    public let base: Double
    public let pairing: Pairing

    public init(headDimension: Int, base: Double = 10_000, pairing: Pairing = .halves) {
        validated(headDimension % 2 == 0, "RotaryEmbedding: head dimension must be even, got \(headDimension)")
        validated(base > 0 && base.isFinite, "RotaryEmbedding: base must be finite and positive, got \(base)")
        self.headDimension = headDimension
        self.base = base
        self.pairing = pairing
    }

    /// `cos` and `sin` tables `[length, headDimension]` for positions `offset..<offset + length`,
    /// each pair's angle at both of its coordinates.
    public func tables(length: Int, offset: Int = 0) -> (cos: Tensor, sin: Tensor) {
        let half = headDimension / 2
        var c = [Float](repeating: 0, count: length * headDimension), s = c
        for t in 0..<length {
            for i in 0..<half {
                let angle = Double(t + offset) * Foundation.pow(base, -2 * Double(i) / Double(headDimension))
                let places = pairing == .halves ? [i, i + half] : [2 * i, 2 * i + 1]
                for place in places {
                    c[t * headDimension + place] = Float(Foundation.cos(angle))
                    s[t * headDimension + place] = Float(Foundation.sin(angle))
                }
            }
        }
        return (
            Tensor(shape: [length, headDimension], scalars: c), Tensor(shape: [length, headDimension], scalars: s)
        )
    }

    /// Rotates `x` of shape `[..., length, headDimension]` whose rows sit at positions
    /// `offset..<offset + length`.
    public func callAsFunction(_ x: Tensor, offset: Int = 0) -> Tensor {
        validated(
            x.rank >= 2 && x.shape[x.rank - 1] == headDimension,
            "RotaryEmbedding: needs [..., length, \(headDimension)], got \(x.shape)")
        let length = x.shape[x.rank - 2]
        let (cos, sin) = tables(length: length, offset: offset)
        // Each pair (a, b) becomes (a cos - b sin, a sin + b cos): x * cos + (-b, a) * sin.
        let turned: Tensor
        switch pairing {
        case .halves:
            let halves = x.split(count: 2, alongAxis: -1)
            turned = Tensor.concatenate([-halves[1], halves[0]], alongAxis: -1)
        case .adjacent:
            let pairs = x.reshaped(to: Array(x.shape.dropLast()) + [headDimension / 2, 2]).split(
                count: 2, alongAxis: -1)
            turned = Tensor.concatenate([-pairs[1], pairs[0]], alongAxis: -1).reshaped(to: x.shape)
        }
        return x * cos + turned * sin
    }
}

/// The keys and values of the positions decoded so far by one `CausalSelfAttention` layer, for
/// incremental decoding: `forward(_:cache:)` appends to it. Keys are kept as the scores use them
/// (rotated and sheared); with a momentum shear the cache also keeps the last query and key
/// before the shear, from which the next position forms its velocity. One sequence per batch row,
/// starting at position 0.
public final class AttentionCache {
    /// Positions held.
    public private(set) var length = 0
    var keys: Tensor?
    var values: Tensor?
    var lastQuery: Tensor?
    var lastKey: Tensor?

    public init() {}

    func append(keys newKeys: Tensor, values newValues: Tensor, lastQuery: Tensor, lastKey: Tensor) {
        keys = keys.map { Tensor.concatenate([$0, newKeys], alongAxis: 2) } ?? newKeys
        values = values.map { Tensor.concatenate([$0, newValues], alongAxis: 2) } ?? newValues
        self.lastQuery = lastQuery
        self.lastKey = lastKey
        length += newKeys.shape[2]
    }
}

/// Multi-head causal self-attention (Vaswani et al., 2017) on `[batch, length, dimension]`, with
/// optional rotary position embeddings and an optional momentum shear (`MomentumShear`) on
/// queries and keys. Projections `query`, `key`, `value`, `output` are `Linear` layers; position
/// `t` attends to positions `<= t` (of its own segment, when segments are given).
public final class CausalSelfAttention: Module {
    public let heads: Int
    public let dimension: Int
    public let query: Linear, key: Linear, value: Linear, output: Linear
    public let rotary: RotaryEmbedding?
    /// The momentum shear of every head, or nil for standard attention.
    public let momentum: MomentumShear?

    /// Attention with the default rotary embedding (`RotaryEmbedding(headDimension:)`) or none.
    public convenience init(
        dimension: Int, heads: Int, rotary: Bool = true, bias: Bool = false, using rng: inout PhiloxGenerator
    ) {
        self.init(
            dimension: dimension, heads: heads,
            positions: rotary ? RotaryEmbedding(headDimension: dimension / Swift.max(heads, 1)) : nil,
            momentum: nil, bias: bias, using: &rng)
    }

    public init(
        dimension: Int, heads: Int, positions rotary: RotaryEmbedding?, momentum: MomentumShear?, bias: Bool = false,
        using rng: inout PhiloxGenerator
    ) {
        validated(
            heads > 0 && dimension % heads == 0,
            "CausalSelfAttention: \(heads) heads do not divide dimension \(dimension)")
        validated(
            rotary.map { $0.headDimension == dimension / heads } ?? true,
            "CausalSelfAttention: the rotary embedding's head dimension \(rotary?.headDimension ?? 0) is not \(dimension / heads)"
        )
        self.heads = heads
        self.dimension = dimension
        query = Linear(dimension, dimension, bias: bias, using: &rng)
        key = Linear(dimension, dimension, bias: bias, using: &rng)
        value = Linear(dimension, dimension, bias: bias, using: &rng)
        output = Linear(dimension, dimension, bias: bias, using: &rng)
        self.rotary = rotary
        self.momentum = momentum
        super.init()
        register(query, as: "query")
        register(key, as: "key")
        register(value, as: "value")
        register(output, as: "output")
    }

    /// The additive causal mask `[length, length]`: 0 on and below the diagonal, -inf above.
    public static func causalMask(length: Int) -> Tensor { causalMask(queries: length, offset: 0) }

    /// The additive mask `[queries, offset + queries]` of queries at positions
    /// `offset..<offset + queries` over keys at `0..<offset + queries`.
    static func causalMask(queries: Int, offset: Int) -> Tensor {
        let keys = offset + queries
        var m = [Float](repeating: 0, count: queries * keys)
        for i in 0..<queries {
            for j in (offset + i + 1)..<Swift.max(offset + i + 1, keys) { m[i * keys + j] = -.infinity }
        }
        return Tensor(shape: [queries, keys], scalars: m)
    }

    /// The per-head tensors one pass computes, `[batch, heads, length, headDimension]` each.
    public struct HeadInputs {
        /// Queries and keys after the rotary embedding, before the shear.
        public var rotatedQueries: Tensor, rotatedKeys: Tensor
        /// Queries and keys as the scores use them (rotated and sheared).
        public var queries: Tensor, keys: Tensor
        public var values: Tensor
        /// The last query and key before the shear (after the rotation unless the shear comes
        /// first), which a continuation needs for its first velocity.
        var lastQuery: Tensor, lastKey: Tensor
    }

    /// Queries, keys and values of `x` `[batch, length, dimension]` as one forward pass computes
    /// them (for inspecting a head: its scores, its spectrum).
    public func headInputs(_ x: Tensor) -> HeadInputs { projectedHeads(x, offset: 0, restarts: nil, previous: nil) }

    /// `headInputs` at positions `offset..<offset + length`; `restarts` `[batch, 1, length, 1]`
    /// marks segment starts and `previous` the last unsheared query and key of the positions before.
    func projectedHeads(
        _ x: Tensor, offset: Int, restarts: Tensor?, previous: (query: Tensor, key: Tensor)?
    ) -> HeadInputs {
        validated(
            x.rank == 3 && x.shape[2] == dimension,
            "CausalSelfAttention: input has shape \(x.shape), expected [B, T, \(dimension)]")
        let (b, t) = (x.shape[0], x.shape[1])
        let headDimension = dimension / heads
        func split(_ y: Tensor) -> Tensor { y.reshaped(to: [b, t, heads, headDimension]).permuted([0, 2, 1, 3]) }
        func rotated(_ y: Tensor) -> Tensor { rotary.map { $0(y, offset: offset) } ?? y }
        func lastRow(_ y: Tensor) -> Tensor { t == 0 ? y : y.slice(alongAxis: 2, (t - 1)..<t) }
        func positioned(_ raw: Tensor, shears: Bool, previous: Tensor?) -> (rotated: Tensor, used: Tensor, last: Tensor)
        {
            let r = rotated(raw)
            guard let momentum, shears else { return (r, r, lastRow(r)) }
            if momentum.beforeRotary {
                return (r, rotated(momentum(raw, previous: previous, restarts: restarts)), lastRow(raw))
            }
            return (r, momentum(r, previous: previous, restarts: restarts), lastRow(r))
        }
        let q = positioned(split(query(x)), shears: momentum?.shearsQueries ?? false, previous: previous?.query)
        let k = positioned(split(key(x)), shears: momentum?.shearsKeys ?? false, previous: previous?.key)
        return HeadInputs(
            rotatedQueries: q.rotated, rotatedKeys: k.rotated, queries: q.used, keys: k.used, values: split(value(x)),
            lastQuery: q.last, lastKey: k.last)
    }

    /// Scores, softmax, values and the output projection for queries `[B, H, n, d]` over keys and
    /// values `[B, H, m, d]` with the additive `mask`.
    func attended(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor) -> Tensor {
        let (b, t) = (queries.shape[0], queries.shape[2])
        let headDimension = dimension / heads
        let scores =
            Tensor.matmul(queries, keys, transposingB: true) * Float(1 / Double(headDimension).squareRoot()) + mask
        let mixed = Tensor.matmul(scores.softmax(alongAxis: -1), values)
        return output(mixed.permuted([0, 2, 1, 3]).reshaped(to: [b, t, dimension]))
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let inputs = headInputs(x)
        return attended(
            queries: inputs.queries, keys: inputs.keys, values: inputs.values,
            mask: CausalSelfAttention.causalMask(length: x.shape[1]))
    }

    /// Attention over packed or padded sequences: `segments` `[batch, length]` labels each
    /// position's sequence (document, or padding); a position attends only to earlier positions of
    /// its own segment, and the momentum shear restarts wherever the label changes, so no
    /// velocity and no attention cross a boundary. Rotary positions stay those of the row.
    public func forward(_ x: Tensor, segments: IndexTensor) -> Tensor {
        validated(
            x.rank == 3 && segments.shape == [x.shape[0], x.shape[1]],
            "CausalSelfAttention: segments have shape \(segments.shape), expected [\(x.rank == 3 ? x.shape[0] : 0), \(x.rank == 3 ? x.shape[1] : 0)]"
        )
        let (b, t) = (x.shape[0], x.shape[1])
        let labels = segments.indices
        var starts = [Float](repeating: 0, count: b * t), mask = [Float](repeating: 0, count: b * t * t)
        for row in 0..<b {
            for i in 0..<t {
                if i == 0 || labels[row * t + i] != labels[row * t + i - 1] { starts[row * t + i] = 1 }
                for j in 0..<t where j > i || labels[row * t + j] != labels[row * t + i] {
                    mask[(row * t + i) * t + j] = -.infinity
                }
            }
        }
        let inputs = projectedHeads(
            x, offset: 0, restarts: Tensor(shape: [b, 1, t, 1], scalars: starts), previous: nil)
        return attended(
            queries: inputs.queries, keys: inputs.keys, values: inputs.values,
            mask: Tensor(shape: [b, 1, t, t], scalars: mask))
    }

    /// Incremental decoding: attends the new positions `x` `[batch, n, dimension]` (positions
    /// `cache.length..<cache.length + n`) over the cached ones and themselves, and appends their
    /// keys and values to `cache`. Decoding a sequence in any split gives the full forward's
    /// outputs.
    public func forward(_ x: Tensor, cache: AttentionCache) -> Tensor {
        if let keys = cache.keys {
            validated(
                x.rank == 3 && x.shape[0] == keys.shape[0],
                "CausalSelfAttention: input \(x.shape) does not continue a cache of batch \(keys.shape[0])")
        }
        let offset = cache.length
        let previous = cache.lastQuery.flatMap { q in cache.lastKey.map { (query: q, key: $0) } }
        let inputs = projectedHeads(x, offset: offset, restarts: nil, previous: previous)
        if x.shape[1] == 0 { return output(x) }
        cache.append(
            keys: inputs.keys, values: inputs.values, lastQuery: inputs.lastQuery, lastKey: inputs.lastKey)
        return attended(
            queries: inputs.queries, keys: cache.keys!, values: cache.values!,
            mask: CausalSelfAttention.causalMask(queries: x.shape[1], offset: offset))
    }
}

/// A pre-norm transformer block: `x + attention(norm1(x))`, then `x + mlp(norm2(x))` with a
/// `dimension -> hidden -> dimension` GELU MLP.
public final class TransformerBlock: Module {
    public let norm1: LayerNorm, norm2: LayerNorm
    public let attention: CausalSelfAttention
    public let mlp: Sequential

    public init(
        dimension: Int, heads: Int, hiddenDimension: Int? = nil, rotary: Bool = true, using rng: inout PhiloxGenerator
    ) {
        norm1 = LayerNorm(dimension)
        attention = CausalSelfAttention(dimension: dimension, heads: heads, rotary: rotary, using: &rng)
        norm2 = LayerNorm(dimension)
        let hidden = hiddenDimension ?? 4 * dimension
        mlp = Sequential(
            Linear(dimension, hidden, using: &rng), Activation(.gelu), Linear(hidden, dimension, using: &rng))
        super.init()
        register(norm1, as: "norm1")
        register(attention, as: "attention")
        register(norm2, as: "norm2")
        register(mlp, as: "mlp")
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let h = x + attention(norm1(x))
        return h + mlp(norm2(h))
    }
}
