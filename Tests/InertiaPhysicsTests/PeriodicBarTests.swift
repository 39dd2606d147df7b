import Foundation
import InertiaTestSupport
import XCTest

@testable import InertiaPhysics

/// `equino.md` 6: the fixture's FE solutions of the 8-element bar, and invariants 3-5.
final class PeriodicBarTests: XCTestCase {
    /// The fixture's mesh, linear or with the cubic term in phase 0.
    func fixtureBar(nonlinear: Bool, _ f: [String: Any]) -> PeriodicBar {
        let mesh = f["mesh"] as! [String: Any]
        let moduli = doubles(mesh["E"])
        let beta = (mesh["beta_cubic_matrix"] as! NSNumber).doubleValue
        let phases = (mesh["phase_per_element"] as! [NSNumber]).map(\.intValue)
        let h = (mesh["h"] as! NSNumber).doubleValue
        return PeriodicBar(
            phases: phases,
            materials: moduli.enumerated().map { .init(modulus: $1, cubic: nonlinear && $0 == 0 ? beta : 0) },
            length: h * Double(phases.count))
    }

    func testTheFixtureSolutions() throws {
        let f = try fixture("equino", "equino_1d_fixtures.json")
        let cases = f.keys.filter { $0.hasPrefix("linear_ebar_") || $0.hasPrefix("nonlinear_ebar_") }.sorted()
        XCTAssertEqual(cases.count, 6)
        for key in cases {
            let expected = f[key] as! [String: Any]
            let ebar = Double(key.split(separator: "_").last!)!
            let solution = try fixtureBar(nonlinear: key.hasPrefix("nonlinear"), f).solve(macroStrain: ebar)
            XCTAssertLessThan(maxDifference(solution.fluctuation, doubles(expected["u_nodes"])), 1e-12, key)
            XCTAssertLessThan(maxDifference(solution.strains, doubles(expected["strain_per_element"])), 1e-12, key)
            XCTAssertLessThan(maxDifference(solution.stresses, doubles(expected["stress_per_element"])), 1e-12, key)
            XCTAssertEqual(
                solution.homogenizedStress, (expected["homogenized_stress"] as! NSNumber).doubleValue, accuracy: 1e-12,
                key)
            XCTAssertEqual(solution.newtonIterations, (expected["newton_iters"] as! NSNumber).intValue, key)
            let spread = solution.stresses.max()! - solution.stresses.min()!
            XCTAssertLessThan(spread, 1e-13, "\(key): equilibrium makes the stress uniform")
        }
        let check = f["nonlinear_check_ebar_0.1"] as! [String: Any]
        let solution = try fixtureBar(nonlinear: true, f).solve(macroStrain: 0.1)
        let phases = fixtureBar(nonlinear: true, f).phases
        XCTAssertEqual(
            solution.strains[phases.firstIndex(of: 0)!], (check["eps_matrix"] as! NSNumber).doubleValue, accuracy: 1e-10
        )
        XCTAssertEqual(
            solution.strains[phases.firstIndex(of: 1)!], (check["eps_inclusion"] as! NSNumber).doubleValue,
            accuracy: 1e-10)
        XCTAssertEqual(solution.homogenizedStress, (check["sigma"] as! NSNumber).doubleValue, accuracy: 1e-10)

        let linear = fixtureBar(nonlinear: false, f)
        let harmonic = 1 / linear.average(linear.phases.map { 1 / linear.materials[$0].modulus })
        XCTAssertEqual(
            harmonic, (f["linear_effective_modulus_harmonic_mean"] as! NSNumber).doubleValue, accuracy: 1e-12)
        XCTAssertEqual(try linear.solve(macroStrain: 0.04).homogenizedStress / 0.04, harmonic, accuracy: 1e-12)
    }

    func testInvariants() throws {
        let bar = PeriodicBar(
            phases: (0..<13).map { [0, 0, 1, 2, 1][$0 % 5] },
            materials: [.init(modulus: 1, cubic: 5), .init(modulus: 10), .init(modulus: 2, cubic: 2)], length: 2)
        // 3: zero macro strain, zero everything.
        let zero = try bar.solve(macroStrain: 0)
        XCTAssertEqual(zero.newtonIterations, 0)
        XCTAssertTrue((zero.fluctuation + zero.stresses).allSatisfy { $0 == 0 })
        // 5: the fluctuation averages out of the strain.
        for ebar in [-0.12, 0.03, 0.2] {
            let solution = try bar.solve(macroStrain: ebar)
            XCTAssertEqual(bar.average(solution.strains), ebar, accuracy: 1e-15)
            XCTAssertLessThan(solution.stresses.max()! - solution.stresses.min()!, 1e-12)
        }
        // 4: linear phases give a linear response; one phase, no fluctuation.
        let linear = PeriodicBar(
            phases: bar.phases, materials: [.init(modulus: 1), .init(modulus: 10), .init(modulus: 2)])
        let a = try linear.solve(macroStrain: 0.01).homogenizedStress,
            b = try linear.solve(macroStrain: -0.07).homogenizedStress
        XCTAssertEqual(b, -7 * a, accuracy: 1e-15)
        let single = try PeriodicBar(phases: [0, 0, 0, 0, 0], materials: [.init(modulus: 3, cubic: 4)]).solve(
            macroStrain: 0.1)
        XCTAssertTrue(single.fluctuation.allSatisfy { abs($0) < 1e-15 })
        XCTAssertEqual(single.homogenizedStress, 0.3 + 4e-3, accuracy: 1e-15)
    }

    func testANonConvergingSolveThrows() {
        // The nonlinear bar needs three or four Newton updates; two are not enough.
        let bar = PeriodicBar(phases: [0, 1, 0, 1], materials: [.init(modulus: 1, cubic: 5), .init(modulus: 10)])
        XCTAssertThrowsError(try bar.solve(macroStrain: 0.1, maxIterations: 2)) { error in
            XCTAssertTrue("\(error)".contains("did not converge at ebar = 0.1"), "\(error)")
        }
        XCTAssertNoThrow(try bar.solve(macroStrain: 0.1, maxIterations: 8))
    }
}
