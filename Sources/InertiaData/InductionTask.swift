import InertiaTensor

/// Single-query induction (associative recall) sequences, the toy of the momentum-attention spec
/// (`shared/papers/momentum-attention.md`, section 5): `length` tokens drawn uniformly from
/// `vocabulary`, a token `A` and a position `i` in `0...length - 4` drawn uniformly, every `A`
/// redrawn from the other tokens, then `A` planted at `i` and at the last position. The label is
/// the token at `i + 1`: `A` occurs exactly twice and `i` is random, so only matching the last
/// token against its earlier copy and copying its successor (an induction head) solves it; chance
/// is about `1 / (vocabulary - 1)`.
public struct InductionTask: Sendable, Equatable {
    public let vocabulary: Int
    public let length: Int

    public init(vocabulary: Int, length: Int) throws {
        guard vocabulary >= 2 else {
            throw DataError.invalidArgument("an induction task needs at least 2 tokens, got \(vocabulary)")
        }
        guard length >= 4 else {
            throw DataError.invalidArgument("an induction sequence needs at least 4 positions, got \(length)")
        }
        self.vocabulary = vocabulary
        self.length = length
    }

    /// Sequences, their labels and where each planted its first `A`.
    public struct Batch: Sendable, Equatable {
        /// `[count, length]` token indices.
        public var tokens: IndexTensor
        /// The token after the first `A`, per sequence.
        public var labels: [Int]
        /// The first `A`'s position `i`, per sequence.
        public var plantedPositions: [Int]
    }

    /// `count` sequences drawn from `rng`.
    public func batch(count: Int, using rng: inout PhiloxGenerator) -> Batch {
        var tokens = [Int](), labels = [Int](), planted = [Int]()
        tokens.reserveCapacity(count * length)
        for _ in 0..<count {
            var sequence = (0..<length).map { _ in rng.nextInt(below: vocabulary) }
            let a = rng.nextInt(below: vocabulary)
            let i = rng.nextInt(below: length - 3)
            for t in sequence.indices where sequence[t] == a {
                // Uniform over the other tokens.
                let other = rng.nextInt(below: vocabulary - 1)
                sequence[t] = other >= a ? other + 1 : other
            }
            sequence[i] = a
            sequence[length - 1] = a
            tokens += sequence
            labels.append(sequence[i + 1])
            planted.append(i)
        }
        return Batch(
            tokens: IndexTensor(shape: [count, length], indices: tokens), labels: labels, plantedPositions: planted)
    }
}
