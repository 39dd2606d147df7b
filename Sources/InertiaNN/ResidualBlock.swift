import InertiaTensor

/// The ResNet basic block (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016),
/// as torchvision's `BasicBlock`: `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))` with 3×3
/// convolutions without bias, the first one strided; the shortcut is the identity, or a strided
/// 1×1 convolution and batch norm (`downsample`) when the stride or the channel count changes.
/// Parameter names follow torchvision (`conv1.weight`, `bn1.weight`, `downsample.0.weight`, ...).
public final class ResidualBlock: Module {
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    /// The projection shortcut, or nil for the identity.
    public let downsample: Sequential?
    public let inChannels: Int, outChannels: Int, stride: Int

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, using rng: inout PhiloxGenerator) {
        validated(
            inChannels > 0 && outChannels > 0 && stride > 0,
            "ResidualBlock: channels and stride must be positive, got \(inChannels) -> \(outChannels), stride \(stride)"
        )
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.stride = stride
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, stride: stride, padding: 1, bias: false, using: &rng)
        bn1 = BatchNorm(outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, bias: false, using: &rng)
        bn2 = BatchNorm(outChannels)
        downsample =
            stride != 1 || inChannels != outChannels
            ? Sequential(
                Conv2d(inChannels, outChannels, kernelSize: 1, stride: stride, bias: false, using: &rng),
                BatchNorm(outChannels))
            : nil
        super.init()
        register(conv1, as: "conv1")
        register(bn1, as: "bn1")
        register(conv2, as: "conv2")
        register(bn2, as: "bn2")
        if let downsample { register(downsample, as: "downsample") }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        validated(
            x.rank == 4 && x.shape[1] == inChannels,
            "ResidualBlock: input has shape \(x.shape), expected [N, \(inChannels), H, W]")
        let inner = bn2(conv2(bn1(conv1(x)).relu()))
        return (inner + (downsample.map { $0(x) } ?? x)).relu()
    }
}
