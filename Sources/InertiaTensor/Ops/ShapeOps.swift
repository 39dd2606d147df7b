/// Shape ops: reshape, permute, squeeze, concatenate, stack, split, slice, pad.
extension Tensor {
    /// The same scalars with another shape; one dimension may be `-1` (inferred).
    public func reshaped(to newShape: [Int]) -> Tensor {
        let target = validated { () -> [Int] in
            let unknown = newShape.indices.filter { newShape[$0] == -1 }
            guard unknown.count <= 1, !newShape.contains(where: { $0 < -1 }) else {
                throw TensorError.invalidArgument(
                    op: "reshaped", detail: "bad target shape \(newShape) (at most one -1, no other negatives)")
            }
            var resolved = newShape
            if let u = unknown.first {
                let known = newShape.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
                guard known > 0, count % known == 0 else {
                    throw TensorError.shapeMismatch(
                        op: "reshaped", detail: "cannot reshape \(shape) (\(count) elements) to \(newShape)")
                }
                resolved[u] = count / known
            }
            guard Shape.count(resolved) == count else {
                throw TensorError.shapeMismatch(
                    op: "reshaped", detail: "cannot reshape \(shape) (\(count) elements) to \(newShape)")
            }
            return resolved
        }
        if target == shape { return self }
        let source = shape
        let rule: TangentRule = { t, _, _ in t[0]!.reshaped(to: target) }
        return Tensor.record(
            "reshape", Tensor(shape: target, storage: storage, node: nil), inputs: [self], tangent: rule
        ) { g, _ in
            [g.reshaped(to: source)]
        }
    }

    /// Flattens to one dimension.
    public func flattened() -> Tensor { reshaped(to: [count]) }

    /// Reorders the dimensions: result dimension `i` is input dimension `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        let perm = validated { () -> [Int] in
            guard axes.count == rank else {
                throw TensorError.invalidArgument(
                    op: "permuted", detail: "\(axes) is not a permutation of the \(rank) axes of shape \(shape)")
            }
            let n = try axes.map { try Shape.normalizedAxis($0, rank: rank, op: "permuted") }
            guard Set(n).count == rank else {
                throw TensorError.invalidArgument(
                    op: "permuted", detail: "\(axes) is not a permutation of the \(rank) axes of shape \(shape)")
            }
            return n
        }
        if perm == Array(0..<rank) { return self }
        let outShape = perm.map { shape[$0] }
        let inStrides = Shape.strides(shape)
        let permStrides = perm.map { inStrides[$0] }
        let result = Tensor(shape: outShape) { out in
            storage.withUnsafeBufferPointer { src in
                permuteKernel(src.baseAddress!, out.baseAddress!, outShape: outShape, strides: permStrides)
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return Tensor.record("permute", result, inputs: [self], tangent: { t, _, _ in t[0]!.permuted(perm) }) { g, _ in
            [g.permuted(inverse)]
        }
    }

    /// Swaps two dimensions (the last two by default: the matrix transpose of each batch entry).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        let (a, b) = validated {
            (
                try Shape.normalizedAxis(axis0, rank: rank, op: "transposed"),
                try Shape.normalizedAxis(axis1, rank: rank, op: "transposed")
            )
        }
        var perm = Array(0..<rank)
        perm.swapAt(a, b)
        return permuted(perm)
    }

    /// Removes dimensions of size 1 (only `axis` when given; it must have size 1).
    public func squeezed(axis: Int? = nil) -> Tensor {
        guard let axis else { return reshaped(to: shape.filter { $0 != 1 }) }
        let a = validated { () -> Int in
            let a = try Shape.normalizedAxis(axis, rank: rank, op: "squeezed")
            guard shape[a] == 1 else {
                throw TensorError.invalidArgument(
                    op: "squeezed", detail: "axis \(axis) of shape \(shape) has size \(shape[a]), not 1")
            }
            return a
        }
        var s = shape
        s.remove(at: a)
        return reshaped(to: s)
    }

    /// Inserts a dimension of size 1 at `axis` (in `-(rank+1)...rank`).
    public func unsqueezed(axis: Int) -> Tensor {
        let a = validated { try Shape.normalizedAxis(axis, rank: rank + 1, op: "unsqueezed") }
        var s = shape
        s.insert(1, at: a)
        return reshaped(to: s)
    }

    /// Joins tensors along an existing axis; the other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        let (a, outShape) = validated { () -> (Int, [Int]) in
            guard let first = tensors.first else {
                throw TensorError.invalidArgument(op: "concatenate", detail: "needs at least one tensor")
            }
            let a = try Shape.normalizedAxis(axis, rank: first.rank, op: "concatenate")
            var out = first.shape
            out[a] = 0
            for (i, t) in tensors.enumerated() {
                var s = t.shape
                guard s.count == first.rank else {
                    throw TensorError.shapeMismatch(
                        op: "concatenate", detail: "tensor \(i) has shape \(t.shape), tensor 0 has \(first.shape)")
                }
                out[a] += s[a]
                s[a] = first.shape[a]
                guard s == first.shape else {
                    throw TensorError.shapeMismatch(
                        op: "concatenate",
                        detail:
                            "tensor \(i) has shape \(t.shape), tensor 0 has \(first.shape) (only axis \(a) may differ)")
                }
            }
            return (a, out)
        }
        if tensors.count == 1 { return tensors[0] }
        var offsets: [Int] = []
        var result = Tensor.zeros(outShape)
        result.storage.withUnsafeMutableBufferPointer { out in
            var offset = 0
            for t in tensors {
                offsets.append(offset)
                var start = [Int](repeating: 0, count: outShape.count)
                start[a] = offset
                t.storage.withUnsafeBufferPointer { src in
                    copyBox(
                        src.baseAddress!, shape: t.shape, from: [Int](repeating: 0, count: t.rank),
                        to: out.baseAddress!, shape: outShape, at: start, size: t.shape)
                }
                offset += t.shape[a]
            }
        }
        let sizes = tensors.map { $0.shape[a] }
        let rule: TangentRule = { t, x, _ in
            concatenate(zip(t, x).map { $0 ?? Tensor.zeros($1.shape) }, alongAxis: a)
        }
        return record("concatenate", result, inputs: tensors, tangent: rule) { g, _ in
            zip(offsets, sizes).map { g.slice(alongAxis: a, $0..<($0 + $1)) }
        }
    }

    /// Joins tensors of one shape along a new axis.
    public static func stack(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        validated {
            guard let first = tensors.first else {
                throw TensorError.invalidArgument(op: "stack", detail: "needs at least one tensor")
            }
            if let bad = tensors.firstIndex(where: { $0.shape != first.shape }) {
                throw TensorError.shapeMismatch(
                    op: "stack", detail: "tensor \(bad) has shape \(tensors[bad].shape), tensor 0 has \(first.shape)")
            }
        }
        return concatenate(tensors.map { $0.unsqueezed(axis: axis) }, alongAxis: axis)
    }

    /// Splits along `axis` into pieces of the given sizes (which must add up to its length).
    public func split(sizes: [Int], alongAxis axis: Int = 0) -> [Tensor] {
        let a = validated { () -> Int in
            let a = try Shape.normalizedAxis(axis, rank: rank, op: "split")
            guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[a] else {
                throw TensorError.invalidArgument(
                    op: "split",
                    detail: "sizes \(sizes) do not add up to \(shape[a]), the length of axis \(a) of \(shape)")
            }
            return a
        }
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(alongAxis: a, start..<(start + size))
        }
    }

    /// Splits along `axis` into `count` equal pieces (the length must divide evenly).
    public func split(count: Int, alongAxis axis: Int = 0) -> [Tensor] {
        let a = validated { try Shape.normalizedAxis(axis, rank: rank, op: "split") }
        validated {
            guard count > 0, shape[a] % count == 0 else {
                throw TensorError.invalidArgument(
                    op: "split", detail: "axis \(a) of length \(shape[a]) does not split into \(count) equal pieces")
            }
        }
        return split(sizes: Array(repeating: shape[a] / count, count: count), alongAxis: a)
    }

    /// The elements with index in `range` along `axis`.
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let a = validated { () -> Int in
            let a = try Shape.normalizedAxis(axis, rank: rank, op: "slice")
            guard range.lowerBound >= 0, range.upperBound <= shape[a] else {
                throw TensorError.indexOutOfRange(
                    op: "slice (axis \(a) of \(shape), range \(range))",
                    index: range.upperBound > shape[a] ? range.upperBound : range.lowerBound, bound: shape[a] + 1)
            }
            return a
        }
        var start = [Int](repeating: 0, count: rank)
        start[a] = range.lowerBound
        var size = shape
        size[a] = range.count
        return cropped(start: start, size: size)
    }

    /// The box of `size` starting at `start`.
    func cropped(start: [Int], size: [Int]) -> Tensor {
        if size == shape { return self }
        let result = Tensor(shape: size) { out in
            storage.withUnsafeBufferPointer { src in
                copyBox(
                    src.baseAddress!, shape: shape, from: start, to: out.baseAddress!, shape: size,
                    at: [Int](repeating: 0, count: rank), size: size)
            }
        }
        let inputShape = shape
        let rule: TangentRule = { t, _, _ in t[0]!.cropped(start: start, size: size) }
        return Tensor.record("crop", result, inputs: [self], tangent: rule) { g, _ in
            [g.embedded(inShape: inputShape, at: start, fill: 0)]
        }
    }

    /// This tensor placed at `start` in a tensor of `outShape` filled with `fill`.
    func embedded(inShape outShape: [Int], at start: [Int], fill: Float) -> Tensor {
        var result = Tensor(repeating: fill, shape: outShape)
        result.storage.withUnsafeMutableBufferPointer { out in
            storage.withUnsafeBufferPointer { src in
                copyBox(
                    src.baseAddress!, shape: shape, from: [Int](repeating: 0, count: rank), to: out.baseAddress!,
                    shape: outShape, at: start, size: shape)
            }
        }
        let size = shape
        let rule: TangentRule = { t, _, _ in t[0]!.embedded(inShape: outShape, at: start, fill: 0) }
        return Tensor.record("embed", result, inputs: [self], tangent: rule) { g, _ in
            [g.cropped(start: start, size: size)]
        }
    }

    /// Pads each dimension with `(before, after)` elements of `value` (one pair per dimension,
    /// outermost first; fewer pairs pad the last dimensions).
    public func padded(_ widths: [(before: Int, after: Int)], value: Float = 0) -> Tensor {
        validated {
            guard widths.count <= rank, widths.allSatisfy({ $0.before >= 0 && $0.after >= 0 }) else {
                throw TensorError.invalidArgument(
                    op: "padded", detail: "needs at most \(rank) non-negative (before, after) pairs for shape \(shape)")
            }
        }
        let full = [(before: Int, after: Int)](repeating: (0, 0), count: rank - widths.count) + widths
        let outShape = zip(shape, full).map { $0 + $1.before + $1.after }
        return embedded(inShape: outShape, at: full.map(\.before), fill: value)
    }
}

/// Copies the box of `size` at `from` in `src` (of `srcShape`) to `at` in `dst` (of `dstShape`).
func copyBox(
    _ src: UnsafePointer<Float>, shape srcShape: [Int], from: [Int],
    to dst: UnsafeMutablePointer<Float>, shape dstShape: [Int], at: [Int], size: [Int]
) {
    let rank = size.count
    if rank == 0 {
        dst[0] = src[0]
        return
    }
    if size.contains(0) { return }
    let ss = Shape.strides(srcShape), ds = Shape.strides(dstShape)
    let inner = size[rank - 1]
    let rows = Shape.count(Array(size.dropLast()))
    var index = [Int](repeating: 0, count: rank - 1)
    for _ in 0..<rows {
        var so = from[rank - 1], dO = at[rank - 1]
        for k in 0..<(rank - 1) {
            so += (from[k] + index[k]) * ss[k]
            dO += (at[k] + index[k]) * ds[k]
        }
        (dst + dO).update(from: src + so, count: inner)
        var k = rank - 2
        while k >= 0 {
            index[k] += 1
            if index[k] < size[k] { break }
            index[k] = 0
            k -= 1
        }
    }
}

/// `out` (row-major, `outShape`) takes `src[sum(index[k] * strides[k])]`.
func permuteKernel(_ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outShape: [Int], strides: [Int]) {
    let rank = outShape.count
    let total = Shape.count(outShape)
    if total == 0 { return }
    let inner = outShape[rank - 1], innerStride = strides[rank - 1]
    let rows = total / inner
    var index = [Int](repeating: 0, count: rank - 1)
    var o = 0
    for _ in 0..<rows {
        var s = 0
        for k in 0..<(rank - 1) { s += index[k] * strides[k] }
        if innerStride == 1 {
            (out + o).update(from: src + s, count: inner)
        } else {
            for j in 0..<inner { out[o + j] = src[s + j * innerStride] }
        }
        o += inner
        var k = rank - 2
        while k >= 0 {
            index[k] += 1
            if index[k] < outShape[k] { break }
            index[k] = 0
            k -= 1
        }
    }
}
