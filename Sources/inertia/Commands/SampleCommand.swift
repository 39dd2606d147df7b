import ArgumentParser
import Foundation
import Inertia

/// `inertia sample`: 2-D diffusion / flow sampling from an exact mixture denoiser (no training) or
/// from a small model trained on two moons; samples as CSV, a scatter plot and, with
/// `--compare-samplers`, the sliced-W2 error of every sampler at several step counts. `--method`
/// picks the family: any registry sampler (`diffusion`), CFG manifold projection (`cfg-mp`) or
/// PFGM++ (`pfgm++`), each with its own options.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample", abstract: "Diffusion / flow sampling in 2-D: exact mixture or a trained two-moons model."
    )

    enum Source: String, ExpressibleByArgument, CaseIterable { case mixture, moons }
    enum Method: String, ExpressibleByArgument, CaseIterable {
        case diffusion, cfgMP = "cfg-mp", pfgm = "pfgm++", kDiff = "k-diff", lightSB = "lightsb"
        case kineticOptimal = "kinetic-optimal", flowMap = "flow-map", meanFlow = "meanflow"
    }
    enum MeanFlowTarget: String, ExpressibleByArgument, CaseIterable { case plain, mp1 }
    enum Distillation: String, ExpressibleByArgument, CaseIterable {
        case lsd, esd, psdM = "psd-m", psdU = "psd-u", fm

        var loss: FlowMapModel.Distillation {
            switch self {
            case .lsd: return .lagrangian
            case .esd: return .eulerian(conditionalTangent: false)
            case .psdM: return .progressive(gamma: 0.5)
            case .psdU: return .progressive(gamma: nil)
            case .fm: return .flowMatching
            }
        }
    }
    enum PathSchedule: String, ExpressibleByArgument, CaseIterable { case ko, condOT = "cond-ot" }
    enum KTarget: String, ExpressibleByArgument, CaseIterable { case x, v, eps, learned }
    enum Path: String, ExpressibleByArgument, CaseIterable {
        case vpCosine = "vp-cosine", vpLinear = "vp-linear", linearFlow = "linear-flow", trig

        var schedule: DiffusionSchedule {
            switch self {
            case .vpCosine: return .vpCosineDefault
            case .vpLinear: return .vpLinearDefault
            case .linearFlow: return .linearFlowDefault
            case .trig: return .trig
            }
        }
    }
    @Option(help: "mixture (8-mode ring, exact denoiser) | moons (a model trained here)") var source: Source = .mixture
    @Option(help: "vp-cosine | vp-linear | linear-flow | trig") var path: Path = .linearFlow
    @Option(help: "What the trained network predicts: epsilon | data | score | v | velocity") var prediction:
        Prediction = .velocity
    @Option(
        help:
            "diffusion (--sampler, any registry sampler) | cfg-mp (CFG manifold projection, --projection) | pfgm++ (--augmentation; trains the moons model on its kernel) | k-diff (--target, --ambient; trains a flow on the source's points) | lightsb (--epsilon, --components; a Schrodinger bridge from N(0, I) to the source's points) | kinetic-optimal (--schedule; flow matching on the source's kinetic-optimal path) | flow-map (--distillation; a flow map trained by self-distillation, sampled in --steps jumps, 1 allowed) | meanflow (--meanflow-target; MeanFlow's average velocity, --steps 1 allowed)"
    )
    var method: Method = .diffusion
    @Option(
        help: "A sampler of any family (`inertia samplers` lists them: diffusion solvers, heavy-ball, interpolants).")
    var sampler = "dpmpp2m"
    @Option(
        name: .customLong("set"),
        help: "Sampler options as name=value (e.g. --set eta=0.5; `inertia samplers` lists each one's).")
    var settings: [String] = []
    @Option(help: "Network evaluations (Heun takes two a step, interpolant-rk4 four).") var steps = 50
    @Option(help: "Samples to draw.") var count = 4000
    @Option(help: "Guide toward this class (moons: 0 or 1).") var label: Int?
    @Option(help: "Classifier-free guidance scale (1: the conditional model).") var guidance = 1.0
    @Option(help: "Training steps of the moons model (Adam 1e-3, batch 512).") var trainSteps = 4000
    @Option(
        help:
            "cfg-mp: this many manifold-projection iterations (default 2) before each guided Euler step while flow time t < --projection-threshold (needs --label and the linear-flow path; --steps Euler steps; 0: plain CFG)."
    )
    var projection: Int?
    @Option(help: "CFG-MP: project while the flow time (data at 1) is below this.") var projectionThreshold = 0.6
    @Flag(help: "cfg-mp: CFG-MP+, each sample's projection iterates mixed by Anderson acceleration (window 2).")
    var anderson = false
    @Option(
        help:
            "pfgm++: augmentation dimensions D of the kernel (a number > 0, default 4, or inf for EDM's Gaussian); the EDM-preconditioned moons model trains on it and EDM Heun (--steps evaluations) samples from its prior at sigma_max 80."
    )
    var augmentation: String?
    @Option(help: "pfgm++: add alpha sigma_i N(0, I) at the start of every Heun step (the robustness study).")
    var noiseInjection: Double?
    @Option(
        help:
            "k-diff: what the flow's network predicts: x | v | eps | learned (y_k = x - k eps with k learned; default; the spec's reconstruction)."
    )
    var target: KTarget?
    @Option(help: "k-diff: k = softplus(speed kappa) for --target learned (default 10).") var kappaSpeed: Double?
    @Option(
        help:
            "k-diff: embed the 2-D data in this many dimensions (a random orthonormal map; default 2, none) and project the samples back."
    )
    var ambient: Int?
    @Option(help: "lightsb: the bridge's volatility / entropic regulariser (default 0.1).") var epsilon: Double?
    @Option(help: "lightsb: Gaussian components of the Schrodinger potential (default 50).") var components: Int?
    @Option(
        help:
            "lightsb: follow the bridge SDE with this many Euler-Maruyama steps instead of sampling the plan exactly (--steps is ignored then)."
    )
    var bridgeSteps: Int?
    @Option(
        help:
            "kinetic-optimal: the Gaussian path the flow is trained on: ko (the kinetic-optimal schedule of the source's points; default) | cond-ot."
    )
    var schedule: PathSchedule?
    @Option(
        help:
            "flow-map: the self-distillation loss beside diagonal flow matching: lsd (Lagrangian; default) | esd (Eulerian) | psd-m | psd-u (semigroup, gamma 1/2 or uniform) | fm (none: plain flow matching, Euler steps)."
    )
    var distillation: Distillation?
    @Option(
        help:
            "meanflow: the identity's target: plain (v = e - x; default) | mp1 (MP1's code, w = 2: a bootstrapped target, not guidance)."
    )
    var meanflowTarget: MeanFlowTarget?
    @Flag(
        help:
            "Also compare every sampler, with its defaults, at 10, 20 and 50 evaluations (sliced W2 to reference data)."
    )
    var compareSamplers = false
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Run folder (samples.csv, report.html, summary.json).") var out = "runs/sample"

    func validate() throws {
        try requireFinite(["guidance": guidance])
        let entry = try samplerEntry()
        do { _ = try entry.resolve(try samplerSettings()) } catch let error as SamplerError {
            throw ValidationError("\(error)")
        }
        guard method != .diffusion || steps >= entry.minimumEvaluations else {
            throw ValidationError(
                "--steps: \(entry.name) needs at least \(entry.minimumEvaluations) network evaluations")
        }
        if compareSamplers && method != .diffusion {
            throw ValidationError("--compare-samplers compares the registry's samplers: it needs --method diffusion")
        }
        guard steps >= ([.flowMap, .meanFlow].contains(method) ? 1 : 2), count >= 1, trainSteps >= 1 else {
            throw ValidationError(
                "--steps must be >= 2 (>= 1 for --method flow-map and meanflow), --count and --train-steps >= 1")
        }
        if label != nil && source == .mixture {
            throw ValidationError("--label needs --source moons (the mixture has no classes)")
        }
        if let label, !(0...1).contains(label) { throw ValidationError("--label must be 0 or 1") }
        try requireFinite(["projection-threshold": projectionThreshold, "noise-injection": noiseInjection ?? 0])
        if method != .cfgMP && (projection != nil || anderson) {
            throw ValidationError("--projection and --anderson are options of --method cfg-mp")
        }
        if method != .pfgm && (augmentation != nil || noiseInjection != nil) {
            throw ValidationError("--augmentation and --noise-injection are options of --method pfgm++")
        }
        if method != .kDiff && (target != nil || kappaSpeed != nil || ambient != nil) {
            throw ValidationError("--target, --kappa-speed and --ambient are options of --method k-diff")
        }
        if method != .lightSB && (epsilon != nil || components != nil || bridgeSteps != nil) {
            throw ValidationError("--epsilon, --components and --bridge-steps are options of --method lightsb")
        }
        if method != .kineticOptimal && schedule != nil {
            throw ValidationError("--schedule is an option of --method kinetic-optimal")
        }
        if method != .flowMap && distillation != nil {
            throw ValidationError("--distillation is an option of --method flow-map")
        }
        if method != .meanFlow && meanflowTarget != nil {
            throw ValidationError("--meanflow-target is an option of --method meanflow")
        }
        switch method {
        case .diffusion: break
        case .cfgMP:
            guard label != nil else {
                throw ValidationError("--method cfg-mp needs --label: it projects toward the conditional model")
            }
            guard path == .linearFlow else {
                throw ValidationError("--method cfg-mp runs on the linear-flow path, got --path \(path.rawValue)")
            }
            guard iterations >= 0 else { throw ValidationError("--projection must be >= 0, got \(iterations)") }
            if anderson && iterations == 0 { throw ValidationError("--anderson needs --projection > 0") }
        case .pfgm:
            guard source == .moons else {
                throw ValidationError("--method pfgm++ needs --source moons: it trains a model on its kernel")
            }
            _ = try kernel()
            guard injection >= 0 else { throw ValidationError("--noise-injection must be >= 0, got \(injection)") }
        case .kDiff:
            if label != nil { throw ValidationError("--method k-diff trains an unconditional flow: drop --label") }
            try requireFinite(["kappa-speed": kappaSpeed ?? 10])
            guard (kappaSpeed ?? 10) > 0 else { throw ValidationError("--kappa-speed must be > 0") }
            guard (2...4096).contains(ambientDimension) else {
                throw ValidationError("--ambient must be in 2...4096, got \(ambientDimension)")
            }
        case .lightSB:
            if label != nil { throw ValidationError("--method lightsb bridges to the whole source: drop --label") }
            try requireFinite(["epsilon": epsilon ?? 0.1])
            guard (epsilon ?? 0.1) > 0 else { throw ValidationError("--epsilon must be > 0") }
            guard (components ?? 50) >= 1 else { throw ValidationError("--components must be >= 1") }
            guard (bridgeSteps ?? 1) >= 1 else { throw ValidationError("--bridge-steps must be >= 1") }
        case .kineticOptimal, .flowMap, .meanFlow:
            if label != nil {
                throw ValidationError("--method \(method.rawValue) trains an unconditional flow: drop --label")
            }
        }
    }

    /// CFG-MP's projection iterations.
    var iterations: Int { projection ?? 2 }
    /// PFGM++'s D as given.
    var dimensions: String { augmentation ?? "4" }
    /// PFGM++'s injected noise α.
    var injection: Double { noiseInjection ?? 0 }
    /// k-Diff's ambient dimension.
    var ambientDimension: Int { ambient ?? 2 }

    /// k-Diff's network target.
    var kDiffTarget: KDiffModel.Target {
        switch target ?? .learned {
        case .x: return .fixed(.data)
        case .v: return .fixed(.velocity)
        case .eps: return .noise
        case .learned: return .learned(speed: kappaSpeed ?? 10)
        }
    }

    /// The PFGM++ kernel of `--augmentation`.
    func kernel() throws -> PFGMKernel {
        if dimensions == "inf" { return .gaussian }
        guard let d = Double(dimensions), d > 0, d.isFinite else {
            throw ValidationError("--augmentation takes a number > 0 or inf, got '\(dimensions)'")
        }
        return PFGMKernel(augmentation: d)
    }

    /// What the samples follow: the diffusion path, EDM's σ (PFGM++), a trained flow or a bridge.
    var pathName: String {
        switch method {
        case .diffusion, .cfgMP: return path.rawValue
        case .pfgm: return "edm"
        case .kDiff, .kineticOptimal: return "flow"
        case .flowMap: return "flow map"
        case .meanFlow: return "mean flow"
        case .lightSB: return "bridge"
        }
    }

    /// What ran, for the report, the summary and the printed line.
    var methodName: String {
        switch method {
        case .diffusion: return sampler
        case .cfgMP: return iterations == 0 ? "cfg" : (anderson ? "cfg-mp+" : "cfg-mp")
        case .pfgm: return "pfgm++ D=\(dimensions)"
        case .kDiff: return "k-diff \((target ?? .learned).rawValue)"
        case .lightSB: return "lightsb eps=\(epsilon ?? 0.1)"
        case .kineticOptimal: return "kinetic-optimal \((schedule ?? .ko).rawValue)"
        case .flowMap: return "flow-map \((distillation ?? .lsd).rawValue)"
        case .meanFlow: return "meanflow \((meanflowTarget ?? .plain).rawValue)"
        }
    }

    /// σ_max of PFGM++'s prior and σ grid (EDM's).
    static let sigmaMax = 80.0

    func samplerEntry() throws -> SamplerEntry {
        guard let entry = SamplerRegistry.entry(named: sampler) else {
            throw ValidationError("\(SamplerError.unknownSampler(sampler))")
        }
        return entry
    }

    /// `--set name=value` pairs as numbers.
    func samplerSettings() throws -> [String: Double] {
        var settings: [String: Double] = [:]
        for setting in self.settings {
            guard let (name, text) = nameValue(setting), let value = Double(text) else {
                throw ValidationError("--set takes name=number, got '\(setting)'")
            }
            settings[name] = value
        }
        return settings
    }

    func run() throws {
        Interrupt.install()
        let folder = try RunFolder(out)
        let schedule = path.schedule
        var rng = PhiloxGenerator(seed: seed)
        var model: Denoiser?
        var trainingPoints: Matrix64?
        let reference: Matrix64
        var fields: (unconditional: Denoiser, conditional: Denoiser)?
        switch source {
        case .mixture:
            let mixture = GaussianMixtureDenoiser.ring(count: 8, radius: 2, standardDeviation: 0.1)
            model = { x, t in mixture.posterior(x, t: t, schedule: schedule).data }
            reference = Matrix64(
                rows: count, columns: 2,
                scalars: (0..<count).flatMap { _ -> [Double] in
                    let k = rng.nextInt(below: 8)
                    return [mixture.means[k][0] + 0.1 * rng.nextNormal(), mixture.means[k][1] + 0.1 * rng.nextNormal()]
                })
        case .moons:
            let train = Synthetic.moons(count: 20_000, noise: 0.05, seed: 100 + seed)
            let mean = train.inputs.mean(alongAxis: 0),
                std = (train.inputs - mean).squared().mean(alongAxis: 0).squareRoot()
            let points = (train.inputs - mean) / std, labels = train.labels
            reference = Matrix64((Synthetic.moons(count: count, noise: 0.05, seed: 200 + seed).inputs - mean) / std)
            trainingPoints = Matrix64(points)
            // k-Diff and LightSB train their own models below.
            guard [.diffusion, .cfgMP, .pfgm].contains(method) else { break }
            let network = DenoiserNetwork(dimension: 2, classes: 2, using: &rng)
            var trained = DiffusionModel(network: network, schedule: schedule, prediction: prediction)
            var range: ClosedRange<Double> = schedule == .vpCosineDefault ? 1e-5...0.999 : 1e-5...1
            if method == .pfgm {
                // PFGM++ is EDM with another kernel: σ-form, preconditioning for the standardised
                // data's σ_data = 1, training σ clamped to the sampler's range.
                trained = DiffusionModel.edm(network: network, sigmaData: 1)
                trained.perturbation = try kernel()
                range = 1e-3...Self.sigmaMax
            }
            try trained.fit(points: Matrix64(points), labels: labels, steps: trainSteps, timeRange: range, using: &rng)
            { step, loss in logTraining(step, loss) }
            try Interrupt.exitIfRequested()
            model = trained.denoiser(label: label, guidance: guidance)
            if let label { fields = (trained.denoiser(), trained.denoiser(label: label)) }
        }
        let start =
            method == .pfgm
            ? try kernel().prior(count: count, dimension: 2, sigmaMax: Self.sigmaMax, using: &rng)
            : Matrix64(rows: count, columns: 2, scalars: (0..<(2 * count)).map { _ in rng.nextNormal() })
        let flow = method == .kDiff ? try trainedFlow(on: trainingPoints, using: &rng) : nil
        let bridge = method == .lightSB ? try trainedBridge(to: trainingPoints, using: &rng) : nil
        let pathField = method == .kineticOptimal ? try trainedPathField(on: trainingPoints, using: &rng) : nil
        let flowMap = method == .flowMap ? try trainedFlowMap(on: trainingPoints, using: &rng) : nil
        let meanFlow = method == .meanFlow ? try trainedMeanFlow(on: trainingPoints, using: &rng) : nil
        let began = DispatchTime.now().uptimeNanoseconds
        let samples: Matrix64
        switch method {
        case .diffusion:
            samples = try samplerEntry().sample(
                start, evaluations: steps, settings: try samplerSettings(), schedule: schedule, model: model!,
                using: &rng)
        case .cfgMP:
            guard let fields else { preconditionFailure("validate() requires --label for cfg-mp") }
            samples = projected(start, fields)
        case .pfgm:
            samples = DiffusionSampler.edmHeun(
                start, sigmas: TimeGrid.edm(sigmaMax: Self.sigmaMax, steps: (steps + 1) / 2),
                injectedNoise: injection, model: model!, using: &rng)
        case .kDiff:
            guard let (model, embedding) = flow else { preconditionFailure("k-diff trains its flow first") }
            let noise = Matrix64(
                rows: count, columns: ambientDimension,
                scalars: (0..<(count * ambientDimension)).map { _ in rng.nextNormal() })
            samples = model.sample(noise, steps: steps) * embedding
        case .lightSB:
            guard let bridge else { preconditionFailure("lightsb trains its bridge first") }
            samples =
                bridgeSteps.map { bridge.sampleBridge(from: start, steps: $0, using: &rng) }
                ?? bridge.sample(given: start, using: &rng)
        case .kineticOptimal:
            guard let (field, scale) = pathField else { preconditionFailure("kinetic-optimal trains its field first") }
            samples = field.sample(start, steps: steps) * (1 / scale)
        case .flowMap:
            guard let flowMap else { preconditionFailure("flow-map trains its map first") }
            samples = flowMap.sample(start, steps: steps)
        case .meanFlow:
            guard let meanFlow else { preconditionFailure("meanflow trains its model first") }
            samples = meanFlow.sample(start, steps: steps)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) * 1e-9
        var metric = PhiloxGenerator(seed: 7)
        let distance = slicedWasserstein(samples, reference, using: &metric)
        try AtomicFile.write(Data(("x,y\n" + NumericCSV.format(samples)).utf8), to: folder.file("samples.csv"))
        var tables: [Table] = []
        if compareSamplers, let model {
            var rows: [[String]] = []
            for entry in SamplerRegistry.entries {
                rows.append(
                    [entry.name, entry.family]
                        + [10, 20, 50].map { nfe in
                            var r = PhiloxGenerator(seed: 7), noise = PhiloxGenerator(seed: seed &+ 1)
                            guard
                                let drawn = try? entry.sample(
                                    start, evaluations: nfe, schedule: schedule, model: model, using: &noise)
                            else { return "n/a" }
                            return String(format: "%.4f", slicedWasserstein(drawn, reference, using: &r))
                        })
            }
            tables.append(
                Table(
                    title: "Sliced W2 (200 directions) to reference data, same start",
                    header: ["sampler", "family", "NFE 10", "NFE 20", "NFE 50"], rows: rows))
        }
        let scatter = Plot(
            title: "Samples (\(methodName), \(steps) evaluations) and reference data", xLabel: "x1", yLabel: "x2",
            series: [
                Series(
                    name: "reference", x: (0..<reference.rows).map { reference[$0, 0] },
                    y: (0..<reference.rows).map { reference[$0, 1] }, style: .points),
                Series(
                    name: "samples", x: (0..<samples.rows).map { samples[$0, 0] },
                    y: (0..<samples.rows).map { samples[$0, 1] }, style: .points),
            ],
            logY: false)
        let description: String
        switch method {
        case .diffusion: description = "sampler \(([sampler] + settings).joined(separator: " ")), \(steps) evaluations"
        case .cfgMP:
            description =
                "CFG-MP\(anderson ? "+" : "") (\(iterations) projection iterations while t < \(projectionThreshold)), \(steps) Euler steps"
        case .pfgm:
            description =
                "PFGM++ with D = \(dimensions) (EDM Heun, \((steps + 1) / 2) steps from its prior at sigma_max \(Int(Self.sigmaMax))\(injection > 0 ? ", injected noise alpha \(injection)" : ""))"
        case .kineticOptimal:
            description =
                "flow matching on the \(self.schedule == .condOT ? "Cond-OT" : "kinetic-optimal") path of the source's points, \(steps) Euler steps"
        case .lightSB:
            description =
                "Light Schrodinger Bridge from N(0, I), eps \(epsilon ?? 0.1), \(components ?? 50) components, \(bridgeSteps.map { "\($0) Euler-Maruyama steps of the bridge" } ?? "exact plan samples")"
        case .flowMap:
            description =
                "flow map (\((distillation ?? .lsd).loss.name)) of the source's points, \(steps) \((distillation ?? .lsd) == .fm ? "Euler steps of v_{t,t}" : "jumps")\(flowMap.map { $0.skippedSteps > 0 ? ", \($0.skippedSteps) non-finite training steps skipped" : "" } ?? "")"
        case .meanFlow:
            description =
                "MeanFlow (\((meanflowTarget ?? .plain) == .mp1 ? "MP1 target, w = 2" : "plain target")) of the source's points, \(steps) \(steps == 1 ? "evaluation" : "jumps")"
        case .kDiff:
            description =
                "k-Diff (reconstruction) predicting \((target ?? .learned).rawValue)\(flow?.model.k.map { String(format: ", k = %.4f", $0) } ?? ""), embedded in \(ambientDimension) dimensions, \(steps) Euler steps"
        }
        let report = Report(
            title: "Diffusion sampling: \(source.rawValue)",
            subtitle: ([.diffusion, .cfgMP].contains(method) ? "path \(path.rawValue), " : "")
                + "\(description), \(count) samples"
                + (label.map { ", class \($0), guidance \(guidance)" } ?? ""),
            tables: tables, figures: [.chart(scatter)],
            notes: [
                String(
                    format: "Sliced W2 of the samples to %d reference points: %.4f. Sampling took %.3f s.",
                    reference.rows, distance, seconds)
            ],
            summary: [
                "source": source.rawValue, "path": path.rawValue,
                "method": method.rawValue, "sampler": methodName, "sampler_options": settings,
                "projection": method == .cfgMP ? iterations : 0,
                "augmentation": method == .pfgm ? dimensions : "", "noise_injection": injection,
                "target": method == .kDiff ? (target ?? .learned).rawValue : "", "ambient": ambientDimension,
                "distillation": method == .flowMap ? (distillation ?? .lsd).rawValue : "",
                "meanflow_target": method == .meanFlow ? (meanflowTarget ?? .plain).rawValue : "",
                "k": flow?.model.k ?? Double.nan,
                "steps": steps,
                "count": count,
                "sliced_w2": distance, "seconds": seconds,
            ])
        try report.write(to: folder.path)
        print(
            String(
                format: "%@ from %@ (%@), %d steps: sliced W2 to reference %.4f, %.3f s",
                methodName, source.rawValue,
                pathName, steps,
                distance, seconds))
        for table in tables { print(table.text) }
        print("samples: \(out)/samples.csv\nreport: \(out)/report.html")
        guard distance.isFinite else {
            throw CommandFailure("the samples are not finite (the sampler diverged); see \(out)/report.html")
        }
    }

    /// 20000 samples of the 8-mode ring, what the trained methods learn from the mixture source.
    static func mixturePoints(using rng: inout PhiloxGenerator) -> Matrix64 {
        GaussianMixtureDenoiser.ring(count: 8, radius: 2, standardDeviation: 0.1).sample(20_000, using: &rng)
    }

    /// A training step's progress line on standard error (every 500 steps and the last, with
    /// `detail`), and whether to go on (no interrupt).
    func logTraining(_ step: Int, _ loss: Float, _ detail: @autoclosure () -> String = "") -> Bool {
        if step % 500 == 0 || step == trainSteps - 1 {
            FileHandle.standardError.write(
                Data("train step \(step + 1)/\(trainSteps)  loss \(loss)\(detail())\n".utf8))
        }
        return !Interrupt.requested
    }

    /// k-Diff's flow (`k-diff.md` 2, reconstruction) trained for `--train-steps` on the source's
    /// points (moons: the standardised training set; the mixture: 20000 of its samples) embedded in
    /// `--ambient` dimensions, with the embedding that projects its samples back.
    func trainedFlow(
        on points: Matrix64?, using rng: inout PhiloxGenerator
    ) throws -> (model: KDiffModel, embedding: Matrix64) {
        let data = points ?? Self.mixturePoints(using: &rng)
        let embedding = Matrix64.randomOrthonormalColumns(rows: ambientDimension, columns: 2, using: &rng)
        let model = KDiffModel(dimension: ambientDimension, target: kDiffTarget, using: &rng)
        try model.fit(points: data * embedding.transposed, steps: trainSteps, using: &rng) { step, loss in
            logTraining(step, loss, model.k.map { String(format: "  k %.4f", $0) } ?? "")
        }
        try Interrupt.exitIfRequested()
        return (model, embedding)
    }

    /// The Light Schrödinger Bridge (`light-schrodinger-bridge.md`) from N(0, I) to the source's
    /// points (moons: the standardised training set; the mixture: 20000 of its samples), trained
    /// for `--train-steps` Adam steps (batch 128, lr 1e-3), r started at target samples, S at 0.1.
    func trainedBridge(to points: Matrix64?, using rng: inout PhiloxGenerator) throws -> LightSchrodingerBridge {
        let data = points ?? Self.mixturePoints(using: &rng)
        func rows(_ n: Int, _ rng: inout PhiloxGenerator) -> Matrix64 {
            var picked: [Double] = []
            picked.reserveCapacity(2 * n)
            for _ in 0..<n {
                let i = rng.nextInt(below: data.rows)
                picked += [data[i, 0], data[i, 1]]
            }
            return Matrix64(rows: n, columns: 2, scalars: picked)
        }
        let count = components ?? 50
        let model = LightSchrodingerBridge(
            components: count, dimension: 2, epsilon: epsilon ?? 0.1, initialMeans: rows(count, &rng), using: &rng)
        try model.fit(
            source: { n, rng in Matrix64(rows: n, columns: 2, scalars: (0..<(2 * n)).map { _ in rng.nextNormal() }) },
            target: rows, steps: trainSteps, using: &rng
        ) { step, loss in logTraining(step, loss) }
        try Interrupt.exitIfRequested()
        return model
    }

    /// A flow-matching field (`kinetic-optimal-paths.md` 5.3) on the source's points (moons: the
    /// standardised training set; the mixture: 20000 of its samples) scaled to `E‖x‖² = 2`, on the
    /// kinetic-optimal schedule of 512 of them (Monte-Carlo λ, 2000 draws, 801 angles, κ floor
    /// 1e-3) or on Cond-OT; trained for `--train-steps` Adam steps of 512 rows. Returns the field
    /// and the scale its samples are divided by.
    func trainedPathField(
        on points: Matrix64?, using rng: inout PhiloxGenerator
    ) throws -> (field: GaussianPathField, scale: Double) {
        let data = points ?? Self.mixturePoints(using: &rng)
        let moment = data.scalars.reduce(0) { $0 + $1 * $1 } / Double(data.rows)
        let scale = (2 / moment).squareRoot(), scaled = data * scale
        var fieldPath: GaussianPathField.Path = KineticOptimalPath.conditionalOptimalTransport
        if schedule ?? .ko == .ko {
            let subset = (0..<512).map { _ in
                let i = rng.nextInt(below: scaled.rows)
                return [scaled[i, 0], scaled[i, 1]]
            }
            let lambda = DataSeparation.monteCarlo(points: subset, samples: 2000, using: &rng)
            let ko = KineticOptimalPath(dimension: 2, gridSize: 801, kappaFloor: 1e-3, separation: lambda)
            fieldPath = { ko.schedule(at: $0) }
        }
        let field = GaussianPathField(
            network: DenoiserNetwork(dimension: 2, time: .raw, using: &rng), path: fieldPath)
        try field.fit(points: scaled, steps: trainSteps, using: &rng) { step, loss in logTraining(step, loss) }
        try Interrupt.exitIfRequested()
        return (field, scale)
    }

    /// A flow map (`flow-maps.md`) of the source's points (moons: the standardised training set; the
    /// mixture: 20000 of its samples), 4 x 128 GELU, trained for `--train-steps` Adam steps of 512
    /// rows with diagonal flow matching plus `--distillation`.
    func trainedFlowMap(on points: Matrix64?, using rng: inout PhiloxGenerator) throws -> FlowMapModel {
        let data = points ?? Self.mixturePoints(using: &rng)
        let model = FlowMapModel(dimension: 2, distillation: (distillation ?? .lsd).loss, using: &rng)
        try model.fit(points: data, steps: trainSteps, using: &rng) { step, loss in logTraining(step, loss) }
        try Interrupt.exitIfRequested()
        return model
    }

    /// MeanFlow (`meanflow-policy.md` 2) of the source's points (moons: the standardised training
    /// set; the mixture: 20000 of its samples), 3 x 128 GELU, half of each batch with r = t, trained
    /// for `--train-steps` AdamW steps of 512 rows.
    func trainedMeanFlow(on points: Matrix64?, using rng: inout PhiloxGenerator) throws -> MeanFlowModel {
        let data = points ?? Self.mixturePoints(using: &rng)
        let target: MeanFlowModel.Target = (meanflowTarget ?? .plain) == .mp1 ? .mp1(w: 2) : .plain
        let model = MeanFlowModel(
            dimension: 2, objective: .meanFlow(target: target, flowRatio: 0.5, dispersiveWeight: 0), using: &rng)
        try model.fit(
            points: data, steps: trainSteps, warmupSteps: Swift.min(200, trainSteps / 10), using: &rng
        ) { step, loss in logTraining(step, loss) }
        try Interrupt.exitIfRequested()
        return model
    }

    /// CFG-MP(+) (`cfg-manifold-projection.md` 2.2) with the trained fields. Its flow time t (data
    /// at 1) is the linear-flow path's 1 − t, and the velocity there is `(x̂_0 − x)/(1 − t)`.
    func projected(_ start: Matrix64, _ fields: (unconditional: Denoiser, conditional: Denoiser)) -> Matrix64 {
        func velocity(_ denoiser: @escaping Denoiser) -> ManifoldProjection.Velocity {
            { x, t in (denoiser(x, 1 - t) - x) * (1 / (1 - t)) }
        }
        let sampler = ManifoldProjection(
            iterations: iterations, anderson: anderson ? ManifoldProjection.andersonMixing(memory: 1) : nil)
        return sampler.sample(
            start, steps: steps, guidance: guidance, threshold: projectionThreshold,
            unconditional: velocity(fields.unconditional), conditional: velocity(fields.conditional))
    }
}

extension Prediction: ExpressibleByArgument {}
