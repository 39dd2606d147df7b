import Foundation

/// The Cholesky factorization `A = L·Lᵀ` of a symmetric positive-definite matrix in Float64
/// (Golub & Van Loan §4.2, row-oriented), with the solves, inverse and log-determinant that
/// Gaussian-process regression needs. `O(n³/3)`.
public struct Cholesky: Sendable {
    /// The lower-triangular factor (zeros above the diagonal).
    public let lower: Matrix64

    /// Why a factorization failed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The leading minor of this order is not positive (the matrix is not positive definite
        /// to working precision).
        case notPositiveDefinite(order: Int)

        public var description: String {
            switch self {
            case .notPositiveDefinite(let order):
                return "Cholesky: the matrix is not positive definite (leading minor of order \(order) is not positive)"
            }
        }
    }

    /// Factors `a` (only its lower triangle is read).
    public init(_ a: Matrix64) throws {
        precondition(a.rows == a.columns, "Cholesky: needs a square matrix, got \(a.rows)x\(a.columns)")
        let n = a.rows
        var l = Matrix64(rows: n, columns: n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i, j]
                for k in 0..<j { s -= l.scalars[i * n + k] * l.scalars[j * n + k] }
                if i == j {
                    guard s > 0, s.isFinite else { throw Failure.notPositiveDefinite(order: i + 1) }
                    l.scalars[i * n + i] = s.squareRoot()
                } else {
                    l.scalars[i * n + j] = s / l.scalars[j * n + j]
                }
            }
        }
        lower = l
    }

    public var order: Int { lower.rows }

    /// `log det A = 2 Σ log L_ii`.
    public var logDeterminant: Double {
        (0..<order).reduce(0) { $0 + 2 * Foundation.log(lower[$1, $1]) }
    }

    /// `x` with `A·x = b`: forward then backward substitution.
    public func solve(_ b: [Double]) -> [Double] {
        let n = order
        precondition(b.count == n, "Cholesky.solve: right-hand side of length \(b.count) for order \(n)")
        var y = b
        for i in 0..<n {
            var s = y[i]
            for k in 0..<i { s -= lower.scalars[i * n + k] * y[k] }
            y[i] = s / lower.scalars[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = y[i]
            for k in (i + 1)..<n { s -= lower.scalars[k * n + i] * y[k] }
            y[i] = s / lower.scalars[i * n + i]
        }
        return y
    }

    /// `A⁻¹`, column by column.
    public var inverse: Matrix64 {
        let n = order
        var result = Matrix64(rows: n, columns: n)
        for c in 0..<n {
            var unit = [Double](repeating: 0, count: n)
            unit[c] = 1
            for (r, value) in solve(unit).enumerated() { result.scalars[r * n + c] = value }
        }
        return result
    }
}
