import InertiaTensor

/// Maximum over `kernel` windows of `[N, C, H, W]` (padding counts as -inf); the gradient goes to
/// the first maximal element of each window, as PyTorch (`Tensor.maxPooled2D`).
public final class MaxPool2d: Module {
    public let window: Window2D

    /// `stride` defaults to the kernel size, as PyTorch.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1) {
        let s = stride ?? kernelSize
        window = Window2D(
            kernel: (kernelSize, kernelSize), stride: (s, s), padding: (padding, padding),
            dilation: (dilation, dilation))
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        validated(x.rank == 4, "MaxPool2d: needs [N, C, H, W], got \(x.shape)")
        return x.maxPooled2D(window)
    }
}

/// Mean over `kernel` windows of `[N, C, H, W]`; zero padding counts in the mean
/// (PyTorch's `count_include_pad=True`).
public final class AvgPool2d: Module {
    public let window: Window2D

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        let s = stride ?? kernelSize
        window = Window2D(kernel: (kernelSize, kernelSize), stride: (s, s), padding: (padding, padding))
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        validated(x.rank == 4, "AvgPool2d: needs [N, C, H, W], got \(x.shape)")
        let (oh, ow) = try! window.outputSize(height: x.shape[2], width: x.shape[3])
        return x.windows(window).mean(alongAxis: 2).reshaped(to: [x.shape[0], x.shape[1], oh, ow])
    }
}

/// Mean over the spatial dimensions: `[N, C, H, W]` to `[N, C]`.
public final class GlobalAveragePool2d: Module {
    public override init() { super.init() }

    public override func forward(_ x: Tensor) -> Tensor {
        validated(x.rank == 4, "GlobalAveragePool2d: needs [N, C, H, W], got \(x.shape)")
        return x.mean(alongAxes: [2, 3])
    }
}
