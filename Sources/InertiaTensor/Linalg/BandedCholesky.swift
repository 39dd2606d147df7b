import Foundation

/// The Cholesky factor `A = L·Lᵀ` of a symmetric positive definite band matrix (entries zero more
/// than `bandwidth` off the diagonal) and solves with it, in `n·bandwidth²` operations: the
/// direct solver of finite-element stiffness matrices, whose bandwidth is set by the node
/// numbering (SIMP's `K·U = F`). A pivot below 1e-12 of its diagonal entry counts as singular.
public struct BandedCholesky: Sendable {
    public let order: Int
    public let bandwidth: Int
    /// Row `i` of `L`, its band left to right: `L[i][m]` at `factor[i·(bandwidth + 1) + bandwidth − i + m]`
    /// for `m = i − bandwidth ... i`, so the products of two rows are contiguous dot products (the
    /// kernel layer's `dot_f64`).
    var factor: [Double]

    /// A band matrix given as `A[i][i − k]` at `lowerBand[i·(bandwidth + 1) + k]`, `k = 0...bandwidth`
    /// (entries with `i − k < 0` are ignored).
    public init(order n: Int, bandwidth b: Int, lowerBand band: [Double]) throws {
        precondition(n >= 0 && b >= 0, "BandedCholesky: negative order or bandwidth")
        precondition(band.count == n * (b + 1), "BandedCholesky: \(band.count) band entries for \(n) x (\(b) + 1)")
        let w = b + 1
        var l = [Double](repeating: 0, count: n * w)
        for i in 0..<n {
            for k in 0...Swift.min(b, i) { l[i * w + b - k] = band[i * w + k] }
        }
        try l.withUnsafeMutableBufferPointer { l in
            let base = l.baseAddress!
            for i in 0..<n {
                let first = Swift.max(0, i - b)
                for j in first...i {
                    // A[i][j] − Σ_{m < j} L[i][m]·L[j][m] over the columns both rows hold.
                    let products =
                        j > first
                        ? Kernels.table.pointee.dot_f64(
                            base + i * w + b - i + first, base + j * w + b - j + first, j - first)
                        : 0
                    let sum = l[i * w + b - (i - j)] - products
                    if j == i {
                        // A pivot lost to rounding against its diagonal entry means a singular
                        // matrix (a structure free to move), not a tiny positive number.
                        guard sum > 1e-12 * Swift.abs(band[i * w]), sum.isFinite else {
                            throw Cholesky.Failure.notPositiveDefinite(order: i + 1)
                        }
                        l[i * w + b] = sum.squareRoot()
                    } else {
                        l[i * w + b - (i - j)] = sum / l[j * w + b]
                    }
                }
            }
        }
        order = n
        bandwidth = b
        factor = l
    }

    /// The band of a dense symmetric matrix (tests, small problems).
    public init(_ a: Matrix64, bandwidth b: Int) throws {
        precondition(a.rows == a.columns, "BandedCholesky: needs a square matrix, got \(a.rows) x \(a.columns)")
        let n = a.rows
        var band = [Double](repeating: 0, count: n * (b + 1))
        for i in 0..<n {
            for k in 0...Swift.min(b, i) { band[i * (b + 1) + k] = a[i, i - k] }
        }
        try self.init(order: n, bandwidth: b, lowerBand: band)
    }

    /// `x` with `A·x = rhs`: forward substitution by rows, backward by the same rows (each
    /// solved unknown subtracted from the ones above it).
    public func solve(_ rhs: [Double]) -> [Double] {
        precondition(rhs.count == order, "BandedCholesky.solve: right-hand side of \(rhs.count) for order \(order)")
        let n = order, b = bandwidth, w = b + 1
        var y = rhs
        factor.withUnsafeBufferPointer { l in
            let rows = l.baseAddress!
            y.withUnsafeMutableBufferPointer { y in
                let x = y.baseAddress!
                for i in 0..<n {
                    let first = Swift.max(0, i - b)
                    let products =
                        i > first
                        ? Kernels.table.pointee.dot_f64(rows + i * w + b - i + first, x + first, i - first) : 0
                    y[i] = (y[i] - products) / l[i * w + b]
                }
                for i in stride(from: n - 1, through: 0, by: -1) {
                    y[i] /= l[i * w + b]
                    let first = Swift.max(0, i - b)
                    if i > first {
                        Kernels.table.pointee.axpy_f64(x + first, rows + i * w + b - i + first, -y[i], i - first)
                    }
                }
            }
        }
        return y
    }
}
