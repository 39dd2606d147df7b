import Foundation

/// A sparse Float64 matrix in compressed sparse rows, with the product and a conjugate-gradient
/// solver for symmetric positive definite systems (finite-difference and finite-element
/// references).
public struct SparseMatrix64: Sendable {
    public let rows: Int
    public let columns: Int
    /// Row `r`'s entries are `values[rowStarts[r]..<rowStarts[r + 1]]` in `columnIndices`' columns
    /// (ascending).
    public let rowStarts: [Int]
    public let columnIndices: [Int]
    public let values: [Double]

    /// The matrix of `(row, column, value)` entries, duplicates summed (as finite-element
    /// assembly adds element contributions).
    public init(rows: Int, columns: Int, entries: [(row: Int, column: Int, value: Double)]) {
        precondition(rows >= 0 && columns >= 0, "SparseMatrix64: negative size \(rows) x \(columns)")
        for entry in entries {
            precondition(
                (0..<rows).contains(entry.row) && (0..<columns).contains(entry.column),
                "SparseMatrix64: entry (\(entry.row), \(entry.column)) outside \(rows) x \(columns)")
        }
        let sorted = entries.sorted { ($0.row, $0.column) < ($1.row, $1.column) }
        var starts = [Int](repeating: 0, count: rows + 1)
        var indices: [Int] = [], values: [Double] = []
        indices.reserveCapacity(sorted.count)
        values.reserveCapacity(sorted.count)
        var last: (Int, Int)? = nil
        for entry in sorted {
            if let last, last == (entry.row, entry.column) {
                values[values.count - 1] += entry.value
            } else {
                indices.append(entry.column)
                values.append(entry.value)
                starts[entry.row + 1] += 1
            }
            last = (entry.row, entry.column)
        }
        for r in 0..<rows { starts[r + 1] += starts[r] }
        self.rows = rows
        self.columns = columns
        rowStarts = starts
        columnIndices = indices
        self.values = values
    }

    /// The matrix as a dense one (for tests and small problems).
    public var dense: Matrix64 {
        var m = Matrix64(rows: rows, columns: columns)
        for r in 0..<rows {
            for k in rowStarts[r]..<rowStarts[r + 1] { m.scalars[r * columns + columnIndices[k]] += values[k] }
        }
        return m
    }

    /// `A·x`.
    public func multiplied(by x: [Double]) -> [Double] {
        precondition(x.count == columns, "SparseMatrix64: a vector of \(x.count) for \(columns) columns")
        var y = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            var sum = 0.0
            for k in rowStarts[r]..<rowStarts[r + 1] { sum += values[k] * x[columnIndices[k]] }
            y[r] = sum
        }
        return y
    }

    /// The diagonal (zeros where a row has no diagonal entry).
    public var diagonal: [Double] {
        (0..<Swift.min(rows, columns)).map { r in
            (rowStarts[r]..<rowStarts[r + 1]).first { columnIndices[$0] == r }.map { values[$0] } ?? 0
        }
    }

    /// The result of `solveConjugateGradient`.
    public struct Solution: Sendable {
        public var x: [Double]
        public var iterations: Int
        /// `‖b − A·x‖ / ‖b‖` at the end.
        public var relativeResidual: Double
        public var converged: Bool
    }

    /// `x` with `A·x = b` for a symmetric positive definite `A`, by conjugate gradients with the
    /// Jacobi (diagonal) preconditioner, from `x = 0` until `‖b − A·x‖ ≤ tolerance·‖b‖` or
    /// `maxIterations`.
    public func solveConjugateGradient(
        _ b: [Double], tolerance: Double = 1e-10, maxIterations: Int? = nil
    ) -> Solution {
        precondition(
            rows == columns && b.count == rows,
            "solveConjugateGradient: needs a square system, got \(rows) x \(columns) and \(b.count)")
        let inverseDiagonal = diagonal.map { $0 > 0 ? 1 / $0 : 1 }
        let limit = maxIterations ?? Swift.max(10 * rows, 100)
        let bNorm = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var x = [Double](repeating: 0, count: rows)
        guard bNorm > 0 else { return Solution(x: x, iterations: 0, relativeResidual: 0, converged: true) }
        var r = b
        var z = zip(r, inverseDiagonal).map { $0 * $1 }
        var p = z
        var rz = zip(r, z).reduce(0) { $0 + $1.0 * $1.1 }
        var residual = 1.0
        for iteration in 1...Swift.max(limit, 1) {
            let q = multiplied(by: p)
            let alpha = rz / zip(p, q).reduce(0) { $0 + $1.0 * $1.1 }
            for i in 0..<rows {
                x[i] += alpha * p[i]
                r[i] -= alpha * q[i]
            }
            residual = r.reduce(0) { $0 + $1 * $1 }.squareRoot() / bNorm
            if residual <= tolerance || !residual.isFinite {
                return Solution(
                    x: x, iterations: iteration, relativeResidual: residual, converged: residual <= tolerance)
            }
            for i in 0..<rows { z[i] = r[i] * inverseDiagonal[i] }
            let next = zip(r, z).reduce(0) { $0 + $1.0 * $1.1 }
            let beta = next / rz
            rz = next
            for i in 0..<rows { p[i] = z[i] + beta * p[i] }
        }
        return Solution(x: x, iterations: limit, relativeResidual: residual, converged: false)
    }
}
