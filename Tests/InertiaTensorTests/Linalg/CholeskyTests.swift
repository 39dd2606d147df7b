import XCTest

@testable import InertiaTensor

/// The Cholesky factorization against its definition and the symmetric eigensolver.
final class CholeskyTests: XCTestCase {
    func testFactorSolveInverseAndLogDeterminant() throws {
        var rng = PhiloxGenerator(seed: 7)
        let b = Matrix64(rows: 6, columns: 6, scalars: (0..<36).map { _ in rng.nextNormal() })
        let a = (b * b.transposed).addingToDiagonal(0.5)
        let cholesky = try Cholesky(a)
        let l = cholesky.lower
        for i in 0..<6 { for j in (i + 1)..<6 { XCTAssertEqual(l[i, j], 0) } }
        XCTAssertLessThan((l * l.transposed - a).maxAbs, 1e-12)
        let rhs = (0..<6).map { _ in rng.nextNormal() }
        let x = cholesky.solve(rhs)
        let ax = a * Matrix64(rows: 6, columns: 1, scalars: x)
        XCTAssertLessThan(zip(ax.scalars, rhs).map { abs($0 - $1) }.max()!, 1e-11)
        XCTAssertLessThan((a * cholesky.inverse - Matrix64.identity(6)).maxAbs, 1e-11)
        let eigenvalues = SymmetricEigen(a).values
        XCTAssertEqual(cholesky.logDeterminant, eigenvalues.reduce(0) { $0 + log($1) }, accuracy: 1e-10)
    }

    func testIndefiniteMatrixIsRejectedWithItsOrder() {
        let a = Matrix64(rows: 2, columns: 2, scalars: [1, 2, 2, 1])
        XCTAssertThrowsError(try Cholesky(a)) { error in
            XCTAssertEqual(error as? Cholesky.Failure, .notPositiveDefinite(order: 2))
        }
    }
}

extension CholeskyTests {
    /// QᵀQ = I for the random embeddings, and the same generator state gives the same matrix.
    func testRandomOrthonormalColumnsAreOrthonormal() {
        for (rows, columns) in [(2, 2), (16, 2), (512, 5)] {
            var rng = PhiloxGenerator(seed: UInt64(rows)), again = rng
            let q = Matrix64.randomOrthonormalColumns(rows: rows, columns: columns, using: &rng)
            XCTAssertEqual(q, Matrix64.randomOrthonormalColumns(rows: rows, columns: columns, using: &again))
            let gram = q.transposed * q
            for i in 0..<columns {
                for j in 0..<columns { XCTAssertEqual(gram[i, j], i == j ? 1 : 0, accuracy: 1e-12) }
            }
        }
    }
}
