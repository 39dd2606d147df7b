import InertiaTensor
import XCTest

@testable import InertiaGenerative

/// The sampler registry: each entry runs the sampler it names with its options (checked against
/// direct calls and, for heavy-ball at β = 1, against PLMS, an independent implementation), every
/// entry samples the exact 8-mode ring, and bad settings are named errors.
final class SamplerRegistryTests: XCTestCase {
    let mixture = GaussianMixtureDenoiser.ring(count: 8, radius: 2, standardDeviation: 0.25)
    let schedule = DiffusionSchedule.vpCosineDefault

    var model: Denoiser { { [mixture, schedule] x, t in mixture.posterior(x, t: t, schedule: schedule).data } }

    func start(_ points: Int, seed: UInt64) -> Matrix64 {
        var rng = PhiloxGenerator(seed: seed)
        return Matrix64(rows: points, columns: 2, scalars: (0..<(2 * points)).map { _ in rng.nextNormal() })
    }

    func sample(
        _ name: String, _ x: Matrix64, evaluations: Int, settings: [String: Double] = [:], seed: UInt64 = 3
    ) throws
        -> Matrix64
    {
        var rng = PhiloxGenerator(seed: seed)
        let entry = try XCTUnwrap(SamplerRegistry.entry(named: name), name)
        return try entry.sample(
            x, evaluations: evaluations, settings: settings, schedule: schedule, model: model, using: &rng)
    }

    func testEntriesRunTheSamplersTheyNameWithTheirOptions() throws {
        let x = start(50, seed: 1)
        let grid = TimeGrid.uniformLambda(from: 0.999, to: 1e-3, steps: 12, schedule: schedule)
        var rng = PhiloxGenerator(seed: 3)
        let ddim = DiffusionSampler.ddim(x, grid: grid, eta: 0.3, schedule: schedule, model: model, using: &rng)
        XCTAssertEqual(try sample("ddim", x, evaluations: 12, settings: ["eta": 0.3]).scalars, ddim.scalars)
        let plms3 = DiffusionSampler.plms(x, grid: grid, order: 3, schedule: schedule, model: model)
        XCTAssertEqual(try sample("plms", x, evaluations: 12, settings: ["order": 3]).scalars, plms3.scalars)
        let plms4 = DiffusionSampler.plms(x, grid: grid, order: 4, schedule: schedule, model: model)
        for name in ["hb", "ghvb", "nt"] {
            let momentumFree = try sample(name, x, evaluations: 12, settings: ["beta": 1, "order": 4])
            XCTAssertLessThan((momentumFree - plms4).maxAbs, 1e-9, "\(name) at beta 1 is PLMS-4")
            let damped = try sample(name, x, evaluations: 12)
            XCTAssertGreaterThan((damped - plms4).maxAbs, 1e-6, "\(name) at its default beta 0.8 is not PLMS-4")
        }
        let momentum = DiffusionSampler.dpmSolverPlusPlus2M(
            x, grid: grid, schedule: schedule, model: model, momentum: 0.8)
        XCTAssertEqual(try sample("dpmpp2m", x, evaluations: 12, settings: ["beta": 0.8]).scalars, momentum.scalars)
        // The interpolant SDE at epsilon 0 is Euler on the transport ODE in interpolant time.
        let euler = DiffusionSampler.euler(
            x, grid: (0...12).map { 0.999 - Double($0) / 12 * (0.999 - 1e-3) }, schedule: schedule, model: model)
        XCTAssertLessThan(
            (try sample("interpolant-sde", x, evaluations: 12, settings: ["epsilon": 0]) - euler).maxAbs, 1e-9)
    }

    func testEveryEntrySamplesTheExactRing() throws {
        let points = 2000
        var rng = PhiloxGenerator(seed: 9)
        let truth = ToyDistribution.mixture(mixture).sample(points, using: &rng)
        var metric = PhiloxGenerator(seed: 1)
        let floor = slicedWasserstein(
            ToyDistribution.mixture(mixture).sample(points, using: &rng), truth, using: &metric)
        let x = start(points, seed: 4)
        for entry in SamplerRegistry.entries {
            let samples = try sample(entry.name, x, evaluations: 60)
            metric = PhiloxGenerator(seed: 1)
            let distance = slicedWasserstein(samples, truth, using: &metric)
            XCTAssertLessThan(
                distance, 2 * floor + 0.05, "\(entry.name) (\(entry.family)): sliced W2 \(distance), floor \(floor)")
        }
    }

    func testBadSettingsAreNamedErrors() throws {
        let x = start(4, seed: 1)
        let cases: [(String, Int, [String: Double], String)] = [
            ("ddim", 10, ["gamma": 1], "ddim: unknown option 'gamma' (it has eta)"),
            ("euler", 10, ["eta": 1], "euler: unknown option 'eta' (it has none)"),
            ("ddim", 10, ["eta": 2], "ddim: eta must be a number in 0.0...1.0, got 2.0"),
            ("ghvb", 10, ["order": 2.5], "ghvb: order must be a whole number in 1.0...5.0, got 2.5"),
            ("hb", 10, ["beta": .nan], "hb: beta must be a number in 0.01...1.0, got nan"),
            ("interpolant-rk4", 3, [:], "interpolant-rk4: needs at least 4 network evaluations, got 3"),
        ]
        for (name, evaluations, settings, message) in cases {
            XCTAssertThrowsError(try sample(name, x, evaluations: evaluations, settings: settings)) {
                XCTAssertEqual("\($0)", message)
            }
        }
        XCTAssertTrue(
            "\(SamplerError.unknownSampler("rk5"))".hasPrefix("unknown sampler 'rk5' (available: euler, heun, ddim"))
        XCTAssertEqual(
            Set(SamplerRegistry.entries.map(\.name)).count, SamplerRegistry.entries.count, "names are unique")
    }
}
