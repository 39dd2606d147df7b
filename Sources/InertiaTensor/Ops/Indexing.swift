/// Integer indices with a shape, for gather / scatter, index-select, one-hot and argmax results.
public struct IndexTensor: Equatable, Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let indices: [Int]

    public init(shape: [Int], indices: [Int]) {
        validated {
            guard Shape.count(shape) == indices.count else {
                throw TensorError.shapeMismatch(
                    op: "IndexTensor",
                    detail: "shape \(shape) holds \(Shape.count(shape)) indices but \(indices.count) were given")
            }
        }
        self.shape = shape
        self.indices = indices
    }

    /// A 1-d index tensor.
    public init(_ indices: [Int]) { self.init(shape: [indices.count], indices: indices) }

    public func reshaped(to newShape: [Int]) -> IndexTensor { IndexTensor(shape: newShape, indices: indices) }

    public var description: String { "IndexTensor(shape: \(shape), indices: \(indices))" }
}

extension Tensor {
    /// Checks `indices` against `bound` and returns the normalized axis split `[outer, n, inner]`.
    private func axisSplit(_ axis: Int, op: String) -> (axis: Int, outer: Int, n: Int, inner: Int) {
        validated {
            let a = try Shape.normalizedAxis(axis, rank: rank, op: op)
            return (a, shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
        }
    }

    private static func checkIndices(_ indices: [Int], bound: Int, op: String) {
        validated {
            if let bad = indices.first(where: { $0 < 0 || $0 >= bound }) {
                throw TensorError.indexOutOfRange(op: op, index: bad, bound: bound)
            }
        }
    }

    /// The slices at `indices` along `axis`, in that order (PyTorch's `index_select`).
    public func indexSelect(alongAxis axis: Int, indices: [Int]) -> Tensor {
        let (a, outer, n, inner) = axisSplit(axis, op: "indexSelect")
        Tensor.checkIndices(indices, bound: n, op: "indexSelect (axis \(a) of \(shape))")
        var outShape = shape
        outShape[a] = indices.count
        let result = Tensor(shape: outShape) { out in
            storage.withUnsafeBufferPointer { src in
                for o in 0..<outer {
                    for (k, i) in indices.enumerated() {
                        (out.baseAddress! + (o * indices.count + k) * inner)
                            .update(from: src.baseAddress! + (o * n + i) * inner, count: inner)
                    }
                }
            }
        }
        let inputShape = shape
        let rule: TangentRule = { t, _, _ in t[0]!.indexSelect(alongAxis: a, indices: indices) }
        return Tensor.record("indexSelect", result, inputs: [self], tangent: rule) { g, _ in
            [Tensor.zeros(inputShape).indexAdding(alongAxis: a, indices: indices, values: g)]
        }
    }

    /// Adds the slices of `values` into the slices at `indices` along `axis` (repeated indices
    /// accumulate; PyTorch's `index_add`).
    public func indexAdding(alongAxis axis: Int, indices: [Int], values: Tensor) -> Tensor {
        let (a, outer, n, inner) = axisSplit(axis, op: "indexAdding")
        Tensor.checkIndices(indices, bound: n, op: "indexAdding (axis \(a) of \(shape))")
        var expected = shape
        expected[a] = indices.count
        validated {
            guard values.shape == expected else {
                throw TensorError.shapeMismatch(
                    op: "indexAdding", detail: "values have shape \(values.shape), expected \(expected)")
            }
        }
        var result = detached()
        result.storage.withUnsafeMutableBufferPointer { out in
            values.storage.withUnsafeBufferPointer { src in
                for o in 0..<outer {
                    for (k, i) in indices.enumerated() {
                        let d = out.baseAddress! + (o * n + i) * inner
                        let s = src.baseAddress! + (o * indices.count + k) * inner
                        for j in 0..<inner { d[j] += s[j] }
                    }
                }
            }
        }
        let needSelf = node != nil, needValues = values.node != nil
        let rule: TangentRule = { t, x, _ in
            (t[0] ?? Tensor.zeros(x[0].shape)).indexAdding(
                alongAxis: a, indices: indices, values: t[1] ?? Tensor.zeros(x[1].shape))
        }
        return Tensor.record("indexAdd", result, inputs: [self, values], tangent: rule) { g, _ in
            [needSelf ? g : nil, needValues ? g.indexSelect(alongAxis: a, indices: indices) : nil]
        }
    }

    /// Visits every position of `index` (same rank as `self`) with the flat offset it selects in
    /// `self` and the position's own flat offset.
    private func forEachGatherOffset(_ index: IndexTensor, axis a: Int, op: String, _ body: (Int, Int) -> Void) {
        validated {
            guard index.shape.count == rank else {
                throw TensorError.shapeMismatch(
                    op: op, detail: "index has shape \(index.shape), the tensor \(shape): ranks differ")
            }
            for d in 0..<rank where d != a && index.shape[d] > shape[d] {
                throw TensorError.shapeMismatch(
                    op: op, detail: "index shape \(index.shape) exceeds tensor shape \(shape) in dimension \(d)")
            }
        }
        Tensor.checkIndices(index.indices, bound: shape[a], op: "\(op) (axis \(a) of \(shape))")
        let strides = Shape.strides(shape)
        var position = [Int](repeating: 0, count: rank)
        for (flat, i) in index.indices.enumerated() {
            var offset = 0
            for d in 0..<rank { offset += (d == a ? i : position[d]) * strides[d] }
            body(offset, flat)
            var d = rank - 1
            while d >= 0 {
                position[d] += 1
                if position[d] < index.shape[d] { break }
                position[d] = 0
                d -= 1
            }
        }
    }

    /// `out[p] = self[p with its axis coordinate replaced by index[p]]` (PyTorch's `gather`).
    public func gather(alongAxis axis: Int, indices index: IndexTensor) -> Tensor {
        let a = validated { try Shape.normalizedAxis(axis, rank: rank, op: "gather") }
        var values = [Float](repeating: 0, count: index.indices.count)
        storage.withUnsafeBufferPointer { src in
            forEachGatherOffset(index, axis: a, op: "gather") { offset, flat in values[flat] = src[offset] }
        }
        let inputShape = shape
        let rule: TangentRule = { t, _, _ in t[0]!.gather(alongAxis: a, indices: index) }
        return Tensor.record("gather", Tensor(shape: index.shape, scalars: values), inputs: [self], tangent: rule) {
            g, _ in
            [Tensor.zeros(inputShape).scatterAdding(alongAxis: a, indices: index, values: g)]
        }
    }

    /// Adds `values[p]` at the position `gather` would read for `p` (PyTorch's `scatter_add`).
    public func scatterAdding(alongAxis axis: Int, indices index: IndexTensor, values: Tensor) -> Tensor {
        let a = validated { try Shape.normalizedAxis(axis, rank: rank, op: "scatterAdding") }
        validated {
            guard values.shape == index.shape else {
                throw TensorError.shapeMismatch(
                    op: "scatterAdding", detail: "values have shape \(values.shape), indices \(index.shape)")
            }
        }
        var result = detached()
        result.storage.withUnsafeMutableBufferPointer { out in
            values.storage.withUnsafeBufferPointer { src in
                forEachGatherOffset(index, axis: a, op: "scatterAdding") { offset, flat in out[offset] += src[flat] }
            }
        }
        let needSelf = node != nil, needValues = values.node != nil
        let rule: TangentRule = { t, x, _ in
            (t[0] ?? Tensor.zeros(x[0].shape)).scatterAdding(
                alongAxis: a, indices: index, values: t[1] ?? Tensor.zeros(x[1].shape))
        }
        return Tensor.record("scatterAdd", result, inputs: [self, values], tangent: rule) { g, _ in
            [needSelf ? g : nil, needValues ? g.gather(alongAxis: a, indices: index) : nil]
        }
    }

    /// One-hot rows: shape `indices.shape + [classes]`, 1 at each index.
    public static func oneHot(_ indices: IndexTensor, classes: Int) -> Tensor {
        checkIndices(indices.indices, bound: classes, op: "oneHot")
        var t = Tensor.zeros(indices.shape + [classes])
        t.storage.withUnsafeMutableBufferPointer { p in
            for (k, i) in indices.indices.enumerated() { p[k * classes + i] = 1 }
        }
        return t
    }
}
