import Foundation
import XCTest

@testable import InertiaPhysics

/// The 5-point reference against closed forms: exact for a cubic on a box whose edges are grid
/// lines, first order at the curved boundary of the disk.
final class FiniteDifferencePoissonTests: XCTestCase {
    func testACubicOnAGridAlignedBoxIsExact() {
        let box = Box(lower: SIMD2(0.0, 0), upper: SIMD2(1.0, 2))
        let grid = FiniteDifferencePoisson(domain: box, lower: box.lower, upper: box.upper, n: 17)
        // u = x³ − 3xy² + x² − y², −Δu = 0 (harmonic), with a source: u + 2y² ⇒ −Δ = −4.
        func u(_ p: SIMD2<Double>) -> Double { p.x * p.x * p.x - 3 * p.x * p.y * p.y + p.x * p.x + p.y * p.y }
        let (values, solution) = grid.solve(source: { _ in -4 }, boundary: u)
        XCTAssertTrue(solution.converged)
        XCTAssertEqual(values.count, 15 * 15)
        for (p, value) in zip(grid.points, values) { XCTAssertEqual(value, u(p), accuracy: 1e-9) }
    }

    func testTheDiskReferenceConvergesToTheClosedForm() {
        // −Δu = 4 with g = x² − y² on the unit circle: u = 1 − r² + x² − y².
        func exact(_ p: SIMD2<Double>) -> Double { 1 - (p * p).sum() + p.x * p.x - p.y * p.y }
        var errors: [Double] = []
        for n in [17, 33, 65] {
            let grid = FiniteDifferencePoisson(
                domain: Ball<SIMD2<Double>>(), lower: SIMD2(-1, -1), upper: SIMD2(1, 1), n: n)
            let (values, solution) = grid.solve(source: { _ in 4 }, boundary: { $0.x * $0.x - $0.y * $0.y })
            XCTAssertTrue(solution.converged)
            errors.append(zip(grid.points, values).map { Swift.abs($1 - exact($0)) }.max()!)
        }
        // The nearest-point boundary is first order: the largest error shrinks with h.
        XCTAssertLessThan(errors[2], 0.07, "\(errors)")
        XCTAssertLessThan(errors[2], errors[1], "\(errors)")
        XCTAssertLessThan(errors[1], errors[0], "\(errors)")
    }
}
