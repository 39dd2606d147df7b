import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaNN

/// Momentum across depth against `shared/fixtures/momentum-smoe` and the spec's invariants
/// (section 6: 1, 2, 5, 6, 7).
final class MomentumSMoETests: XCTestCase {
    /// `layers` steps of the fixture's stack (one MoE reused by every layer, no LayerNorm):
    /// `x_{t+1} = step(x_t)`; the states including `x_0`, and the velocity after each layer.
    func stack(
        _ layer: SparseMixtureOfExperts, _ x: Tensor, layers: Int, rule: DepthMomentum.Rule
    )
        -> (states: [Tensor], velocities: [Tensor?])
    {
        var momentum = DepthMomentum(rule)
        var states = [x], velocities: [Tensor?] = []
        for _ in 0..<layers {
            states.append(momentum.step(states.last!) { layer($0) })
            velocities.append(momentum.velocity)
        }
        return (states, velocities)
    }

    func testStacksMatchTheFixture() throws {
        let f = try fixture("momentum-smoe", "router_momentum.json")
        let layer = SparseMixtureOfExpertsTests.fixtureLayer(f)
        let x = Tensor(nested: f["X0"])
        let s = f["stack"] as! [String: Any]
        let layers = s["layers"] as! Int
        let mu = (s["mu"] as! NSNumber).floatValue, gamma = (s["gamma"] as! NSNumber).floatValue
        let baseline = stack(layer, x, layers: layers, rule: .plain).states
        let momentum = stack(layer, x, layers: layers, rule: .heavyBall(mu: mu, gamma: gamma))
        let expectedBaseline = s["baseline_states"] as! [Any], expectedMomentum = s["momentum_states"] as! [Any]
        let expectedBuffers = s["momentum_buffers"] as! [Any]
        XCTAssertEqual(baseline.count, expectedBaseline.count)
        for t in 0...layers {
            XCTAssertLessThan(
                maxDifference(baseline[t].scalars.map(Double.init), doubles(flat: expectedBaseline[t])), 1e-5,
                "baseline \(t)")
            XCTAssertLessThan(
                maxDifference(momentum.states[t].scalars.map(Double.init), doubles(flat: expectedMomentum[t])), 1e-5,
                "momentum \(t)")
        }
        for t in 0..<layers {
            XCTAssertLessThan(
                maxDifference(momentum.velocities[t]!.scalars.map(Double.init), doubles(flat: expectedBuffers[t])),
                1e-5,
                "buffer \(t)")
        }
    }

    func testZeroMomentumWithNegatedOutputLayersIsTheBaselineExactly() {
        // Invariant 1 (the spec's sanity check): mu = 0, gamma = 1 and every expert's W2, b2
        // negated give the baseline's states bit for bit, here through the code's post-LN block.
        var rng = PhiloxGenerator(seed: 7)
        let layers = (0..<4).map { _ in
            SparseMixtureOfExperts(dimension: 8, hidden: 12, experts: 4, topK: 2, using: &rng)
        }
        let norms = (0..<8).map { _ in LayerNorm([8]) }
        let x = Tensor.normal([6, 8], standardDeviation: 1, using: &rng)
        func run(_ rule: DepthMomentum.Rule) -> Tensor {
            var momentum = DepthMomentum(rule)
            var h = x
            for (t, layer) in layers.enumerated() {
                h = norms[2 * t + 1](h + norms[2 * t](momentum.step(h) { layer($0) }))
            }
            return h
        }
        let baseline = run(.plain)
        for layer in layers {
            layer.secondWeight.assign(-layer.secondWeight.value)
            layer.secondBias.assign(-layer.secondBias.value)
        }
        XCTAssertEqual(run(.heavyBall(mu: 0, gamma: 1)).scalars, baseline.scalars)
    }

    func testVelocityIsTheDiscountedSumOfTheLayerOutputs() {
        // Invariant 2: m_t = gamma * sum_{s <= t} mu^(t-s) f_s.
        var rng = PhiloxGenerator(seed: 8)
        let layer = SparseMixtureOfExperts(dimension: 5, hidden: 7, experts: 3, topK: 2, using: &rng)
        let (mu, gamma): (Float, Float) = (0.7, 0.8)
        var momentum = DepthMomentum(.heavyBall(mu: mu, gamma: gamma))
        var h = Tensor.normal([4, 5], standardDeviation: 1, using: &rng)
        var outputs: [Tensor] = []
        for t in 0..<5 {
            h = momentum.step(h) { input in
                let f = layer(input)
                outputs.append(f)
                return f
            }
            let closed = (0...t).map { s in outputs[s] * (gamma * Float(pow(Double(mu), Double(t - s)))) }
                .reduce(Tensor.zeros([4, 5]), +)
            XCTAssertLessThan(
                maxDifference(momentum.velocity!.scalars.map(Double.init), closed.scalars.map(Double.init)), 1e-5)
        }
    }

    func testAdamFirstLayerMatchesTheFixtureAndIsOddAndBounded() throws {
        let f = try fixture("momentum-smoe", "router_momentum.json")
        let a = f["adam_first_layer"] as! [String: Any]
        func float(_ key: String) -> Float { (a[key] as! NSNumber).floatValue }
        let input = Tensor(doubles(a["f"]).map(Float.init))
        var momentum = DepthMomentum(
            .adam(
                beta1: float("beta1"), beta2: float("beta2"), gamma: float("gamma1"), mu: 0.7, heavyBallGamma: 0.5,
                epsilon: float("eps_inside_sqrt")))
        let h = Tensor(repeating: 3, shape: input.shape)
        let out = momentum.step(h) { _ in input }
        // The layer's output before LayerNorm is -a; the heavy-ball buffer starts at gamma2 * f.
        let expected = doubles(a["a"]).map { -$0 }
        for (got, want) in zip(out.scalars, expected) {
            XCTAssertEqual(Double(got), want, accuracy: 1e-5 * Swift.max(1, Swift.abs(want)))
        }
        XCTAssertEqual(momentum.velocity!.scalars, input.scalars.map { $0 * 0.5 })
        // Invariant 7: odd in f, |a| <= gamma1 (1 - beta1) / sqrt(1 - beta2), 0 at f = 0.
        let grid = Tensor((-40...40).map { Float($0) * 0.25 })
        let (beta1, beta2): (Float, Float) = (0.9, 0.999)
        let transform = DepthMomentum.adamFirstLayer(grid, beta1: beta1, beta2: beta2, gamma: 1)
        // The bound with the same Float32 constants as the transform (1 - 0.999 rounds in Float32).
        let bound = (1 - beta1) / (1 - beta2).squareRoot()
        for (i, v) in transform.scalars.enumerated() {
            XCTAssertEqual(v, -transform.scalars[80 - i])
            XCTAssertLessThanOrEqual(Swift.abs(v), bound * (1 + 1e-6))
        }
        XCTAssertEqual(transform.scalars[40], 0)
    }

    func testRobustMomentumCoefficientsRatesAndTrajectory() throws {
        let f = try fixture("momentum-smoe", "robust_momentum.json")
        for entry in f["params"] as! [[String: Any]] {
            func value(_ key: String) -> Double { (entry[key] as! NSNumber).doubleValue }
            let robust = try RobustMomentum(
                smoothness: value("L"), conditionRatio: value("kappa"), robustness: value("rho"))
            XCTAssertEqual(robust.alpha, value("alpha"), accuracy: 1e-12)
            XCTAssertEqual(robust.beta, value("beta"), accuracy: 1e-12)
            XCTAssertEqual(robust.gamma, value("gamma"), accuracy: 1e-12)
            let range = RobustMomentum.robustnessRange(conditionRatio: value("kappa"))
            XCTAssertEqual([range.lowerBound, range.upperBound], doubles(entry["rho_range"]))
            // Invariant 5: the worst rate over curvatures in [L/kappa, L] (a grid with the end
            // points) is rho.
            let curvatures = (0...200).map {
                value("L") / value("kappa") + Double($0) / 200 * (value("L") - value("L") / value("kappa"))
            }
            let worst = curvatures.map { robust.spectralRadius(curvature: $0) }.max()!
            XCTAssertEqual(worst, value("max_spectral_radius_on_quadratics"), accuracy: 1e-9)
            XCTAssertEqual(worst, value("rho"), accuracy: 1e-9)
        }
        XCTAssertThrowsError(try RobustMomentum(smoothness: 1, conditionRatio: 4, robustness: 0.9))
        XCTAssertThrowsError(try RobustMomentum(smoothness: 1, conditionRatio: 1, robustness: 0.5))
        // The layer form on f(x) = h x with x_0 = x_{-1} = 1: the description's L, kappa, rho and h.
        let trajectory = doubles(f["trajectory_h0.5"])
        var momentum = DepthMomentum(.robust(try RobustMomentum(smoothness: 1, conditionRatio: 4, robustness: 0.6)))
        var x = Tensor([1])
        for t in 1..<trajectory.count {
            x = momentum.step(x) { $0 * 0.5 }
            XCTAssertEqual(Double(x.scalars[0]), trajectory[t], accuracy: 1e-5, "x_\(t)")
        }
    }

    func testGradientsFlowThroughTheVelocity() {
        // Invariant 6: d loss / d x_0 through three heavy-ball layers, against central differences
        // in Float32 with a step of 1e-3 (small enough that no ReLU crosses its kink here; the
        // choices at x_0 are checked unchanged after the probes).
        var rng = PhiloxGenerator(seed: 9)
        let layers = (0..<3).map { _ in
            SparseMixtureOfExperts(dimension: 4, hidden: 6, experts: 3, topK: 2, using: &rng)
        }
        let x = Tensor.normal([3, 4], standardDeviation: 1, using: &rng)
        let upstream = Tensor.normal([3, 4], standardDeviation: 1, using: &rng)
        func loss(_ input: Tensor) -> Tensor {
            var momentum = DepthMomentum(.heavyBall(mu: 0.7, gamma: 1))
            var h = input
            for layer in layers { h = momentum.step(h) { layer($0) } }
            return (h * h * upstream).sum()
        }
        let leaf = x.requiringGrad()
        loss(leaf).backward()
        let analytic = leaf.grad!.scalars
        let choices = layers.map { $0.route(x).experts }
        for i in 0..<x.count {
            var plus = x.scalars, minus = x.scalars
            plus[i] += 1e-3
            minus[i] -= 1e-3
            let up = withoutGradients { loss(Tensor(shape: x.shape, scalars: plus)).item }
            let down = withoutGradients { loss(Tensor(shape: x.shape, scalars: minus)).item }
            XCTAssertEqual(analytic[i], (up - down) / 2e-3, accuracy: 5e-3 * Swift.max(1, Swift.abs(analytic[i])))
        }
        XCTAssertEqual(layers.map { $0.route(x).experts }, choices)
        // Without the velocity's paths the gradient differs: mu = 0 gives another one.
        let plainLeaf = x.requiringGrad()
        var plain = DepthMomentum(.heavyBall(mu: 0, gamma: 1))
        var h = plainLeaf
        for layer in layers { h = plain.step(h) { layer($0) } }
        (h * h * upstream).sum().backward()
        XCTAssertGreaterThan(maxDifference(plainLeaf.grad!.scalars.map(Double.init), analytic.map(Double.init)), 1e-3)
    }
}
