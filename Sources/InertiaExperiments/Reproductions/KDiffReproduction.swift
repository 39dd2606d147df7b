import Foundation
import InertiaGenerative
import InertiaTensor

/// `shared/papers/k-diff.md`, section 5 (Jin & Wang, arXiv 2601.21419, 2026, in the spec's
/// reconstruction from the abstract): on 2-D ring data embedded in D dimensions, x-prediction keeps
/// working as D grows past the network's width while v- and ε-prediction fail; a learned k falls
/// towards x-prediction with D and recovers most of its quality.
public struct KDiffReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5 (1)", "largest D: SW1(x) / SW1(v)", .atMost, 0.25),
        SpecCheck("spec 5 (1)", "largest D: SW1(eps) - max(SW1(x), SW1(v)) (eps the worst, > 0)", .atLeast, 1e-9),
        SpecCheck("spec 5 (1)", "D = 2: largest / smallest SW1 of x, v and eps", .atMost, 1.5),
        SpecCheck("spec 5 (2)", "learned k (kappa-speed 10): largest change k(next D) - k(D) (< 0)", .atMost, -1e-9),
        SpecCheck("spec 5 (3)", "D > 2: largest SW1(k-Diff) / SW1(v)", .atMost, 0.4),
        SpecCheck("spec 5 (3)", "D > 2: largest SW1(k-Diff) / SW1(x)", .atMost, 2.5),
        SpecCheck("spec 5 (4)", "D = 2: SW1(k-Diff) / best fixed target's SW1 - 1", .atMost, 0.1),
    ]

    public init() {}

    public let slug = "k-diff"
    public let paper =
        "Jin & Wang, \"Revisiting Diffusion Model Predictions Through Dimensionality\", arXiv 2601.21419 (2026) [Inertia reconstruction: the paper's definitions were not available]"
    public let claim = """
        With the target family y_k = x - k eps trained in velocity space on an 8-mode ring embedded in D dimensions: at \
        D = 512 x-prediction's sliced W1 is at most 0.25x v-prediction's and eps is the worst, at D = 2 the three are within \
        1.5x; a learned k falls with D; k-Diff is within 0.4x of v and 2.5x of x at D = 32 and 512 and within 10 % of the \
        best fixed target at D = 2.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { [0] }

    /// A fixture run's configuration: its target and, for k-Diff, its kappa-speed.
    struct Configuration: Hashable {
        var target: String
        var speed: Double

        var name: String { target == "k" ? "k-Diff (speed \(Plot.label(speed)))" : "\(target)-pred" }

        func modelTarget() -> KDiffModel.Target {
            switch target {
            case "x": return .fixed(.data)
            case "v": return .fixed(.velocity)
            case "eps": return .noise
            default: return .learned(speed: speed)
            }
        }
    }

    /// The fixture's runs: per (D, configuration) the spec writer's seed-0 SW1, off-manifold norm and k.
    struct Reference {
        var dimensions: [Int]
        var configurations: [Configuration]
        var steps: Int, modes: Int
        var results: [String: (sw1: Double, offManifold: Double, k: Double)]

        init() throws {
            let fixture = try FixtureReader("k-diff", "toy_results.json")
            guard let text = fixture.object["description"] as? String,
                let steps = SpecFixture.writtenNumber("steps", in: text),
                let modes = SpecFixture.writtenNumber("Gaussian ring", in: text)
            else {
                throw SpecFixture.Problem(file: fixture.file, detail: "the description lacks the steps or the ring")
            }
            self.steps = Int(steps)
            self.modes = Int(modes)
            guard let runs = fixture.object["runs"] as? [[String: Any]], !runs.isEmpty else {
                throw SpecFixture.Problem(file: fixture.file, detail: "no runs")
            }
            var dimensions = Set<Int>(), configurations: [Configuration] = []
            results = [:]
            for object in runs {
                let run = FixtureReader(file: fixture.file + " runs", object: object)
                guard let target = object["target"] as? String, ["x", "v", "eps", "k"].contains(target) else {
                    throw SpecFixture.Problem(file: run.file, detail: "a run's target is not x, v, eps or k")
                }
                let d = Int(try run.number("D"))
                let configuration = Configuration(
                    target: target, speed: target == "k" ? ((try? run.number("kscale")) ?? 1) : 1)
                dimensions.insert(d)
                if !configurations.contains(configuration) { configurations.append(configuration) }
                guard try run.number("seed") == 0 else { continue }
                results[Self.key(d, configuration)] = (
                    try run.number("swd"), try run.number("offmanifold"), try run.number("k_final")
                )
            }
            self.dimensions = dimensions.sorted()
            let order = ["x", "v", "eps", "k"]
            self.configurations = configurations.sorted {
                (order.firstIndex(of: $0.target)!, $0.speed) < (order.firstIndex(of: $1.target)!, $1.speed)
            }
        }

        static func key(_ d: Int, _ configuration: Configuration) -> String {
            "\(d) \(configuration.target) \(configuration.speed)"
        }
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        let reference = try Reference()
        let quick = budget == .quick
        let steps = quick ? 300 : reference.steps, samples = quick ? 1000 : 4000, eulerSteps = 50
        // Quick: the two smallest dimensions and one k-Diff speed (the spec's 10).
        let dimensions = quick ? Array(reference.dimensions.prefix(2)) : reference.dimensions
        let configurations =
            quick ? reference.configurations.filter { $0.target != "k" || $0.speed == 10 } : reference.configurations
        let ring = GaussianMixtureDenoiser.ring(count: reference.modes, radius: 2, standardDeviation: 0.1)
        typealias Run = (sw1: Double, offManifold: Double, k: Double?, latent: Matrix64)
        var runs: [String: [Run]] = [:]
        var partial = false
        for d in dimensions {
            var embeddingStream = PhiloxGenerator(seed: UInt64(d))
            let embedding = Matrix64.randomOrthonormalColumns(rows: d, columns: 2, using: &embeddingStream)
            for seed in seeds where !partial {
                var data = PhiloxGenerator(seed: 100 &+ seed)
                let training = ring.sample(20_000, using: &data) * embedding.transposed
                let truth = ring.sample(samples, using: &data)
                for configuration in configurations {
                    if shouldStop() {
                        partial = true
                        break
                    }
                    progress("D = \(d), \(configuration.name), seed \(seed): \(steps) steps")
                    var rng = PhiloxGenerator(seed: seed)
                    let model = KDiffModel(dimension: d, target: configuration.modelTarget(), using: &rng)
                    var stopped = false
                    try model.fit(points: training, steps: steps, using: &rng) { _, _ in
                        stopped = shouldStop()
                        return !stopped
                    }
                    if stopped {
                        partial = true
                        break
                    }
                    let noise = Matrix64(
                        rows: samples, columns: d, scalars: (0..<(samples * d)).map { _ in rng.nextNormal() })
                    let x = model.sample(noise, steps: eulerSteps)
                    let latent = x * embedding, back = latent * embedding.transposed
                    let offManifold =
                        (0..<x.rows).reduce(0.0) { total, i in
                            total
                                + (0..<d).reduce(0.0) { $0 + (x[i, $1] - back[i, $1]) * (x[i, $1] - back[i, $1]) }
                                .squareRoot()
                        } / Double(x.rows)
                    var directions = PhiloxGenerator(seed: 7)
                    let sw1 = slicedWasserstein(latent, truth, order: 1, using: &directions)
                    runs[Reference.key(d, configuration), default: []].append((sw1, offManifold, model.k, latent))
                }
            }
            if partial { break }
        }
        // Per setting, the median over seeds (the first seed's samples for the pictures).
        let results = runs.mapValues { list -> Run in
            (
                Comparison.median(list.map(\.sw1)), Comparison.median(list.map(\.offManifold)),
                list.contains { $0.k == nil } ? nil : Comparison.median(list.compactMap(\.k)), list[0].latent
            )
        }

        func sw1(_ d: Int, _ target: String, speed: Double = 1) -> Double? {
            results[Reference.key(d, Configuration(target: target, speed: speed))]?.sw1
        }
        let smallest = reference.dimensions.first ?? 2, largest = reference.dimensions.last ?? 512
        var checks: [Check] = []
        let skipped = quick ? "the quick budget skips D = \(largest) (full: every D of the fixture)" : nil
        func check(_ name: String, _ value: Double?, _ relation: Check.Relation, _ threshold: Double, _ source: String)
        {
            checks.append(
                Check(
                    name: name, measured: value, relation: relation, threshold: threshold, source: source,
                    missingBecause: skipped ?? "not measured: a run was stopped"))
        }
        let x = sw1(largest, "x"), v = sw1(largest, "v"), eps = sw1(largest, "eps")
        check("largest D: SW1(x) / SW1(v)", x.flatMap { a in v.map { a / $0 } }, .atMost, 0.25, "spec 5 (1)")
        check(
            "largest D: SW1(eps) - max(SW1(x), SW1(v)) (eps the worst, > 0)",
            eps.flatMap { e in x.flatMap { a in v.map { e - Swift.max(a, $0) } } }, .atLeast, 1e-9, "spec 5 (1)")
        let fixedSmall = ["x", "v", "eps"].compactMap { sw1(smallest, $0) }
        check(
            "D = \(smallest): largest / smallest SW1 of x, v and eps",
            fixedSmall.count == 3 ? fixedSmall.max()! / fixedSmall.min()! : nil, .atMost, 1.5, "spec 5 (1)")
        let learned = dimensions.compactMap { d in
            results[Reference.key(d, Configuration(target: "k", speed: 10))]?.k.map { (d, $0) }
        }
        let complete = !partial && learned.count == dimensions.count && learned.count >= 2
        check(
            "learned k (kappa-speed 10): largest change k(next D) - k(D) (< 0)",
            complete ? zip(learned.dropFirst(), learned).map { $0.1 - $1.1 }.max() : nil, .atMost, -1e-9,
            "spec 5 (2)")
        let large = reference.dimensions.filter { $0 > smallest }
        let againstV = large.map { d in sw1(d, "k", speed: 10).flatMap { k in sw1(d, "v").map { k / $0 } } }
        let againstX = large.map { d in sw1(d, "k", speed: 10).flatMap { k in sw1(d, "x").map { k / $0 } } }
        check(
            "D > \(smallest): largest SW1(k-Diff) / SW1(v)",
            againstV.contains(nil) ? nil : againstV.compactMap { $0 }.max(), .atMost, 0.4, "spec 5 (3)")
        check(
            "D > \(smallest): largest SW1(k-Diff) / SW1(x)",
            againstX.contains(nil) ? nil : againstX.compactMap { $0 }.max(), .atMost, 2.5, "spec 5 (3)")
        check(
            "D = \(smallest): SW1(k-Diff) / best fixed target's SW1 - 1",
            sw1(smallest, "k", speed: 10).flatMap { k in fixedSmall.count == 3 ? k / fixedSmall.min()! - 1 : nil },
            .atMost, 0.1, "spec 5 (4)")

        var rows: [[String]] = []
        for d in reference.dimensions {
            for configuration in configurations {
                let key = Reference.key(d, configuration)
                let ours = results[key], theirs = reference.results[key]
                guard ours != nil || theirs != nil else { continue }
                func cell(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }
                rows.append(
                    [
                        "\(d)", configuration.name, cell(ours?.sw1), cell(theirs?.sw1), cell(ours?.offManifold),
                        cell(theirs?.offManifold),
                        configuration.target == "k" ? cell(ours?.k) : "-",
                        configuration.target == "k" ? cell(theirs?.k) : "-",
                    ])
            }
        }
        let tables = [
            Table(
                title:
                    "Sliced W1 of P^T x to the 2-D data (\(samples) samples, \(eulerSteps) Euler steps), off-manifold norm and learned k: medians over seeds \(seeds.map(String.init).joined(separator: ", ")) (spec writer: seed 0)",
                header: [
                    "D", "target", "SW1", "SW1 spec writer (JAX)", "off-manifold", "off-manifold spec writer", "k",
                    "k spec writer",
                ], rows: rows)
        ]
        var figures: [Figure] = []
        let swSeries = configurations.compactMap { configuration -> Series? in
            let points = dimensions.compactMap { d in
                results[Reference.key(d, configuration)].map { (Double(d), $0.sw1) }
            }
            guard !points.isEmpty else { return nil }
            return Series(name: configuration.name, x: points.map(\.0), y: points.map(\.1))
        }
        figures.append(
            .row(
                title: "Sample quality and the learned k against the ambient dimension D (intrinsic d = 2)",
                panels: [
                    .chart(
                        Plot(
                            title: "sliced W1 to the data (log)", xLabel: "ambient dimension D", yLabel: "SW1",
                            series: swSeries, logY: true, logX: true)),
                    .chart(
                        Plot(
                            title: "learned k (0: x-prediction, 1: v-prediction)", xLabel: "ambient dimension D",
                            yLabel: "k",
                            series: configurations.filter { $0.target == "k" }.compactMap { configuration in
                                let points = dimensions.compactMap { d in
                                    results[Reference.key(d, configuration)]?.k.map { (Double(d), $0) }
                                }
                                return points.isEmpty
                                    ? nil
                                    : Series(name: configuration.name, x: points.map(\.0), y: points.map(\.1))
                            }, logY: false, logX: true)),
                ], sharesAxes: false))
        if let shown = dimensions.last {
            let panels = configurations.compactMap { configuration -> Figure? in
                guard let run = results[Reference.key(shown, configuration)] else { return nil }
                return .chart(
                    Plot(
                        title: configuration.name, xLabel: "(P^T x)_1", yLabel: "(P^T x)_2",
                        series: [Series(name: "samples", points: run.latent)], logY: false, xRange: -4...4,
                        yRange: -4...4))
            }
            figures.append(.row(title: "Samples at D = \(shown), projected on the data plane", panels: panels))
        }
        let notes = [
            "k-Diff here is the spec's reconstruction (target y_k = x - k eps, v-space loss, k = softplus(speed kappa)): the paper's definitions were not available.",
            "Data: \(reference.modes) Gaussians on a circle of radius 2 (std 0.1) embedded by P, the Q of a Gaussian D x 2 matrix (seed D); 20000 training points. Network: (z, t) -> 4 x 128 GELU -> D, zero-initialised output; Adam lr 1e-3 cosine to 5e-5, gradients clipped to norm 1, batch 256, \(steps) steps\(quick ? " (quick budget; \(reference.steps) at full)" : ""); t ~ sigmoid(N(-0.8, 0.8)), divisions by 1 - t and t clipped at 0.05.",
            "Sliced W1 over 200 directions between P^T x of \(samples) samples and \(samples) fresh 2-D data points; off-manifold norm mean |x - P P^T x|.",
        ]
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: figures, notes: notes,
            isPartial: partial)
    }
}
