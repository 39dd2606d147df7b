import XCTest

@testable import InertiaTensor

final class SymmetricEigenTests: XCTestCase {
    func randomSymmetric(_ n: Int, seed: UInt64) -> Matrix64 {
        var rng = PhiloxGenerator(seed: seed)
        let a = Matrix64(Tensor.normal([n, n], using: &rng))
        return (a + a.transposed) * 0.5
    }

    func testReconstructsRandomMatricesWithOrthonormalVectors() {
        for (n, seed) in [(1, 1), (2, 2), (3, 3), (7, 4), (40, 5), (97, 6)] as [(Int, UInt64)] {
            let a = randomSymmetric(n, seed: seed)
            let e = SymmetricEigen(a)
            XCTAssertEqual(e.values, e.values.sorted(), "ascending, n = \(n)")
            let rebuilt = e.map { $0 }
            XCTAssertLessThan((rebuilt - a).maxAbs, 1e-12 * Double(n), "V diag(λ) Vᵀ = A, n = \(n)")
            let gram = e.vectors.transposed * e.vectors
            XCTAssertLessThan((gram - Matrix64.identity(n)).maxAbs, 1e-12 * Double(n), "VᵀV = I, n = \(n)")
            XCTAssertEqual(e.values.reduce(0, +), a.trace, accuracy: 1e-10 * Double(n), "sum of eigenvalues = trace")
        }
    }

    func testClosedFormsRepeatedEigenvaluesAndPowers() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let e = SymmetricEigen(Matrix64(rows: 2, columns: 2, scalars: [2, 1, 1, 2]))
        XCTAssertEqual(e.values[0], 1, accuracy: 1e-15)
        XCTAssertEqual(e.values[1], 3, accuracy: 1e-15)
        // The identity (all eigenvalues equal) and a diagonal matrix.
        XCTAssertEqual(SymmetricEigen(Matrix64.identity(5)).values, [1, 1, 1, 1, 1])
        let diagonal = SymmetricEigen(Matrix64(rows: 3, columns: 3, scalars: [5, 0, 0, 0, -2, 0, 0, 0, 0]))
        XCTAssertEqual(diagonal.values, [-2, 0, 5])
        // A^{-1/2} A A^{-1/2} = I and A^{-1} A = I on a positive definite matrix.
        let b = randomSymmetric(12, seed: 9)
        let spd = b * b.transposed + Matrix64.identity(12)
        let eigen = SymmetricEigen(spd)
        let root = eigen.power(-0.5)
        XCTAssertLessThan((root * spd * root - Matrix64.identity(12)).maxAbs, 1e-12)
        XCTAssertLessThan((eigen.power(-1) * spd - Matrix64.identity(12)).maxAbs, 1e-12)
        // A singular matrix: the floor keeps the inverse finite.
        let singular = SymmetricEigen(Matrix64(rows: 2, columns: 2, scalars: [1, 1, 1, 1])).power(-1)
        XCTAssertTrue(singular.scalars.allSatisfy(\.isFinite))
    }
}
