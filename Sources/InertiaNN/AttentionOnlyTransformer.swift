import InertiaTensor

/// An attention-only transformer (no MLP, no LayerNorm; Elhage et al., "A Mathematical Framework
/// for Transformer Circuits", 2021), the model of the momentum-attention spec's induction toy:
/// token embeddings plus learned absolute positions (or a rotary embedding inside attention),
/// `layers` residual blocks `x + attention(x)`, an unembedding without bias. Initialised as the
/// spec's section 5: embeddings `N(0, 0.02)`, projections and unembedding `N(0, 1/D)`.
public final class AttentionOnlyTransformer: Module {
    /// How positions enter the model.
    public enum Positions: Sendable, Equatable {
        /// A learned embedding of each position `0..<length`, added to the tokens'.
        case learned
        /// A rotary embedding on every head's queries and keys.
        case rotary(base: Double, pairing: RotaryEmbedding.Pairing)
    }

    public let tokens: Embedding
    public let positions: Embedding?
    public let blocks: [CausalSelfAttention]
    public let unembedding: Linear
    /// The longest sequence the position table covers (rotary positions have no limit).
    public let length: Int

    /// `momentum` holds one shear per layer (nil for standard attention): its count is the depth.
    public init(
        vocabulary: Int, length: Int, dimension: Int, heads: Int, momentum: [MomentumShear?],
        positions: Positions = .learned, using rng: inout PhiloxGenerator
    ) {
        validated(
            vocabulary > 0 && length > 0 && !momentum.isEmpty,
            "AttentionOnlyTransformer: needs a vocabulary, a length and at least one layer")
        validated(
            heads > 0 && dimension % heads == 0, "AttentionOnlyTransformer: \(heads) heads do not divide \(dimension)")
        self.length = length
        tokens = Embedding(count: vocabulary, dimension: dimension, using: &rng)
        tokens.weight.assign(Tensor.normal([vocabulary, dimension], standardDeviation: 0.02, using: &rng))
        let rotary: RotaryEmbedding?
        switch positions {
        case .learned:
            let table = Embedding(count: length, dimension: dimension, using: &rng)
            table.weight.assign(Tensor.normal([length, dimension], standardDeviation: 0.02, using: &rng))
            self.positions = table
            rotary = nil
        case .rotary(let base, let pairing):
            self.positions = nil
            rotary = RotaryEmbedding(headDimension: dimension / heads, base: base, pairing: pairing)
        }
        let spread = 1 / Float(dimension).squareRoot()
        blocks = momentum.map { shear in
            let block = CausalSelfAttention(
                dimension: dimension, heads: heads, positions: rotary, momentum: shear, using: &rng)
            for projection in [block.query, block.key, block.value, block.output] {
                projection.weight.assign(
                    Tensor.normal([dimension, dimension], standardDeviation: spread, using: &rng))
            }
            return block
        }
        unembedding = Linear(dimension, vocabulary, bias: false, using: &rng)
        unembedding.weight.assign(Tensor.normal([vocabulary, dimension], standardDeviation: spread, using: &rng))
        super.init()
        register(tokens, as: "tokens")
        if let table = self.positions { register(table, as: "positions") }
        for (i, block) in blocks.enumerated() { register(block, as: "block\(i)") }
        register(unembedding, as: "unembedding")
    }

    /// The residual stream `[B, T, D]` after every block, for token indices `[B, T]`.
    public func residualStreams(_ codes: IndexTensor) -> [Tensor] {
        validated(
            codes.shape.count == 2 && (positions == nil || codes.shape[1] <= length),
            "AttentionOnlyTransformer: tokens of shape \(codes.shape), expected [B, T] with T <= \(length)")
        var x = tokens.forward(indices: codes)
        if let positions {
            x = x + positions.forward(indices: IndexTensor(Array(0..<codes.shape[1]))).unsqueezed(axis: 0)
        }
        var streams = [x]
        for block in blocks {
            x = x + block(x)
            streams.append(x)
        }
        return streams
    }

    /// Logits `[B, V]` of each sequence's last position.
    public func lastLogits(_ codes: IndexTensor) -> Tensor {
        let stream = residualStreams(codes).last!
        let t = stream.shape[1]
        return unembedding(stream.slice(alongAxis: 1, (t - 1)..<t).squeezed(axis: 1))
    }
}
