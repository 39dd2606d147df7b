import Foundation
import InertiaGenerative
import InertiaTensor

/// `shared/papers/meanflow-policy.md`, section 5 (MeanFlow, Geng et al., arXiv 2505.13447, as MP1
/// uses it, Sheng et al., arXiv 2507.10543): on the conditional four-mode action toy, one MeanFlow
/// evaluation is far better than one flow-matching Euler step and about as good as five, two about
/// as good as ten; MP1's target and the dispersive loss are reported, not gated.
public struct MeanFlowPolicyReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5 (1)", "largest per-seed SW1(MeanFlow, 1 NFE) / SW1(FM, 1 NFE)", .atMost, 0.25),
        SpecCheck("spec 5 (2)", "largest per-seed SW1(MeanFlow, 1 NFE) / SW1(FM, 5 NFE)", .atMost, 1.5),
        SpecCheck("spec 5 (2)", "largest per-seed SW1(MeanFlow, 2 NFE) / SW1(FM, 10 NFE)", .atMost, 1.25),
        SpecCheck("spec 5 (3)", "smallest per-seed MeanFlow 1-NFE coverage", .atLeast, 1 - 1e-9),
        SpecCheck("spec 5 (3)", "smallest per-seed MeanFlow 1-NFE precision", .atLeast, 0.6),
        SpecCheck("spec 5 (3)", "largest per-seed FM 1-NFE precision (< 0.05)", .atMost, 0.05 - 1e-9),
        SpecCheck("spec 5 (4)", "non-finite training steps and samples (MeanFlow)", .atMost, 0),
        SpecCheck("spec 5 (4)", "largest per-seed MeanFlow loss, last tenth / first tenth (< 1)", .atMost, 1 - 1e-9),
    ]

    public init() {}

    public let slug = "meanflow-policy"
    public let paper =
        "Sheng, Wang, Li & Liu, \"MP1: MeanFlow Tames Policy Learning in 1-step for Robotic Manipulation\", arXiv 2507.10543 (AAAI 2026), on Geng et al., \"Mean Flows for One-step Generative Modeling\", arXiv 2505.13447"
    public let claim = """
        On the conditional four-mode action toy, MeanFlow's 1-NFE sliced W1 is at most 0.25x flow matching's 1-NFE on \
        every seed, at most 1.5x flow matching's 5-NFE, and its 2-NFE at most 1.25x flow matching's 10-NFE; 1-NFE \
        MeanFlow covers every mode with precision >= 0.6 while 1-NFE flow matching averages the modes (precision < \
        0.05); training is finite and the loss falls.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1] }

    /// One configuration's runs: SW1, precision and coverage per NFE.
    struct Metrics {
        var sw1: [Int: Double] = [:], precision: [Int: Double] = [:], coverage: [Int: Double] = [:]
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        let fixture = try FixtureReader("meanflow-policy", "toy_results.json")
        guard let reference = fixture.object["results"] as? [String: [String: [String: Double]]] else {
            throw SpecFixture.Problem(file: fixture.file, detail: "no results")
        }
        let fullSteps =
            reference.keys.compactMap { key -> Int? in
                let parts = key.split(separator: "_")
                return parts.count == 5 && parts[0] == "fm" ? Int(parts[3]) : nil
            }.max() ?? 0
        guard fullSteps > 0 else {
            throw SpecFixture.Problem(file: fixture.file, detail: "no flow-matching run names its steps")
        }
        let quick = budget == .quick
        let steps = quick ? 200 : fullSteps
        let hidden = quick ? [64, 64] : [128, 128, 128]
        let states = (0..<16).map { -0.95 + 1.9 * Double($0) / 15 }
        let perState = quick ? 300 : 2000
        let toy = MultimodalActions()
        let configurations: [(key: String, objective: MeanFlowModel.Objective, nfe: [Int])] = [
            ("fm_wnone_disp0.0", .flowMatching, [1, 2, 5, 10, 50]),
            ("mf_wnone_disp0.0", .meanFlow(target: .plain, flowRatio: 0.5, dispersiveWeight: 0), [1, 2, 5]),
            ("mf_w2.0_disp0.0", .meanFlow(target: .mp1(w: 2), flowRatio: 0.5, dispersiveWeight: 0), [1]),
            ("mf_wnone_disp0.5", .meanFlow(target: .plain, flowRatio: 0.5, dispersiveWeight: 0.5), [1]),
        ]
        var metrics: [String: [Metrics]] = [:]
        var nonFinite = 0
        var lossRatios: [Double] = []
        var firstSamples: [String: Matrix64] = [:]
        var partial = false
        var truthStream = PhiloxGenerator(seed: 1000)
        let truths = states.map { toy.sample(perState, state: $0, using: &truthStream) }
        for seed in seeds where !partial {
            var dataStream = PhiloxGenerator(seed: 100 &+ seed)
            let (actions, conditions) = toy.sample(200_000, using: &dataStream)
            for configuration in configurations {
                if shouldStop() {
                    partial = true
                    break
                }
                progress("\(configuration.objective.name), seed \(seed): \(steps) steps")
                var rng = PhiloxGenerator(seed: seed)
                let model = MeanFlowModel(
                    dimension: 2, conditionDimension: 1, hidden: hidden, objective: configuration.objective,
                    using: &rng)
                var losses: [Float] = []
                var stopped = false
                let skipped = try model.fit(points: actions, conditions: conditions, steps: steps, using: &rng) {
                    losses.append($1)
                    stopped = shouldStop()
                    return !stopped
                }
                if stopped {
                    partial = true
                    break
                }
                var result = Metrics()
                var noiseStream = PhiloxGenerator(seed: 2000 &+ seed)
                let noises = states.map { _ in
                    Matrix64(
                        rows: perState, columns: 2, scalars: (0..<(2 * perState)).map { _ in noiseStream.nextNormal() })
                }
                for nfe in configuration.nfe {
                    var sw1 = 0.0, precision = 0.0, coverage = 0.0
                    for (i, s) in states.enumerated() {
                        let x = model.sample(
                            noises[i], condition: Matrix64(rows: perState, columns: 1, repeating: s), steps: nfe)
                        if !x.scalars.allSatisfy(\.isFinite) { nonFinite += 1 }
                        var directions = PhiloxGenerator(seed: 7)
                        sw1 += slicedWasserstein(x, truths[i], directions: 256, order: 1, using: &directions)
                        precision += toy.precision(x, state: s)
                        coverage += toy.coverage(x, state: s)
                        if nfe == 1 && seed == seeds[0] && i == 12 { firstSamples[configuration.key] = x }
                    }
                    let n = Double(states.count)
                    (result.sw1[nfe], result.precision[nfe], result.coverage[nfe]) = (
                        sw1 / n, precision / n, coverage / n
                    )
                }
                metrics[configuration.key, default: []].append(result)
                if case .meanFlow = configuration.objective {
                    nonFinite += skipped + losses.filter { !$0.isFinite }.count
                    if configuration.key == "mf_wnone_disp0.0" {
                        let tenth = Swift.max(losses.count / 10, 1)
                        let first = losses.prefix(tenth).reduce(0, +), last = losses.suffix(tenth).reduce(0, +)
                        lossRatios.append(Double(last / first))
                    }
                }
            }
        }
        let complete = !partial && configurations.allSatisfy { (metrics[$0.key]?.count ?? 0) == seeds.count }
        func perSeed(_ key: String, _ pick: (Metrics) -> Double?) -> [Double]? {
            guard complete, let runs = metrics[key] else { return nil }
            let values = runs.compactMap(pick)
            return values.count == runs.count && values.allSatisfy(\.isFinite) ? values : nil
        }
        func ratios(_ a: (String, Int), _ b: (String, Int)) -> Double? {
            guard let x = perSeed(a.0, { $0.sw1[a.1] }), let y = perSeed(b.0, { $0.sw1[b.1] }) else { return nil }
            return zip(x, y).map { $0 / $1 }.max()
        }
        var checks: [Check] = []
        func check(_ name: String, _ value: Double?, _ relation: Check.Relation, _ threshold: Double, _ source: String)
        {
            checks.append(
                Check(
                    name: name, measured: value, relation: relation, threshold: threshold, source: source,
                    missingBecause: "not measured: a run was stopped or gave non-finite samples"))
        }
        let mf = "mf_wnone_disp0.0", fm = "fm_wnone_disp0.0"
        check(
            "largest per-seed SW1(MeanFlow, 1 NFE) / SW1(FM, 1 NFE)", ratios((mf, 1), (fm, 1)), .atMost, 0.25,
            "spec 5 (1)")
        check(
            "largest per-seed SW1(MeanFlow, 1 NFE) / SW1(FM, 5 NFE)", ratios((mf, 1), (fm, 5)), .atMost, 1.5,
            "spec 5 (2)")
        check(
            "largest per-seed SW1(MeanFlow, 2 NFE) / SW1(FM, 10 NFE)", ratios((mf, 2), (fm, 10)), .atMost, 1.25,
            "spec 5 (2)")
        check(
            "smallest per-seed MeanFlow 1-NFE coverage", perSeed(mf, { $0.coverage[1] })?.min(), .atLeast, 1 - 1e-9,
            "spec 5 (3)")
        check(
            "smallest per-seed MeanFlow 1-NFE precision", perSeed(mf, { $0.precision[1] })?.min(), .atLeast, 0.6,
            "spec 5 (3)")
        check(
            "largest per-seed FM 1-NFE precision (< 0.05)", perSeed(fm, { $0.precision[1] })?.max(), .atMost,
            0.05 - 1e-9, "spec 5 (3)")
        check(
            "non-finite training steps and samples (MeanFlow)", complete ? Double(nonFinite) : nil, .atMost, 0,
            "spec 5 (4)")
        check(
            "largest per-seed MeanFlow loss, last tenth / first tenth (< 1)",
            complete && lossRatios.count == seeds.count ? lossRatios.max() : nil, .atMost, 1 - 1e-9, "spec 5 (4)")

        func cell(_ value: Double?) -> String { value.map { $0.isFinite ? String(format: "%.3f", $0) : "NaN" } ?? "-" }
        var rows: [[String]] = []
        for configuration in configurations {
            for (i, run) in (metrics[configuration.key] ?? []).enumerated() {
                for nfe in configuration.nfe {
                    let theirs = reference["\(configuration.key)_\(fullSteps)_\(seeds[i])"]?["\(nfe)"]
                    rows.append(
                        [
                            configuration.objective.name, "\(nfe)", "\(seeds[i])", cell(run.sw1[nfe]),
                            cell(theirs?["swd"]), cell(run.precision[nfe]), cell(theirs?["precision"]),
                            cell(run.coverage[nfe]), cell(theirs?["coverage"]),
                        ])
                }
            }
        }
        let tables = [
            Table(
                title:
                    "Averages over 16 states in [-0.95, 0.95], \(perState) samples each: sliced W1 (256 directions), precision (within 3 std of a mode), coverage (modes with > 10 % of the samples); spec writer (JAX) beside",
                header: [
                    "method", "NFE", "seed", "SW1", "SW1 spec writer", "precision", "precision spec writer", "coverage",
                    "coverage spec writer",
                ], rows: rows)
        ]
        var series: [Series] = []
        for configuration in configurations {
            guard let runs = metrics[configuration.key], !runs.isEmpty else { continue }
            let points = configuration.nfe.compactMap { nfe -> (Double, Double)? in
                let values = runs.compactMap { $0.sw1[nfe] }
                return values.isEmpty ? nil : (Double(nfe), Comparison.median(values))
            }
            series.append(Series(name: configuration.objective.name, x: points.map(\.0), y: points.map(\.1)))
        }
        var figures: [Figure] = [
            .chart(
                Plot(
                    title: "Sliced W1 to the true actions against network evaluations (median over seeds)",
                    xLabel: "NFE", yLabel: "SW1", series: series, logY: true, logX: true))
        ]
        let panels = configurations.compactMap { configuration -> Figure? in
            guard let x = firstSamples[configuration.key], x.scalars.allSatisfy(\.isFinite) else { return nil }
            return .chart(
                Plot(
                    title: "\(configuration.objective.name), 1 NFE", xLabel: "a1", yLabel: "a2",
                    series: [Series(name: "samples", points: x)], logY: false, xRange: -1.6...1.6, yRange: -1.6...1.6))
        }
        if !panels.isEmpty {
            figures.append(
                .row(
                    title: "One-evaluation samples at state \(String(format: "%.2f", states[12])) (seed \(seeds[0]))",
                    panels: panels))
        }
        let notes = [
            "Data: state s ~ U[-1, 1], action from four Gaussians (std 0.08) at angles (pi/2) s + k pi/2; 200000 training pairs per seed. Network: (z, t, r, s) -> \(hidden.count) x \(hidden[0]) GELU -> 2, zero-initialised output; AdamW (weight decay 1e-6) lr 1e-3, 200 warm-up steps, cosine to 1e-5, clipping at norm 1, batch 512, \(steps) steps\(quick ? " (quick budget; the fixture's \(fullSteps) steps and 3 x 128 at full)" : "").",
            "MeanFlow: t, r = max, min of two sigmoid(N(-0.4, 1)), half of each batch with r = t, target v - (t - r) du/dt with du/dt the forward-mode JVP along (v, 1, 0), stop-gradient, adaptive L2 (gamma 0.5, c 1e-3). Flow matching: the same network with r = t, MSE, Euler steps. MP1 target: v_hat = 2 v - u(z, t, t | s) (MP1's code; not guidance). Dispersive: weight 0.5 on the first hidden layer's features. MeanFlow CFG (MeanFlowModel.Target.guided) is built but not part of this toy's runs.",
            "Not run: the fixture's 200-demonstration variants.",
        ]
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: figures, notes: notes,
            isPartial: partial)
    }
}
