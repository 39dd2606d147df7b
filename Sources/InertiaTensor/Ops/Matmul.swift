/// Matrix products: 2-d and batched, with the leading (batch) dimensions broadcast.
extension Tensor {
    /// `op(a) · op(b)` over the last two dimensions, where `op` transposes when asked; the
    /// leading dimensions broadcast as NumPy's `matmul`.
    public static func matmul(
        _ a: Tensor, _ b: Tensor, transposingA: Bool = false, transposingB: Bool = false
    ) -> Tensor {
        func logical(_ s: [Int], _ t: Bool) -> [Int] {
            guard t, s.count >= 2 else { return s }
            var s = s
            s.swapAt(s.count - 1, s.count - 2)
            return s
        }
        let outShape = validated { try Shape.matmul(logical(a.shape, transposingA), logical(b.shape, transposingB)) }
        let m = outShape[outShape.count - 2], n = outShape[outShape.count - 1]
        let k = transposingA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        // A batch of matrices times one matrix (a linear layer on [..., T, k]) is one product of
        // all the rows: one packing of `b`, and `b`'s gradient comes out summed, in one product.
        if a.rank > 2 && b.rank == 2 && !transposingA {
            return matmul(a.reshaped(to: [-1, k]), b, transposingB: transposingB).reshaped(to: outShape)
        }
        let batchShape = Array(outShape.dropLast(2))
        let batches = Shape.count(batchShape)
        let offsetsA = batchOffsets(a.shape, batchShape: batchShape)
        let offsetsB = batchOffsets(b.shape, batchShape: batchShape)
        let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
        // Many small products, or a long batch of mid-sized ones (attention's per-head products),
        // run side by side, each on one thread (with the Swift kernel, whose per-element order
        // does not depend on the thread); large ones parallelize inside. The choice depends on the
        // sizes only.
        let product = m * n * k
        let small = batches > 1 && (product <= 64 * 64 * 64 || (batches >= 8 && product <= 256 * 256 * 256))
        let result = Tensor(shape: outShape) { out in
            a.storage.withUnsafeBufferPointer { pa in
                b.storage.withUnsafeBufferPointer { pb in
                    let one = { (i: Int) in
                        GEMM.sgemm(
                            transposeA: transposingA, transposeB: transposingB, m: m, n: n, k: k, alpha: 1,
                            a: pa.baseAddress! + offsetsA[i], lda: lda, b: pb.baseAddress! + offsetsB[i], ldb: ldb,
                            beta: 0, c: out.baseAddress! + i * m * n, ldc: n, backend: small ? .swift : nil)
                    }
                    if small {
                        Parallel.forEach(chunks: batches, one)
                    } else {
                        for i in 0..<batches { one(i) }
                    }
                }
            }
        }
        let needA = a.node != nil, needB = b.node != nil
        let rule: TangentRule = { t, x, _ in
            let viaA = t[0].map { matmul($0, x[1], transposingA: transposingA, transposingB: transposingB) }
            let viaB = t[1].map { matmul(x[0], $0, transposingA: transposingA, transposingB: transposingB) }
            return viaA.map { a in viaB.map { a + $0 } ?? a } ?? viaB!
        }
        return record("matmul", result, inputs: [a, b], saving: [a, b], tangent: rule) { g, _ in
            var ga: Tensor?, gb: Tensor?
            switch (transposingA, transposingB) {
            case (false, false):
                if needA { ga = matmul(g, b, transposingB: true) }
                if needB { gb = matmul(a, g, transposingA: true) }
            case (true, false):
                if needA { ga = matmul(b, g, transposingB: true) }
                if needB { gb = matmul(a, g) }
            case (false, true):
                if needA { ga = matmul(g, b) }
                if needB { gb = matmul(g, a, transposingA: true) }
            case (true, true):
                if needA { ga = matmul(b, g, transposingA: true, transposingB: true) }
                if needB { gb = matmul(g, a, transposingA: true, transposingB: true) }
            }
            return [ga?.summed(toShape: a.shape), gb?.summed(toShape: b.shape)]
        }
    }

    /// `self · other` over the last two dimensions.
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }

    /// Offset of each broadcast batch entry's matrix in a tensor of `shape`.
    private static func batchOffsets(_ shape: [Int], batchShape: [Int]) -> [Int] {
        let matrix = shape[shape.count - 2] * shape[shape.count - 1]
        let own = Array(shape.dropLast(2))
        let padded = [Int](repeating: 1, count: batchShape.count - own.count) + own
        let strides = Shape.strides(padded)
        let count = Shape.count(batchShape)
        var offsets = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: batchShape.count)
        for i in 0..<count {
            var o = 0
            for d in 0..<batchShape.count where padded[d] != 1 { o += index[d] * strides[d] }
            offsets[i] = o * matrix
            var d = batchShape.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < batchShape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return offsets
    }
}

infix operator • : MultiplicationPrecedence

extension Tensor {
    /// Matrix product (`matmul`).
    public static func • (a: Tensor, b: Tensor) -> Tensor { matmul(a, b) }
}
