import Foundation
import InertiaTensor
import XCTest

@testable import InertiaGenerative

/// `diffusion-principles.md` 11, the invariants a unit test can check without reference code.
final class DiffusionInvariantTests: XCTestCase {
    let schedules: [DiffusionSchedule] = [.vpLinearDefault, .vpCosineDefault, .veDefault, .linearFlowDefault, .trig]

    func testSchedulesAreMonotoneAndVPIsVariancePreserving() {
        for schedule in schedules {
            var previous = Double.infinity
            for i in 1..<100 {
                let t = Double(i) / 100
                XCTAssertLessThan(schedule.lambda(t), previous, "\(schedule) λ at \(t)")
                previous = schedule.lambda(t)
                XCTAssertGreaterThan(schedule.diffusionSquared(t), 0, "\(schedule) g² at \(t)")
                if schedule == .vpLinearDefault || schedule == .vpCosineDefault || schedule == .trig {
                    XCTAssertEqual(pow(schedule.alpha(t), 2) + pow(schedule.sigma(t), 2), 1, accuracy: 1e-12)
                }
            }
        }
    }

    func testPointMassIsExactForEulerInEDMFormAndForDDIM() {
        let mu = Matrix64(rows: 1, columns: 2, scalars: [0.7, -1.2])
        let pointMass: Denoiser = { x, _ in
            Matrix64(rows: x.rows, columns: 2, scalars: (0..<x.rows).flatMap { _ in mu.scalars })
        }
        var rng = PhiloxGenerator(seed: 2)
        let start = Matrix64(rows: 5, columns: 2, scalars: (0..<10).map { _ in 3 * rng.nextNormal() })
        // Any grid, even a coarse one: Euler in σ̃ form keeps x − μ ∝ σ̃ and ends at μ.
        let coarse = DiffusionSampler.edmHeun(start * 10, sigmas: [10, 3, 0.4, 0], model: pointMass, using: &rng)
        let euler = DiffusionSampler.euler(start * 10, grid: [10, 3, 0.4, 0], schedule: .edm, model: pointMass)
        for x in [coarse, euler] {
            for i in 0..<5 {
                XCTAssertEqual(x[i, 0], 0.7, accuracy: 1e-12)
                XCTAssertEqual(x[i, 1], -1.2, accuracy: 1e-12)
            }
        }
        let schedule = DiffusionSchedule.vpCosineDefault
        let ddim = DiffusionSampler.ddim(
            start, grid: [0.99, 0.6, 0.3], schedule: schedule, model: pointMass, using: &rng)
        // Exact: x_s = α_s μ + σ_s (x_t − α_t μ)/σ_t along the grid.
        var expected = start
        for (t, s) in [(0.99, 0.6), (0.6, 0.3)] {
            for k in 0..<10 {
                let m = mu.scalars[k % 2]
                expected.scalars[k] =
                    schedule.alpha(s) * m + schedule.sigma(s) * (expected.scalars[k] - schedule.alpha(t) * m)
                    / schedule.sigma(t)
            }
        }
        XCTAssertLessThan((ddim - expected).maxAbs, 1e-12)
    }

    func testGaussianDataFollowTheClosedFormFlowMap() {
        let mixture = GaussianMixtureDenoiser(weights: [1], means: [[1, -2]], standardDeviations: [0.5])
        let schedule = DiffusionSchedule.vpLinearDefault
        let model: Denoiser = { x, t in mixture.posterior(x, t: t, schedule: schedule).data }
        var rng = PhiloxGenerator(seed: 3)
        let start = Matrix64(rows: 20, columns: 2, scalars: (0..<40).map { _ in rng.nextNormal() })
        let (tMax, tMin) = (0.999, 1e-3)
        func exact(_ t: Double) -> Matrix64 {
            let scale =
                ((pow(schedule.alpha(t), 2) * 0.25 + pow(schedule.sigma(t), 2))
                / (pow(schedule.alpha(tMax), 2) * 0.25 + pow(schedule.sigma(tMax), 2))).squareRoot()
            return Matrix64(
                rows: 20, columns: 2,
                scalars: start.scalars.enumerated().map { k, x in
                    let m = k % 2 == 0 ? 1.0 : -2.0
                    return schedule.alpha(t) * m + scale * (x - schedule.alpha(tMax) * m)
                })
        }
        let truth = exact(tMin)
        func error(_ x: Matrix64) -> Double { GaussianMixtureDenoiser.rootMeanSquareDistance(x, truth) }
        let grid = { (n: Int) in TimeGrid.uniformLambda(from: tMax, to: tMin, steps: n, schedule: schedule) }
        let euler = [50, 100].map {
            error(DiffusionSampler.euler(start, grid: grid($0), schedule: schedule, model: model))
        }
        let heun = [50, 100].map {
            error(DiffusionSampler.heun(start, grid: grid($0), schedule: schedule, model: model))
        }
        XCTAssertEqual(euler[0] / euler[1], 2, accuracy: 0.3, "Euler \(euler)")
        XCTAssertEqual(heun[0] / heun[1], 4, accuracy: 0.8, "Heun \(heun)")
        XCTAssertLessThan(
            error(DiffusionSampler.dpmSolverPlusPlus2M(start, grid: grid(400), schedule: schedule, model: model)), 1e-4)
    }

    func testFirstOrderStepsCoincideAndHeunSkipsTheLastCorrector() {
        let mixture = GaussianMixtureDenoiser.ring(count: 4, radius: 1, standardDeviation: 0.3)
        let schedule = DiffusionSchedule.vpCosineDefault
        var calls = 0
        let model: Denoiser = { x, t in
            calls += 1
            return mixture.posterior(x, t: t, schedule: schedule).data
        }
        var rng = PhiloxGenerator(seed: 4)
        let start = Matrix64(rows: 6, columns: 2, scalars: (0..<12).map { _ in rng.nextNormal() })
        let step = [0.9, 0.7]
        let ddim = DiffusionSampler.ddim(start, grid: step, schedule: schedule, model: model, using: &rng)
        let dpm = DiffusionSampler.dpmSolverPlusPlus2M(start, grid: step, schedule: schedule, model: model)
        XCTAssertLessThan((ddim - dpm).maxAbs, 1e-12)
        let edmModel: Denoiser = { x, sigma in
            calls += 1
            return mixture.posterior(x, t: sigma, schedule: .edm).data
        }
        calls = 0
        _ = DiffusionSampler.edmHeun(start * 80, sigmas: TimeGrid.edm(steps: 18), model: edmModel, using: &rng)
        XCTAssertEqual(calls, 35)
    }

    func testGuidanceEndpoints() {
        let unconditional = Matrix64(rows: 1, columns: 2, scalars: [1, 2]),
            conditional = Matrix64(rows: 1, columns: 2, scalars: [-1, 5])
        XCTAssertEqual(
            classifierFreeGuidance(unconditional: unconditional, conditional: conditional, scale: 1), conditional)
        XCTAssertEqual(
            classifierFreeGuidance(unconditional: unconditional, conditional: conditional, scale: 0), unconditional)
    }
}
