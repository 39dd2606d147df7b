import InertiaTensor

/// How a loss combines its per-element values.
public enum Reduction: Sendable {
    case mean, sum, none
}

/// Loss functions with PyTorch's definitions (`torch.nn.functional`).
public enum Loss {
    /// Cross-entropy from logits `[N, C]` and class indices `[N]`, through a fused log-softmax.
    /// `labelSmoothing` ε mixes the target with the uniform distribution:
    /// `(1 - ε) * nll + ε * mean_c(-log p_c)`. Targets equal to `ignoreIndex` contribute
    /// nothing, and the mean is over the others (PyTorch's conventions).
    public static func crossEntropy(
        logits: Tensor, labels: [Int], labelSmoothing: Float = 0, ignoreIndex: Int? = nil, reduction: Reduction = .mean
    ) -> Tensor {
        validated(
            logits.rank == 2 && logits.shape[0] == labels.count,
            "crossEntropy: logits have shape \(logits.shape), expected [\(labels.count), classes]")
        validated(
            labelSmoothing >= 0 && labelSmoothing <= 1,
            "crossEntropy: label smoothing \(labelSmoothing) is outside [0, 1]")
        let classes = logits.shape[1]
        let keep = labels.map { $0 == ignoreIndex ? Float(0) : 1 }
        for (i, label) in labels.enumerated() where label != ignoreIndex {
            validated(
                label >= 0 && label < classes, "crossEntropy: label \(label) of sample \(i) is outside 0..<\(classes)")
        }
        let safe = labels.map { $0 == ignoreIndex ? 0 : $0 }
        let logProbabilities = logits.logSoftmax(alongAxis: 1)
        var perSample = -logProbabilities.gather(
            alongAxis: 1, indices: IndexTensor(shape: [labels.count, 1], indices: safe)
        )
        .reshaped(to: [labels.count])
        if labelSmoothing > 0 {
            let smooth = -logProbabilities.mean(alongAxis: 1)
            perSample = perSample * (1 - labelSmoothing) + smooth * labelSmoothing
        }
        let mask = Tensor(keep)
        perSample = perSample * mask
        switch reduction {
        case .none: return perSample
        case .sum: return perSample.sum()
        case .mean: return perSample.sum() / Swift.max(keep.reduce(0, +), 1)
        }
    }

    /// Cross-entropy with labels stored as whole floats `[N]`.
    public static func crossEntropy(
        logits: Tensor, targets: Tensor, labelSmoothing: Float = 0, reduction: Reduction = .mean
    ) -> Tensor {
        crossEntropy(
            logits: logits, labels: targets.scalars.map { Int($0) }, labelSmoothing: labelSmoothing,
            reduction: reduction)
    }

    /// `max(x, 0) - x y + log(1 + e^-|x|)`, the stable binary cross-entropy from logits.
    public static func binaryCrossEntropyWithLogits(
        logits: Tensor, targets: Tensor, reduction: Reduction = .mean
    ) -> Tensor {
        validated(
            logits.shape == targets.shape,
            "binaryCrossEntropyWithLogits: logits \(logits.shape) and targets \(targets.shape) differ")
        let loss = logits.relu() - logits * targets + (-logits.abs()).exp().log1p()
        return reduce(loss, reduction)
    }

    public static func meanSquaredError(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor
    {
        validated(
            prediction.shape == target.shape,
            "meanSquaredError: prediction \(prediction.shape) and target \(target.shape) differ")
        let d = prediction - target
        return reduce(d * d, reduction)
    }

    public static func l1(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        validated(
            prediction.shape == target.shape, "l1: prediction \(prediction.shape) and target \(target.shape) differ")
        return reduce((prediction - target).abs(), reduction)
    }

    /// `0.5 d²` where `|d| < δ`, else `δ (|d| - 0.5 δ)`.
    public static func huber(
        _ prediction: Tensor, _ target: Tensor, delta: Float = 1, reduction: Reduction = .mean
    ) -> Tensor {
        validated(
            prediction.shape == target.shape, "huber: prediction \(prediction.shape) and target \(target.shape) differ")
        validated(delta > 0, "huber: delta must be positive, got \(delta)")
        let d = (prediction - target).abs()
        let quadratic = d.clamped(upper: delta)
        return reduce(quadratic * quadratic * 0.5 + (d - quadratic) * delta, reduction)
    }

    /// `KL(target ‖ input)` with `input` as log-probabilities, as `F.kl_div`:
    /// `target * (log target - input)` (0 where target is 0); `.mean` divides by the batch size
    /// (PyTorch's `batchmean`). With `logTarget`, `target` holds log-probabilities.
    public static func klDivergence(
        input: Tensor, target: Tensor, logTarget: Bool = false, reduction: Reduction = .mean
    ) -> Tensor {
        validated(input.shape == target.shape, "klDivergence: input \(input.shape) and target \(target.shape) differ")
        let pointwise: Tensor
        if logTarget {
            pointwise = target.exp() * (target - input)
        } else {
            let positive = target .> 0
            let logTarget = Tensor.where(positive, target, Tensor(1)).log()
            pointwise = target * (logTarget - input) * positive
        }
        switch reduction {
        case .none: return pointwise
        case .sum: return pointwise.sum()
        case .mean: return pointwise.sum() / Float(Swift.max(input.shape.first ?? 1, 1))
        }
    }

    static func reduce(_ loss: Tensor, _ reduction: Reduction) -> Tensor {
        switch reduction {
        case .mean: return loss.mean()
        case .sum: return loss.sum()
        case .none: return loss
        }
    }
}

/// Classification metrics.
public enum Metrics {
    /// Fraction of rows of `logits [N, C]` whose arg-max is the label.
    public static func accuracy(logits: Tensor, labels: [Int]) -> Double {
        topKAccuracy(logits: logits, labels: labels, k: 1)
    }

    /// Fraction of rows whose label is among the `k` largest logits (ties counted in favour).
    public static func topKAccuracy(logits: Tensor, labels: [Int], k: Int) -> Double {
        validated(
            logits.rank == 2 && logits.shape[0] == labels.count,
            "topKAccuracy: logits \(logits.shape) vs \(labels.count) labels")
        guard !labels.isEmpty else { return 0 }
        let classes = logits.shape[1]
        let values = logits.scalars
        var hits = 0
        for (i, label) in labels.enumerated() {
            let row = values[(i * classes)..<((i + 1) * classes)]
            let target = row[row.startIndex + label]
            if row.filter({ $0 > target }).count < k { hits += 1 }
        }
        return Double(hits) / Double(labels.count)
    }
}
