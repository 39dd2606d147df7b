import InertiaTensor

/// An elementwise nonlinearity as a layer.
public final class Activation: Module {
    /// The function applied.
    public enum Kind: String, CaseIterable, Sendable {
        case relu, gelu, geluTanh, tanh, sigmoid, silu, softplus, leakyRelu, identity
    }

    public let kind: Kind
    public let negativeSlope: Float

    public init(_ kind: Kind, negativeSlope: Float = 0.01) {
        self.kind = kind
        self.negativeSlope = negativeSlope
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        switch kind {
        case .relu: return x.relu()
        case .gelu: return x.gelu()
        case .geluTanh: return x.gelu(approximation: .tanh)
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .silu: return x.silu()
        case .softplus: return x.softplus()
        case .leakyRelu: return x.leakyRelu(negativeSlope: negativeSlope)
        case .identity: return x
        }
    }
}

/// Flattens the dimensions from `startAxis` on (PyTorch's `nn.Flatten`, default from axis 1).
public final class Flatten: Module {
    public let startAxis: Int
    public init(startAxis: Int = 1) {
        self.startAxis = startAxis
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        validated(startAxis < x.rank, "Flatten: start axis \(startAxis) is out of range for shape \(x.shape)")
        return x.reshaped(to: Array(x.shape[..<startAxis]) + [-1])
    }
}

/// Reshapes each sample, keeping the batch axis: `[N, ...]` to `[N] + shape` (PyTorch's
/// `nn.Unflatten(1, shape)` for a flat input).
public final class Reshape: Module {
    public let shape: [Int]
    public init(_ shape: [Int]) {
        self.shape = shape
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let count = shape.reduce(1, *)
        validated(
            x.rank >= 1 && x.shape.dropFirst().reduce(1, *) == count,
            "Reshape: samples of shape \(Array(x.shape.dropFirst())) do not have the \(count) elements of \(shape)")
        return x.reshaped(to: [x.shape[0]] + shape)
    }
}
