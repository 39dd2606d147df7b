import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaPhysics

/// `diffusion-trajectory-alignment.md` 6: the element stiffness, the fixed-design compliances and
/// the 40-iteration OC history of the fixture's 12 x 6 cantilever, and the invariants.
final class TopologyOptimizationTests: XCTestCase {
    func number(_ f: [String: Any], _ key: String) -> Double { (f[key] as! NSNumber).doubleValue }

    /// The fixture's problem, every constant read from it.
    func fixtureProblem(_ f: [String: Any]) throws -> TopologyOptimization.Problem {
        let load = try XCTUnwrap(f["load"] as? String)
        let row = try XCTUnwrap(
            load.components(separatedBy: "iy=").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) })
        XCTAssertTrue((f["fixed"] as? String)?.contains("left edge") ?? false)
        var problem = TopologyOptimization.Problem.cantilever(
            nelx: Int(number(f, "nelx")), nely: Int(number(f, "nely")), volumeFraction: number(f, "volfrac"),
            loadRow: row)
        problem.poissonRatio = number(f, "nu")
        problem.penalty = number(f, "penal")
        problem.filterRadius = number(f, "rmin")
        problem.minimumModulus = number(f, "Emin")
        problem.youngsModulus = number(f, "E0")
        problem.move = number(f, "move")
        return problem
    }

    func testTheElementStiffnessMatchesTheFixtureAndHasThreeRigidModes() throws {
        let f = try fixture("diffusion-trajectory-alignment", "simp_12x6.json")
        let ke = TopologyOptimization.elementStiffness(poissonRatio: number(f, "nu"))
        XCTAssertLessThan(maxDifference(ke.scalars, matrix64(f["KE"]).scalars), 1e-9)
        XCTAssertEqual(ke, ke.transposed)
        let eigenvalues = SymmetricEigen(ke).values.sorted()
        XCTAssertLessThan(eigenvalues.prefix(3).map(Swift.abs).max()!, 1e-12)
        XCTAssertGreaterThan(eigenvalues[3], 0.1)
    }

    func testFixedDesignCompliancesAndTheUniformScaling() throws {
        let f = try fixture("diffusion-trajectory-alignment", "simp_12x6.json")
        let simp = TopologyOptimization(try fixtureProblem(f))
        let elements = simp.design.count
        let solid = try simp.compliance(of: [Double](repeating: 1, count: elements)).compliance
        let uniform = try simp.compliance(of: [Double](repeating: 0.5, count: elements)).compliance
        XCTAssertEqual(solid, number(f, "compliance_solid"), accuracy: 1e-8 * solid)
        XCTAssertEqual(uniform, number(f, "compliance_uniform_0.5"), accuracy: 1e-8 * uniform)
        XCTAssertEqual(uniform, solid * 8, accuracy: 1e-6 * uniform, "compliance scales as rho^-p")
        // The sensitivities are the derivative of the compliance (central differences in one element).
        var densities = (0..<elements).map { 0.3 + 0.5 * Double($0 % 7) / 7 }
        let (_, dc) = try simp.compliance(of: densities)
        for e in [0, 17, 40] {
            densities[e] += 1e-6
            let up = try simp.compliance(of: densities).compliance
            densities[e] -= 2e-6
            let down = try simp.compliance(of: densities).compliance
            densities[e] += 1e-6
            XCTAssertEqual(dc[e], (up - down) / 2e-6, accuracy: 1e-5 * Swift.abs(dc[e]))
        }
    }

    func testTheOptimalityCriteriaHistoryMatchesTheFixture() throws {
        let f = try fixture("diffusion-trajectory-alignment", "simp_12x6.json")
        let history = doubles(f["oc_compliance_history_40"])
        var simp = TopologyOptimization(try fixtureProblem(f))
        let target = simp.problem.volumeFraction
        for (k, expected) in history.enumerated() {
            let (c, _) = try simp.iterate()
            XCTAssertEqual(c, expected, accuracy: 1e-6 * expected, "iteration \(k + 1)")
            XCTAssertEqual(simp.densities.reduce(0, +) / Double(simp.densities.count), target, accuracy: 1e-3 * target)
            XCTAssertTrue(simp.design.allSatisfy { (0...1).contains($0) })
            if k == 4 { XCTAssertLessThan(maxDifference(simp.densities, doubles(f["xPhys_iter5"])), 1e-5) }
        }
        XCTAssertLessThan(maxDifference(simp.densities, doubles(f["final_xPhys_40"])), 1e-5)
        let final = try simp.compliance(of: simp.densities).compliance
        XCTAssertEqual(final, number(f, "final_compliance_after_40"), accuracy: 1e-6 * final)
        XCTAssertLessThan(history[4], 0.5 * history[0])
    }

    func testTheBandedCholeskyMatchesTheDenseOne() throws {
        var rng = PhiloxGenerator(seed: 3)
        let n = 40, b = 5
        var a = Matrix64(rows: n, columns: n)
        for i in 0..<n {
            for j in Swift.max(0, i - b)..<i {
                let v = rng.nextDouble() - 0.5
                a.scalars[i * n + j] = v
                a.scalars[j * n + i] = v
            }
        }
        for i in 0..<n { a.scalars[i * n + i] = Double(2 * b) }
        let rhs = (0..<n).map { _ in rng.nextNormal() }
        let banded = try BandedCholesky(a, bandwidth: b).solve(rhs)
        let dense = try Cholesky(a).solve(rhs)
        XCTAssertLessThan(maxDifference(banded, dense), 1e-12)
        var indefinite = a
        indefinite.scalars[7 * n + 7] = -1
        XCTAssertThrowsError(try BandedCholesky(indefinite, bandwidth: b))
    }

    func testASupportThatLeavesARigidMotionIsReported() {
        let floating = TopologyOptimization.Problem(
            nelx: 4, nely: 2, volumeFraction: 0.5, loads: [(3, -1)], fixedDOFs: [])
        XCTAssertThrowsError(try TopologyOptimization(floating).compliance(of: [Double](repeating: 1, count: 8)))
    }
}
