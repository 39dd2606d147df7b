import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

/// The diffusion backbone against `shared/fixtures/diffusion-principles` and its spec's unit facts.
final class DiffusionCoreTests: XCTestCase {
    let schedules: [String: DiffusionSchedule] = [
        "vp_linear": .vpLinearDefault, "vp_cosine": .vpCosineDefault, "ve": .veDefault, "linear_fm": .linearFlowDefault,
        "trig": .trig,
    ]

    func relativeClose(
        _ a: Double, _ b: Double, _ tolerance: Double, _ label: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertLessThanOrEqual(
            Swift.abs(a - b), tolerance * Swift.max(1, Swift.abs(b)), "\(label): \(a) vs \(b)", file: file, line: line)
    }

    func testSchedulesMatchTheFixture() throws {
        let f = try fixture("diffusion-principles", "schedules.json")["schedules"] as! [String: [[String: Any]]]
        for (name, cases) in f {
            let schedule = try XCTUnwrap(schedules[name], name)
            for c in cases {
                let t = (c["t"] as! NSNumber).doubleValue
                func value(_ key: String) -> Double { (c[key] as! NSNumber).doubleValue }
                relativeClose(schedule.alpha(t), value("alpha"), 1e-9, "\(name) alpha(\(t))")
                relativeClose(schedule.sigma(t), value("sigma"), 1e-9, "\(name) sigma(\(t))")
                relativeClose(schedule.alphaDerivative(t), value("dalpha"), 1e-9, "\(name) dalpha(\(t))")
                relativeClose(schedule.sigmaDerivative(t), value("dsigma"), 1e-9, "\(name) dsigma(\(t))")
                relativeClose(schedule.lambda(t), value("log_snr_half"), 1e-9, "\(name) lambda(\(t))")
                relativeClose(schedule.lambdaDerivative(t), value("dlam"), 1e-9, "\(name) dlambda(\(t))")
                relativeClose(schedule.drift(t), value("f"), 1e-9, "\(name) f(\(t))")
                relativeClose(schedule.diffusionSquared(t), value("g2"), 1e-9, "\(name) g2(\(t))")
                relativeClose(schedule.time(forLambda: schedule.lambda(t)), t, 1e-9, "\(name) t(lambda(\(t)))")
            }
        }
    }

    func testConversionsRoundTripMatchTheFixtureAndCommuteWithGuidance() throws {
        let f = try fixture("diffusion-principles", "conversions.json")
        let conversions = f["conversions"] as! [String: Any]
        let dimension = doubles(conversions["x0"]).count
        let x0 = Matrix64(rows: 1, columns: dimension, scalars: doubles(conversions["x0"])),
            eps = Matrix64(rows: 1, columns: dimension, scalars: doubles(conversions["eps"]))
        for c in conversions["cases"] as! [[String: Any]] {
            let schedule = try XCTUnwrap(schedules[c["schedule"] as! String])
            let t = (c["t"] as! NSNumber).doubleValue
            let xt = Matrix64(rows: 1, columns: dimension, scalars: doubles(c["xt"]))
            XCTAssertLessThan(
                maxDifference(
                    xt.scalars, zip(x0.scalars, eps.scalars).map { schedule.alpha(t) * $0 + schedule.sigma(t) * $1 }),
                1e-9)
            let expected: [Prediction: [Double]] = [
                .score: doubles(c["score"]), .v: doubles(c["v"]), .velocity: doubles(c["u"]),
                .data: x0.scalars, .epsilon: eps.scalars,
            ]
            for from in Prediction.allCases {
                let value = Matrix64(rows: 1, columns: dimension, scalars: expected[from]!)
                for to in Prediction.allCases {
                    let converted = from.convert(value, to: to, x: xt, t: t, schedule: schedule)
                    // Relative: the fixture's 10 significant digits, amplified by σ² in score conversions at large σ (VE).
                    for (got, want) in zip(converted.scalars, expected[to]!) {
                        relativeClose(got, want, 1e-8, "\(c["schedule"]!) t=\(t) \(from) -> \(to)")
                    }
                }
            }
            // û = f x − ½ g² ŝ: the velocity is the probability-flow drift.
            let u = Prediction.score.convert(
                Matrix64(rows: 1, columns: dimension, scalars: expected[.score]!), to: .velocity, x: xt, t: t,
                schedule: schedule)
            let drift = zip(xt.scalars, expected[.score]!).map {
                schedule.drift(t) * $0 - 0.5 * schedule.diffusionSquared(t) * $1
            }
            XCTAssertLessThan(maxDifference(u.scalars, drift), 1e-8)
        }
        func row(_ values: [Double]) -> Matrix64 { Matrix64(rows: 1, columns: values.count, scalars: values) }
        let guidance = f["cfg"] as! [[String: Any]]
        for c in guidance {
            let guided = classifierFreeGuidance(
                unconditional: row(doubles(c["eps_uncond"])), conditional: row(doubles(c["eps_cond"])),
                scale: (c["w"] as! NSNumber).doubleValue)
            XCTAssertLessThan(maxDifference(guided.scalars, doubles(c["eps_guided"])), 1e-12)
        }
        let commute = f["cfg_commutes_with_conversion"] as! [String: Any]
        // The commuting check guides the first CFG example's ε pair at the fixture's x_t, t, w and schedule.
        let x = row(doubles(commute["x_t"]))
        let t = (commute["t"] as! NSNumber).doubleValue, w = (commute["w"] as! NSNumber).doubleValue
        let schedule = try XCTUnwrap(schedules[commute["schedule"] as! String])
        let cond = row(doubles(guidance[0]["eps_cond"])), uncond = row(doubles(guidance[0]["eps_uncond"]))
        let viaEps = Prediction.epsilon.convert(
            classifierFreeGuidance(unconditional: uncond, conditional: cond, scale: w), to: .data, x: x, t: t,
            schedule: schedule)
        let viaData = classifierFreeGuidance(
            unconditional: Prediction.epsilon.convert(uncond, to: .data, x: x, t: t, schedule: schedule),
            conditional: Prediction.epsilon.convert(cond, to: .data, x: x, t: t, schedule: schedule), scale: w)
        XCTAssertLessThan(maxDifference(viaEps.scalars, viaData.scalars), 1e-12)
        XCTAssertLessThan(maxDifference(viaEps.scalars, doubles(commute["x0_guided_direct"])), 1e-9)
    }

    func testGaussianMixtureDenoiserAndEDMPreconditioningMatchTheFixtures() throws {
        let f = try fixture("diffusion-principles", "gmm_denoiser.json")
        let mixture = GaussianMixtureDenoiser(
            weights: doubles(f["weights"]), means: (f["means"] as! [[NSNumber]]).map { $0.map(\.doubleValue) },
            standardDeviations: doubles(f["stds"]))
        for c in f["cases"] as! [[String: Any]] {
            let t = (c["t"] as! NSNumber).doubleValue
            let (data, score) = mixture.posterior(matrix64(c["x"]), t: t, schedule: .vpLinearDefault)
            XCTAssertLessThan(maxDifference(data.scalars, matrix64(c["x0hat"]).scalars), 1e-9, "t = \(t)")
            XCTAssertLessThan(maxDifference(score.scalars, matrix64(c["score"]).scalars), 1e-8, "t = \(t)")
        }
        let edm = try fixture("diffusion-principles", "edm.json")
        XCTAssertLessThan(maxDifference(TimeGrid.edm(steps: 18), doubles(edm["sigmas_N18"])), 1e-8)
        XCTAssertLessThan(maxDifference(TimeGrid.edm(steps: 5), doubles(edm["sigmas_N5"])), 1e-8)
        for c in edm["precond"] as! [[String: Any]] {
            let k = EDMPreconditioning().coefficients((c["sigma"] as! NSNumber).doubleValue)
            relativeClose(k.skip, (c["c_skip"] as! NSNumber).doubleValue, 1e-9, "c_skip")
            relativeClose(k.out, (c["c_out"] as! NSNumber).doubleValue, 1e-9, "c_out")
            relativeClose(k.input, (c["c_in"] as! NSNumber).doubleValue, 1e-9, "c_in")
            relativeClose(k.noise, (c["c_noise"] as! NSNumber).doubleValue, 1e-9, "c_noise")
            relativeClose(k.lossWeight, (c["loss_weight"] as! NSNumber).doubleValue, 1e-9, "loss weight")
        }
    }

    func testSamplersOnGaussianDataMatchTheFixture() throws {
        let f = try fixture("diffusion-principles", "samplers_gaussian.json")
        let vp = f["vp"] as! [String: Any]
        let mean = doubles(vp["data_mean"]), std = (vp["data_std"] as! NSNumber).doubleValue
        let gaussian = GaussianMixtureDenoiser(weights: [1], means: [mean], standardDeviations: [std])
        let schedule = DiffusionSchedule.vpLinearDefault
        let model: Denoiser = { x, t in gaussian.posterior(x, t: t, schedule: schedule).data }
        let xT = matrix64(vp["x_T"]), n = (vp["N"] as! NSNumber).intValue
        let uniform = TimeGrid.uniform(from: 1, to: 0.001, steps: n),
            lambdaGrid = TimeGrid.uniformLambda(from: 1, to: 0.001, steps: n, schedule: schedule)
        XCTAssertLessThan(maxDifference(uniform, doubles(vp["t_uniform"])), 1e-9)
        XCTAssertLessThan(maxDifference(lambdaGrid, doubles(vp["t_uniform_lambda"])), 1e-8)
        XCTAssertLessThan(
            maxDifference(
                DiffusionSampler.euler(xT, grid: uniform, schedule: schedule, model: model).scalars,
                matrix64(vp["euler_uniform_t"]).scalars), 1e-8)
        XCTAssertLessThan(
            maxDifference(
                DiffusionSampler.heun(xT, grid: uniform, schedule: schedule, model: model).scalars,
                matrix64(vp["heun_uniform_t"]).scalars), 1e-8)
        var rng = PhiloxGenerator(seed: 0)
        XCTAssertLessThan(
            maxDifference(
                DiffusionSampler.ddim(xT, grid: lambdaGrid, schedule: schedule, model: model, using: &rng).scalars,
                matrix64(vp["ddim_eta0_uniform_lambda"]).scalars), 1e-8)
        XCTAssertLessThan(
            maxDifference(
                DiffusionSampler.dpmSolverPlusPlus2M(xT, grid: lambdaGrid, schedule: schedule, model: model).scalars,
                matrix64(vp["dpmpp2m_uniform_lambda"]).scalars), 1e-8)
        let edm = f["edm"] as! [String: Any]
        let sigmas = doubles(edm["sigmas"])
        XCTAssertLessThan(maxDifference(TimeGrid.edm(steps: (edm["N"] as! NSNumber).intValue), sigmas), 1e-8)
        let edmModel: Denoiser = { x, sigma in gaussian.posterior(x, t: sigma, schedule: .edm).data }
        var unused = PhiloxGenerator(seed: 0)
        XCTAssertLessThan(
            maxDifference(
                DiffusionSampler.edmHeun(matrix64(edm["x_T"]), sigmas: sigmas, model: edmModel, using: &unused).scalars,
                matrix64(edm["heun_edm"]).scalars), 1e-8)
        // Euler–Maruyama and DDIM with eta = 1 end near the exact answer's distribution mean on many samples.
        var noise = PhiloxGenerator(seed: 3)
        let many = Matrix64(rows: 4000, columns: 2, scalars: (0..<8000).map { _ in noise.nextNormal() })
        let grid = TimeGrid.uniform(from: 1, to: 0.001, steps: 400)
        for samples in [
            DiffusionSampler.eulerMaruyama(many, grid: grid, schedule: schedule, model: model, using: &noise),
            DiffusionSampler.ddim(many, grid: grid, eta: 1, schedule: schedule, model: model, using: &noise),
        ] {
            for j in 0..<2 {
                let column = (0..<4000).map { samples[$0, j] }
                let m = column.reduce(0, +) / 4000
                let v = column.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 4000
                XCTAssertEqual(m, mean[j], accuracy: 0.05)
                XCTAssertEqual(v.squareRoot(), std, accuracy: 0.05)
            }
        }
    }

    /// Spec 10.1: with the exact denoiser of an 8-mode ring mixture, first-order samplers' error
    /// falls like 1/NFE and second-order ones' like 1/NFE² (fitted over NFE 100, 200, 400).
    func testSolverOrdersWithAnExactDenoiser() throws {
        let (_, schedule, model, start, generator) = exactRing(points: 100, seed: 5)
        var rng = generator
        let grid = { (n: Int) in TimeGrid.uniformLambda(from: 0.999, to: 1e-3, steps: n, schedule: schedule) }
        let reference = DiffusionSampler.dpmSolverPlusPlus2M(start, grid: grid(3000), schedule: schedule, model: model)
        func rms(_ x: Matrix64) -> Double { GaussianMixtureDenoiser.rootMeanSquareDistance(x, reference) }
        func slope(_ errors: [Double]) -> Double {
            (Foundation.log(errors[2]) - Foundation.log(errors[0])) / Foundation.log(4)
        }
        let nfe = [100, 200, 400]
        let euler = nfe.map { rms(DiffusionSampler.euler(start, grid: grid($0), schedule: schedule, model: model)) }
        let ddim = nfe.map {
            rms(DiffusionSampler.ddim(start, grid: grid($0), schedule: schedule, model: model, using: &rng))
        }
        let heun = nfe.map { rms(DiffusionSampler.heun(start, grid: grid($0 / 2), schedule: schedule, model: model)) }
        let dpm = nfe.map {
            rms(DiffusionSampler.dpmSolverPlusPlus2M(start, grid: grid($0), schedule: schedule, model: model))
        }
        XCTAssertTrue((-1.15 ... -0.85).contains(slope(euler)), "Euler slope \(slope(euler))")
        XCTAssertTrue((-1.15 ... -0.85).contains(slope(ddim)), "DDIM slope \(slope(ddim))")
        XCTAssertLessThanOrEqual(slope(heun), -1.7)
        XCTAssertLessThanOrEqual(slope(dpm), -1.7)
        XCTAssertLessThanOrEqual(dpm[0], 0.25 * ddim[0])
        // PLMS-4 from an Euler start: second order, far below DDIM; its order 1 is DDIM itself.
        let plms = nfe.map { rms(DiffusionSampler.plms(start, grid: grid($0), schedule: schedule, model: model)) }
        XCTAssertLessThanOrEqual(slope(plms), -1.8, "PLMS errors \(plms)")
        XCTAssertLessThan(plms[0], 0.25 * ddim[0])
        let first = DiffusionSampler.plms(start, grid: grid(50), order: 1, schedule: schedule, model: model)
        XCTAssertLessThan(
            (first - DiffusionSampler.ddim(start, grid: grid(50), schedule: schedule, model: model, using: &rng))
                .maxAbs, 1e-9)
    }

    /// The 8-mode ring of spec 10.1 with its exact denoiser on the cosine schedule, and `points`
    /// standard normal starts.
    func exactRing(
        points: Int, seed: UInt64
    )
        -> (GaussianMixtureDenoiser, DiffusionSchedule, Denoiser, Matrix64, PhiloxGenerator)
    {
        let mixture = GaussianMixtureDenoiser.ring(count: 8, radius: 2, standardDeviation: 0.25)
        let schedule = DiffusionSchedule.vpCosineDefault
        let model: Denoiser = { x, t in mixture.posterior(x, t: t, schedule: schedule).data }
        var rng = PhiloxGenerator(seed: seed)
        let start = Matrix64(rows: points, columns: 2, scalars: (0..<(2 * points)).map { _ in rng.nextNormal() })
        return (mixture, schedule, model, start, rng)
    }

    /// The stochastic samplers: η = 0 of the Euler–Maruyama family is the PF-ODE's Euler, churn 0
    /// is the deterministic EDM sampler, and with noise both still sample the exact mixture.
    func testStochasticFamilyAndChurnSampleTheMixture() {
        let (mixture, schedule, model, start, generator) = exactRing(points: 2000, seed: 6)
        var rng = generator
        let grid = TimeGrid.uniformLambda(from: 0.999, to: 1e-3, steps: 200, schedule: schedule)
        let ode = DiffusionSampler.euler(start, grid: grid, schedule: schedule, model: model)
        XCTAssertLessThan(
            (DiffusionSampler.eulerMaruyama(start, grid: grid, eta: 0, schedule: schedule, model: model, using: &rng)
                - ode).maxAbs, 1e-9)
        let truth = ToyDistribution.mixture(mixture).sample(2000, using: &rng)
        var metric = PhiloxGenerator(seed: 1)
        let floor = slicedWasserstein(ToyDistribution.mixture(mixture).sample(2000, using: &rng), truth, using: &metric)
        for eta in [0.5, 1.0] {
            let samples = DiffusionSampler.eulerMaruyama(
                start, grid: grid, eta: eta, schedule: schedule, model: model, using: &rng)
            metric = PhiloxGenerator(seed: 1)
            XCTAssertLessThan(slicedWasserstein(samples, truth, using: &metric), 2 * floor + 0.03, "eta \(eta)")
        }
        let edmModel: Denoiser = { x, sigma in mixture.posterior(x, t: sigma, schedule: .edm).data }
        let sigmas = TimeGrid.edm(steps: 40)
        let scaled = start * 80
        let deterministic = DiffusionSampler.edmHeun(scaled, sigmas: sigmas, model: edmModel, using: &rng)
        XCTAssertEqual(
            DiffusionSampler.edmHeun(scaled, sigmas: sigmas, churn: .init(churn: 0), model: edmModel, using: &rng),
            deterministic)
        let churned = DiffusionSampler.edmHeun(
            scaled, sigmas: sigmas, churn: .init(churn: 40, minimumSigma: 0.05, maximumSigma: 50, noiseScale: 1.003),
            model: edmModel, using: &rng)
        XCTAssertGreaterThan((churned - deterministic).maxAbs, 1e-3)
        metric = PhiloxGenerator(seed: 1)
        XCTAssertLessThan(slicedWasserstein(churned, truth, using: &metric), 2 * floor + 0.03)
    }
}
