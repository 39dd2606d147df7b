import Foundation
import InertiaGenerative
import InertiaTensor

/// `shared/papers/pfgm-plus-plus.md`, section 5 (Xu, Liu, Tian, Tong, Tegmark & Jaakkola, ICML
/// 2023): a model trained with PFGM++'s heavy-tailed kernel of few augmentation dimensions D is
/// less rigid than EDM's Gaussian (D = ∞) and so degrades less when noise is injected into every
/// sampler step. The toy: an 8-mode ring embedded in R^16, an EDM-preconditioned MLP per D,
/// EDM Heun from each kernel's prior with `α·σ_i·z` added at the start of every step.
public struct PFGMPlusPlusReproduction: Reproduction {
    public let specChecks: [SpecCheck] = [
        SpecCheck(
            "spec 5", "radius-drift increase (alpha 0 -> max), median over seeds: D = 4 minus 0.5 x D = inf", .atMost,
            0),
        SpecCheck(
            "spec 5", "mode-precision drop (alpha 0 -> max), median over seeds: D = 4 minus D = inf (< 0)", .atMost,
            -1e-9),
    ]

    public init() {}

    public let slug = "pfgm-plus-plus"
    public let paper =
        "Xu, Liu, Tian, Tong, Tegmark & Jaakkola, \"PFGM++: Unlocking the Potential of Physics-Inspired Generative Models\", ICML 2023"
    public let claim = """
        With noise α·σ_i·z injected into every Heun step (α from 0 to 0.3), a PFGM++ model with D = 4 augmentation \
        dimensions loses at most half as much radius accuracy as the same network trained as EDM (D = ∞), and less mode \
        precision (medians over seeds, 8-mode ring embedded in R^16).
        """

    public func defaultSeeds(_ budget: Budget) -> [UInt64] { budget == .quick ? [0] : [0, 1, 2] }

    /// The toy as the fixture describes it (`toy_robustness_runs.json`), with what only the spec's
    /// section 5 gives: the ring's component spread, the mode-precision radius, σ_max, σ_data and
    /// the sample count.
    struct Toy {
        var dimension: Int, modes: Int, ringRadius: Double, offPlaneNoise: Double
        var hidden: [Int], steps: Int, learningRate: Double, batch: Int
        var heunSteps: Int, directions: Int, freshData: Int
        /// The runs' (D, seed) pairs, D `nil` for ∞, and the sampler settings (α, Heun steps) of their keys.
        var runs: [(augmentation: Double?, seed: UInt64, metrics: [String: Metrics])]
        var settings: [(key: String, alpha: Double, steps: Int)]
        let componentSpread = 0.15, precisionRadius = 0.6, sigmaMax = 80.0, sigmaData = 0.5, samples = 2000
        /// The ring's embedding: the Q of a 16 x 2 Gaussian matrix's QR (seed 0), by Gram–Schmidt.
        let embedding: Matrix64

        init() throws {
            let fixture = try FixtureReader("pfgm-plus-plus", "toy_robustness_runs.json")
            guard let text = fixture.object["description"] as? String else {
                throw SpecFixture.Problem(file: fixture.file, detail: "no description")
            }
            func read(_ value: Double?, _ what: String) throws -> Double {
                guard let value else {
                    throw SpecFixture.Problem(file: fixture.file, detail: "the description does not give \(what)")
                }
                return value
            }
            dimension = Int(try read(SpecFixture.writtenNumber("N", in: text), "N"))
            modes = Int(try read(SpecFixture.writtenNumber("mode ring", in: text), "the ring's modes"))
            ringRadius = try read(SpecFixture.number(after: "radius_mean (truth", in: text), "the ring radius")
            offPlaneNoise = try read(SpecFixture.number(after: "offplane_rms (truth", in: text), "the off-plane noise")
            let layers = Int(try read(SpecFixture.number(after: "MLP", in: text), "the MLP's depth"))
            hidden = Array(
                repeating: Int(try read(SpecFixture.writtenNumber("\(layers)x", in: text), "the MLP's width")),
                count: layers)
            steps = Int(try read(SpecFixture.writtenNumber("Adam steps", in: text), "the training steps"))
            learningRate = try read(SpecFixture.number(after: "lr", in: text), "lr")
            batch = Int(try read(SpecFixture.number(after: "batch", in: text), "the batch"))
            heunSteps = Int(try read(SpecFixture.number(after: "Heun", in: text), "the Heun steps"))
            directions = Int(try read(SpecFixture.writtenNumber("dirs", in: text), "the sliced-W2 directions"))
            freshData = Int(try read(SpecFixture.writtenNumber("fresh data", in: text), "the reference data"))
            guard let list = fixture.object["runs"] as? [[String: Any]], !list.isEmpty else {
                throw SpecFixture.Problem(file: fixture.file, detail: "no runs")
            }
            var settings = Set<String>()
            runs = try list.map { object in
                let run = FixtureReader(file: fixture.file + " runs", object: object)
                guard let text = object["D"] as? String, text == "inf" || (Double(text)?.isFinite ?? false) else {
                    throw SpecFixture.Problem(file: run.file, detail: "D is not a number or 'inf'")
                }
                let d = text == "inf" ? nil : Double(text)
                var metrics: [String: Metrics] = [:]
                for key in run.keys where key.hasPrefix("a") {
                    let values = try run.child(key)
                    metrics[key] = Metrics(
                        radius: try values.number("radius_mean"), offPlane: try values.number("offplane_rms"),
                        precision: try values.number("mode_precision"), slicedW2: try values.number("swd"))
                    settings.insert(key)
                }
                return (d, UInt64(try run.number("seed")), metrics)
            }
            self.settings = try settings.map { key in
                let parts = key.dropFirst().split(separator: "_")
                guard parts.count == 2, let alpha = Double(parts[0]), parts[1].hasPrefix("N"),
                    let steps = Int(parts[1].dropFirst())
                else { throw SpecFixture.Problem(file: fixture.file, detail: "cannot read the setting '\(key)'") }
                return (key, alpha, steps)
            }.sorted { ($0.steps, $0.alpha) < ($1.steps, $1.alpha) }
            var rng = PhiloxGenerator(seed: 0)
            embedding = Matrix64.randomOrthonormalColumns(rows: dimension, columns: 2, using: &rng)
        }

        /// The fixture's key of a setting ("a0.3_N18"), `nil` if it has none.
        func key(_ alpha: Double, _ steps: Int) -> String? {
            settings.first { $0.alpha == alpha && $0.steps == steps }?.key
        }

        /// The ring's centres in the plane.
        var centres: [[Double]] {
            (0..<modes).map { k in
                let a = 2 * Double.pi * Double(k) / Double(modes)
                return [ringRadius * Foundation.cos(a), ringRadius * Foundation.sin(a)]
            }
        }

        /// `count` data points `W z + noise·η`, z from the ring mixture.
        func data(_ count: Int, using rng: inout PhiloxGenerator) -> Matrix64 {
            var scalars = [Double](repeating: 0, count: count * dimension)
            let centres = self.centres
            for i in 0..<count {
                let c = centres[rng.nextInt(below: modes)]
                let z = [c[0] + componentSpread * rng.nextNormal(), c[1] + componentSpread * rng.nextNormal()]
                for j in 0..<dimension {
                    scalars[i * dimension + j] =
                        embedding[j, 0] * z[0] + embedding[j, 1] * z[1] + offPlaneNoise * rng.nextNormal()
                }
            }
            return Matrix64(rows: count, columns: dimension, scalars: scalars)
        }

        /// The samples' latent coordinates `Wᵀx`.
        func latent(_ x: Matrix64) -> Matrix64 { x * embedding }

        /// Spec 5's metrics of `samples` against fresh data.
        func metrics(_ samples: Matrix64, reference: Matrix64, using rng: inout PhiloxGenerator) -> Metrics {
            let z = latent(samples), back = z * embedding.transposed, centres = self.centres
            var radius = 0.0, offPlane = 0.0, hits = 0
            for i in 0..<samples.rows {
                radius += (z[i, 0] * z[i, 0] + z[i, 1] * z[i, 1]).squareRoot()
                for j in 0..<dimension { offPlane += (samples[i, j] - back[i, j]) * (samples[i, j] - back[i, j]) }
                let nearest = centres.map { c in
                    ((z[i, 0] - c[0]) * (z[i, 0] - c[0]) + (z[i, 1] - c[1]) * (z[i, 1] - c[1]))
                }
                .min()!
                if nearest.squareRoot() < precisionRadius { hits += 1 }
            }
            let n = Double(samples.rows)
            return Metrics(
                radius: radius / n, offPlane: (offPlane / (n * Double(dimension - 2))).squareRoot(),
                precision: Double(hits) / n,
                slicedW2: slicedWasserstein(samples, reference, directions: directions, using: &rng))
        }
    }

    /// Spec 5's metrics of one sample set.
    struct Metrics {
        var radius: Double, offPlane: Double, precision: Double, slicedW2: Double
    }

    public func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws
        -> ReproductionResult
    {
        let toy = try Toy()
        let quick = budget == .quick
        let trainingSteps = quick ? 300 : toy.steps, sampleCount = quick ? 500 : toy.samples
        // Every D of the fixture's runs, with its seeds there, on this run's seeds (the
        // fixture's D = 16 ran one seed: so does this one). Quick: D = 4 and D = ∞ on one seed.
        let augmentations = toy.runs.map(\.augmentation).reduce(into: [Double?]()) {
            if !$0.contains($1) { $0.append($1) }
        }
        var plan: [(augmentation: Double?, seed: UInt64)] = []
        for d in augmentations {
            let runs = toy.runs.filter { $0.augmentation == d }.count
            if quick && runs == 1 { continue }
            for seed in seeds.prefix(runs) { plan.append((d, seed)) }
        }
        var data = PhiloxGenerator(seed: 100)
        let training = toy.data(20_000, using: &data), reference = toy.data(toy.freshData, using: &data)
        var results: [(augmentation: Double?, seed: UInt64, metrics: [String: Metrics], latent: Matrix64)] = []
        var partial = false
        for (d, seed) in plan {
            if shouldStop() {
                partial = true
                break
            }
            let name = Self.name(d)
            progress("\(name), seed \(seed): \(trainingSteps) Adam steps")
            var rng = PhiloxGenerator(seed: seed)
            let network = DenoiserNetwork(
                dimension: toy.dimension, hidden: toy.hidden,
                time: .fourier(features: 16, minimumFrequency: 1, maximumFrequency: 32), using: &rng)
            var model = DiffusionModel.edm(network: network, sigmaData: toy.sigmaData)
            model.perturbation = d.map(PFGMKernel.init(augmentation:)) ?? .gaussian
            var stopped = false
            try model.fit(
                points: training, labels: [Int](repeating: 0, count: training.rows), steps: trainingSteps,
                batchSize: toy.batch, learningRate: toy.learningRate, timeRange: 1e-3...toy.sigmaMax,
                unconditionalProbability: 0, using: &rng
            ) { _, _ in
                stopped = shouldStop()
                return !stopped
            }
            if stopped {
                partial = true
                break
            }
            progress("\(name), seed \(seed): sampling \(toy.settings.count) settings")
            var metrics: [String: Metrics] = [:], latent = Matrix64(rows: 0, columns: 2)
            let denoiser = model.denoiser()
            for setting in toy.settings {
                // One prior draw and one noise stream per run: the settings differ only in α and steps.
                var noise = PhiloxGenerator(seed: seed &+ 1000)
                let start = model.perturbation.prior(
                    count: sampleCount, dimension: toy.dimension, sigmaMax: toy.sigmaMax, using: &noise)
                let samples = DiffusionSampler.edmHeun(
                    start, sigmas: TimeGrid.edm(sigmaMax: toy.sigmaMax, steps: setting.steps),
                    injectedNoise: setting.alpha, model: denoiser, using: &noise)
                var directions = PhiloxGenerator(seed: 7)
                metrics[setting.key] = toy.metrics(
                    samples,
                    reference: Matrix64(
                        rows: sampleCount, columns: toy.dimension,
                        scalars: Array(reference.scalars.prefix(sampleCount * toy.dimension))),
                    using: &directions)
                if setting.steps == toy.heunSteps && setting.alpha == toy.largestAlpha { latent = toy.latent(samples) }
            }
            results.append((d, seed, metrics, latent))
        }

        let low = toy.key(0, toy.heunSteps) ?? "", high = toy.key(toy.largestAlpha, toy.heunSteps) ?? ""
        func increases(_ d: Double?, _ runs: [(Double?, [String: Metrics])]) -> (drift: [Double], drop: [Double]) {
            let mine = runs.filter { $0.0 == d }.compactMap { run -> (Double, Double)? in
                guard let a = run.1[low], let b = run.1[high] else { return nil }
                return (
                    Swift.abs(b.radius - toy.ringRadius) - Swift.abs(a.radius - toy.ringRadius),
                    a.precision - b.precision
                )
            }
            return (mine.map(\.0), mine.map(\.1))
        }
        let ours = results.map { ($0.augmentation, $0.metrics) }
        let authors = toy.runs.map { ($0.augmentation, $0.metrics) }
        let small = increases(4, ours), gaussian = increases(nil, ours)
        let complete = !partial && !small.drift.isEmpty && !gaussian.drift.isEmpty
        var checks: [Check] = []
        checks.append(
            Check(
                name: "radius-drift increase (alpha 0 -> max), median over seeds: D = 4 minus 0.5 x D = inf",
                measured: complete ? Comparison.median(small.drift) - 0.5 * Comparison.median(gaussian.drift) : nil,
                relation: .atMost, threshold: 0, source: "spec 5"))
        checks.append(
            Check(
                name: "mode-precision drop (alpha 0 -> max), median over seeds: D = 4 minus D = inf (< 0)",
                measured: complete ? Comparison.median(small.drop) - Comparison.median(gaussian.drop) : nil,
                relation: .atMost, threshold: -1e-9, source: "spec 5"))

        var rows: [[String]] = []
        for d in augmentations {
            for (who, runs) in [("Inertia", ours), ("author (PyTorch)", authors)] {
                let (drift, drop) = increases(d, runs)
                guard !drift.isEmpty else { continue }
                let offPlane = runs.filter { $0.0 == d }.compactMap { run in
                    run.1[high].flatMap { b in run.1[low].map { b.offPlane - $0.offPlane } }
                }
                rows.append(
                    [Self.name(d), who, "\(drift.count)"]
                        + [offPlane, drift, drop].map { values in
                            String(format: "%+.3f", Comparison.median(values)) + " ("
                                + values.map { String(format: "%+.3f", $0) }.joined(separator: ", ") + ")"
                        })
            }
        }
        var tables = [
            Table(
                title:
                    "Change from alpha = 0 to alpha = \(Plot.label(toy.largestAlpha)) (Heun, \(toy.heunSteps) steps): median (per seed)",
                header: ["D", "run", "seeds", "off-plane RMS", "radius drift", "mode-precision drop"], rows: rows)
        ]
        var settingRows: [[String]] = []
        for result in results {
            for setting in toy.settings {
                guard let m = result.metrics[setting.key] else { continue }
                let author = toy.runs.first { $0.augmentation == result.augmentation && $0.seed == result.seed }?
                    .metrics[setting.key]
                settingRows.append(
                    [
                        Self.name(result.augmentation), "\(result.seed)", Plot.label(setting.alpha), "\(setting.steps)",
                    ]
                        + [m.radius, m.offPlane, m.precision, m.slicedW2].map { String(format: "%.4f", $0) }
                        + [author.map { String(format: "%.4f / %.4f", $0.radius, $0.precision) } ?? "n/a"])
            }
        }
        tables.append(
            Table(
                title:
                    "Every run and setting (\(sampleCount) samples; the fewer-step runs are shown, not gated: spec 5)",
                header: [
                    "D", "seed", "alpha", "Heun steps", "mean radius", "off-plane RMS", "mode precision", "sliced W2",
                    "author: radius / precision",
                ],
                rows: settingRows))

        let alphaKeys = toy.settings.filter { $0.steps == toy.heunSteps }, alphas = alphaKeys.map(\.alpha)
        func curves(_ value: @escaping (Metrics) -> Double) -> [Series] {
            augmentations.compactMap { d -> Series? in
                let runs = results.filter { $0.augmentation == d }
                guard !runs.isEmpty else { return nil }
                return Series(
                    name: Self.name(d), x: alphas,
                    acrossRuns: alphaKeys.map { s in runs.compactMap { $0.metrics[s.key].map(value) } })
            }
                + augmentations.compactMap { d -> Series? in
                    let runs = toy.runs.filter { $0.augmentation == d }
                    guard !runs.isEmpty, !quick || results.contains(where: { $0.augmentation == d }) else { return nil }
                    return Series(
                        name: "author " + Self.name(d), x: alphas,
                        y: alphaKeys.map { s in Comparison.median(runs.compactMap { $0.metrics[s.key].map(value) }) },
                        style: .dashed)
                }
        }
        var figures: [Figure] = [
            .row(
                title:
                    "Injected noise alpha against the sample quality (median and range over seeds; author's medians dashed)",
                panels: [
                    .chart(
                        Plot(
                            title: "radius drift |mean ||W^T x|| - \(Plot.label(toy.ringRadius))|", xLabel: "alpha",
                            yLabel: "radius drift", series: curves { Swift.abs($0.radius - toy.ringRadius) },
                            logY: false)),
                    .chart(
                        Plot(
                            title: "mode precision (within \(Plot.label(toy.precisionRadius)) of a centre)",
                            xLabel: "alpha", yLabel: "fraction", series: curves(\.precision), logY: false)),
                ], sharesAxes: false)
        ]
        let panels = augmentations.compactMap { d -> Figure? in
            guard let run = results.first(where: { $0.augmentation == d }), run.latent.rows > 0 else { return nil }
            let centres = toy.centres
            return .chart(
                Plot(
                    title: "\(Self.name(d)), seed \(run.seed)", xLabel: "z1 = (W^T x)_1", yLabel: "z2",
                    series: [
                        Series(name: "samples", points: run.latent),
                        Series(name: "centres", x: centres.map { $0[0] }, y: centres.map { $0[1] }, style: .points),
                    ], logY: false, xRange: -4...4, yRange: -4...4))
        }
        if !panels.isEmpty {
            figures.append(
                .row(
                    title:
                        "Samples at alpha = \(Plot.label(toy.largestAlpha)), Heun \(toy.heunSteps) steps, in the ring's plane",
                    panels: panels))
        }
        let notes = [
            "Data: \(toy.modes)-mode ring of radius \(Plot.label(toy.ringRadius)) (component std \(Plot.label(toy.componentSpread))) embedded in R^\(toy.dimension) by the Q of a Gaussian matrix (seed 0), plus \(Plot.label(toy.offPlaneNoise)) N(0, I) noise; a training set of 20000 points, \(toy.freshData) fresh points for the sliced W2. Off-plane RMS is per off-plane dimension (truth \(Plot.label(toy.offPlaneNoise))).",
            "Model: EDM-preconditioned MLP (\(toy.dimension) inputs + 16 Fourier features of c_noise, frequencies 1-32 log-spaced) -> \(toy.hidden.count)x\(toy.hidden[0]) SiLU -> \(toy.dimension), Adam lr \(Plot.label(toy.learningRate)), batch \(toy.batch), \(trainingSteps) steps\(quick ? " (quick budget; the spec's \(toy.steps) at full)" : ""); finite D trains on the clipped BetaPrime kernel with r = sigma sqrt(D), sigma log-normal(-1.2, 1.2).",
            "Sampling: each D's own prior at sigma_max = \(Plot.label(toy.sigmaMax)) (no extra sigma_max factor for finite D), EDM Heun on the rho = 7 grid, alpha sigma_i z added at the start of every step; \(sampleCount) samples; the same prior draw and noise stream for every setting of a run.",
        ]
        return ReproductionResult(
            slug: slug, budget: budget, seeds: seeds, checks: checks, tables: tables, figures: figures, notes: notes,
            isPartial: partial)
    }

    static func name(_ augmentation: Double?) -> String {
        augmentation.map { "D = \(Plot.label($0))" } ?? "D = inf"
    }
}

extension PFGMPlusPlusReproduction.Toy {
    /// The largest injected-noise α of the fixture's settings.
    var largestAlpha: Double { settings.map(\.alpha).max() ?? 0 }
}
