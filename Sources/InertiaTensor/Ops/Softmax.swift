/// Softmax and log-softmax along an axis: one fused forward pass per row, and gradients written
/// with tensor ops.
extension Tensor {
    /// `exp(x) / sum(exp(x))` along `axis`.
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let a = validated { try Shape.normalizedAxis(axis, rank: rank, op: "softmax") }
        let result = rowwise(axis: a, log: false)
        return Tensor.record("softmax", result, inputs: [self], savesOutput: true) { g, y in
            [y * (g - (g * y).sum(alongAxis: a, keepingDimensions: true))]
        }
    }

    /// `x - logSumExp(x)` along `axis`.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let a = validated { try Shape.normalizedAxis(axis, rank: rank, op: "logSoftmax") }
        let result = rowwise(axis: a, log: true)
        return Tensor.record("logSoftmax", result, inputs: [self], savesOutput: true) { g, y in
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
                            let lse = FastMath.scalar(Tensor.sumOfExponentials(y, n), FastMath.log)
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

    /// `sum(exp(x[0..<n]))` without storing the exponentials.
    private static func sumOfExponentials(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc += FastMath.exp(ElementwiseKernels.load(x + i))
            i += 8
        }
        if i < n {
            var tail = SIMD8<Float>(repeating: -.infinity)
            for j in 0..<(n - i) { tail[j] = x[i + j] }
            acc += FastMath.exp(tail)
        }
        return acc.sum()
    }
}
