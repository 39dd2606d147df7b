import Foundation
import InertiaTensor
import XCTest

@testable import InertiaPhysics

/// `equino.md` 6, invariant 6, and the SVD's defining properties.
final class ProperOrthogonalDecompositionTests: XCTestCase {
    func testModesReconstructWithTheDiscardedEnergy() {
        var rng = PhiloxGenerator(seed: 4)
        for (rows, columns) in [(12, 5), (4, 9)] {
            let w = Matrix64(
                rows: rows, columns: columns, scalars: (0..<(rows * columns)).map { _ in rng.nextNormal() })
            for rank in 1...min(rows, columns) {
                let pod = ProperOrthogonalDecomposition(snapshots: w, rank: rank)
                let gram = pod.modes.transposed * pod.modes
                XCTAssertLessThan((gram - .identity(rank)).maxAbs, 1e-12, "orthonormal modes")
                let error = (w - pod.modes * pod.coefficients).frobeniusNorm
                let relative = error * error / (w.frobeniusNorm * w.frobeniusNorm)
                XCTAssertEqual(relative, pod.discardedEnergy, accuracy: 1e-12, "\(rows)x\(columns), rank \(rank)")
                // The coefficients' rows are orthogonal with squared norms s_k^2.
                let cct = pod.coefficients * pod.coefficients.transposed
                for k in 0..<rank {
                    XCTAssertEqual(cct[k, k], pod.singularValues[k] * pod.singularValues[k], accuracy: 1e-10)
                }
            }
            XCTAssertEqual(
                ProperOrthogonalDecomposition(snapshots: w, rank: min(rows, columns)).discardedEnergy, 0,
                accuracy: 1e-14)
            XCTAssertEqual(
                ProperOrthogonalDecomposition(snapshots: w, rank: 1).singularValues.map { $0 * $0 }.reduce(0, +),
                w.frobeniusNorm * w.frobeniusNorm, accuracy: 1e-10)
        }
    }

    /// Rank-deficient snapshots (two directions) still give orthonormal modes past the rank.
    func testRankDeficientSnapshots() {
        let a = (0..<10).map { Double($0) }, b = (0..<10).map { Foundation.sin(Double($0)) }
        var w = Matrix64(rows: 10, columns: 6)
        for i in 0..<10 {
            for j in 0..<6 {
                let jj = Double(j)
                w[i, j] = jj * a[i] + jj * jj * b[i]
            }
        }
        let pod = ProperOrthogonalDecomposition(snapshots: w, rank: 4)
        XCTAssertLessThan((pod.modes.transposed * pod.modes - .identity(4)).maxAbs, 1e-12)
        XCTAssertLessThan(pod.singularValues[2], 1e-6 * pod.singularValues[0])
        XCTAssertLessThan((w - pod.modes * pod.coefficients).maxAbs, 1e-9)
    }
}
