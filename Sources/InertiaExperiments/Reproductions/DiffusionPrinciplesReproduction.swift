import Foundation
import InertiaData
import InertiaGenerative
import InertiaNN
import InertiaOptim
import InertiaTensor

/// `shared/papers/diffusion-principles.md`, section 10.1 (Lai, Song, Kim, Mitsufuji & Ermon, "The
/// Principles of Diffusion Models", arXiv 2510.21890): with an exact denoiser, the probability-flow
/// samplers converge at their orders (Euler and DDIM first, Heun and DPM-Solver++(2M) second).
public struct DiffusionPrinciplesReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 10.1", "first-order samplers: error slope over NFE (>= -1.15)", .atLeast, -1.15),
        SpecCheck("spec 10.1", "first-order samplers: error slope over NFE (<= -0.85)", .atMost, -0.85),
        SpecCheck("spec 10.1", "second-order samplers: error slope over NFE", .atMost, -1.7),
        SpecCheck("spec 10.1", "std 0.25: DPM++(2M) / DDIM error at NFE 100", .atMost, 0.25),
        SpecCheck("spec 10.2", "FM: worst SW2 at 50 NFE (<= 3 floor + 0.05)", .atMost, nil),
        SpecCheck("spec 10.2", "FM: DPM++(2M) / Euler SW2 at 10 NFE", .atMost, 0.999_999),
        SpecCheck("spec 10.2", "FM: class-0 fraction at w = 3", .atLeast, 0.98),
        SpecCheck("spec 10.2", "FM: class-0 fraction w = 3 minus w = 1", .atLeast, 0),
    ]

    public init() {}

    public let slug = "diffusion-principles"
    public let paper =
        "Lai, Song, Kim, Mitsufuji & Ermon, \"The Principles of Diffusion Models\", arXiv 2510.21890 (2025)"
    public let claim = """
        On an 8-mode ring mixture with its exact denoiser (vp_cosine, lambda-uniform grid), Euler and DDIM errors fall like \
        1/NFE (slopes in [-1.15, -0.85]) and Heun and DPM-Solver++(2M) like 1/NFE^2 (slopes <= -1.7), and DPM++(2M) at NFE 100 \
        is at most 0.25x DDIM's error.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { [0] }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        let samples = budget == .quick ? 100 : 500
        var checks: [Check] = [], rows: [[String]] = [], plots: [Plot] = [], nfeHeader: [String] = []
        var partial = false
        // The mixtures, NFEs and the spec writer's float64 errors of `diffusion-principles/solver_order.json`.
        let order = try FixtureReader("diffusion-principles", "solver_order.json").child("results")
        let samplers: [(String, String, DiffusionSampler.Method)] = [
            ("Euler", "euler", .euler), ("DDIM", "ddim", .ddim), ("Heun", "heun", .heun),
            ("DPM-Solver++(2M)", "dpmpp2m", .dpmpp2m),
        ]
        for key in order.keys {
            guard let std = key.components(separatedBy: "_sd").last.flatMap(Double.init) else {
                throw SpecFixture.Problem(file: order.file, detail: "cannot read the mixture's std from '\(key)'")
            }
            let writer = try order.child(key).child("err")
            let nfe = writer.keys.compactMap(Int.init).sorted()
            guard nfe.count == writer.keys.count, nfe.contains(100) else {
                throw SpecFixture.Problem(file: writer.file, detail: "expects integer NFE keys including 100")
            }
            nfeHeader = nfe.map { "NFE \($0)" }
            if shouldStop() {
                partial = true
                break
            }
            let mixture = GaussianMixtureDenoiser.ring(count: 8, radius: 2, standardDeviation: std)
            let schedule = DiffusionSchedule.vpCosineDefault
            let model: Denoiser = { x, t in mixture.posterior(x, t: t, schedule: schedule).data }
            var rng = PhiloxGenerator(seed: seeds.first ?? 0)
            let start = Matrix64(rows: samples, columns: 2, scalars: (0..<(2 * samples)).map { _ in rng.nextNormal() })
            progress("std \(std): reference (DPM-Solver++(2M), 6000 steps)")
            let reference = DiffusionSampler.sample(
                .dpmpp2m, start, evaluations: 6000, schedule: schedule, model: model, using: &rng)
            func rms(_ x: Matrix64) -> Double { GaussianMixtureDenoiser.rootMeanSquareDistance(x, reference) }
            var errors: [String: [Double]] = [:], series: [Series] = []
            for (name, writerName, method) in samplers {
                progress("std \(std): \(name)")
                errors[name] = nfe.map {
                    rms(
                        DiffusionSampler.sample(
                            method, start, evaluations: $0, schedule: schedule, model: model, using: &rng))
                }
                series.append(Series(name: name, x: nfe.map(Double.init), y: errors[name]!))
                let e = errors[name]!
                let slope = DiffusionPrinciplesReproduction.logLogSlope(
                    zip(nfe, e).filter { $0.0 >= 100 }.map { (Double($0.0), $0.1) })
                rows.append(
                    [String(format: "%g", std), name] + e.map { String(format: "%.2e", $0) } + [
                        String(format: "%.2f", slope)
                    ])
                let expected = try nfe.map { try writer.child(String($0)).number(writerName) }
                let expectedSlope = DiffusionPrinciplesReproduction.logLogSlope(
                    zip(nfe, expected).filter { $0.0 >= 100 }.map { (Double($0.0), $0.1) })
                rows.append(
                    [String(format: "%g", std), "\(name), spec writer (float64)"]
                        + expected.map { String(format: "%.2e", $0) } + [String(format: "%.2f", expectedSlope)])
                let firstOrder = name == "Euler" || name == "DDIM"
                if firstOrder {
                    checks.append(
                        Check(
                            name: "std \(std): \(name) slope over NFE 100-400 (>= -1.15)", measured: slope,
                            relation: .atLeast, threshold: -1.15,
                            source: "spec 10.1"))
                    checks.append(
                        Check(
                            name: "std \(std): \(name) slope over NFE 100-400 (<= -0.85)", measured: slope,
                            relation: .atMost, threshold: -0.85,
                            source: "spec 10.1"))
                } else {
                    checks.append(
                        Check(
                            name: "std \(std): \(name) slope over NFE 100-400", measured: slope, relation: .atMost,
                            threshold: -1.7,
                            source: "spec 10.1"))
                }
            }
            if std == 0.25, let dpm = errors["DPM-Solver++(2M)"], let ddim = errors["DDIM"],
                let at100 = nfe.firstIndex(of: 100)
            {
                checks.append(
                    Check(
                        name: "std 0.25: DPM++(2M) / DDIM error at NFE 100", measured: dpm[at100] / ddim[at100],
                        relation: .atMost, threshold: 0.25,
                        source: "spec 10.1"))
            }
            plots.append(
                Plot(
                    title: "RMS error against the reference, std \(std)", xLabel: "NFE", yLabel: "RMS error",
                    series: series))
        }
        var tables = [
            Table(
                title:
                    "8-mode ring mixture (radius 2), vp_cosine, t 0.999 -> 1e-3, lambda-uniform grid, \(samples) samples: RMS error vs NFE",
                header: ["std", "sampler"] + nfeHeader + ["slope over NFE >= 100"], rows: rows)
        ]
        var notes = [
            "The spec writer's float64 errors (`solver_order.json`, its own 500 draws of x_T) are the table's \"spec writer\" rows; their slopes are fitted the same way."
        ]
        if budget == .full && !partial {
            let trained = try Self.trainedMoons(seed: seeds.first ?? 0, shouldStop: shouldStop, progress: progress)
            checks += trained.checks
            tables.append(trained.table)
            notes += trained.notes
            partial = trained.partial
        } else {
            notes.append("Section 10.2 (trained two-moons models) runs with --budget full only.")
        }
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: plots.map(Figure.chart),
            notes: notes,
            isPartial: partial)
    }

    /// The least-squares slope of log(error) against log(NFE) over `points` (spec 10.1 fits it
    /// over NFE 100, 200 and 400).
    static func logLogSlope(_ points: [(nfe: Double, error: Double)]) -> Double {
        let x = points.map { Foundation.log($0.nfe) }, y = points.map { Foundation.log($0.error) }
        let meanX = x.reduce(0, +) / Double(x.count), meanY = y.reduce(0, +) / Double(y.count)
        let covariance = zip(x, y).reduce(0) { $0 + ($1.0 - meanX) * ($1.1 - meanY) }
        let variance = x.reduce(0) { $0 + ($1 - meanX) * ($1 - meanX) }
        return covariance / variance
    }

    /// Section 10.2: a flow-matching velocity model (gated) and an ε-prediction vp_cosine model
    /// (reported) trained on standardized two moons; sliced W2 of 4000 unconditional samples and
    /// classifier-free guidance toward class 0.
    static func trainedMoons(
        seed: UInt64, shouldStop: () -> Bool, progress: (String) -> Void
    ) throws
        -> (checks: [Check], table: Table, notes: [String], partial: Bool)
    {
        let train = Synthetic.moons(count: 20_000, noise: 0.05, seed: 100 + seed)
        let mean = train.inputs.mean(alongAxis: 0),
            std = (train.inputs - mean).squared().mean(alongAxis: 0).squareRoot()
        func standardized(_ d: Dataset) -> Matrix64 { Matrix64((d.inputs - mean) / std) }
        let trainPoints = standardized(train), trainLabels = train.labels
        let heldOut = standardized(Synthetic.moons(count: 4000, noise: 0.05, seed: 200 + seed))
        let heldOut2 = standardized(Synthetic.moons(count: 4000, noise: 0.05, seed: 300 + seed))
        var metricRNG = PhiloxGenerator(seed: 7)
        let floor = slicedWasserstein(heldOut, heldOut2, using: &metricRNG)
        var rows: [[String]] = [], checks: [Check] = []
        var partial = false
        for (name, schedule, prediction, range) in [
            ("FM velocity, linear_fm", DiffusionSchedule.linearFlowDefault, Prediction.velocity, 0.0...1.0),
            ("eps, vp_cosine", DiffusionSchedule.vpCosineDefault, Prediction.epsilon, 1e-5...0.999),
        ] {
            if shouldStop() {
                partial = true
                break
            }
            progress("10.2: training the \(name) model (4000 Adam steps, batch 512)")
            var rng = PhiloxGenerator(seed: 1_000 + seed)
            let network = DenoiserNetwork(dimension: 2, classes: 2, using: &rng)
            let model = DiffusionModel(network: network, schedule: schedule, prediction: prediction)
            let started = DispatchTime.now().uptimeNanoseconds
            try model.fit(points: trainPoints, labels: trainLabels, steps: 4000, timeRange: range, using: &rng)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
            var noise = PhiloxGenerator(seed: 2_000 + seed)
            let start = Matrix64(rows: 4000, columns: 2, scalars: (0..<8000).map { _ in noise.nextNormal() })
            let unconditional = model.denoiser()
            var sw: [String: Double] = [:]
            let methods: [(String, DiffusionSampler.Method)] = [
                ("Euler", .euler), ("Heun", .heun), ("DDIM", .ddim), ("DPM++(2M)", .dpmpp2m),
            ]
            for nfe in [10, 50] {
                for (sampler, method) in methods {
                    let x = DiffusionSampler.sample(
                        method, start, evaluations: nfe, schedule: schedule, model: unconditional, using: &noise)
                    var r = PhiloxGenerator(seed: 7)
                    sw["\(sampler)@\(nfe)"] = slicedWasserstein(x, heldOut, using: &r)
                }
            }
            func classZeroFraction(_ w: Double) -> Double {
                let x = DiffusionSampler.sample(
                    .dpmpp2m, start, evaluations: 50, schedule: schedule, model: model.denoiser(label: 0, guidance: w),
                    using: &noise)
                var zero = 0
                for i in 0..<x.rows {
                    var best = Double.infinity, label = 0
                    for j in stride(from: 0, to: trainPoints.rows, by: 10) {
                        let d =
                            Foundation.pow(x[i, 0] - trainPoints[j, 0], 2)
                            + Foundation.pow(x[i, 1] - trainPoints[j, 1], 2)
                        if d < best {
                            best = d
                            label = trainLabels[j]
                        }
                    }
                    if label == 0 { zero += 1 }
                }
                return Double(zero) / Double(x.rows)
            }
            let cfg1 = classZeroFraction(1), cfg3 = classZeroFraction(3)
            rows.append(
                [name, String(format: "%.1f", seconds)]
                    + ["Euler", "Heun", "DDIM", "DPM++(2M)"].flatMap { s in
                        [10, 50].map { String(format: "%.3f", sw["\(s)@\($0)"]!) }
                    } + [String(format: "%.3f", cfg1), String(format: "%.3f", cfg3)])
            if prediction == .velocity {
                let worst50 = ["Euler", "Heun", "DDIM", "DPM++(2M)"].map { sw["\($0)@50"]! }.max()!
                checks.append(
                    Check(
                        name: "10.2 FM: worst SW2 at 50 NFE (<= 3 floor + 0.05)", measured: worst50, relation: .atMost,
                        threshold: 3 * floor + 0.05, source: "spec 10.2"))
                checks.append(
                    Check(
                        name: "10.2 FM: DPM++(2M) / Euler SW2 at 10 NFE",
                        measured: sw["DPM++(2M)@10"]! / sw["Euler@10"]!, relation: .atMost,
                        threshold: 0.999_999, source: "spec 10.2"))
                checks.append(
                    Check(
                        name: "10.2 FM: class-0 fraction at w = 3", measured: cfg3, relation: .atLeast, threshold: 0.98,
                        source: "spec 10.2"))
                checks.append(
                    Check(
                        name: "10.2 FM: class-0 fraction w = 3 minus w = 1", measured: cfg3 - cfg1, relation: .atLeast,
                        threshold: 0,
                        source: "spec 10.2"))
            }
        }
        // The spec writer's PyTorch run (`diffusion-principles/trained_moons_run.json`), as rows of the same table.
        let writer = try FixtureReader("diffusion-principles", "trained_moons_run.json")
        for (label, key) in [("FM velocity", "fm"), ("eps", "eps")] {
            let run = try writer.child(key)
            let sw = try ["euler", "heun", "ddim", "dpmpp2m"].flatMap { s in
                try ["nfe10", "nfe50"].map { String(format: "%.3f", try run.child($0).number(s)) }
            }
            rows.append(
                ["\(label), spec writer (PyTorch)", String(format: "%.1f", try run.number("train_s"))] + sw + [
                    String(format: "%.3f", try run.number("cfg_w1.0_frac_class0")),
                    String(format: "%.3f", try run.number("cfg_w3.0_frac_class0")),
                ])
        }
        let table = Table(
            title: String(
                format:
                    "10.2: two moons (standardized), 4000 unconditional samples, SW2 (200 directions) to held-out points; floor %.4f (spec writer's %.4f)",
                floor, try writer.number("floor")),
            header: [
                "model", "train s", "Euler 10", "Euler 50", "Heun 10", "Heun 50", "DDIM 10", "DDIM 50", "DPM++ 10",
                "DPM++ 50",
                "class 0 @ w 1", "class 0 @ w 3",
            ], rows: rows)
        let notes = ["The eps model is reported without gating (spec 10.2)."]
        return (checks, table, notes, partial)
    }
}
