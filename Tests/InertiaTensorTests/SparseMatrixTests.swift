import Foundation
import XCTest

@testable import InertiaTensor

/// Compressed sparse rows against the dense matrix; conjugate gradients against a dense Cholesky
/// solve.
final class SparseMatrixTests: XCTestCase {
    /// A random symmetric positive definite sparse matrix: a 1-D Laplacian plus random symmetric
    /// couplings, made diagonally dominant.
    func randomSystem(_ n: Int, seed: UInt64) -> SparseMatrix64 {
        var rng = PhiloxGenerator(seed: seed)
        var entries: [(row: Int, column: Int, value: Double)] = []
        var rowSums = [Double](repeating: 0, count: n)
        for i in 0..<(n - 1) {
            entries += [(i, i + 1, -1), (i + 1, i, -1)]
            rowSums[i] += 1
            rowSums[i + 1] += 1
        }
        for _ in 0..<(2 * n) {
            let i = rng.nextInt(below: n), j = rng.nextInt(below: n)
            guard i != j else { continue }
            let v = rng.nextDouble() - 0.5
            entries += [(i, j, v), (j, i, v)]
            rowSums[i] += Swift.abs(v)
            rowSums[j] += Swift.abs(v)
        }
        for i in 0..<n { entries.append((i, i, rowSums[i] + 0.5)) }
        return SparseMatrix64(rows: n, columns: n, entries: entries)
    }

    func testProductsDuplicatesAndTheDiagonalMatchTheDenseMatrix() {
        let m = SparseMatrix64(
            rows: 2, columns: 3, entries: [(1, 2, 4), (0, 0, 1), (1, 2, -1.5), (0, 1, 2), (1, 0, 3)])
        XCTAssertEqual(m.dense.scalars, [1, 2, 0, 3, 0, 2.5])
        XCTAssertEqual(m.multiplied(by: [1, -1, 2]), [-1, 8])
        XCTAssertEqual(m.diagonal, [1, 0])
        XCTAssertEqual(m.rowStarts, [0, 2, 4])
    }

    func testConjugateGradientsMatchADenseCholeskySolve() throws {
        for (n, seed) in [(5, UInt64(1)), (60, 2), (300, 3)] {
            let a = randomSystem(n, seed: seed)
            var rng = PhiloxGenerator(seed: seed + 10)
            let b = (0..<n).map { _ in rng.nextNormal() }
            let solution = a.solveConjugateGradient(b, tolerance: 1e-12)
            XCTAssertTrue(solution.converged)
            XCTAssertLessThanOrEqual(solution.iterations, n)
            let dense = try Cholesky(a.dense).solve(b)
            let scale = dense.map(Swift.abs).max()!
            XCTAssertLessThan(zip(solution.x, dense).map { Swift.abs($0 - $1) }.max()!, 1e-9 * scale, "n = \(n)")
        }
        let zero = randomSystem(4, seed: 1).solveConjugateGradient([0, 0, 0, 0])
        XCTAssertEqual(zero.x, [0, 0, 0, 0])
        XCTAssertEqual(zero.iterations, 0)
    }
}
