import InertiaTensor

/// 2-d convolution (cross-correlation, as PyTorch) over `[N, C, H, W]`, with stride, zero
/// padding, dilation and groups (`Tensor.convolution2D`: chunked im2col and packed GEMMs).
/// Weight `[out, in / groups, kh, kw]`, bias `[out]`.
public final class Conv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let window: Window2D
    public let groups: Int
    /// Input and output-gradient statistics for Kronecker-factored optimizers (MKOR; `groups == 1`
    /// only): input patches and output gradients averaged over positions. Off when `nil`.
    public var statistics: LayerStatistics?

    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
        using rng: inout PhiloxGenerator
    ) {
        validated(
            groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
            "Conv2d: groups (\(groups)) must divide in (\(inChannels)) and out (\(outChannels)) channels")
        window = Window2D(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
        self.groups = groups
        let shape = [outChannels, inChannels / groups, kernelSize.0, kernelSize.1]
        weight = Parameter(Initializer.kaimingUniform().make(shape, using: &rng))
        let bound = 1 / Double(Initializer.fans(shape).fanIn).squareRoot()
        self.bias =
            bias ? Parameter(Initializer.uniform(low: -bound, high: bound).make([outChannels], using: &rng)) : nil
        super.init()
        register(weight, as: "weight")
        if let b = self.bias { register(b, as: "bias") }
    }

    public convenience init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
        groups: Int = 1, bias: Bool = true, using rng: inout PhiloxGenerator
    ) {
        self.init(
            inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
            padding: (padding, padding), dilation: (dilation, dilation), groups: groups, bias: bias, using: &rng)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let perGroup = weight.shape[1]
        validated(
            x.rank == 4 && x.shape[1] == perGroup * groups,
            "Conv2d: input has shape \(x.shape), expected [N, \(perGroup * groups), H, W]")
        let y = Tensor.convolution2D(x, weight: weight.value, bias: bias?.value, window: window, groups: groups)
        guard let statistics else { return y }
        validated(groups == 1, "Conv2d: layer statistics need groups == 1, this layer has \(groups) groups")
        let n = x.shape[0], k = perGroup * window.kernel.height * window.kernel.width
        return statistics.record(inputRows: x.windows(window).reshaped(to: [n, k, -1]).mean(alongAxis: 2), output: y) {
            $0.mean(alongAxes: [2, 3])
        }
    }
}
