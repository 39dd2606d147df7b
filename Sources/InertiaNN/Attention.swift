import Foundation
import InertiaTensor

/// Rotary position embeddings (Su et al., "RoFormer", 2021) in the half-split form of GPT-NeoX and
/// Hugging Face's LLaMA: the head dimension is split into halves `(x1, x2)` and position `t`
/// rotates pair `i` by `t * base^(-2i / d)`: `x * cos + rotateHalf(x) * sin`.
public struct RotaryEmbedding: Sendable {
    public let headDimension: Int
    public let base: Double

    public init(headDimension: Int, base: Double = 10_000) {
        validated(headDimension % 2 == 0, "RotaryEmbedding: head dimension must be even, got \(headDimension)")
        self.headDimension = headDimension
        self.base = base
    }

    /// `cos` and `sin` tables `[length, headDimension]` (each half repeated).
    public func tables(length: Int, offset: Int = 0) -> (cos: Tensor, sin: Tensor) {
        let half = headDimension / 2
        var c = [Float](repeating: 0, count: length * headDimension), s = c
        for t in 0..<length {
            for i in 0..<half {
                let angle = Double(t + offset) * Foundation.pow(base, -2 * Double(i) / Double(headDimension))
                c[t * headDimension + i] = Float(Foundation.cos(angle))
                c[t * headDimension + i + half] = Float(Foundation.cos(angle))
                s[t * headDimension + i] = Float(Foundation.sin(angle))
                s[t * headDimension + i + half] = Float(Foundation.sin(angle))
            }
        }
        return (
            Tensor(shape: [length, headDimension], scalars: c), Tensor(shape: [length, headDimension], scalars: s)
        )
    }

    /// Rotates `x` of shape `[..., length, headDimension]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let length = x.shape[x.rank - 2]
        let (cos, sin) = tables(length: length)
        let halves = x.split(count: 2, alongAxis: -1)
        let rotated = Tensor.concatenate([-halves[1], halves[0]], alongAxis: -1)
        return x * cos + rotated * sin
    }
}

/// Multi-head causal self-attention (Vaswani et al., 2017) on `[batch, length, dimension]`, with
/// optional rotary position embeddings on queries and keys. Projections `query`, `key`, `value`,
/// `output` are `Linear` layers; position `t` attends to positions `<= t`.
public final class CausalSelfAttention: Module {
    public let heads: Int
    public let dimension: Int
    public let query: Linear, key: Linear, value: Linear, output: Linear
    public let rotary: RotaryEmbedding?

    public init(dimension: Int, heads: Int, rotary: Bool = true, bias: Bool = false, using rng: inout PhiloxGenerator) {
        validated(
            heads > 0 && dimension % heads == 0,
            "CausalSelfAttention: \(heads) heads do not divide dimension \(dimension)")
        self.heads = heads
        self.dimension = dimension
        query = Linear(dimension, dimension, bias: bias, using: &rng)
        key = Linear(dimension, dimension, bias: bias, using: &rng)
        value = Linear(dimension, dimension, bias: bias, using: &rng)
        output = Linear(dimension, dimension, bias: bias, using: &rng)
        self.rotary = rotary ? RotaryEmbedding(headDimension: dimension / heads) : nil
        super.init()
        register(query, as: "query")
        register(key, as: "key")
        register(value, as: "value")
        register(output, as: "output")
    }

    /// The additive causal mask `[length, length]`: 0 on and below the diagonal, -inf above.
    public static func causalMask(length: Int) -> Tensor {
        var m = [Float](repeating: 0, count: length * length)
        for i in 0..<length { for j in (i + 1)..<Swift.max(i + 1, length) { m[i * length + j] = -.infinity } }
        return Tensor(shape: [length, length], scalars: m)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        validated(
            x.rank == 3 && x.shape[2] == dimension,
            "CausalSelfAttention: input has shape \(x.shape), expected [B, T, \(dimension)]")
        let (b, t) = (x.shape[0], x.shape[1])
        let headDimension = dimension / heads
        func split(_ y: Tensor) -> Tensor { y.reshaped(to: [b, t, heads, headDimension]).permuted([0, 2, 1, 3]) }
        var q = split(query(x)), k = split(key(x))
        let v = split(value(x))
        if let rotary {
            q = rotary(q)
            k = rotary(k)
        }
        let scores =
            Tensor.matmul(q, k, transposingB: true) * Float(1 / Double(headDimension).squareRoot())
            + CausalSelfAttention.causalMask(length: t)
        let attended = Tensor.matmul(scores.softmax(alongAxis: -1), v)
        return output(attended.permuted([0, 2, 1, 3]).reshaped(to: [b, t, dimension]))
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
