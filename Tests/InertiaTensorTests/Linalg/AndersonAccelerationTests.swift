import Foundation
import InertiaTestSupport
import XCTest

@testable import InertiaTensor

/// Anderson acceleration against `shared/fixtures/anderson-acceleration` (experiment A) and the
/// invariants of its spec (6).
final class AndersonAccelerationTests: XCTestCase {
    func load() throws -> [String: Any] { try fixture("anderson-acceleration", "aa_fixtures.json") }

    func linearMap(_ f: [String: Any]) -> ([Double]) -> [Double] {
        let a = (f["A"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }, b = (f["b"] as! [NSNumber]).map(\.doubleValue)
        return { x in (0..<b.count).map { i in zip(a[i], x).reduce(b[i]) { $0 + $1.0 * $1.1 } } }
    }

    func testIterationCountsAndFirstIteratesMatchTheFixture() throws {
        let f = try load()
        let g = linearMap(f)
        let runs = f["runs"] as! [String: [String: Any]]
        let variants: [(String, AndersonAcceleration)] = [
            ("picard", AndersonAcceleration(memory: 0, regularization: .none, restarts: false)),
            ("aa_m1", AndersonAcceleration(memory: 1, regularization: .none, restarts: false)),
            ("aa_m2", AndersonAcceleration(memory: 2, regularization: .none, restarts: false)),
            ("aa_m3", AndersonAcceleration(memory: 3, regularization: .none, restarts: false)),
            ("aa_m5", AndersonAcceleration(memory: 5, regularization: .none, restarts: false)),
            ("aa_m3_beta0.5", AndersonAcceleration(memory: 3, damping: 0.5, regularization: .none, restarts: false)),
            (
                "aa_m3_constrained_reg1e-4",
                AndersonAcceleration(memory: 3, regularization: .absolute(1e-4), form: .constrained, restarts: false)
            ),
            ("aa_m3_diff_reg1e-4", AndersonAcceleration(memory: 3, regularization: .absolute(1e-4), restarts: false)),
            (
                "aa_m3_diff_relreg1e-10",
                AndersonAcceleration(memory: 3, regularization: .relative(1e-10), restarts: false)
            ),
            (
                "aa_m3_diff_relreg1e-08",
                AndersonAcceleration(memory: 3, regularization: .relative(1e-8), restarts: false)
            ),
            (
                "aa_m3_diff_relreg0.0001",
                AndersonAcceleration(memory: 3, regularization: .relative(1e-4), restarts: false)
            ),
        ]
        let x0 = (f["x0"] as! [NSNumber]).map(\.doubleValue), tol = (f["tol"] as! NSNumber).doubleValue
        let xStar = (f["x_star"] as! [NSNumber]).map(\.doubleValue)
        for (key, solver) in variants {
            let expected = try XCTUnwrap(runs[key], key)
            var iterates: [[Double]] = []
            let result = solver.solve(x0, tolerance: tol, maxIterations: 5000, observe: { iterates.append($0) }, map: g)
            XCTAssertTrue(result.converged, key)
            XCTAssertEqual(
                Double(result.iterations), (expected["iterations"] as! NSNumber).doubleValue, accuracy: 2, key)
            XCTAssertLessThan(result.residualNorm, tol, key)
            for (t, row) in (expected["first_iterates"] as! [[NSNumber]]).enumerated() {
                for (i, v) in row.enumerated() {
                    XCTAssertEqual(iterates[t][i], v.doubleValue, accuracy: 1e-9, "\(key) x_\(t)")
                }
            }
            XCTAssertLessThan(zip(result.x, xStar).map { Swift.abs($0 - $1) }.max()!, 1e-8, key)
        }
    }

    func testInvariants() throws {
        let f = try load()
        let g = linearMap(f)
        let x0 = [Double](repeating: 0, count: 6)
        // GMRES equivalence: m >= D terminates in about D + 2 iterations.
        for m in [6, 7, 10] {
            let r = AndersonAcceleration(memory: m, regularization: .none, restarts: false).solve(
                x0, tolerance: 1e-10, maxIterations: 100, map: g)
            XCTAssertLessThanOrEqual(r.iterations, 9, "m = \(m)")
        }
        // The two forms agree without regularization.
        var difference: [[Double]] = [], constrained: [[Double]] = []
        _ = AndersonAcceleration(memory: 3, regularization: .none, restarts: false).solve(
            x0, tolerance: 0, maxIterations: 5,
            observe: { difference.append($0) }, map: g)
        _ = AndersonAcceleration(memory: 3, regularization: .none, form: .constrained, restarts: false)
            .solve(x0, tolerance: 0, maxIterations: 5, observe: { constrained.append($0) }, map: g)
        XCTAssertLessThan(zip(difference.joined(), constrained.joined()).map { Swift.abs($0 - $1) }.max()!, 1e-12)
        // A fixed point stays put; orthogonal change of variables maps iterates.
        let xStar = (f["x_star"] as! [NSNumber]).map(\.doubleValue)
        let still = AndersonAcceleration().solve(xStar, tolerance: 1e-12, maxIterations: 3, map: g)
        XCTAssertEqual(still.iterations, 0)
        let rotation = Matrix64(rows: 6, columns: 6, scalars: (0..<36).map { i in Double((i * 7 + 3) % 11) - 5 })
            .polarFactor
        let rotated: ([Double]) -> [Double] = { z in
            let x = (rotation * Matrix64(rows: 6, columns: 1, scalars: z)).scalars
            return (rotation.transposed * Matrix64(rows: 6, columns: 1, scalars: g(x))).scalars
        }
        let plain = AndersonAcceleration(memory: 3, regularization: .none, restarts: false).solve(
            x0, tolerance: 1e-10, maxIterations: 500, map: g)
        let turned = AndersonAcceleration(memory: 3, regularization: .none, restarts: false).solve(
            x0, tolerance: 1e-10, maxIterations: 500, map: rotated)
        XCTAssertEqual(Double(plain.iterations), Double(turned.iterations), accuracy: 2)
        let back = (rotation * Matrix64(rows: 6, columns: 1, scalars: turned.x)).scalars
        XCTAssertLessThan(zip(back, plain.x).map { Swift.abs($0 - $1) }.max()!, 1e-8)
    }
}
