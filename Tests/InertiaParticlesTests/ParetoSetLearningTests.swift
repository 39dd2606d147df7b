import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaParticles

/// SVH-PSL against `shared/fixtures/svh-psl` (scalarisations, the code's bandwidth), gradients
/// against finite differences, and the pipeline end to end on a small ZDT1.
final class ParetoSetLearningTests: XCTestCase {
    func testScalarisationsAndBandwidthsMatchTheFixture() throws {
        let f = try fixture("svh-psl", "svh_fixtures.json")
        let t = f["tchebycheff"] as! [String: Any]
        let values = matrix64(t["value"]), preferences = matrix64(t["pref"]), ideal = doubles(t["z"])
        func losses(_ s: ParetoSetLearning.Scalarization) -> [Double] {
            (0..<values.rows).map { a in
                s.loss(
                    value: (0..<values.columns).map { values[a, $0] },
                    preference: (0..<preferences.columns).map { preferences[a, $0] }, ideal: ideal
                ).loss
            }
        }
        XCTAssertLessThan(
            maxDifference(losses(.weightedTchebycheff), doubles(t["svh_code_loss(max_j pref*(value-z))"])), 1e-12)
        XCTAssertLessThan(
            maxDifference(
                losses(.inverseTchebycheff), doubles(t["psl_mobo_loss_full(max_j (value-z)/pref + 0.01*sum_j value)"])),
            1e-12)
        let x = matrix64((f["svgd"] as! [String: Any])["X"])
        let squared = (0..<x.rows).flatMap { i in
            (0..<x.rows).map { j in SteinVariationalGradientDescent.squaredDistance(x, i, j) }
        }
        let code = f["svh_code_bandwidth"] as! [String: Any]
        XCTAssertEqual(
            ParetoSetLearning.bandwidth(squaredDistances: squared, particles: x.rows, scale: 1, rule: .code),
            (code["h_c1"] as! NSNumber).doubleValue, accuracy: 1e-12)
        XCTAssertEqual(
            ParetoSetLearning.bandwidth(squaredDistances: squared, particles: x.rows, scale: 1, rule: .textbook),
            ((f["svgd"] as! [String: Any])["h"] as! NSNumber).doubleValue, accuracy: 1e-12)
        XCTAssertEqual(
            ParetoSetLearning.bandwidth(squaredDistances: [0, 0, 0, 0], particles: 2, scale: 1, rule: .code), 5e-6)
    }

    func testScalarisationGradientsAndTheKernelSumGradientMatchFiniteDifferences() {
        let value = [0.4, 0.9], preference = [0.3, 0.7], ideal = [-0.1, -0.2]
        for s in [ParetoSetLearning.Scalarization.weightedTchebycheff, .inverseTchebycheff] {
            let (_, gradient, _) = s.loss(value: value, preference: preference, ideal: ideal)
            for j in 0..<2 {
                var up = value, down = value
                up[j] += 1e-7
                down[j] -= 1e-7
                let fd =
                    (s.loss(value: up, preference: preference, ideal: ideal).loss
                        - s.loss(value: down, preference: preference, ideal: ideal).loss) / 2e-7
                XCTAssertEqual(gradient[j], fd, accuracy: 1e-6)
            }
        }
        var rng = PhiloxGenerator(seed: 5)
        let values = (0..<6).map { _ in [rng.nextNormal(), rng.nextNormal()] }
        let active = [0, 1, 1, 0, 0, 1]
        let kernel = ParetoSetLearning.localKernel(values, active: active, bandwidthScale: 1, rule: .code)
        for a in 0..<6 { XCTAssertEqual(kernel.matrix[a][a], 1) }
        func sum(_ v: [[Double]]) -> Double {
            // Same entries with the bandwidths held at the unperturbed values.
            var total = 0.0
            for a in 0..<6 {
                for b in 0..<6 {
                    let j = active[b]
                    total += exp(-pow(v[a][j] - v[b][j], 2) / kernel.bandwidths[j])
                }
            }
            return total
        }
        XCTAssertEqual(sum(values), kernel.matrix.joined().reduce(0, +), accuracy: 1e-12)
        for a in 0..<6 {
            for j in 0..<2 {
                var up = values, down = values
                up[a][j] += 1e-6
                down[a][j] -= 1e-6
                XCTAssertEqual(kernel.sumGradient[a][j], (sum(up) - sum(down)) / 2e-6, accuracy: 1e-6)
            }
        }
    }

    func testSteinGradientWithoutInteractionIsTheMeanTchebycheffGradient() throws {
        var rng = PhiloxGenerator(seed: 11)
        let data = ParetoSetLearning.latinHypercube(12, 3, using: &rng)
        let problem = ParetoSetLearning.Problem.zdt(.zdt1, variables: 3)
        let values = (0..<12).map { problem.evaluate([data[$0, 0], data[$0, 1], data[$0, 2]]) }
        var configuration = ParetoSetLearning.Configuration.laptop
        configuration.kernel = .none
        configuration.normalizesParticleGradients = false
        configuration.hiddenWidth = 8
        let psl = ParetoSetLearning(configuration: configuration)
        let surrogate = try ParetoSetLearning.Surrogate(inputs: data, values: values, configuration: configuration)
        let model = ParetoSetModel(preferences: 2, variables: 3, hiddenWidth: 8, using: &rng)
        let preferences = ParetoSetLearning.dirichlet(4, 2, using: &rng)
        let ideal = [-0.1, -0.1]
        let gradient = psl.steinGradient(model, surrogate: surrogate, ideal: ideal, preferences: preferences)
        // The mean loss along the gradient direction: its slope must be ‖g‖².
        func meanLoss() -> Double {
            let v = surrogate.lowerConfidenceBound(model.solutions(preferences), gradients: false).values
            return (0..<4).reduce(0) {
                $0
                    + configuration.scalarization.loss(
                        value: v[$1], preference: [preferences[$1, 0], preferences[$1, 1]], ideal: ideal
                    ).loss
            } / 4
        }
        let parameters = model.parameters
        let original = parameters.map { $0.value.scalars }
        let norm2 = gradient.reduce(0) { $0 + Double($1) * Double($1) }
        let epsilon = 1e-2 / norm2.squareRoot()
        func shifted(_ sign: Double) -> Double {
            var offset = 0
            for (p, start) in zip(parameters, original) {
                p.assign(
                    Tensor(
                        shape: p.shape,
                        scalars: start.enumerated().map {
                            $0.element + Float(sign * epsilon) * gradient[offset + $0.offset]
                        }))
                offset += start.count
            }
            return meanLoss()
        }
        let slope = (shifted(1) - shifted(-1)) / (2 * epsilon)
        XCTAssertEqual(slope / norm2, 1, accuracy: 0.02)
    }

    func testDTLZFrontsDominanceAndModelRange() {
        var rng = PhiloxGenerator(seed: 3)
        for _ in 0..<10 {
            let head = [rng.nextDouble(), rng.nextDouble()]
            let x = head + [0.5, 0.5, 0.5]
            XCTAssertEqual(MultiObjective.dtlz(.dtlz1, x, objectives: 3).reduce(0, +), 0.5, accuracy: 1e-12)
            XCTAssertEqual(MultiObjective.dtlz(.dtlz2, x, objectives: 3).reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-12)
            let off = head + [0.9, 0.5, 0.5]
            XCTAssertGreaterThan(MultiObjective.dtlz(.dtlz2, off, objectives: 3).reduce(0) { $0 + $1 * $1 }, 1)
        }
        XCTAssertTrue(MultiObjective.dominates([1, 2], [1, 3]))
        XCTAssertFalse(MultiObjective.dominates([1, 2], [1, 2]))
        XCTAssertFalse(MultiObjective.dominates([0, 3], [1, 2]))
        XCTAssertEqual(MultiObjective.nondominatedIndices([[1, 2], [0, 3], [1, 3], [2, 2], [1, 2]]), [0, 1, 4])
        let lattice = ParetoSetLearning.simplexLattice(objectives: 3, atLeast: 300)
        XCTAssertGreaterThanOrEqual(lattice.rows, 300)
        for i in 0..<lattice.rows { XCTAssertEqual(lattice[i, 0] + lattice[i, 1] + lattice[i, 2], 1, accuracy: 1e-12) }
        let model = ParetoSetModel(preferences: 3, variables: 5, hiddenWidth: 16, using: &rng)
        let solutions = model.solutions(ParetoSetLearning.dirichlet(100, 3, using: &rng) * 50)
        XCTAssertTrue(solutions.scalars.allSatisfy { $0 > 0 && $0 < 1 })
        let lhs = ParetoSetLearning.latinHypercube(8, 2, using: &rng)
        for d in 0..<2 { XCTAssertEqual(Set((0..<8).map { Int(lhs[$0, d] * 8) }), Set(0..<8)) }
    }

    func testShortZDT1RunBeatsRandomSearch() throws {
        var configuration = ParetoSetLearning.Configuration.laptop
        configuration.iterations = 4
        configuration.steps = 100
        let problem = ParetoSetLearning.Problem.zdt(.zdt1, variables: 8)
        var iterations = 0
        let result = try ParetoSetLearning(configuration: configuration).run(problem, seed: 0) { _, _ in
            iterations += 1
            return true
        }
        XCTAssertEqual(iterations, 4)
        XCTAssertEqual(result.values.count, 10 + 4 * 4)
        XCTAssertEqual(result.hypervolumes.count, 5)
        XCTAssertTrue(zip(result.hypervolumes, result.hypervolumes.dropFirst()).allSatisfy { $0 <= $1 })
        var rng = PhiloxGenerator(seed: 0)
        let random = (0..<26).map { _ in problem.evaluate((0..<8).map { _ in rng.nextDouble() }) }
        let randomVolume = MultiObjective.hypervolume(random, reference: problem.reference)
        XCTAssertGreaterThan(
            result.hypervolumes.last!, randomVolume + 0.1, "PSL \(result.hypervolumes), random \(randomVolume)")
        // The learned set: solutions of the final model are evaluated points' neighbours, not the prior.
        let learned = result.model.solutions(ParetoSetLearning.simplexLattice(objectives: 2, atLeast: 20))
        let tail = (0..<learned.rows).map { i in (1..<8).reduce(0.0) { $0 + learned[i, $1] } / 7 }
        XCTAssertLessThan(tail.max()!, 0.2, "distance variables of the learned set: \(tail)")
    }
}
