import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaParticles

/// CBO against CBXpy's numbers (`shared/fixtures/consensus-based-optimization`) and the invariants
/// of its spec (6).
final class ConsensusBasedOptimizationTests: XCTestCase {
    func testObjectivesConsensusAndOneStepMatchTheFixture() throws {
        let f = try fixture("consensus-based-optimization", "cbo_fixtures.json")
        let x = matrix64(f["X"])
        // Particle count, dimension, the alphas and the step's hyper-parameters are the fixture's.
        let rows = (0..<x.rows).map { Array(x.scalars[($0 * x.columns)..<(($0 + 1) * x.columns)]) }
        XCTAssertLessThan(
            maxDifference(rows.map { BenchmarkFunction.rastrigin($0) }, doubles(f["rastrigin_values"])), 1e-12)
        XCTAssertLessThan(maxDifference(rows.map { BenchmarkFunction.ackley($0) }, doubles(f["ackley_values"])), 1e-12)
        let points = (f["objective_points"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        XCTAssertLessThan(
            maxDifference(points.map { BenchmarkFunction.rastrigin($0) }, doubles(f["rastrigin_at_points"])), 1e-12)
        XCTAssertLessThan(
            maxDifference(points.map { BenchmarkFunction.ackley($0) }, doubles(f["ackley_at_points"])), 1e-12)
        let point3 = (f["point_3d"] as! [[NSNumber]])[0].map(\.doubleValue)
        XCTAssertEqual(
            BenchmarkFunction.rastrigin(point3), (f["rastrigin_3d"] as! NSNumber).doubleValue, accuracy: 1e-12)
        XCTAssertEqual(BenchmarkFunction.ackley(point3), (f["ackley_3d"] as! NSNumber).doubleValue, accuracy: 1e-12)

        let energies = doubles(f["rastrigin_values"])
        let alphas = f.keys.filter { $0.hasPrefix("consensus_alpha_") }.sorted()
        XCTAssertFalse(alphas.isEmpty)
        for key in alphas {
            let alpha = try XCTUnwrap(Double(key.dropFirst("consensus_alpha_".count)), key)
            let expected = f[key] as! [String: Any]
            let (weights, v) = ConsensusBasedOptimization.consensus(x, energies: energies, alpha: alpha)
            XCTAssertLessThan(maxDifference(weights, doubles(expected["weights"])), 1e-12, key)
            XCTAssertLessThan(maxDifference(v, doubles(expected["v"])), 1e-12, key)
            XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-12)
        }
        let step = f["step"] as! [String: Any]
        func hyperparameter(_ key: String) -> Double { (step[key] as! NSNumber).doubleValue }
        for noise in ConsensusBasedOptimization.Noise.allCases {
            let cbo = ConsensusBasedOptimization(
                dt: hyperparameter("dt"), lambda: hyperparameter("lambda"), sigma: hyperparameter("sigma"), noise: noise
            )
            let (next, v) = cbo.step(x, energies: energies, alpha: hyperparameter("alpha"), draws: matrix64(f["xi"]))
            XCTAssertLessThan(maxDifference(v, doubles(step["v"])), 1e-12)
            XCTAssertLessThan(
                maxDifference(next.scalars, matrix64(step["X_next_\(noise.rawValue)"]).scalars), 1e-12, noise.rawValue)
        }
    }

    func testInvariants() throws {
        let f = try fixture("consensus-based-optimization", "cbo_fixtures.json")
        let x = matrix64(f["X"]), xi = matrix64(f["xi"])
        let energies = doubles(f["rastrigin_values"])
        // Adding a constant to f changes nothing; a non-finite energy gets weight 0.
        let shiftedEnergies = energies.map { $0 + 123.4 }
        XCTAssertLessThan(
            maxDifference(
                ConsensusBasedOptimization.consensus(x, energies: shiftedEnergies, alpha: 10).weights,
                ConsensusBasedOptimization.consensus(x, energies: energies, alpha: 10).weights), 1e-12)
        var poisoned = energies
        poisoned[0] = .nan
        XCTAssertEqual(ConsensusBasedOptimization.consensus(x, energies: poisoned, alpha: 1).weights[0], 0)
        // Translation equivariance with the same draws.
        let cbo = ConsensusBasedOptimization(sigma: 0.8, noise: .isotropic)
        let shift = (0..<x.columns).map { 3.0 - 5.0 * Double($0) }
        var moved = x
        for i in 0..<x.rows { for k in 0..<x.columns { moved[i, k] += shift[k] } }
        let a = cbo.step(x, energies: energies, alpha: 1, draws: xi),
            b = cbo.step(moved, energies: energies, alpha: 1, draws: xi)
        for i in 0..<x.rows {
            for k in 0..<x.columns { XCTAssertEqual(b.next[i, k], a.next[i, k] + shift[k], accuracy: 1e-12) }
        }
        // sigma = 0, constant f: geometric contraction toward v by (1 − λ dt).
        let calm = ConsensusBasedOptimization(dt: 0.1, lambda: 1, sigma: 0)
        let flat = [Double](repeating: 1, count: x.rows)
        let (next, v) = calm.step(x, energies: flat, alpha: 1, draws: xi)
        for i in 0..<x.rows {
            for k in 0..<x.columns { XCTAssertEqual(next[i, k] - v[k], 0.9 * (x[i, k] - v[k]), accuracy: 1e-12) }
        }
        // Anisotropic noise vanishes in a coordinate where the particle equals v; isotropic does not.
        let onConsensus = Matrix64(rows: 2, columns: 2, scalars: [0, 1, 0, -1])
        let noisy = ConsensusBasedOptimization(dt: 0.01, lambda: 1, sigma: 1, noise: .anisotropic)
        let ones = Matrix64(rows: 2, columns: 2, scalars: [1, 1, 1, 1])
        XCTAssertEqual(noisy.step(onConsensus, energies: [1, 1], alpha: 1, draws: ones).next[0, 0], 0)
        var isotropic = noisy
        isotropic.noise = .isotropic
        XCTAssertNotEqual(isotropic.step(onConsensus, energies: [1, 1], alpha: 1, draws: ones).next[0, 0], 0)
    }

    func testConsensusIsTheProximalPointOfAQuadratic() {
        // f = 0.5|x − a|², particles from N(0, 0.25 I), α = 2: τ = 0.5, prox = (2/3, −1/3) (spec 6.4).
        var rng = PhiloxGenerator(seed: 0)
        let n = 40_000
        let x = Matrix64(rows: n, columns: 2, scalars: (0..<(2 * n)).map { _ in 0.5 * rng.nextNormal() })
        let energies = (0..<n).map { i in 0.5 * ((x[i, 0] - 2) * (x[i, 0] - 2) + (x[i, 1] + 1) * (x[i, 1] + 1)) }
        let v = ConsensusBasedOptimization.consensus(x, energies: energies, alpha: 2).point
        XCTAssertEqual(v[0], 2.0 / 3, accuracy: 0.05)
        XCTAssertEqual(v[1], -1.0 / 3, accuracy: 0.05)
        // α → ∞ selects the argmin particle.
        XCTAssertEqual(ConsensusBasedOptimization.consensus(x, energies: energies, alpha: 1e9).weights.max(), 1)
    }

    func testRastrigin2DIsSolvedAndTerminationRulesStop() {
        var cbo = ConsensusBasedOptimization(particles: 50, noise: .anisotropic, maxIterations: 1000)
        let shift = [1.0, 1.0]
        let result = cbo.ensemble(.rastrigin, shift: shift, dimension: 2, runs: 8, seed: 10, low: -3, high: 3)
        XCTAssertGreaterThanOrEqual(result.successRate, 0.75)
        var rng = PhiloxGenerator(seed: 3)
        let start = cbo.uniformStart(dimension: 2, low: -3, high: 3, using: &rng)
        cbo.energyTolerance = 1e-3
        let early = cbo.minimize({ BenchmarkFunction.sphere($0) }, from: start, using: &rng)
        XCTAssertEqual(early.stopReason, "energy tolerance")
        XCTAssertLessThan(early.iterations, 1000)
        cbo.energyTolerance = nil
        cbo.maxEvaluations = 500
        let budget = cbo.minimize({ BenchmarkFunction.sphere($0) }, from: start, using: &rng)
        XCTAssertEqual(budget.stopReason, "max evaluations")
        XCTAssertLessThanOrEqual(budget.evaluations, 500 + 50 + 1)
        cbo.maxEvaluations = nil
        cbo.stagnation = (steps: 20, tolerance: 1e-3)
        cbo.sigma = 0
        let stuck = cbo.minimize({ BenchmarkFunction.sphere($0) }, from: start, using: &rng)
        XCTAssertEqual(stuck.stopReason, "stagnation")
    }

    /// `Σ cos(2π y_i)` of one coordinate, through the kernel layer.
    func cosineOfTwoPi(_ y: Double) -> Double {
        [y].withUnsafeBufferPointer { BenchmarkFunction.squaresAndCosines($0.baseAddress!, nil, 1).1 }
    }

    func testCosineOfTwoPiMatchesLibmAndKeepsThePhaseFarAwayOnEveryPath() throws {
        for isa in InstructionSet.supported {
            try Kernels.with(isa) {
                var rng = PhiloxGenerator(seed: 4)
                for _ in 0..<2000 {
                    let a: Double = 40 * rng.nextDouble() - 20, b: Double = 40 * rng.nextDouble() - 20
                    for y in [a, b, rng.nextDouble() - 0.5, 1e-3 * rng.nextNormal()] {
                        XCTAssertEqual(cosineOfTwoPi(y), cos(2 * Double.pi * y), accuracy: 1e-13, "\(isa) y = \(y)")
                    }
                }
                // Far away the period is removed exactly: y = m + 1/4 gives 0, y = m + 1/2 gives -1.
                XCTAssertEqual(cosineOfTwoPi(1e12 + 0.25), 0, accuracy: 1e-15, "\(isa)")
                XCTAssertEqual(cosineOfTwoPi(-3e9 + 0.5), -1, accuracy: 1e-15, "\(isa)")
                XCTAssertEqual(cosineOfTwoPi(5e15), 1, "\(isa)")
                XCTAssertEqual(cosineOfTwoPi(2e16 + 2), 1, "\(isa)")
                // Five coordinates (a padded vector on every path): squares 10.3125, cosines -1 + 1 + 1 + 0 + 1 = 2.
                let expected: Double = 50 + 10.3125 - 20
                XCTAssertEqual(BenchmarkFunction.rastrigin([0.5, -1, 0, 0.25, 3]), expected, accuracy: 1e-12, "\(isa)")
                XCTAssertEqual(
                    BenchmarkFunction.rastrigin([0.5, -1, 0, 0.25, 3], shift: [1, 1, 1, 1, 1]),
                    BenchmarkFunction.rastrigin([-0.5, -2, -1, -0.75, 2]), accuracy: 1e-12, "\(isa)")
            }
        }
    }
}
