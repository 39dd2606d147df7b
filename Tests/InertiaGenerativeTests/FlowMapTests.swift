import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

/// `flow-maps.md` 6: the exact Gaussian flow map of the fixture through every loss, the
/// parameterisation, the JVP time derivative, the stop-gradients, and a short training run.
final class FlowMapTests: XCTestCase {
    /// The fixture's data law `N(mu, s1²)` and its exact average velocity as tensor ops.
    struct GaussianFlow {
        let mu: Float, s1: Float

        init() throws {
            let f = try fixture("flow-maps", "gaussian_flow_map.json")
            mu = (f["mu"] as! NSNumber).floatValue
            s1 = (f["s1"] as! NSNumber).floatValue
        }

        func sd(_ t: Tensor) -> Tensor { (t * t * (s1 * s1) + (1 - t) * (1 - t)).squareRoot() }

        /// `X_{s,t}(x) = t mu + (x − s mu) sd_t / sd_s`.
        func map(_ x: Tensor, s: Tensor, t: Tensor) -> Tensor { t * mu + (x - s * mu) * sd(t) / sd(s) }

        /// `v_{s,t} = (X − x)/(t − s)`, and `b_t(x) = mu + (x − t mu) sd_t′/sd_t` on the diagonal.
        func velocity(_ x: Tensor, s: Tensor, t: Tensor) -> Tensor {
            let apart = (t - s).abs() .> 1e-4
            let gap = Tensor.where(apart, t - s, Tensor(1))
            let sdt = sd(t)
            let diagonal = mu + (x - t * mu) * (t * (s1 * s1) - (1 - t)) / (sdt * sdt)
            return Tensor.where(apart, (map(x, s: s, t: t) - x) / gap, diagonal)
        }
    }

    /// Each `actual` element within `tolerance · max(1, |expected|)`.
    func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, line: line)
        let worst = zip(actual, expected).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(actual) vs \(expected)", line: line)
    }

    /// An LSD flow map whose every weight is drawn from N(0, 0.5²) (not the zero output layer).
    func randomlyWeightedModel(hidden: [Int], using rng: inout PhiloxGenerator) -> FlowMapModel {
        let model = FlowMapModel(dimension: 2, hidden: hidden, distillation: .lagrangian, using: &rng)
        for (_, p) in model.network.namedParameters() {
            p.assign(Tensor.normal(p.shape, mean: 0, standardDeviation: 0.5, using: &rng))
        }
        return model
    }

    func column(_ values: [Double]) -> Tensor { Tensor(shape: [values.count, 1], scalars: values.map(Float.init)) }

    func testTheExactMapMatchesTheFixtureWithItsDerivatives() throws {
        let flow = try GaussianFlow()
        let rows = try fixture("flow-maps", "gaussian_flow_map.json")["rows"] as! [[String: Any]]
        func values(_ key: String) -> Tensor { column(rows.map { ($0[key] as! NSNumber).doubleValue }) }
        let x = values("x"), s = values("s"), t = values("t")
        let v = flow.velocity(x, s: s, t: t)
        assertClose(FlowMapLoss.map(flow.velocity, x, s: s, t: t).scalars, values("X").scalars, tolerance: 1e-5)
        assertClose(v.scalars, values("v").scalars, tolerance: 1e-4)
        let ones = Tensor.ones(s.shape)
        let dt = Tensor.jvp(of: { [FlowMapLoss.map(flow.velocity, x, s: s, t: $0[0])] }, at: [t], tangents: [ones])
        let ds = Tensor.jvp(of: { [FlowMapLoss.map(flow.velocity, x, s: $0[0], t: t)] }, at: [s], tangents: [ones])
        let dx = Tensor.jvp(of: { [FlowMapLoss.map(flow.velocity, $0[0], s: s, t: t)] }, at: [x], tangents: [ones])
        assertClose(dt.tangents[0].scalars, values("dtX").scalars, tolerance: 1e-3)
        assertClose(ds.tangents[0].scalars, values("dsX").scalars, tolerance: 1e-3)
        assertClose(dx.tangents[0].scalars, values("gradX").scalars, tolerance: 1e-4)
    }

    /// Every distillation loss vanishes at the exact map; a perturbed velocity does not.
    func testTheDistillationLossesVanishAtTheExactMap() throws {
        let flow = try GaussianFlow()
        var rng = PhiloxGenerator(seed: 1)
        let b = 256
        let x0 = Tensor.normal([b, 1], mean: 0, standardDeviation: 1, using: &rng)
        let x1 = Tensor.normal([b, 1], mean: flow.mu, standardDeviation: flow.s1, using: &rng)
        let a = Tensor.uniform([b, 1], low: 0, high: 0.45, using: &rng)
        let s = a, t = a + Tensor.uniform([b, 1], low: 0.05, high: 0.55, using: &rng)
        let gamma = Tensor.uniform([b, 1], low: 0.1, high: 0.9, using: &rng)
        let exact: FlowMapLoss.Velocity = flow.velocity
        let wrong: FlowMapLoss.Velocity = { flow.velocity($0, s: $1, t: $2) + 0.3 * ($2 * 3).sin() * $0 }
        for (name, v, bound) in [("exact", exact, Float(1e-6)), ("perturbed", wrong, Float.infinity)] {
            let losses = [
                FlowMapLoss.lagrangian(v, noise: x0, data: x1, s: s, t: t),
                FlowMapLoss.eulerian(v, noise: x0, data: x1, s: s, t: t),
                FlowMapLoss.progressive(v, noise: x0, data: x1, s: s, t: t, gamma: gamma),
            ].map(\.item)
            if bound.isFinite {
                for loss in losses { XCTAssertLessThan(loss, bound, name) }
            } else {
                for loss in losses { XCTAssertGreaterThan(loss, 1e-3, "\(name): \(losses)") }
            }
        }
    }

    /// The diagonal loss of the exact velocity, with t uniform, is `π/4` (Monte Carlo, 4·10⁵ rows).
    func testTheDiagonalLossMinimumIsTheFixtures() throws {
        let flow = try GaussianFlow()
        let expected =
            (try fixture("flow-maps", "gaussian_flow_map.json")["diagonal_fm_loss_minimum_value_t_uniform"]
            as! NSNumber).doubleValue
        var rng = PhiloxGenerator(seed: 2)
        let b = 400_000
        let x0 = Tensor.normal([b, 1], mean: 0, standardDeviation: 1, using: &rng)
        let x1 = Tensor.normal([b, 1], mean: flow.mu, standardDeviation: flow.s1, using: &rng)
        let t = Tensor.uniform([b, 1], low: 0, high: 1, using: &rng)
        let loss = FlowMapLoss.diagonal(flow.velocity, noise: x0, data: x1, t: t).item
        XCTAssertEqual(Double(loss), expected, accuracy: 0.01)
    }

    func testTheParameterisationAndTheJVPOfARandomNetwork() {
        var rng = PhiloxGenerator(seed: 3)
        let model = randomlyWeightedModel(hidden: [16, 16], using: &rng)
        let v: FlowMapLoss.Velocity = { model.averageVelocity($0, s: $1, t: $2) }
        let x = Tensor.normal([8, 2], mean: 0, standardDeviation: 1, using: &rng)
        let s = Tensor.uniform([8, 1], low: 0, high: 0.5, using: &rng)
        let t = Tensor.uniform([8, 1], low: 0.5, high: 1, using: &rng)
        XCTAssertEqual(withoutGradients { FlowMapLoss.map(v, x, s: s, t: s) }, x)
        let dt = Tensor.jvp(of: { [FlowMapLoss.map(v, x, s: s, t: $0[0])] }, at: [t], tangents: [Tensor.ones(t.shape)])
        let h: Float = 1e-3
        let numeric = withoutGradients {
            (FlowMapLoss.map(v, x, s: s, t: t + h) - FlowMapLoss.map(v, x, s: s, t: t - h)) / (2 * h)
        }
        assertClose(dt.tangents[0].scalars, numeric.scalars, tolerance: 2e-3)
    }

    /// LSD's gradient is that of `|∂_t X − c|²` with `c` a constant equal to its target.
    func testNoGradientLeaksThroughTheLagrangianTarget() {
        var rng = PhiloxGenerator(seed: 4)
        let model = randomlyWeightedModel(hidden: [16], using: &rng)
        let v: FlowMapLoss.Velocity = { model.averageVelocity($0, s: $1, t: $2) }
        let x0 = Tensor.normal([32, 2], mean: 0, standardDeviation: 1, using: &rng)
        let x1 = Tensor.normal([32, 2], mean: 1, standardDeviation: 1, using: &rng)
        let s = Tensor.uniform([32, 1], low: 0, high: 0.5, using: &rng)
        let t = Tensor.uniform([32, 1], low: 0.5, high: 1, using: &rng)
        let parameters = model.network.namedParameters()
        func gradients(_ loss: () -> Tensor) -> [Float] {
            for (_, p) in parameters { p.zeroGrad() }
            loss().backward()
            return parameters.flatMap { $0.parameter.grad!.scalars }
        }
        let lsd = gradients { FlowMapLoss.lagrangian(v, noise: x0, data: x1, s: s, t: t) }
        let xs = (1 - s) * x0 + s * x1
        let constant = withoutGradients {
            v(
                Tensor.jvp(of: { [FlowMapLoss.map(v, xs, s: s, t: $0[0])] }, at: [t], tangents: [Tensor.ones(t.shape)])
                    .values[0], t, t)
        }
        let reference = gradients {
            let dt = Tensor.jvp(
                of: { [FlowMapLoss.map(v, xs, s: s, t: $0[0])] }, at: [t], tangents: [Tensor.ones(t.shape)])
            return (dt.tangents[0] - constant).squared().sum(alongAxis: 1).mean()
        }
        assertClose(lsd, reference, tolerance: 1e-6)
        XCTAssertGreaterThan(lsd.map(Swift.abs).max()!, 0)
    }

    /// With γ = 1 the intermediate time is s and the target is the prediction itself.
    func testProgressiveWithGammaOneHasTheFixedPointTarget() {
        var rng = PhiloxGenerator(seed: 5)
        let model = randomlyWeightedModel(hidden: [16], using: &rng)
        let x0 = Tensor.normal([16, 2], mean: 0, standardDeviation: 1, using: &rng)
        let x1 = Tensor.normal([16, 2], mean: 1, standardDeviation: 1, using: &rng)
        let s = Tensor.uniform([16, 1], low: 0, high: 0.5, using: &rng)
        let t = s + 0.3
        let loss = FlowMapLoss.progressive(
            { model.averageVelocity($0, s: $1, t: $2) }, noise: x0, data: x1, s: s, t: t, gamma: Tensor.ones([16, 1]))
        XCTAssertEqual(loss.item, 0)
    }

    func testHistogramKLIsZeroForEqualSetsAndLargeForDisjointOnes() {
        var rng = PhiloxGenerator(seed: 6)
        let a = ToyDistribution.checkerboard.sample(5000, using: &rng)
        XCTAssertEqual(histogramKLDivergence(data: a, model: a), 0, accuracy: 1e-12)
        let shifted = a + Matrix64(rows: a.rows, columns: 2, repeating: 2)
        XCTAssertGreaterThan(histogramKLDivergence(data: a, model: shifted), 1)
    }

    /// A short LSD run on the checkerboard: the loss falls and one-step samples move from the
    /// Gaussian (KL ≈ 3.3 on the spec's histogram) towards the data.
    func testAShortLagrangianRunLearns() throws {
        var rng = PhiloxGenerator(seed: 7)
        let data = ToyDistribution.checkerboard.sample(20_000, using: &rng)
        let model = FlowMapModel(dimension: 2, hidden: [64, 64], distillation: .lagrangian, using: &rng)
        var losses: [Float] = []
        try model.fit(points: data, steps: 400, batchSize: 256, using: &rng) { _, loss in
            losses.append(loss)
            return true
        }
        XCTAssertEqual(model.skippedSteps, 0)
        let early = losses.prefix(40).reduce(0, +) / 40, late = losses.suffix(40).reduce(0, +) / 40
        XCTAssertLessThan(late, early)
        let noise = Matrix64(rows: 20_000, columns: 2, scalars: (0..<40_000).map { _ in rng.nextNormal() })
        let truth = ToyDistribution.checkerboard.sample(20_000, using: &rng)
        let before = histogramKLDivergence(data: truth, model: noise)
        let after = histogramKLDivergence(data: truth, model: model.sample(noise, steps: 1))
        XCTAssertLessThan(after, 0.6 * before, "1-step KL \(after) against the Gaussian's \(before)")
    }
}
