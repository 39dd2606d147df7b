import Foundation
import InertiaGenerative
import InertiaTensor

/// `shared/papers/diffusion-principles.md`, section 10.1 (Lai, Song, Kim, Mitsufuji & Ermon, "The
/// Principles of Diffusion Models", arXiv 2510.21890): with an exact denoiser, the probability-flow
/// samplers converge at their orders (Euler and DDIM first, Heun and DPM-Solver++(2M) second).
public struct DiffusionPrinciplesReproduction: Reproduction {
    public init() {}

    public let slug = "diffusion-principles"
    public let paper = "Lai, Song, Kim, Mitsufuji & Ermon, \"The Principles of Diffusion Models\", arXiv 2510.21890 (2025)"
    public let claim = """
        On an 8-mode ring mixture with its exact denoiser (vp_cosine, lambda-uniform grid), Euler and DDIM errors fall like \
        1/NFE (slopes in [-1.15, -0.85]) and Heun and DPM-Solver++(2M) like 1/NFE^2 (slopes <= -1.7), and DPM++(2M) at NFE 100 \
        is at most 0.25x DDIM's error.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { [0] }

    public func run(budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void) throws
        -> ReproductionResult
    {
        let samples = budget == .quick ? 100 : 500
        var checks: [Check] = [], rows: [[String]] = [], plots: [Plot] = []
        var partial = false
        for std in [0.25, 0.1] {
            if shouldStop() { partial = true; break }
            let mixture = GaussianMixtureDenoiser.ring(count: 8, radius: 2, standardDeviation: std)
            let schedule = DiffusionSchedule.vpCosineDefault
            let model: Denoiser = { x, t in mixture.posterior(x, t: t, schedule: schedule).data }
            var rng = PhiloxGenerator(seed: seeds.first ?? 0)
            let start = Matrix64(rows: samples, columns: 2, scalars: (0..<(2 * samples)).map { _ in rng.nextNormal() })
            let grid = { (n: Int) in TimeGrid.uniformLambda(from: 0.999, to: 1e-3, steps: n, schedule: schedule) }
            progress("std \(std): reference (DPM-Solver++(2M), 6000 steps)")
            let reference = DiffusionSampler.dpmSolverPlusPlus2M(start, grid: grid(6000), schedule: schedule, model: model)
            func rms(_ x: Matrix64) -> Double { GaussianMixtureDenoiser.rootMeanSquareDistance(x, reference) }
            let nfe = [25, 50, 100, 200, 400]
            let samplers: [(String, (Int) -> Matrix64)] = [
                ("Euler", { DiffusionSampler.euler(start, grid: grid($0), schedule: schedule, model: model) }),
                ("DDIM", { DiffusionSampler.ddim(start, grid: grid($0), schedule: schedule, model: model, using: &rng) }),
                ("Heun", { DiffusionSampler.heun(start, grid: grid($0 / 2), schedule: schedule, model: model) }),
                ("DPM-Solver++(2M)", { DiffusionSampler.dpmSolverPlusPlus2M(start, grid: grid($0), schedule: schedule, model: model) }),
            ]
            var errors: [String: [Double]] = [:], series: [Series] = []
            for (name, sample) in samplers {
                progress("std \(std): \(name)")
                errors[name] = nfe.map { rms(sample($0)) }
                series.append(Series(name: name, x: nfe.map(Double.init), y: errors[name]!))
                let e = errors[name]!
                let slope = (Foundation.log(e[4]) - Foundation.log(e[2])) / Foundation.log(4)
                rows.append([String(format: "%g", std), name] + e.map { String(format: "%.2e", $0) } + [String(format: "%.2f", slope)])
                let firstOrder = name == "Euler" || name == "DDIM"
                if firstOrder {
                    checks.append(Check(name: "std \(std): \(name) slope over NFE 100-400 (>= -1.15)", measured: slope, relation: .atLeast, threshold: -1.15,
                                        source: "spec 10.1"))
                    checks.append(Check(name: "std \(std): \(name) slope over NFE 100-400 (<= -0.85)", measured: slope, relation: .atMost, threshold: -0.85,
                                        source: "spec 10.1"))
                } else {
                    checks.append(Check(name: "std \(std): \(name) slope over NFE 100-400", measured: slope, relation: .atMost, threshold: -1.7,
                                        source: "spec 10.1"))
                }
            }
            if std == 0.25, let dpm = errors["DPM-Solver++(2M)"], let ddim = errors["DDIM"] {
                checks.append(Check(name: "std 0.25: DPM++(2M) / DDIM error at NFE 100", measured: dpm[2] / ddim[2], relation: .atMost, threshold: 0.25,
                                    source: "spec 10.1"))
            }
            plots.append(Plot(title: "RMS error against the reference, std \(std)", xLabel: "NFE", yLabel: "RMS error", series: series))
        }
        let table = Table(title: "8-mode ring mixture (radius 2), vp_cosine, t 0.999 -> 1e-3, lambda-uniform grid, \(samples) samples: RMS error vs NFE",
                          header: ["std", "sampler", "NFE 25", "50", "100", "200", "400", "slope 100-400"], rows: rows)
        let notes = ["Spec writer's float64 slopes (std 0.25): Euler -1.00, DDIM -1.00, Heun -1.95, DPM++(2M) -1.98; at NFE 100 Euler 1.28e-2, DDIM 2.32e-2, Heun 2.47e-3, DPM++(2M) 1.40e-3.",
                     "Section 10.2 (a trained 2-D model's sample quality) is not run yet: the training and sampling CLI of the generative issue comes next."]
        return ReproductionResult(slug: slug, budget: budget, seeds: seeds, checks: checks, tables: [table], plots: plots, notes: notes, isPartial: partial)
    }
}
