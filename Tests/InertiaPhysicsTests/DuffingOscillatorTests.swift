import Foundation
import XCTest

@testable import InertiaPhysics

/// RK4's order, the energy balance `dE/dt = −δ·x'²`, and the equilibria.
final class DuffingOscillatorTests: XCTestCase {
    /// Halving the step divides the error at a fixed time by about 2⁴ (the reference: a step 64
    /// times smaller).
    func testRungeKuttaIsFourthOrder() {
        let oscillator = DuffingOscillator()
        let start = SIMD2(1.7, -0.4), time = 2.0
        func end(_ steps: Int) -> SIMD2<Double> {
            oscillator.trajectory(from: start, count: steps + 1, timeStep: time / Double(steps)).last!
        }
        let reference = end(64 * 80)
        let coarse = end(40), fine = end(80)
        func distance(_ a: SIMD2<Double>) -> Double { ((a - reference) * (a - reference)).sum().squareRoot() }
        let order = Foundation.log2(distance(coarse) / distance(fine))
        XCTAssertEqual(order, 4, accuracy: 0.25, "observed order \(order)")
    }

    /// Without damping the energy is conserved to RK4's accuracy; with it, it falls by the
    /// integral of `δ·x'²` (trapezoid rule on the trajectory).
    func testTheEnergyBalance() {
        let start = SIMD2(-1.9, 0.8), dt = 0.01
        let undamped = DuffingOscillator(damping: 0)
        let conserved = undamped.trajectory(from: start, count: 501, timeStep: dt).map(undamped.energy)
        XCTAssertLessThan(conserved.map { Swift.abs($0 - conserved[0]) }.max()!, 1e-8)

        let damped = DuffingOscillator()
        let states = damped.trajectory(from: start, count: 501, timeStep: dt)
        var dissipated = 0.0
        for i in 1..<states.count {
            dissipated += 0.5 * dt * damped.damping * (states[i - 1].y * states[i - 1].y + states[i].y * states[i].y)
        }
        let energies = states.map(damped.energy)
        XCTAssertEqual(energies[0] - energies.last!, dissipated, accuracy: 1e-4)
        for i in 1..<energies.count { XCTAssertLessThanOrEqual(energies[i], energies[i - 1] + 1e-12) }
    }

    func testTheWellsAreEquilibriaAndTrajectoriesSettleInOne() {
        let oscillator = DuffingOscillator()
        for well in [-1.0, 1.0] {
            let states = oscillator.trajectory(from: SIMD2(well, 0), count: 100, timeStep: 0.05)
            XCTAssertEqual(states.last!.x, well, accuracy: 1e-12)
        }
        let settled = oscillator.trajectory(from: SIMD2(0.3, 0), count: 4000, timeStep: 0.05).last!
        XCTAssertEqual(Swift.abs(settled.x), 1, accuracy: 1e-3)
        XCTAssertEqual(settled.y, 0, accuracy: 1e-3)
    }
}
