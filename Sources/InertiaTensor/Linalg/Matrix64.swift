/// A dense row-major Float64 matrix for the small linear algebra of the second-order optimizers
/// (Kronecker factors, their inverses and inverse roots), where Float32 round-off would dominate.
@frozen
public struct Matrix64: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    /// The entries, row by row.
    public var scalars: [Double]

    public init(rows: Int, columns: Int, scalars: [Double]) {
        precondition(
            scalars.count == rows * columns, "Matrix64: \(scalars.count) entries for a \(rows)x\(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.scalars = scalars
    }

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.init(rows: rows, columns: columns, scalars: [Double](repeating: value, count: rows * columns))
    }

    /// The entries of a rank-2 tensor, widened.
    public init(_ tensor: Tensor) {
        precondition(tensor.rank == 2, "Matrix64: needs a matrix, got shape \(tensor.shape)")
        self.init(rows: tensor.shape[0], columns: tensor.shape[1], scalars: tensor.scalars.map(Double.init))
    }

    /// A `rows x columns` matrix with orthonormal columns (`columns <= rows`): the Q factor of the
    /// QR decomposition of a standard Gaussian matrix, by modified Gram–Schmidt; the embeddings of
    /// low-dimensional toy data in a larger space (`pfgm-plus-plus.md` 5, `k-diff.md` 5).
    public static func randomOrthonormalColumns(
        rows: Int, columns: Int, using rng: inout PhiloxGenerator
    ) -> Matrix64 {
        precondition(
            columns >= 1 && columns <= rows, "Matrix64.randomOrthonormalColumns: needs 1 <= \(columns) <= \(rows)")
        var basis: [[Double]] = []
        for _ in 0..<columns {
            var v = (0..<rows).map { _ in rng.nextNormal() }
            for q in basis {
                let dot = zip(v, q).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<rows { v[i] -= dot * q[i] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            basis.append(v.map { $0 / norm })
        }
        return Matrix64(rows: rows, columns: columns, scalars: (0..<rows).flatMap { i in basis.map { $0[i] } })
    }

    public static func identity(_ n: Int) -> Matrix64 {
        var m = Matrix64(rows: n, columns: n)
        for i in 0..<n { m.scalars[i * n + i] = 1 }
        return m
    }

    @inlinable
    public subscript(row: Int, column: Int) -> Double {
        get { scalars[row * columns + column] }
        set { scalars[row * columns + column] = newValue }
    }

    /// The entries rounded to Float32.
    public var tensor: Tensor { Tensor(shape: [rows, columns], scalars: scalars.map(Float.init)) }

    public var transposed: Matrix64 {
        var t = Matrix64(rows: columns, columns: rows)
        for i in 0..<rows {
            for j in 0..<columns { t.scalars[j * rows + i] = scalars[i * columns + j] }
        }
        return t
    }

    public var trace: Double {
        precondition(rows == columns, "Matrix64.trace: needs a square matrix, got \(rows)x\(columns)")
        var t = 0.0
        for i in 0..<rows { t += scalars[i * columns + i] }
        return t
    }

    /// `(A + Aᵀ) / 2`.
    public var symmetrized: Matrix64 {
        precondition(rows == columns, "Matrix64.symmetrized: needs a square matrix, got \(rows)x\(columns)")
        var s = self
        for i in 0..<rows {
            for j in 0..<i {
                let mean = (scalars[i * columns + j] + scalars[j * columns + i]) / 2
                s.scalars[i * columns + j] = mean
                s.scalars[j * columns + i] = mean
            }
        }
        return s
    }

    /// The largest absolute entry.
    public var maxAbs: Double { scalars.reduce(0) { Swift.max($0, Swift.abs($1)) } }

    public var frobeniusNorm: Double { scalars.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// The product, row by row as `C[i] = Σ_l A[i, l]·B[l]` in the order l = 0, 1, ...: the rows
    /// of C in chunks of 16 (on several threads above 2²⁰ multiply-adds), each chunk walking B in
    /// blocks of 64 rows that stay in cache, each row update the dispatched `axpy_f64`. Blocking
    /// and threads leave every entry's summation order alone, so any thread count gives the same bits.
    public static func * (a: Matrix64, b: Matrix64) -> Matrix64 {
        precondition(a.columns == b.rows, "Matrix64: cannot multiply \(a.rows)x\(a.columns) by \(b.rows)x\(b.columns)")
        var c = Matrix64(rows: a.rows, columns: b.columns)
        let n = b.columns, k = a.columns, m = a.rows
        guard m > 0, n > 0, k > 0 else { return c }
        let axpy = Kernels.table.pointee.axpy_f64!
        a.scalars.withUnsafeBufferPointer { ap in
            b.scalars.withUnsafeBufferPointer { bp in
                c.scalars.withUnsafeMutableBufferPointer { cp in
                    let a = ap.baseAddress!, b = bp.baseAddress!, c = cp.baseAddress!
                    func rows(_ range: Range<Int>) {
                        for block in stride(from: 0, to: k, by: 64) {
                            for i in range {
                                for l in block..<Swift.min(k, block + 64) {
                                    let x = a[i * k + l]
                                    if x != 0 { axpy(c + i * n, b + l * n, x, n) }
                                }
                            }
                        }
                    }
                    if m * n * k < 1 << 20 {
                        rows(0..<m)
                    } else {
                        Parallel.forEachRange(count: m, grain: 16, rows)
                    }
                }
            }
        }
        return c
    }

    public static func * (a: Matrix64, s: Double) -> Matrix64 {
        Matrix64(rows: a.rows, columns: a.columns, scalars: a.scalars.map { $0 * s })
    }

    public static func + (a: Matrix64, b: Matrix64) -> Matrix64 {
        precondition(
            a.rows == b.rows && a.columns == b.columns,
            "Matrix64: cannot add \(a.rows)x\(a.columns) and \(b.rows)x\(b.columns)")
        return Matrix64(rows: a.rows, columns: a.columns, scalars: zip(a.scalars, b.scalars).map { $0 + $1 })
    }

    public static func - (a: Matrix64, b: Matrix64) -> Matrix64 { a + b * -1 }

    /// `A + s·I`.
    public func addingToDiagonal(_ s: Double) -> Matrix64 {
        precondition(rows == columns, "Matrix64.addingToDiagonal: needs a square matrix, got \(rows)x\(columns)")
        var m = self
        for i in 0..<rows { m.scalars[i * columns + i] += s }
        return m
    }
}
