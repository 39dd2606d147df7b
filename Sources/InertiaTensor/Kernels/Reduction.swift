/// Reduction kernels over any set of axes of a contiguous tensor.
///
/// Adjacent axes that are all reduced (or all kept) are merged first, so a reduction is a loop
/// over rows of the merged innermost dimension: a vector reduction of each row when that
/// dimension is reduced, a vector accumulation of whole rows into the output when it is kept.
/// The order of operations depends only on the shapes, so results are deterministic.
public enum ReductionKernels {
    /// The reduction to apply (NaN propagates through `max` and `min`).
    public enum Operation {
        case sum, max, min

        @inlinable var identity: Float {
            switch self {
            case .sum: return 0
            case .max: return -.infinity
            case .min: return .infinity
            }
        }

        @inlinable @inline(__always)
        func combine(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            switch self {
            case .sum: return a + b
            case .max: return MaximumKernel()(a, b)
            case .min: return MinimumKernel()(a, b)
            }
        }

        @inlinable @inline(__always)
        func combine(_ a: Float, _ b: Float) -> Float { combine(SIMD8(repeating: a), SIMD8(repeating: b))[0] }
    }

    /// Reduces `x` (of `shape`) over the sorted, distinct `axes` into `out`, which holds
    /// `Shape.count` of the reduced shape.
    public static func reduce(
        _ op: Operation, _ x: UnsafePointer<Float>, shape: [Int], axes: [Int], into out: UnsafeMutablePointer<Float>
    ) {
        var dims: [(size: Int, reduced: Bool)] = []
        for (i, size) in shape.enumerated() where size != 1 {
            let reduced = axes.contains(i)
            if let last = dims.last, last.reduced == reduced {
                dims[dims.count - 1].size *= size
            } else {
                dims.append((size, reduced))
            }
        }
        let outCount = dims.filter { !$0.reduced }.reduce(1) { $0 * $1.size }
        for i in 0..<outCount { out[i] = op.identity }
        guard let last = dims.last else {
            if Shape.count(shape) == 1 { out[0] = x[0] }
            return
        }
        if dims.contains(where: { $0.size == 0 }) { return }
        if dims.count == 1 && last.reduced {
            out[0] = contiguous(op, x, count: last.size)
            return
        }
        let inner = last.size
        let outer = Array(dims.dropLast())
        let rows = outer.reduce(1) { $0 * $1.size }
        // Output stride of each outer dimension (0 where reduced).
        var outStrides = [Int](repeating: 0, count: outer.count)
        var s = last.reduced ? 1 : inner
        for k in stride(from: outer.count - 1, through: 0, by: -1) where !outer[k].reduced {
            outStrides[k] = s
            s *= outer[k].size
        }
        var index = [Int](repeating: 0, count: outer.count)
        var o = 0
        for row in 0..<rows {
            let src = x + row * inner
            if last.reduced {
                out[o] = op.combine(out[o], reduceRow(op, src, inner))
            } else {
                accumulateRow(op, src, out + o, inner)
            }
            var k = outer.count - 1
            while k >= 0 {
                index[k] += 1
                o += outStrides[k]
                if index[k] < outer[k].size { break }
                o -= outStrides[k] * index[k]
                index[k] = 0
                k -= 1
            }
        }
    }

    /// Reduces `count` contiguous values: chunks of `Parallel.elementwiseGrain` reduced on the
    /// pool, their partial results combined in chunk order (so the result does not depend on the
    /// thread count).
    public static func contiguous(_ op: Operation, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let grain = Parallel.elementwiseGrain
        let chunks = (count + grain - 1) / grain
        if chunks <= 1 { return reduceRow(op, x, count) }
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: chunks)
        defer { partials.deallocate() }
        Parallel.forEachRange(count: count, grain: grain) { range in
            partials[range.lowerBound / grain] = reduceRow(op, x + range.lowerBound, range.count)
        }
        return reduceRow(op, partials, chunks)
    }

    /// Reduces a contiguous row to one value.
    @inlinable
    public static func reduceRow(_ op: Operation, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        switch op {
        case .sum: return reduceRow(AddKernel(), identity: 0, x, n)
        case .max: return reduceRow(MaximumKernel(), identity: -.infinity, x, n)
        case .min: return reduceRow(MinimumKernel(), identity: .infinity, x, n)
        }
    }

    /// Four vector accumulators over the row, then a fixed tree over them and their lanes.
    @inlinable @inline(__always)
    static func reduceRow<K: BinaryKernel>(_ f: K, identity: Float, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD8<Float>(repeating: identity)
        var acc1 = acc0, acc2 = acc0, acc3 = acc0
        var i = 0
        while i + 32 <= n {
            acc0 = f(acc0, Lanes.load(x + i))
            acc1 = f(acc1, Lanes.load(x + i + 8))
            acc2 = f(acc2, Lanes.load(x + i + 16))
            acc3 = f(acc3, Lanes.load(x + i + 24))
            i += 32
        }
        while i + 8 <= n {
            acc0 = f(acc0, Lanes.load(x + i))
            i += 8
        }
        if i < n {
            var tail = SIMD8<Float>(repeating: identity)
            for j in 0..<(n - i) { tail[j] = x[i + j] }
            acc1 = f(acc1, tail)
        }
        var acc = f(f(acc0, acc1), f(acc2, acc3))
        var width = 4
        while width >= 1 {
            var shifted = SIMD8<Float>(repeating: identity)
            for j in 0..<width { shifted[j] = acc[j + width] }
            acc = f(acc, shifted)
            width /= 2
        }
        return acc[0]
    }

    @inlinable
    static func accumulateRow(_ op: Operation, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int)
    {
        var i = 0
        while i + 8 <= n {
            Lanes.store(op.combine(Lanes.load(out + i), Lanes.load(x + i)), out + i)
            i += 8
        }
        while i < n {
            out[i] = op.combine(out[i], x[i])
            i += 1
        }
    }

    /// Maximum (or minimum) along one axis with its index: `x` viewed as `[outer, n, inner]`.
    /// The first index wins ties; a NaN wins over numbers, as in PyTorch.
    public static func argExtremum(
        maximum: Bool, _ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int,
        values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>
    ) {
        Parallel.forEachRange(count: outer, grain: Swift.max(1, Parallel.elementwiseGrain / Swift.max(n * inner, 1))) {
            range in
            for o in range {
                // Eight positions j at a time: the running extremum, its index, and a NaN latch
                // (a NaN wins and stays).
                var j = 0
                while j < inner {
                    let lanes = Swift.min(8, inner - j)
                    let base = o * n * inner + j
                    var best = Lanes.load(x + base, 0, lanes)
                    var bestIndex = SIMD8<Int32>(repeating: 0)
                    for i in 1..<n {
                        let v = Lanes.load(x + base + i * inner, 0, lanes)
                        let better = (maximum ? v .> best : v .< best) .| ((v .!= v) .& (best .== best))
                        best = best.replacing(with: v, where: better)
                        bestIndex = bestIndex.replacing(with: Int32(i), where: better)
                    }
                    for l in 0..<lanes {
                        values[o * inner + j + l] = best[l]
                        indices[o * inner + j + l] = Int(bestIndex[l])
                    }
                    j += 8
                }
            }
        }
    }
}
