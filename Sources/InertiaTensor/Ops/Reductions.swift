/// Reductions over any set of axes, with or without keeping the reduced dimensions.
extension Tensor {
    /// Forward of a kernel reduction, off the tape; the result keeps the reduced dimensions as 1.
    func reduceForward(_ op: ReductionKernels.Operation, axes: [Int]) -> Tensor {
        let kept = Shape.reduced(shape, axes: axes, keepingDimensions: true)
        return Tensor(shape: kept) { out in
            storage.withUnsafeBufferPointer { p in
                ReductionKernels.reduce(op, p.baseAddress!, shape: shape, axes: axes, into: out.baseAddress!)
            }
        }
    }

    func finishReduction(_ kept: Tensor, axes: [Int], keepingDimensions: Bool) -> Tensor {
        keepingDimensions ? kept : kept.reshaped(to: Shape.reduced(shape, axes: axes, keepingDimensions: false))
    }

    /// Sum over `axes` (all when `nil`).
    public func sum(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let axes = validated { try Shape.normalizedAxes(axes, rank: rank, op: "sum") }
        let inputShape = shape
        let rule: TangentRule = { t, _, _ in t[0]!.sum(alongAxes: axes, keepingDimensions: true) }
        let kept = Tensor.record("sum", reduceForward(.sum, axes: axes), inputs: [self], tangent: rule) { g, _ in
            [g.expanded(to: inputShape)]
        }
        return finishReduction(kept, axes: axes, keepingDimensions: keepingDimensions)
    }

    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Mean over `axes` (all when `nil`).
    public func mean(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let normalized = validated { try Shape.normalizedAxes(axes, rank: rank, op: "mean") }
        let n = normalized.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: normalized, keepingDimensions: keepingDimensions) / Float(n)
    }

    public func mean(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Variance over `axes`, dividing by `N - correction` (1: unbiased, PyTorch's default; 0:
    /// population).
    public func variance(alongAxes axes: [Int]? = nil, correction: Int = 1, keepingDimensions: Bool = false) -> Tensor {
        let normalized = validated { try Shape.normalizedAxes(axes, rank: rank, op: "variance") }
        let n = normalized.reduce(1) { $0 * shape[$1] }
        let centered = self - mean(alongAxes: normalized, keepingDimensions: true)
        return (centered * centered).sum(alongAxes: normalized, keepingDimensions: keepingDimensions)
            / Float(Swift.max(n - correction, 0))
    }

    /// Maximum over `axes` (all when `nil`). The gradient is shared evenly among tied maxima.
    public func max(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        extremum(.max, "max", axes, keepingDimensions)
    }

    /// Minimum over `axes` (all when `nil`). The gradient is shared evenly among tied minima.
    public func min(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        extremum(.min, "min", axes, keepingDimensions)
    }

    private func extremum(
        _ op: ReductionKernels.Operation, _ name: String, _ axes: [Int]?, _ keepingDimensions: Bool
    ) -> Tensor {
        let axes = validated { () -> [Int] in
            let a = try Shape.normalizedAxes(axes, rank: rank, op: name)
            if let empty = a.first(where: { shape[$0] == 0 }) {
                throw TensorError.invalidArgument(
                    op: name, detail: "cannot reduce the empty axis \(empty) of shape \(shape)")
            }
            return a
        }
        let input = withoutTangent()
        func share(_ y: Tensor) -> Tensor {
            let hits = input.detached() .== y.detached()
            return hits / hits.sum(alongAxes: axes, keepingDimensions: true)
        }
        let rule: TangentRule = { t, _, y in (t[0]! * share(y)).sum(alongAxes: axes, keepingDimensions: true) }
        let kept = Tensor.record(
            name, reduceForward(op, axes: axes), inputs: [self], savesOutput: true, saving: [input], tangent: rule
        ) { g, y in
            [g.expanded(to: input.shape) * share(y)]
        }
        return finishReduction(kept, axes: axes, keepingDimensions: keepingDimensions)
    }

    /// Maximum along one axis with the index of the first maximal element (NaN counts as maximal).
    /// The gradient goes to that index.
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> (values: Tensor, indices: IndexTensor) {
        argExtremum(maximum: true, axis: axis, keepingDimensions: keepingDimensions)
    }

    /// Minimum along one axis with the index of the first minimal element.
    public func min(alongAxis axis: Int, keepingDimensions: Bool = false) -> (values: Tensor, indices: IndexTensor) {
        argExtremum(maximum: false, axis: axis, keepingDimensions: keepingDimensions)
    }

    /// Index of the first maximum along `axis`.
    public func argmax(alongAxis axis: Int, keepingDimensions: Bool = false) -> IndexTensor {
        argExtremum(maximum: true, axis: axis, keepingDimensions: keepingDimensions, recordsGradient: false).indices
    }

    /// Index of the first minimum along `axis`.
    public func argmin(alongAxis axis: Int, keepingDimensions: Bool = false) -> IndexTensor {
        argExtremum(maximum: false, axis: axis, keepingDimensions: keepingDimensions, recordsGradient: false).indices
    }

    private func argExtremum(
        maximum: Bool, axis: Int, keepingDimensions: Bool, recordsGradient: Bool = true
    ) -> (values: Tensor, indices: IndexTensor) {
        let name = maximum ? "max(alongAxis:)" : "min(alongAxis:)"
        let a = validated { () -> Int in
            let a = try Shape.normalizedAxis(axis, rank: rank, op: name)
            guard rank > 0, shape[a] > 0 else {
                throw TensorError.invalidArgument(op: name, detail: "cannot reduce an empty axis of shape \(shape)")
            }
            return a
        }
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        let keptShape = Shape.reduced(shape, axes: [a], keepingDimensions: true)
        var indices = [Int](repeating: 0, count: outer * inner)
        let values = Tensor(shape: keptShape) { out in
            storage.withUnsafeBufferPointer { p in
                indices.withUnsafeMutableBufferPointer { ip in
                    ReductionKernels.argExtremum(
                        maximum: maximum, p.baseAddress!, outer: outer, n: n, inner: inner,
                        values: out.baseAddress!, indices: ip.baseAddress!)
                }
            }
        }
        let keptIndices = IndexTensor(shape: keptShape, indices: indices)
        let finalShape = keepingDimensions ? keptShape : Shape.reduced(shape, axes: [a], keepingDimensions: false)
        guard recordsGradient else {
            return (values.reshaped(to: finalShape), keptIndices.reshaped(to: finalShape))
        }
        let inputShape = shape
        let rule: TangentRule = { t, _, _ in t[0]!.gather(alongAxis: a, indices: keptIndices) }
        let recorded = Tensor.record(name, values, inputs: [self], tangent: rule) { g, _ in
            [g.placed(at: keptIndices, alongAxis: a, into: inputShape)]
        }
        return (recorded.reshaped(to: finalShape), keptIndices.reshaped(to: finalShape))
    }

    /// Zeros of `shape` with `self[o, 0, j]` added at `[o, index[o, 0, j], j]` along `axis` (the
    /// gradient of a maximum with indices); `self` and `index` have `shape` with that axis 1.
    func placed(at index: IndexTensor, alongAxis a: Int, into shape: [Int]) -> Tensor {
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var result = Tensor.zeros(shape)
        result.storage.withUnsafeMutableBufferPointer { out in
            storage.withUnsafeBufferPointer { src in
                index.indices.withUnsafeBufferPointer { idx in
                    for o in 0..<outer {
                        for j in 0..<inner { out[(o * n + idx[o * inner + j]) * inner + j] += src[o * inner + j] }
                    }
                }
            }
        }
        let rule: TangentRule = { t, _, _ in t[0]!.placed(at: index, alongAxis: a, into: shape) }
        return Tensor.record("place", result, inputs: [self], tangent: rule) { g, _ in
            [g.gather(alongAxis: a, indices: index)]
        }
    }

    /// `log(sum(exp(x)))` over `axes`, computed stably by subtracting the maximum.
    public func logSumExp(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let normalized = validated { try Shape.normalizedAxes(axes, rank: rank, op: "logSumExp") }
        var m = detached().reduceForward(.max, axes: normalized)
        // An all -inf (or inf) slice would give inf - inf; shift by 0 there.
        m = m.mapForward(FiniteOrZeroKernel())
        let lse = (self - m).exp().sum(alongAxes: normalized, keepingDimensions: true).log() + m
        return finishReduction(lse, axes: normalized, keepingDimensions: keepingDimensions)
    }

    /// The p-norm over `axes` (all when `nil`): `(sum |x|^p)^(1/p)` for finite `p >= 1`, the
    /// maximum of `|x|` for `p = .infinity`. The gradient at a zero norm is zero, as in PyTorch.
    public func norm(_ p: Float = 2, alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        validated {
            guard p >= 1 else {
                throw TensorError.invalidArgument(op: "norm", detail: "p must be >= 1 (or .infinity), got \(p)")
            }
        }
        let normalized = validated { try Shape.normalizedAxes(axes, rank: rank, op: "norm") }
        if p == .infinity { return abs().max(alongAxes: normalized, keepingDimensions: keepingDimensions) }
        let magnitude = detached().abs()
        let powered = p == 1 ? magnitude : (p == 2 ? magnitude * magnitude : magnitude.pow(p))
        let sum = powered.reduceForward(.sum, axes: normalized)
        let value = p == 1 ? sum : (p == 2 ? sum.mapForward(SqrtKernel()) : sum.pow(1 / p))
        let input = withoutTangent()
        // d||x||/dx = sign(x) |x|^(p-1) / ||x||^(p-1), zero where the norm is zero.
        func derivative(_ y: Tensor) -> Tensor {
            let safe = Tensor.where(y.detached() .== 0, Tensor(1), y)
            let nonzero = y.detached() .!= 0
            if p == 1 { return nonzero * input.sign() }
            if p == 2 { return nonzero * input / safe }
            return nonzero * input.sign() * (input.abs() / safe).pow(p - 1)
        }
        let rule: TangentRule = { t, _, y in
            (t[0]! * derivative(y)).sum(alongAxes: normalized, keepingDimensions: true)
        }
        let kept = Tensor.record("norm", value, inputs: [self], savesOutput: true, saving: [input], tangent: rule) {
            g, y in
            [g * derivative(y)]
        }
        return finishReduction(kept, axes: normalized, keepingDimensions: keepingDimensions)
    }
}

/// Maps infinities and NaN to 0.
struct FiniteOrZeroKernel: UnaryKernel {
    @inlinable @inline(__always) func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x.replacing(with: 0, where: (x - x) .!= 0)
    }
}
