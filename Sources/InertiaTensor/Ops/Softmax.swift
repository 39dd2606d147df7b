/// Softmax and log-softmax along an axis: one fused forward pass per row, and gradients written
/// with tensor ops.
extension Tensor {
    /// `exp(x) / sum(exp(x))` along `axis`.
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let a = validated { try Shape.normalizedAxis(axis, rank: rank, op: "softmax") }
        let result = rowwise(axis: a, log: false)
        // The Jacobian diag(y) - y yᵀ is symmetric: one rule maps gradients and tangents.
        let rule = { (v: Tensor, y: Tensor) in y * (v - (v * y).sum(alongAxis: a, keepingDimensions: true)) }
        return Tensor.record(
            "softmax", result, inputs: [self], savesOutput: true, tangent: { t, _, y in rule(t[0]!, y) }
        ) {
            g, y in [rule(g, y)]
        }
    }

    /// `x - logSumExp(x)` along `axis`.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let a = validated { try Shape.normalizedAxis(axis, rank: rank, op: "logSoftmax") }
        let result = rowwise(axis: a, log: true)
        let tangent: TangentRule = { t, _, y in t[0]! - (y.exp() * t[0]!).sum(alongAxis: a, keepingDimensions: true) }
        return Tensor.record("logSoftmax", result, inputs: [self], savesOutput: true, tangent: tangent) { g, y in
            [g - y.exp() * g.sum(alongAxis: a, keepingDimensions: true)]
        }
    }

    /// Forward of (log-)softmax, off the tape: moves `axis` last, works on contiguous rows.
    private func rowwise(axis a: Int, log: Bool) -> Tensor {
        if rank == 0 { return Tensor(log ? 0 : 1) }
        if a != rank - 1 {
            var perm = Array(0..<rank)
            perm.remove(at: a)
            perm.append(a)
            var inverse = [Int](repeating: 0, count: rank)
            for (i, p) in perm.enumerated() { inverse[p] = i }
            return detached().permuted(perm).rowwise(axis: rank - 1, log: log).permuted(inverse)
        }
        let n = shape[rank - 1]
        let rows = n == 0 ? 0 : count / n
        return Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { src in
                let grain = Swift.max(1, Parallel.elementwiseGrain / Swift.max(n, 1))
                Parallel.forEachRange(count: rows, grain: grain) { range in
                    for r in range {
                        let x = src.baseAddress! + r * n, y = out.baseAddress! + r * n
                        var m = ReductionKernels.reduceRow(.max, x, n)
                        if !m.isFinite { m = 0 }
                        ElementwiseKernels.map(AffineKernel(scale: 1, shift: -m), x, y, count: n)
                        if log {
                            let lse = Tensor.logSumOfExponentials(y, n)
                            ElementwiseKernels.map(AffineKernel(scale: 1, shift: -lse), y, y, count: n)
                        } else {
                            ElementwiseKernels.map(ExpKernel(), y, y, count: n)
                            let total = ReductionKernels.reduceRow(.sum, y, n)
                            for j in 0..<n { y[j] /= total }
                        }
                    }
                }
            }
        }
    }

    /// `log(sum(exp(x[0..<n])))`: the exponentials from the kernel layer into a scratch row, summed
    /// in 8 lanes, and the logarithm from the kernel layer too (so the whole row rounds as the
    /// kernel layer's `exp` and `log` do on the active instruction set).
    private static func logSumOfExponentials(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.max(n, 1)) { scratch in
            let e = scratch.baseAddress!
            Kernels.map(.exp, x, e, count: n)
            var acc = SIMD8<Float>()
            var i = 0
            while i + 8 <= n {
                acc += Lanes.load(e + i)
                i += 8
            }
            acc += Lanes.load(e, i, n - i)
            var total = acc.sum(), logarithm: Float = 0
            Kernels.map(.log, &total, &logarithm, count: 1)
            return logarithm
        }
    }
}
