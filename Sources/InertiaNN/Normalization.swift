import InertiaTensor

/// Layer normalization over the trailing `normalizedShape` dimensions (Ba et al., 2016):
/// `(x - mean) / sqrt(var + eps) * weight + bias`, population variance, as `nn.LayerNorm`.
public final class LayerNorm: Module {
    public let normalizedShape: [Int]
    public let epsilon: Float
    public let weight: Parameter?
    public let bias: Parameter?

    public init(_ normalizedShape: [Int], epsilon: Float = 1e-5, elementwiseAffine: Bool = true) {
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        weight = elementwiseAffine ? Parameter(Tensor.ones(normalizedShape)) : nil
        bias = elementwiseAffine ? Parameter(Tensor.zeros(normalizedShape)) : nil
        super.init()
        if let weight { register(weight, as: "weight") }
        if let bias { register(bias, as: "bias") }
    }

    public convenience init(_ size: Int, epsilon: Float = 1e-5) { self.init([size], epsilon: epsilon) }

    public override func forward(_ x: Tensor) -> Tensor {
        let k = normalizedShape.count
        validated(
            x.rank >= k && Array(x.shape.suffix(k)) == normalizedShape,
            "LayerNorm: input shape \(x.shape) does not end in \(normalizedShape)")
        let axes = Array((x.rank - k)..<x.rank)
        let centered = x - x.mean(alongAxes: axes, keepingDimensions: true)
        let variance = (centered * centered).mean(alongAxes: axes, keepingDimensions: true)
        var y = centered * (variance + epsilon).rsqrt()
        if let weight { y = y * weight.value }
        if let bias { y = y + bias.value }
        return y
    }
}

/// Root-mean-square normalization (Zhang & Sennrich, 2019): `x / sqrt(mean(x²) + eps) * weight`
/// over the last dimension. `epsilon` defaults to Float32's machine epsilon, as `nn.RMSNorm`.
public final class RMSNorm: Module {
    public let epsilon: Float
    public let weight: Parameter

    public init(_ size: Int, epsilon: Float = Float.ulpOfOne) {
        self.epsilon = epsilon
        weight = Parameter(Tensor.ones([size]))
        super.init()
        register(weight, as: "weight")
    }

    public override func forward(_ x: Tensor) -> Tensor {
        validated(
            x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[0],
            "RMSNorm: input has shape \(x.shape), expected last dimension \(weight.shape[0])")
        return x * ((x * x).mean(alongAxis: -1, keepingDimensions: true) + epsilon).rsqrt() * weight.value
    }
}

/// Batch normalization (Ioffe & Szegedy, 2015) over channel axis 1 of `[N, C]`, `[N, C, L]`
/// (BatchNorm1d) or `[N, C, H, W]` (BatchNorm2d). Training: batch statistics (population variance)
/// normalize, and the running mean / unbiased variance move by `momentum`; evaluation: the
/// running statistics. Buffers `running_mean`, `running_var`, `num_batches_tracked` as PyTorch.
public final class BatchNorm: Module {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer
    public let runningVariance: Buffer
    public let batchesTracked: Buffer

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        weight = Parameter(Tensor.ones([channels]))
        bias = Parameter(Tensor.zeros([channels]))
        runningMean = Buffer(Tensor.zeros([channels]))
        runningVariance = Buffer(Tensor.ones([channels]))
        batchesTracked = Buffer(Tensor.zeros([]))
        super.init()
        register(weight, as: "weight")
        register(bias, as: "bias")
        register(runningMean, as: "running_mean")
        register(runningVariance, as: "running_var")
        register(batchesTracked, as: "num_batches_tracked")
    }

    public override func forward(_ x: Tensor) -> Tensor {
        validated(
            x.rank >= 2 && x.shape[1] == channels,
            "BatchNorm: input has shape \(x.shape), expected [N, \(channels), ...]")
        var statShape = [Int](repeating: 1, count: x.rank)
        statShape[1] = channels
        let axes = [0] + Array(2..<x.rank)
        let mean: Tensor, variance: Tensor
        if isTraining {
            let count = axes.reduce(1) { $0 * x.shape[$1] }
            validated(count > 1, "BatchNorm: training needs more than one value per channel, got input \(x.shape)")
            mean = x.mean(alongAxes: axes, keepingDimensions: true)
            let centered = x - mean
            variance = (centered * centered).mean(alongAxes: axes, keepingDimensions: true)
            withoutGradients {
                let unbiased = variance.detached() * Float(Double(count) / Double(count - 1))
                runningMean.value =
                    runningMean.value * (1 - momentum) + mean.detached().reshaped(to: [channels]) * momentum
                runningVariance.value =
                    runningVariance.value * (1 - momentum) + unbiased.reshaped(to: [channels]) * momentum
                batchesTracked.value = batchesTracked.value + 1
            }
        } else {
            mean = runningMean.value.reshaped(to: statShape)
            variance = runningVariance.value.reshaped(to: statShape)
        }
        return (x - mean) * (variance + epsilon).rsqrt() * weight.value.reshaped(to: statShape)
            + bias.value.reshaped(to: statShape)
    }
}
