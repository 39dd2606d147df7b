import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

/// LightSB's closed forms against `shared/fixtures/light-schrodinger-bridge/fixtures.json` and the
/// invariants of `light-schrodinger-bridge.md` 6.
final class LightSchrodingerBridgeTests: XCTestCase {
    func fixtureModel() throws -> (LightSchrodingerBridge, [String: Any]) {
        let file = try fixture("light-schrodinger-bridge", "fixtures.json")
        let model = LightSchrodingerBridge(
            epsilon: (file["eps"] as! NSNumber).doubleValue, logWeights: doubles(file["log_alpha"]),
            means: matrix64(file["r"]), scales: matrix64(file["S_diag"]))
        return (model, file)
    }

    /// log v, log c and the loss (Float32 on the tape: 1e-5 relative), the conditional plan and
    /// the drift with its endpoint posterior (Float64: 1e-9).
    func testClosedFormsMatchTheFixture() throws {
        let (model, file) = try fixtureModel()
        let x = matrix64(file["X"]), y = matrix64(file["Y"])
        let logV = model.logPotential(y.tensor).scalars, logC = model.logNormaliser(x.tensor).scalars
        for (ours, theirs) in zip(logV, doubles(file["log_v_Y"])) {
            XCTAssertEqual(Double(ours), theirs, accuracy: 1e-5 * Swift.max(1, Swift.abs(theirs)))
        }
        for (ours, theirs) in zip(logC, doubles(file["log_c_X"])) {
            XCTAssertEqual(Double(ours), theirs, accuracy: 1e-5 * Swift.max(1, Swift.abs(theirs)))
        }
        let loss = (file["loss"] as! NSNumber).doubleValue
        XCTAssertEqual(Double(model.loss(source: x.tensor, target: y.tensor).item), loss, accuracy: 1e-5 * loss)
        let plans = try XCTUnwrap(file["conditional_plan"] as? [[String: Any]])
        XCTAssertFalse(plans.isEmpty)
        for case_ in plans {
            let plan = model.conditionalPlan(doubles(case_["x"]))
            XCTAssertLessThan(maxDifference(plan.weights, doubles(case_["weights"])), 1e-6)
            XCTAssertLessThan(maxDifference(plan.means.flatMap { $0 }, matrix64(case_["means"]).scalars), 1e-6)
            XCTAssertLessThan(
                maxDifference(plan.covariances.flatMap { $0 }, matrix64(case_["covs_diag"]).scalars), 1e-6)
        }
        let drifts = try XCTUnwrap(file["drift"] as? [[String: Any]])
        XCTAssertFalse(drifts.isEmpty)
        for case_ in drifts {
            let g = model.drift(doubles(case_["x"]), t: (case_["t"] as! NSNumber).doubleValue)
            XCTAssertLessThan(maxDifference(g.drift, doubles(case_["drift"])), 1e-5)
            XCTAssertLessThan(maxDifference(g.weights, doubles(case_["posterior_weights"])), 1e-6)
            XCTAssertLessThan(maxDifference(g.means.flatMap { $0 }, matrix64(case_["posterior_means"]).scalars), 1e-5)
        }
    }

    /// Invariant 6: adding a constant to every log α leaves the loss unchanged.
    func testLossIsInvariantToAShiftOfTheLogWeights() throws {
        let (model, file) = try fixtureModel()
        let x = matrix64(file["X"]).tensor, y = matrix64(file["Y"]).tensor
        let before = model.loss(source: x, target: y).item
        model.rawLogWeights.assign(model.rawLogWeights.value + Float(0.7 * model.epsilon))
        XCTAssertEqual(model.loss(source: x, target: y).item, before, accuracy: 1e-5 * Swift.abs(before))
    }

    /// The loss's gradient with respect to every parameter against central differences.
    func testLossGradientMatchesFiniteDifferences() throws {
        let (model, file) = try fixtureModel()
        let x = matrix64(file["X"]).tensor, y = matrix64(file["Y"]).tensor
        for (_, parameter) in model.parameters { parameter.zeroGrad() }
        model.loss(source: x, target: y).backward()
        for (name, parameter) in model.parameters {
            let analytic = try XCTUnwrap(parameter.grad).scalars
            for index in 0..<parameter.value.scalars.count {
                let base = parameter.value.scalars, h: Float = 1e-2
                func at(_ value: Float) -> Double {
                    var moved = base
                    moved[index] = value
                    parameter.assign(Tensor(shape: parameter.shape, scalars: moved))
                    return Double(withoutGradients { model.loss(source: x, target: y) }.item)
                }
                let numeric = (at(base[index] + h) - at(base[index] - h)) / (2 * Double(h))
                parameter.assign(Tensor(shape: parameter.shape, scalars: base))
                XCTAssertEqual(
                    Double(analytic[index]), numeric, accuracy: 2e-3 + 2e-2 * Swift.abs(numeric), "\(name)[\(index)]")
            }
        }
    }

    /// Invariant 3: 10⁵ plan samples at a fixed x have the mixture's mean and covariance.
    func testPlanSamplesHaveTheMixtureMoments() throws {
        let (model, _) = try fixtureModel()
        let x = [0.4, -0.3], n = 100_000
        var rng = PhiloxGenerator(seed: 1)
        let y = model.sample(given: Matrix64(rows: n, columns: 2, scalars: (0..<n).flatMap { _ in x }), using: &rng)
        let plan = model.conditionalPlan(x)
        for j in 0..<2 {
            let mean = (0..<2).reduce(0.0) { $0 + plan.weights[$1] * plan.means[$1][j] }
            let second = (0..<2).reduce(0.0) {
                $0 + plan.weights[$1] * (plan.covariances[$1][j] + plan.means[$1][j] * plan.means[$1][j])
            }
            let variance = second - mean * mean
            let column = (0..<n).map { y[$0, j] }
            let sampleMean = column.reduce(0, +) / Double(n)
            let sampleVariance = column.reduce(0) { $0 + ($1 - sampleMean) * ($1 - sampleMean) } / Double(n)
            XCTAssertEqual(sampleMean, mean, accuracy: 5 * (variance / Double(n)).squareRoot())
            XCTAssertEqual(sampleVariance, variance, accuracy: 0.03 * variance)
        }
    }

    /// Invariant 4: the drift is ε∇ₓ logsumexp(e) − x/(1 − t) (central differences of the
    /// log-sum-exp of the endpoint posterior's unnormalised log weights).
    func testDriftIsTheGradientOfTheLogPartition() throws {
        let (model, _) = try fixtureModel()
        let (logWeights, r, s) = model.mixture
        let epsilon = model.epsilon, t = 0.45
        func partition(_ x: [Double]) -> Double {
            let logits = (0..<model.components).map { k in
                logWeights[k]
                    + (0..<2).reduce(0.0) { total, j in
                        let variance = epsilon * s[k, j]
                        let a = t / (epsilon * (1 - t)) + 1 / variance
                        let c = x[j] / (epsilon * (1 - t)) + r[k, j] / variance
                        return total - 0.5 * Foundation.log(s[k, j]) - 0.5 * Foundation.log(a) - 0.5 * r[k, j] * r[k, j]
                            / variance + 0.5 * c * c / a
                    }
            }
            let top = logits.max()!
            return top + Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - top) })
        }
        let x = [0.3, -0.8], h = 1e-5
        let g = model.drift(x, t: t).drift
        for j in 0..<2 {
            var up = x, down = x
            up[j] += h
            down[j] -= h
            let gradient = (partition(up) - partition(down)) / (2 * h)
            XCTAssertEqual(g[j], epsilon * gradient - x[j] / (1 - t), accuracy: 1e-6)
        }
    }

    /// Invariant 5: Euler–Maruyama along the drift (200 steps) ends with the plan's conditional mean.
    func testBridgeEndsWithThePlan() throws {
        let (model, _) = try fixtureModel()
        let x = [0.2, 0.1], n = 4000
        var rng = PhiloxGenerator(seed: 2)
        let end = model.sampleBridge(
            from: Matrix64(rows: n, columns: 2, scalars: (0..<n).flatMap { _ in x }), steps: 200, using: &rng)
        let plan = model.conditionalPlan(x)
        for j in 0..<2 {
            let mean = (0..<2).reduce(0.0) { $0 + plan.weights[$1] * plan.means[$1][j] }
            XCTAssertEqual((0..<n).reduce(0.0) { $0 + end[$1, j] } / Double(n), mean, accuracy: 0.05)
        }
    }

    /// A one-component model fitted to a Gaussian pair recovers S = Σ/ε of the closed form
    /// (1-D: Σ = b − c²/a with c = ½ sqrt(4ab + ε²) − ε/2).
    func testFittingRecoversTheGaussianPlan() throws {
        let a = 1.0, b = 2.0, epsilon = 0.5
        let c = 0.5 * (4 * a * b + epsilon * epsilon).squareRoot() - epsilon / 2
        let sigma = b - c * c / a
        var rng = PhiloxGenerator(seed: 3)
        let model = LightSchrodingerBridge(
            components: 1, dimension: 1, epsilon: epsilon, initialMeans: Matrix64(rows: 1, columns: 1, scalars: [0.5]),
            initialScale: 1, using: &rng)
        try model.fit(
            source: { n, rng in
                Matrix64(rows: n, columns: 1, scalars: (0..<n).map { _ in a.squareRoot() * rng.nextNormal() })
            },
            target: { n, rng in
                Matrix64(rows: n, columns: 1, scalars: (0..<n).map { _ in 1 + b.squareRoot() * rng.nextNormal() })
            },
            steps: 1500, batchSize: 256, learningRate: 1e-2, using: &rng)
        let (_, r, s) = model.mixture
        XCTAssertEqual(s[0, 0], sigma / epsilon, accuracy: 0.1 * sigma / epsilon)
        XCTAssertEqual(r[0, 0], 1, accuracy: 0.1)
    }
}
