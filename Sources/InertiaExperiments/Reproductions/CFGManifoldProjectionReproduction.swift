import Foundation
import InertiaGenerative
import InertiaTensor

/// `shared/papers/cfg-manifold-projection.md`, section 5 (Cai, Liu, Su & Wang, arXiv 2601.21892):
/// with exact velocities of a labelled Gaussian mixture and few Euler steps, projecting the state
/// toward where the conditional and unconditional predictions agree before each guided step
/// tames classifier-free guidance at large scales, at a small price at small ones.
public struct CFGManifoldProjectionReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck("spec 5 (1)", "w 16: SW1 CFG-MP / CFG", .atMost, 0.75),
        SpecCheck("spec 5 (2)", "w 8: SW1 CFG-MP / CFG (< 1)", .atMost, 0.999_999),
        SpecCheck("spec 5 (3)", "w 2: SW1 CFG-MP / CFG", .atMost, 1.25),
        SpecCheck("spec 5 (4)", "SW1 spread over w >= 2 (max / min): CFG-MP / CFG (< 1)", .atMost, 0.999_999),
        SpecCheck("spec 5 (5)", "max over w of |SW1 CFG-MP+ / CFG-MP - 1|", .atMost, 0.15),
    ]

    public init() {}

    public let slug = "cfg-manifold-projection"
    public let paper =
        "Cai, Liu, Su & Wang, \"Improving Classifier-Free Guidance of Flow Matching via Manifold Projection\", arXiv 2601.21892 (2026)"
    public let claim = """
        On the 9-Gaussian ring with exact velocities and 10 Euler steps, the manifold projection (2 fixed-point iterations \
        while t < 0.6) brings CFG's sliced W1 at w = 16 to at most 0.75x, lowers it at w = 8, costs at most 1.25x at w = 2, \
        narrows the spread over w, and CFG-MP+ (Anderson, m = 1) stays within 15 % of CFG-MP.
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1, 2] }

    /// The fixture's sweep: its (N, w) settings, the projection's settings from its description,
    /// and the spec writer's medians `[SW1, off-fraction, mean distance]` per setting and method.
    struct Sweep {
        var settings: [(steps: Int, w: Double)]
        var iterations: Int, threshold: Double, memory: Int, damping: Double
        var reference: [String: [String: [Double]]]

        init() throws {
            let fixture = try FixtureReader("cfg-manifold-projection", "guidance_sweep.json")
            func setting(_ name: String) throws -> Double {
                guard let text = fixture.object["description"] as? String,
                    let value = SpecFixture.writtenNumber(name, in: text)
                else {
                    throw SpecFixture.Problem(file: fixture.file, detail: "the description does not give \(name)")
                }
                return value
            }
            iterations = Int(try setting("K"))
            threshold = try setting("threshold t<")
            memory = Int(try setting("m"))
            damping = try setting("damping ")
            let results = try fixture.child("results")
            var reference: [String: [String: [Double]]] = [:]
            settings = try results.keys.map { key in
                guard let steps = SpecFixture.writtenNumber("N", in: key),
                    let w = SpecFixture.writtenNumber("w", in: key)
                else { throw SpecFixture.Problem(file: results.file, detail: "cannot read N and w from '\(key)'") }
                let row = try results.child(key)
                reference[Self.key(Int(steps), w)] = try Dictionary(
                    uniqueKeysWithValues: ["cfg", "mp", "mp+"].map { ($0, try row.numbers($0)) })
                return (Int(steps), w)
            }.sorted { ($0.w, $0.steps) < ($1.w, $1.steps) }
            self.reference = reference
        }

        static func key(_ steps: Int, _ w: Double) -> String { "N=\(steps),w=\(Plot.label(w))" }
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        let sweep = try Sweep()
        let samples = budget == .quick ? 2000 : 4000
        let ring = GuidanceRing()
        let methods: [(name: String, key: String, projection: ManifoldProjection)] = [
            ("CFG", "cfg", ManifoldProjection(iterations: 0)),
            ("CFG-MP", "mp", ManifoldProjection(iterations: sweep.iterations)),
            (
                "CFG-MP+", "mp+",
                ManifoldProjection(
                    iterations: sweep.iterations,
                    anderson: AndersonAcceleration(
                        memory: sweep.memory, damping: sweep.damping, regularization: .absolute(1e-4),
                        form: .constrained, restarts: false))
            ),
        ]
        // Per setting and method: a value per seed of SW1 and of the off-class fraction.
        var distances: [String: [String: [Double]]] = [:], offs: [String: [String: [Double]]] = [:]
        var pictures: [(String, Matrix64)] = [], partial = false
        let pictured = sweep.settings.last
        runs: for seed in seeds {
            var rng = PhiloxGenerator(seed: 100 + seed)
            let noise = Matrix64(rows: samples, columns: 2, scalars: (0..<(2 * samples)).map { _ in rng.nextNormal() })
            let target = ring.classZero.sample(samples, using: &rng)
            if seed == seeds.first { pictures.append(("class-0 target", target)) }
            for (steps, w) in sweep.settings {
                if shouldStop() {
                    partial = true
                    break runs
                }
                progress("seed \(seed): N \(steps), w \(Plot.label(w))")
                let key = Sweep.key(steps, w)
                for method in methods {
                    let x = method.projection.sample(
                        noise, steps: steps, guidance: w, threshold: sweep.threshold, unconditional: ring.unconditional,
                        conditional: ring.conditional)
                    var directions = PhiloxGenerator(seed: 7)
                    distances[key, default: [:]][method.key, default: []].append(
                        slicedWasserstein(x, target, order: 1, using: &directions))
                    offs[key, default: [:]][method.key, default: []].append(ring.offFraction(x))
                    if seed == seeds.first && pictured.map({ $0 == (steps, w) }) == true {
                        pictures.append(("\(method.name), w = \(Plot.label(w))", x))
                    }
                }
            }
        }
        func sw(_ method: String, _ w: Double) -> Double? {
            guard !partial, let setting = sweep.settings.first(where: { $0.w == w }) else { return nil }
            return distances[Sweep.key(setting.steps, w)]?[method].map(Comparison.median)
        }
        func ratio(_ w: Double) -> Double? { sw("mp", w).flatMap { mp in sw("cfg", w).map { mp / $0 } } }
        let guided = sweep.settings.map(\.w).filter { $0 >= 2 }
        func spread(_ method: String) -> Double? {
            let values = guided.compactMap { sw(method, $0) }
            guard values.count == guided.count, let lo = values.min(), let hi = values.max(), lo > 0 else { return nil }
            return hi / lo
        }
        let plusGaps = sweep.settings.map(\.w).map { w in
            sw("mp+", w).flatMap { p in sw("mp", w).map { Swift.abs(p / $0 - 1) } }
        }
        let checks = [
            Check(
                name: "w 16: SW1 CFG-MP / CFG", measured: ratio(16), relation: .atMost, threshold: 0.75,
                source: "spec 5 (1)"),
            Check(
                name: "w 8: SW1 CFG-MP / CFG (< 1)", measured: ratio(8), relation: .atMost, threshold: 0.999_999,
                source: "spec 5 (2)"),
            Check(
                name: "w 2: SW1 CFG-MP / CFG", measured: ratio(2), relation: .atMost, threshold: 1.25,
                source: "spec 5 (3)"),
            Check(
                name: "SW1 spread over w >= 2 (max / min): CFG-MP / CFG (< 1)",
                measured: spread("mp").flatMap { mp in spread("cfg").map { mp / $0 } }, relation: .atMost,
                threshold: 0.999_999, source: "spec 5 (4)"),
            Check(
                name: "max over w of |SW1 CFG-MP+ / CFG-MP - 1|",
                measured: plusGaps.contains(where: { $0 == nil }) ? nil : plusGaps.compactMap { $0 }.max(),
                relation: .atMost, threshold: 0.15, source: "spec 5 (5)"),
        ]
        var rows: [[String]] = []
        for (steps, w) in sweep.settings {
            let key = Sweep.key(steps, w)
            if let d = distances[key], let o = offs[key] {
                rows.append(
                    ["\(steps)", Plot.label(w), "Inertia"]
                        + methods.map { String(format: "%.3f", Comparison.median(d[$0.key] ?? [])) }
                        + methods.map { String(format: "%.4f", Comparison.median(o[$0.key] ?? [])) })
            }
            if let r = sweep.reference[key] {
                rows.append(
                    ["\(steps)", Plot.label(w), "spec writer"]
                        + methods.map { String(format: "%.3f", r[$0.key]?.first ?? .nan) }
                        + methods.map { String(format: "%.4f", (r[$0.key]?.count ?? 0) > 1 ? r[$0.key]![1] : .nan) })
            }
        }
        let projected =
            sweep.settings.first.map { s in
                (0..<s.steps).filter { Double($0) / Double(s.steps) < sweep.threshold }.count
            } ?? 0
        let table = Table(
            title:
                "9-Gaussian ring, exact velocities, \(samples) samples, median over \(seeds.count) seed(s): sliced W1 to the class-0 target and the fraction farther than 3 std from every class-0 mean",
            header: ["N", "w", "run"] + methods.map { "\($0.name) SW1" } + methods.map { "\($0.name) off" }, rows: rows)
        let notes = [
            "Projection: \(sweep.iterations) fixed-point iterations of G (half step back along v_u, forward along v_c, both at t) before each step with t < \(Plot.label(sweep.threshold)); CFG-MP+ mixes each sample's history (window \(sweep.memory + 1), damping \(Plot.label(sweep.damping)), Gram form, ridge 1e-4), as the fixture describes. Cost per sample: \(2 * (sweep.settings.first?.steps ?? 0)) velocity evaluations for CFG, \(2 * (sweep.settings.first?.steps ?? 0) + 2 * sweep.iterations * projected) with the projection (\(projected) projected steps).",
            "SW1: 200 random directions (one fixed stream for every run), the mean over directions of the mean absolute difference of sorted projections. The spec writer's medians are its own noise draws: the verdict gates on the ratios only.",
        ]
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: [table],
            figures: Self.figures(
                sweep: sweep, methods: methods.map { ($0.name, $0.key) }, distances: distances, offs: offs,
                pictures: pictures),
            notes: notes, isPartial: partial)
    }

    /// SW1 and the off-class fraction against w per method (the spec writer's SW1 beside them),
    /// and the first seed's samples at the largest w as densities beside the target.
    static func figures(
        sweep: Sweep, methods: [(name: String, key: String)], distances: [String: [String: [Double]]],
        offs: [String: [String: [Double]]], pictures: [(String, Matrix64)]
    ) -> [Figure] {
        let measured = sweep.settings.filter { distances[Sweep.key($0.steps, $0.w)] != nil }
        func curve(_ name: String, style: Series.Style = .line, _ values: (String) -> Double?) -> Series {
            let points = measured.compactMap { s in values(Sweep.key(s.steps, s.w)).map { (s.w, $0) } }
            return Series(name: name, x: points.map(\.0), y: points.map(\.1), style: style)
        }
        func band(_ name: String, _ table: [String: [String: [Double]]], _ key: String) -> Series {
            let points = measured.compactMap { s in table[Sweep.key(s.steps, s.w)]?[key].map { (s.w, $0) } }
            return Series(name: name, x: points.map(\.0), acrossRuns: points.map(\.1))
        }
        var figures: [Figure] = [
            .chart(
                Plot(
                    title:
                        "Sliced W1 to the class-0 target against the guidance scale (N = \(sweep.settings.first?.steps ?? 0))",
                    xLabel: "guidance w", yLabel: "SW1",
                    series: methods.map { band($0.name, distances, $0.key) }
                        + methods.map { m in
                            curve("spec writer \(m.name)", style: .dashed) { sweep.reference[$0]?[m.key]?.first }
                        },
                    logY: true, logX: true)),
            .chart(
                Plot(
                    title: "Samples farther than 3 std from every class-0 mean", xLabel: "guidance w",
                    yLabel: "fraction", series: methods.map { band($0.name, offs, $0.key) }, logY: false, logX: true)),
        ]
        if pictures.count > 1 {
            let panels = pictures.map { name, x -> Figure in
                .heatMap(
                    HeatMap.density(
                        title: name, xLabel: "x1", yLabel: "x2", x: (0..<x.rows).map { x[$0, 0] },
                        y: (0..<x.rows).map { x[$0, 1] }, xRange: -3...3, yRange: -3...3, bins: 60, logValues: true))
            }
            figures.append(.row(title: "Samples of the first seed as densities, one colour scale", panels: panels))
        }
        return figures
    }
}
