import Foundation
import InertiaGenerative
import InertiaTensor

/// `shared/papers/heavy-ball-diffusion-sampling.md`, section 5 (Wizadwongsa et al., ICLR 2024):
/// on analytically guided diffusion of a 2-D mixture, heavy-ball momentum suppresses the divergence
/// of high-order PLMS at high guidance and few steps.
public struct HeavyBallDiffusionSamplingReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5 (1)", "w 15: HB 3.8 / PLMS-4", .atMost, 0.5),
        SpecCheck("spec 5 (2)", "w 15: GHVB 3.8 / PLMS-4 (< 1)", .atMost, 0.999_999),
        SpecCheck("spec 5 (3)", "w 15, N 8: HB 3.6 / HB 3.8 and HB 3.8 / PLMS-4", .atMost, 1),
        SpecCheck("spec 5 (4)", "w 1, N 20: worst RMSE over methods", .atMost, 0.2),
    ]

    public init() {}

    public let slug = "heavy-ball-diffusion-sampling"
    public let paper =
        "Wizadwongsa, Chinchuthakun, Khungurn, Raj & Suwajanakorn, \"Diffusion Sampling with Momentum for Mitigating Divergence Artifacts\", ICLR 2024"
    public let claim = """
        At guidance 15 with 6-10 steps, HB 3.8 halves PLMS-4's error (N = 8, 10) and GHVB 3.8 lowers it (N = 6, 8, 10); \
        the error falls with beta (HB 3.6 <= HB 3.8 <= PLMS-4 at N = 8); every method is accurate at w = 1, N = 20.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1, 2] }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        let samples = budget == .quick ? 500 : 2000
        let means = (0..<4).flatMap { c in
            [-0.35, 0.35].map { offset -> [Double] in
                let angle = Double(c) * Double.pi / 2 + offset
                return [1.5 * Foundation.cos(angle), 1.5 * Foundation.sin(angle)]
            }
        }
        let unconditional = GaussianMixtureDenoiser(
            weights: [Double](repeating: 1.0 / 8, count: 8), means: means,
            standardDeviations: [Double](repeating: 0.05, count: 8))
        let conditional = GaussianMixtureDenoiser(
            weights: [0.5, 0.5], means: Array(means[0..<2]), standardDeviations: [0.05, 0.05])
        let abar = HeavyBallSampling.ddpmCumulativeAlphas()
        func guidedEps(_ w: Double) -> (Matrix64, Int) -> Matrix64 {
            { x, t in
                let a = abar[t].squareRoot(), s = (1 - abar[t]).squareRoot()
                let guided = classifierFreeGuidance(
                    unconditional: unconditional.posterior(x, alpha: a, sigma: s).score,
                    conditional: conditional.posterior(x, alpha: a, sigma: s).score, scale: w)
                return guided * -s
            }
        }
        func timesteps(_ n: Int) -> [Int] {
            (0...n).map { Int((999 - 999 * Double($0) / Double(n)).rounded(.toNearestOrEven)) }
        }
        let methods: [(String, HeavyBallSampling)] = [
            ("DDIM", HeavyBallSampling(method: .heavyBall, order: 1, beta: 1)),
            ("PLMS-2", HeavyBallSampling(method: .heavyBall, code: 2)),
            ("PLMS-4", HeavyBallSampling(method: .heavyBall, code: 4)),
            ("HB 3.8", HeavyBallSampling(method: .heavyBall, code: 3.8)),
            ("HB 3.6", HeavyBallSampling(method: .heavyBall, code: 3.6)),
            ("GHVB 3.8", HeavyBallSampling(method: .generalizedHeavyBall, code: 3.8)),
            ("GHVB 1.8", HeavyBallSampling(method: .generalizedHeavyBall, code: 1.8)),
        ]
        // The spec writer's medians (`heavy-ball-diffusion-sampling/gmm_cfg_toy_sweep.json`), keyed
        // "w=<w>,N=<n>", one column per method under its own names; their settings are swept here,
        // with the sanity setting w = 1, N = 20 of spec 5 (4).
        let writer = try FixtureReader("heavy-ball-diffusion-sampling", "gmm_cfg_toy_sweep.json").child("rmse_median")
        let writerNames = [
            "DDIM": "DDIM", "PLMS-2": "PLMS2", "PLMS-4": "PLMS4", "HB 3.8": "HB-PLMS4 b=0.8",
            "HB 3.6": "HB-PLMS4 b=0.6",
            "GHVB 3.8": "GHVB3.8", "GHVB 1.8": "GHVB1.8",
        ]
        let swept = try writer.keys.map { key -> (w: Double, n: Int) in
            let parts = key.split(separator: ",").map { $0.split(separator: "=").last.map(String.init) ?? "" }
            guard parts.count == 2, let w = Double(parts[0]), let n = Int(parts[1]) else {
                throw SpecFixture.Problem(file: writer.file, detail: "cannot read w and N from '\(key)'")
            }
            return (w, n)
        }
        let settings = swept.sorted { ($0.w, $0.n) > ($1.w, $1.n) } + [(1, 20)]
        var rmse: [String: [String: Double]] = [:], partial = false
        // The first seed's samples at w = 15, N = 8 (the paper's divergence artifacts), for the scatters.
        let pictured = ["PLMS-4", "HB 3.8", "GHVB 3.8"]
        var pictures: [String: Matrix64] = [:]
        for (w, n) in settings {
            if shouldStop() {
                partial = true
                break
            }
            progress("w \(w), N \(n)")
            var perMethod: [String: [Double]] = [:]
            for seed in seeds {
                var rng = PhiloxGenerator(seed: 40 + seed)
                let start = Matrix64(
                    rows: samples, columns: 2, scalars: (0..<(2 * samples)).map { _ in rng.nextNormal() })
                let reference = methods[0].1.sample(
                    start, timesteps: timesteps(2000), cumulativeAlphas: abar, eps: guidedEps(w))
                let pictureSetting = w == 15 && n == 8 && seed == seeds.first
                if pictureSetting { pictures["2000-step reference"] = reference }
                for (name, sampler) in methods {
                    let x = sampler.sample(start, timesteps: timesteps(n), cumulativeAlphas: abar, eps: guidedEps(w))
                    perMethod[name, default: []].append(GaussianMixtureDenoiser.rootMeanSquareDistance(x, reference))
                    if pictureSetting && pictured.contains(name) { pictures[name] = x }
                }
            }
            rmse["w=\(w),N=\(n)"] = perMethod.mapValues { Comparison.median($0) }
        }
        func value(_ key: String, _ method: String) -> Double? { partial ? nil : rmse[key]?[method] }
        var checks: [Check] = []
        for n in [8, 10] {
            let key = "w=15.0,N=\(n)"
            checks.append(
                Check(
                    name: "w 15, N \(n): HB 3.8 / PLMS-4",
                    measured: value(key, "HB 3.8").flatMap { h in value(key, "PLMS-4").map { h / $0 } },
                    relation: .atMost, threshold: 0.5, source: "spec 5 (1)"))
        }
        for n in [6, 8, 10] {
            let key = "w=15.0,N=\(n)"
            checks.append(
                Check(
                    name: "w 15, N \(n): GHVB 3.8 / PLMS-4 (< 1)",
                    measured: value(key, "GHVB 3.8").flatMap { g in value(key, "PLMS-4").map { g / $0 } },
                    relation: .atMost, threshold: 0.999_999, source: "spec 5 (2)"))
        }
        let key8 = "w=15.0,N=8"
        checks.append(
            Check(
                name: "w 15, N 8: HB 3.6 / HB 3.8",
                measured: value(key8, "HB 3.6").flatMap { a in value(key8, "HB 3.8").map { a / $0 } },
                relation: .atMost, threshold: 1, source: "spec 5 (3)"))
        checks.append(
            Check(
                name: "w 15, N 8: HB 3.8 / PLMS-4",
                measured: value(key8, "HB 3.8").flatMap { a in value(key8, "PLMS-4").map { a / $0 } },
                relation: .atMost, threshold: 1, source: "spec 5 (3)"))
        checks.append(
            Check(
                name: "w 1, N 20: worst RMSE over methods", measured: partial ? nil : rmse["w=1.0,N=20"]?.values.max(),
                relation: .atMost, threshold: 0.2, source: "spec 5 (4)"))
        let rows = try settings.flatMap { s -> [[String]] in
            let key = "w=\(s.w),N=\(s.n)"
            var rows: [[String]] = []
            if let r = rmse[key] {
                rows.append(["\(s.w)", "\(s.n)", "Inertia"] + methods.map { String(format: "%.3g", r[$0.0] ?? .nan) })
            }
            if writer.keys.contains(key) {
                let row = try writer.child(key)
                rows.append(
                    ["\(s.w)", "\(s.n)", "spec writer"]
                        + (try methods.map {
                            try writerNames[$0.0].map { String(format: "%.3g", try row.number($0)) } ?? "-"
                        }))
            }
            return rows
        }
        let table = Table(
            title:
                "RMSE to a 2000-step DDIM reference, guided 8-mode mixture, \(samples) samples, median over \(seeds.count) seed(s)",
            header: ["w", "N", "run"] + methods.map(\.0), rows: rows)
        let notes = [
            "The spec writer's numpy medians (its own noise draws) are the table's \"spec writer\" rows. In this toy plain DDIM and low orders are already strong: it tests divergence suppression, not a win over every solver."
        ]
        // RMSE against N per method, a panel per guidance scale; then the samples themselves.
        let guidances = Array(Set(settings.map(\.w))).sorted().filter { w in settings.filter { $0.w == w }.count > 1 }
        var figures: [Figure] = [
            .row(
                title: "RMSE to the reference against the number of steps N",
                panels: guidances.map { w in
                    let ns = settings.filter { $0.w == w }.map(\.n).sorted()
                    return .chart(
                        Plot(
                            title: "guidance w = \(Plot.label(w))", xLabel: "steps N", yLabel: "RMSE",
                            series: methods.map { method in
                                Series(
                                    name: method.0, x: ns.map(Double.init),
                                    y: ns.map { rmse["w=\(w),N=\($0)"]?[method.0] ?? .nan })
                            }, logY: true))
                })
        ]
        if let reference = pictures["2000-step reference"] {
            // A square frame around the reference, three times its larger span: samples beyond
            // it are counted in the panel's title.
            let xs = (0..<reference.rows).map { reference[$0, 0] }, ys = (0..<reference.rows).map { reference[$0, 1] }
            let half = 1.5 * Swift.max(xs.max()! - xs.min()!, ys.max()! - ys.min()!)
            let (cx, cy) = ((xs.max()! + xs.min()!) / 2, (ys.max()! + ys.min()!) / 2)
            let xRange = (cx - half)...(cx + half), yRange = (cy - half)...(cy + half)
            figures.append(
                .row(
                    title: "Samples at w = 15, N = 8 (seed \(seeds[0])) over the 2000-step reference",
                    panels: pictured.compactMap { name in
                        pictures[name].map { x in
                            let outside = (0..<x.rows).filter {
                                !xRange.contains(x[$0, 0]) || !yRange.contains(x[$0, 1])
                            }
                            return .chart(
                                Plot(
                                    title: "\(name) (\(outside.count)/\(x.rows) off frame)", xLabel: "x1",
                                    yLabel: "x2",
                                    series: [
                                        Series(name: "reference", points: reference),
                                        Series(name: "sampler", points: x),
                                    ], logY: false, xRange: xRange, yRange: yRange))
                        }
                    }))
        }
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: [table], figures: figures, notes: notes,
            isPartial: partial)
    }
}
