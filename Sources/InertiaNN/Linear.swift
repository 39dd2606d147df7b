import InertiaTensor

/// `y = x Wᵀ + b`, with `W` of shape `[out, in]` as PyTorch stores it. Inputs `[..., in]`.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    /// Input and output-gradient statistics for Kronecker-factored optimizers (MKOR); off when `nil`.
    public var statistics: LayerStatistics?

    /// PyTorch's default initialization: `W, b ~ U(-1/sqrt(in), 1/sqrt(in))`.
    public init(
        _ inputSize: Int, _ outputSize: Int, bias: Bool = true, weightInitializer: Initializer = .kaimingUniform(),
        using rng: inout PhiloxGenerator
    ) {
        validated(inputSize > 0 && outputSize > 0, "Linear: sizes must be positive, got \(inputSize) -> \(outputSize)")
        weight = Parameter(weightInitializer.make([outputSize, inputSize], using: &rng))
        let bound = 1 / Double(inputSize).squareRoot()
        self.bias =
            bias ? Parameter(Initializer.uniform(low: -bound, high: bound).make([outputSize], using: &rng)) : nil
        super.init()
        register(weight, as: "weight")
        if let b = self.bias { register(b, as: "bias") }
    }

    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }

    public override func forward(_ input: Tensor) -> Tensor {
        validated(
            input.rank >= 1 && input.shape[input.rank - 1] == inputSize,
            "Linear: input has shape \(input.shape), expected last dimension \(inputSize)")
        let x = input.rank == 1 ? input.unsqueezed(axis: 0) : input
        var y = Tensor.matmul(x, weight.value, transposingB: true)
        if let b = bias { y = y + b.value }
        if let statistics {
            let inputRows = x.reshaped(to: [-1, inputSize]), outputSize = outputSize
            y = statistics.record(inputRows: inputRows, output: y) { $0.reshaped(to: [-1, outputSize]) }
        }
        return input.rank == 1 ? y.squeezed(axis: 0) : y
    }
}
