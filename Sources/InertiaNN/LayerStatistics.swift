import InertiaTensor

/// Batch-mean statistics of a layer's inputs and output gradients, the rank-1 proxies of the
/// Kronecker factors `A = E[a aᵀ]` and `G = E[g gᵀ]` that MKOR preconditions with (Mozaffari et al.,
/// NeurIPS 2023; `shared/papers/mkor.md` 2.1). Attach one to a `Linear` or `Conv2d`
/// (`layer.statistics = LayerStatistics()`); while `isRecording`, each forward pass adds
///
///     ā = mean over rows of clamp(a_i, ±clip)          a_i: an input row (conv: patches averaged over positions)
///     ḡ = mean over rows of clamp(n·∂L/∂y_i, ±clip)     n: the rows of the batch (per-example output gradients)
///
/// without a second forward pass; several recorded passes (gradient accumulation) are averaged.
public final class LayerStatistics {
    /// Whether forward and backward passes record (the optimizer turns it off between rounds).
    public var isRecording = true
    /// Bound of the elementwise clamp applied to each row before the mean (MKOR's `clipping_value`).
    public let clip: Float
    private var inputSum: Tensor?, inputPasses = 0
    private var outputGradientSum: Tensor?, outputGradientPasses = 0

    public init(clip: Float = 100) {
        self.clip = clip
    }

    /// `ā`, averaged over the recorded passes; `nil` before any.
    public var inputMean: Tensor? { inputSum.map { $0 / Float(inputPasses) } }
    /// `ḡ`, averaged over the recorded backward passes; `nil` before any.
    public var outputGradientMean: Tensor? { outputGradientSum.map { $0 / Float(outputGradientPasses) } }

    /// Forgets what was recorded.
    public func reset() {
        inputSum = nil
        outputGradientSum = nil
        inputPasses = 0
        outputGradientPasses = 0
    }

    /// Records the input rows `[n, d]` and returns `output` (rows `[n, ...]` once flattened by the
    /// layer's own `outputRows`) hooked so that its gradient is recorded too.
    func record(
        inputRows: @autoclosure () -> Tensor, output: Tensor, outputRows: @escaping (Tensor) -> Tensor
    ) -> Tensor {
        guard isRecording else { return output }
        withoutGradients {
            let mean = inputRows().detached().clamped(lower: -clip, upper: clip).mean(alongAxis: 0)
            inputSum = inputSum.map { $0 + mean } ?? mean
            inputPasses += 1
        }
        guard GradMode.isEnabled else { return output }
        return output.withGradientHook { [weak self] g in
            guard let self, self.isRecording else { return }
            withoutGradients {
                let rows = outputRows(g.detached())
                let mean = (rows * Float(rows.shape[0])).clamped(lower: -self.clip, upper: self.clip).mean(alongAxis: 0)
                self.outputGradientSum = self.outputGradientSum.map { $0 + mean } ?? mean
                self.outputGradientPasses += 1
            }
        }
    }
}
