/// Max pooling over the two spatial dimensions of `[N, C, H, W]` as one op: one pass finds each
/// window's maximum and where it lies; the gradient scatters back to those places, and its own
/// derivative gathers from them (the two are adjoint), so gradients of gradients work.
extension Tensor {
    /// The maximum of each `window` of every `[H, W]` plane, `[N, C, Ho, Wo]`. As PyTorch: padding
    /// never wins (it counts as -inf), the first maximal element in row-major window order takes
    /// the gradient, and a NaN in a window is its maximum.
    public func maxPooled2D(_ window: Window2D) -> Tensor {
        let (n, c, h, w, oh, ow) = validated { () -> (Int, Int, Int, Int, Int, Int) in
            guard rank == 4 else {
                throw TensorError.shapeMismatch(op: "maxPooled2D", detail: "needs a [N, C, H, W] tensor, got \(shape)")
            }
            let (oh, ow) = try window.outputSize(height: shape[2], width: shape[3])
            return (shape[0], shape[1], shape[2], shape[3], oh, ow)
        }
        validated(h * w <= Int(Int32.max), "maxPooled2D: planes of \(h) x \(w) exceed Int32 positions")
        let outputShape = [n, c, oh, ow], planes = n * c, plane = h * w, pooled = oh * ow
        var places = [Int32](repeating: -1, count: planes * pooled)
        let rowTaps = (0..<window.kernel.height).map { i in
            let (lo, hi) = window.validRows(i: i, height: h, outputHeight: oh)
            return (lo, hi, i * window.dilation.height - window.padding.height)
        }
        let columnTaps = (0..<window.kernel.width).map { j in
            let (lo, hi) = window.validColumns(j: j, width: w, outputWidth: ow)
            return (lo, hi, j * window.dilation.width - window.padding.width)
        }
        let taps = Kernels.table.pointee.max_pool_taps_f32!
        let (sh, sw) = window.stride
        let result = Tensor(shape: outputShape) { out in
            places.withUnsafeMutableBufferPointer { found in
                storage.withUnsafeBufferPointer { src in
                    let grain = Swift.max(1, Parallel.elementwiseGrain / Swift.max(1, plane))
                    Parallel.forEachRange(count: planes, grain: grain) { range in
                        for p in range {
                            let s = src.baseAddress! + p * plane
                            let best = out.baseAddress! + p * pooled, place = found.baseAddress! + p * pooled
                            best.update(repeating: -.infinity, count: pooled)
                            place.update(repeating: -1, count: pooled)
                            // Tap by tap in row-major window order, each over the outputs it reaches:
                            // the first tap starts each window (it wins ties and all -inf windows),
                            // a later NaN always takes over, as in PyTorch.
                            for (top, bottom, rowOffset) in rowTaps where top <= bottom {
                                for (left, right, columnOffset) in columnTaps where left <= right {
                                    let first = (top * sh + rowOffset) * w + left * sw + columnOffset
                                    taps(
                                        s + first, sh * w, bottom - top + 1, sw, right - left + 1, Int32(first),
                                        best + top * ow + left, place + top * ow + left, ow)
                                }
                            }
                        }
                    }
                }
            }
        }
        let inputShape = shape, offsets = places
        let rule: TangentRule = { t, _, _ in t[0]!.gatheringPlanePlaces(offsets, shape: outputShape) }
        return Tensor.record("maxPool2D", result, inputs: [self], tangent: rule) { g, _ in
            [g.scatteringPlanePlaces(offsets, into: inputShape)]
        }
    }

    /// `out[n, c, q] = self[n, c, places[(n * C + c) * Q + q]]` over flattened planes (0 where a
    /// place is -1); `shape` is `[N, C, ...]` with `Q` entries a plane.
    fileprivate func gatheringPlanePlaces(_ places: [Int32], shape outputShape: [Int]) -> Tensor {
        let planes = shape[0] * shape[1], plane = count / Swift.max(1, planes),
            pooled = places.count / Swift.max(1, planes)
        let result = Tensor(shape: outputShape) { out in
            storage.withUnsafeBufferPointer { src in
                places.withUnsafeBufferPointer { at in
                    for p in 0..<planes {
                        for q in 0..<pooled {
                            let place = Int(at[p * pooled + q])
                            out[p * pooled + q] = place < 0 ? 0 : src[p * plane + place]
                        }
                    }
                }
            }
        }
        let inputShape = shape
        let rule: TangentRule = { t, _, _ in t[0]!.gatheringPlanePlaces(places, shape: outputShape) }
        return Tensor.record("gatherPlanePlaces", result, inputs: [self], tangent: rule) { g, _ in
            [g.scatteringPlanePlaces(places, into: inputShape)]
        }
    }

    /// The adjoint of `gatheringPlanePlaces`: adds each entry of `self` (`[N, C, ...]`, `Q` a plane)
    /// at its place in a zero tensor of `inputShape`.
    fileprivate func scatteringPlanePlaces(_ places: [Int32], into inputShape: [Int]) -> Tensor {
        let planes = inputShape[0] * inputShape[1], pooled = places.count / Swift.max(1, planes)
        let plane = Shape.count(inputShape) / Swift.max(1, planes)
        var result = Tensor.zeros(inputShape)
        result.storage.withUnsafeMutableBufferPointer { out in
            storage.withUnsafeBufferPointer { src in
                places.withUnsafeBufferPointer { at in
                    Parallel.forEachRange(
                        count: planes, grain: Swift.max(1, Parallel.elementwiseGrain / Swift.max(1, plane))
                    ) {
                        range in
                        for p in range {
                            let target = out.baseAddress! + p * plane
                            for q in 0..<pooled {
                                let place = Int(at[p * pooled + q])
                                if place >= 0 { target[place] += src[p * pooled + q] }
                            }
                        }
                    }
                }
            }
        }
        let outputShape = shape
        let rule: TangentRule = { t, _, _ in t[0]!.scatteringPlanePlaces(places, into: inputShape) }
        return Tensor.record("scatterPlanePlaces", result, inputs: [self], tangent: rule) { g, _ in
            [g.gatheringPlanePlaces(places, shape: outputShape)]
        }
    }
}
