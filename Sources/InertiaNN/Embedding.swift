import InertiaTensor

/// A lookup table of `count` vectors of size `dimension`, initialized `N(0, 1)` as PyTorch.
public final class Embedding: Module {
    public let weight: Parameter

    public init(count: Int, dimension: Int, using rng: inout PhiloxGenerator) {
        validated(count > 0 && dimension > 0, "Embedding: sizes must be positive, got \(count) x \(dimension)")
        weight = Parameter(Tensor.normal([count, dimension], using: &rng))
        super.init()
        register(weight, as: "weight")
    }

    /// Rows for integer indices of any shape: result `indices.shape + [dimension]`.
    public func forward(indices: IndexTensor) -> Tensor {
        weight.value.indexSelect(alongAxis: 0, indices: indices.indices)
            .reshaped(to: indices.shape + [weight.shape[1]])
    }

    /// Rows for indices stored as whole floats.
    public override func forward(_ input: Tensor) -> Tensor {
        let indices = input.scalars.map { value -> Int in
            validated(value == value.rounded() && value >= 0, "Embedding: index \(value) is not a non-negative integer")
            return Int(value)
        }
        return forward(indices: IndexTensor(shape: input.shape, indices: indices))
    }
}
