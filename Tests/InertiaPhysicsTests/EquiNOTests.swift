import Foundation
import InertiaTensor
import XCTest

@testable import InertiaPhysics

/// `equino.md` 2.3 and 6: bases, the constitutive-consistency loss and its gradient, training.
final class EquiNOTests: XCTestCase {
    /// The fixture's nonlinear 8-element bar with snapshots at 5 macro strains.
    func model(seed: UInt64 = 0) throws -> PeriodicBarEquiNO {
        let bar = PeriodicBar(
            phases: [0, 0, 0, 0, 1, 1, 1, 1], materials: [.init(modulus: 1, cubic: 5), .init(modulus: 10)])
        let snapshots = try [-0.1, -0.05, 0.02, 0.06, 0.1].map { try bar.solve(macroStrain: $0) }
        var rng = PhiloxGenerator(seed: seed)
        return PeriodicBarEquiNO(
            bar: bar, snapshots: snapshots, displacementRank: 2, hidden: [8, 8], inputScale: 0.1, using: &rng)
    }

    func testBasesArePeriodicPinnedAndEquilibrated() throws {
        let m = try model()
        for k in 0..<m.displacementBasis.rank {
            XCTAssertEqual(m.displacementBasis.modes[0, k], 0, accuracy: 1e-14, "node 0 stays pinned")
            XCTAssertEqual(
                m.strainModes[k].reduce(0, +), 0, accuracy: 1e-12, "a periodic mode averages out of the strain")
        }
        let psi = (0..<m.bar.elements).map { m.stressBasis.modes[$0, 0] }
        XCTAssertLessThan(psi.max()! - psi.min()!, 1e-12, "the stress mode is uniform (equilibrated in 1-D)")
        // Invariant 5 for the operator: its strain field averages to the macro strain whatever the branch says.
        for ebar in [-0.07, 0.11] {
            XCTAssertEqual(m.bar.average(m.predict(ebar).strains), ebar, accuracy: 1e-14)
        }
    }

    func testLossGradientAgainstCentralDifferences() throws {
        let m = try model(seed: 3)
        let collocation = [-0.08, 0.01, 0.09]
        var p = m.branch.parameters
        var rng = PhiloxGenerator(seed: 9)
        for i in p.indices { p[i] += 0.2 * rng.nextNormal() }
        let (_, gradient) = m.loss(parameters: p, collocation: collocation)
        for i in p.indices {
            var plus = p, minus = p
            plus[i] += 1e-6
            minus[i] -= 1e-6
            let numeric =
                (m.loss(parameters: plus, collocation: collocation).value
                    - m.loss(parameters: minus, collocation: collocation).value) / 2e-6
            XCTAssertEqual(gradient[i], numeric, accuracy: 1e-7 * max(1, abs(numeric)), "parameter \(i)")
        }
    }

    /// With the spec's training budget (Adam 2000 steps, then L-BFGS 500 iterations) on 16
    /// collocation strains and no labels, the operator's stress field is near equilibrium and its
    /// homogenised stress near the FE solution's, inside the spec's 1e-2 bars with room to spare.
    func testTrainingReachesEquilibriumWithoutLabels() throws {
        var m = try model()
        let collocation = (0..<16).map { -0.1 + 0.2 * (Double($0) + 0.5) / 16 }
        let (adam, lbfgs) = m.fit(collocation: collocation, adamSteps: 2000, learningRate: 1e-3, lbfgsIterations: 500)
        XCTAssertLessThan(lbfgs!.value, 1e-5 * adam.first!, "\(lbfgs!.stop) after \(lbfgs!.iterations) iterations")
        for ebar in [-0.09, 0.03, 0.08] {
            let reference = try m.bar.solve(macroStrain: ebar).homogenizedStress
            let prediction = m.predict(ebar)
            XCTAssertEqual(prediction.homogenizedStress, reference, accuracy: 3e-3 * abs(reference), "ebar \(ebar)")
            XCTAssertLessThan(prediction.nonUniformity, 3e-3 * abs(reference), "ebar \(ebar)")
        }
    }
}
