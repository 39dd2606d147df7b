import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

/// `meanflow-policy.md` 6: the exact Gaussian average velocity and the MeanFlow identity through
/// the JVP, the losses' fixture values and invariants, and a short run.
final class MeanFlowTests: XCTestCase {
    func assertClose(_ actual: [Float], _ expected: [Double], tolerance: Double, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, line: line)
        let worst = zip(actual, expected).map { Swift.abs(Double($0) - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(actual) vs \(expected)", line: line)
    }

    /// The fixture's exact `u(z, r, t)` for `x ~ N(mu, s1²)` as tensor ops (r < t; `v` at r = t).
    struct GaussianMeanFlow {
        let mu: Float, s1: Float

        func sd(_ t: Tensor) -> Tensor { ((1 - t) * (1 - t) * (s1 * s1) + t * t).squareRoot() }

        /// `Z_{t→r}(z) = (1 − r) mu + (z − (1 − t) mu) sd(r)/sd(t)`.
        func map(_ z: Tensor, r: Tensor, t: Tensor) -> Tensor { (1 - r) * mu + (z - (1 - t) * mu) * sd(r) / sd(t) }

        func velocity(_ z: Tensor, r: Tensor, t: Tensor) -> Tensor {
            let apart = (t - r).abs() .> 1e-4
            let gap = Tensor.where(apart, t - r, Tensor(1))
            let sdt = sd(t)
            let instantaneous = -mu + (z - (1 - t) * mu) * (t - (1 - t) * (s1 * s1)) / (sdt * sdt)
            return Tensor.where(apart, (z - map(z, r: r, t: t)) / gap, instantaneous)
        }
    }

    func testTheExactAverageVelocitySatisfiesTheIdentityThroughTheJVP() throws {
        let f = try fixture("meanflow-policy", "gaussian_meanflow.json")
        let flow = GaussianMeanFlow(mu: (f["mu"] as! NSNumber).floatValue, s1: (f["s1"] as! NSNumber).floatValue)
        let rows = f["rows"] as! [[String: Any]]
        func column(_ key: String) -> Tensor {
            Tensor(shape: [rows.count, 1], scalars: rows.map { ($0[key] as! NSNumber).floatValue })
        }
        func expected(_ key: String) -> [Double] { rows.map { ($0[key] as! NSNumber).doubleValue } }
        let z = column("z"), r = column("r"), t = column("t")
        let u = flow.velocity(z, r: r, t: t), v = flow.velocity(z, r: t, t: t)
        assertClose(u.scalars, expected("u"), tolerance: 1e-4)
        assertClose(v.scalars, expected("v"), tolerance: 1e-5)
        assertClose((z - (t - r) * u).scalars, expected("one_step_map_z_r"), tolerance: 1e-5)
        // The total derivative along the flow: the JVP in (z, t, r) with tangent (v, 1, 0).
        let (_, tangents) = Tensor.jvp(
            of: { [flow.velocity($0[0], r: $0[2], t: $0[1])] }, at: [z, t, r],
            tangents: [v, Tensor.ones(t.shape), Tensor.zeros(r.shape)])
        let apart = rows.indices.filter { rows[$0]["du_dt_total"] != nil && expected("r")[$0] != expected("t")[$0] }
        assertClose(
            apart.map { tangents[0].scalars[$0] }, apart.map { (rows[$0]["du_dt_total"] as! NSNumber).doubleValue },
            tolerance: 2e-3)
        // The identity u = v − (t − r) du/dt on every row (at r = t it reads u = v).
        let residual = u - (v - (t - r) * tangents[0])
        XCTAssertLessThan(residual.abs().max().item, 2e-4)
    }

    func testTheLossesMatchTheFixture() throws {
        let f = try fixture("meanflow-policy", "loss_values.json")
        let dispersive = f["dispersive"] as! [String: Any], adaptive = f["adaptive_l2"] as! [String: Any]
        let h = matrix64(dispersive["h"]).tensor.requiringGrad()
        let loss = MeanFlowLoss.dispersive(h, tau: (dispersive["tau"] as! NSNumber).floatValue)
        XCTAssertEqual(Double(loss.item), (dispersive["loss"] as! NSNumber).doubleValue, accuracy: 1e-5)
        loss.backward()
        assertClose(
            h.grad!.scalars, matrix64(dispersive["grad_wrt_h_including_max_normalisation"]).scalars, tolerance: 1e-5)
        let error = matrix64(adaptive["error"]).tensor
        let value = MeanFlowLoss.adaptiveL2(
            error, gamma: (adaptive["gamma"] as! NSNumber).floatValue, c: (adaptive["c"] as! NSNumber).floatValue)
        XCTAssertEqual(Double(value.item), (adaptive["loss"] as! NSNumber).doubleValue, accuracy: 1e-6)
    }

    func testLossInvariants() {
        var rng = PhiloxGenerator(seed: 1)
        let error = Tensor.normal([6, 4], mean: 0, standardDeviation: 1, using: &rng)
        XCTAssertEqual(MeanFlowLoss.adaptiveL2(error, gamma: 1).item, error.squared().mean().item, accuracy: 1e-6)
        let h = Tensor.normal([8, 5], mean: 0, standardDeviation: 1, using: &rng)
        let value = MeanFlowLoss.dispersive(h).item
        XCTAssertLessThanOrEqual(value, 0)
        XCTAssertEqual(MeanFlowLoss.dispersive(h * 7.5).item, value, accuracy: 1e-5)
        XCTAssertEqual(MeanFlowLoss.dispersive(Tensor.ones([8, 5])).item, 0, accuracy: 1e-7)
    }

    /// With `flowRatio` 1 every row has r = t: the target is `v`, and MeanFlow's loss equals the
    /// adaptive L2 of flow matching's error (the JVP term is multiplied by 0).
    func testRowsWithEqualTimesAreFlowMatching() {
        var rng = PhiloxGenerator(seed: 2)
        let model = MeanFlowModel(
            dimension: 2, hidden: [16], objective: .meanFlow(target: .plain, flowRatio: 1, dispersiveWeight: 0),
            using: &rng)
        for (_, p) in model.parameters {
            p.assign(Tensor.normal(p.shape, mean: 0, standardDeviation: 0.5, using: &rng))
        }
        let x = Tensor.normal([32, 2], mean: 0, standardDeviation: 1, using: &rng)
        var a = PhiloxGenerator(seed: 3), b = PhiloxGenerator(seed: 3)
        let loss = model.loss(x, condition: nil, using: &a).item
        let e = Tensor(shape: [32, 2], scalars: (0..<64).map { _ in Float(b.nextNormal()) })
        let first = model.times(32, using: &b), second = model.times(32, using: &b)
        let t = Tensor(shape: [32, 1], scalars: zip(first, second).map { Float(Swift.max($0, $1)) })
        let z = (1 - t) * x + t * e
        let expected = MeanFlowLoss.adaptiveL2(model.averageVelocity(z, r: t, t: t, condition: nil) - (e - x)).item
        XCTAssertEqual(loss, expected, accuracy: 1e-6)
    }

    /// MeanFlow CFG (spec 2.4 a) at r = t, where the target is `v̂` itself: without dropout
    /// `v̂ = ω v + κ u(z, t, t | c) + (1 − ω − κ) u(z, t, t | ∅)` with the learned null condition;
    /// with every condition dropped, `v̂ = v` and the network sees the null condition.
    func testTheGuidedTargetAtEqualTimes() {
        let omega = 1.5, kappa = 0.3, b = 32
        func model(dropout: Double) -> MeanFlowModel {
            var rng = PhiloxGenerator(seed: 5)
            let model = MeanFlowModel(
                dimension: 2, conditionDimension: 1, hidden: [16],
                objective: .meanFlow(
                    target: .guided(omega: omega, kappa: kappa, dropout: dropout), flowRatio: 1, dispersiveWeight: 0),
                using: &rng)
            for (_, p) in model.parameters {
                p.assign(Tensor.normal(p.shape, mean: 0, standardDeviation: 0.5, using: &rng))
            }
            return model
        }
        var rng = PhiloxGenerator(seed: 6)
        let x = Tensor.normal([b, 2], mean: 0, standardDeviation: 1, using: &rng)
        let c = Tensor.normal([b, 1], mean: 0, standardDeviation: 1, using: &rng)
        for dropout in [0.0, 1.0] {
            let guided = model(dropout: dropout)
            var a = PhiloxGenerator(seed: 3), replay = PhiloxGenerator(seed: 3)
            let loss = guided.loss(x, condition: c, using: &a).item
            let e = Tensor(shape: [b, 2], scalars: (0..<(2 * b)).map { _ in Float(replay.nextNormal()) })
            let first = guided.times(b, using: &replay), second = guided.times(b, using: &replay)
            let t = Tensor(shape: [b, 1], scalars: zip(first, second).map { Float(Swift.max($0, $1)) })
            let z = (1 - t) * x + t * e, v = e - x
            let null = guided.nullCondition!.value.reshaped(to: [1, 1]).expanded(to: [b, 1])
            let conditional = guided.averageVelocity(z, r: t, t: t, condition: c)
            let unconditional = guided.averageVelocity(z, r: t, t: t, condition: null)
            let expected =
                dropout == 0
                ? MeanFlowLoss.adaptiveL2(
                    conditional
                        - (Float(omega) * v + Float(kappa) * conditional + Float(1 - omega - kappa) * unconditional))
                : MeanFlowLoss.adaptiveL2(unconditional - v)
            XCTAssertEqual(
                loss, expected.item, accuracy: 1e-6 * Swift.max(1, Swift.abs(expected.item)), "dropout \(dropout)")
        }
    }

    /// A short conditional run on the rotating four-mode toy: the loss falls and one-step samples
    /// move from the Gaussian towards the true actions (sliced W1).
    func testAShortConditionalRunLearns() throws {
        var rng = PhiloxGenerator(seed: 4)
        let toy = MultimodalActions()
        let (points, states) = toy.sample(20_000, using: &rng)
        let model = MeanFlowModel(
            dimension: 2, conditionDimension: 1, hidden: [64, 64],
            objective: .meanFlow(target: .plain, flowRatio: 0.5, dispersiveWeight: 0), using: &rng)
        var losses: [Float] = []
        let skipped = try model.fit(
            points: points, conditions: states, steps: 1500, batchSize: 256, warmupSteps: 100, using: &rng
        ) {
            losses.append($1)
            return true
        }
        XCTAssertEqual(skipped, 0)
        XCTAssertLessThan(losses.suffix(150).reduce(0, +), losses.prefix(150).reduce(0, +))
        let state = Matrix64(rows: 2000, columns: 1, repeating: 0.3)
        let noise = Matrix64(rows: 2000, columns: 2, scalars: (0..<4000).map { _ in rng.nextNormal() })
        let truth = toy.sample(2000, state: 0.3, using: &rng)
        var a = PhiloxGenerator(seed: 7), b = PhiloxGenerator(seed: 7)
        let before = slicedWasserstein(noise, truth, directions: 64, order: 1, using: &a)
        let after = slicedWasserstein(
            model.sample(noise, condition: state, steps: 1), truth, directions: 64, order: 1, using: &b)
        XCTAssertLessThan(after, 0.6 * before, "1-NFE sliced W1 \(after) against the Gaussian's \(before)")
    }
}
