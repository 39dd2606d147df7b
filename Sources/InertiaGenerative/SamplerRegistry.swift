import Foundation
import InertiaTensor

/// A sampler as the command line and sweeps see it: a name, the family and paper it comes from,
/// its numeric options with their defaults and ranges, and how it draws samples from a start with
/// a budget of network evaluations. Every family plugs in here (the diffusion ODE / SDE solvers,
/// heavy-ball momentum, the stochastic-interpolant integrators), so `inertia sample --sampler NAME
/// --set key=value` and `inertia samplers` cover each new one without a change to the CLI.
public struct SamplerEntry: @unchecked Sendable {
    /// A numeric option: its default and the closed range it must lie in.
    public struct Option: Sendable {
        public let name: String
        public let defaultValue: Double
        public let range: ClosedRange<Double>
        /// Whether the value must be a whole number (an order, a count).
        public let isInteger: Bool
        public let summary: String

        public init(
            _ name: String, default value: Double, in range: ClosedRange<Double>, integer: Bool = false,
            _ summary: String
        ) {
            self.name = name
            defaultValue = value
            self.range = range
            isInteger = integer
            self.summary = summary
        }
    }

    /// Draws samples: start (noise at `tMax`), network evaluations, the options (every declared
    /// one present), the time range, the schedule, the model and the random generator.
    public typealias Draw = (
        _ start: Matrix64, _ evaluations: Int, _ options: [String: Double], _ times: ClosedRange<Double>,
        _ schedule: DiffusionSchedule, _ model: Denoiser, _ rng: inout PhiloxGenerator
    ) -> Matrix64

    public let name: String
    public let family: String
    public let summary: String
    public let paper: String
    public let options: [Option]
    /// The fewest network evaluations the sampler can spend.
    public let minimumEvaluations: Int
    let draw: Draw

    public init(
        name: String, family: String, summary: String, paper: String, options: [Option] = [],
        minimumEvaluations: Int = 1,
        draw: @escaping Draw
    ) {
        self.name = name
        self.family = family
        self.summary = summary
        self.paper = paper
        self.options = options
        self.minimumEvaluations = minimumEvaluations
        self.draw = draw
    }

    /// Every declared option at its default.
    var defaults: [String: Double] { Dictionary(uniqueKeysWithValues: options.map { ($0.name, $0.defaultValue) }) }

    /// The declared options with `settings` applied over their defaults; an unknown name, a
    /// non-finite value, a value out of range or a fraction for a whole-number option is an error
    /// that names it.
    public func resolve(_ settings: [String: Double]) throws -> [String: Double] {
        var resolved = defaults
        for (key, value) in settings {
            guard let option = options.first(where: { $0.name == key }) else {
                let known = options.isEmpty ? "it has none" : "it has " + options.map(\.name).joined(separator: ", ")
                throw SamplerError.invalidOption(sampler: name, detail: "unknown option '\(key)' (\(known))")
            }
            guard value.isFinite, option.range.contains(value), !option.isInteger || value == value.rounded() else {
                let kind = option.isInteger ? "a whole number" : "a number"
                throw SamplerError.invalidOption(
                    sampler: name,
                    detail:
                        "\(key) must be \(kind) in \(option.range.lowerBound)...\(option.range.upperBound), got \(value)"
                )
            }
            resolved[key] = value
        }
        return resolved
    }

    /// Samples from `start` with `evaluations` network calls on `times` (from its upper bound down).
    public func sample(
        _ start: Matrix64, evaluations: Int, settings: [String: Double] = [:],
        times: ClosedRange<Double> = 1e-3...0.999,
        schedule: DiffusionSchedule, model: Denoiser, using rng: inout PhiloxGenerator
    ) throws -> Matrix64 {
        guard evaluations >= minimumEvaluations else {
            throw SamplerError.invalidOption(
                sampler: name, detail: "needs at least \(minimumEvaluations) network evaluations, got \(evaluations)")
        }
        return draw(start, evaluations, try resolve(settings), times, schedule, model, &rng)
    }
}

/// A sampler that cannot run with the settings given.
public enum SamplerError: Error, Equatable, CustomStringConvertible {
    case unknownSampler(String)
    case invalidOption(sampler: String, detail: String)

    public var description: String {
        switch self {
        case .unknownSampler(let name):
            return
                "unknown sampler '\(name)' (available: \(SamplerRegistry.entries.map(\.name).joined(separator: ", ")))"
        case .invalidOption(let sampler, let detail): return "\(sampler): \(detail)"
        }
    }
}

/// Every sampler by name.
public enum SamplerRegistry {
    public static func entry(named name: String) -> SamplerEntry? { entries.first { $0.name == name } }

    public static let entries: [SamplerEntry] = solvers + heavyBall + interpolants

    static func grid(_ points: Int, _ times: ClosedRange<Double>, _ schedule: DiffusionSchedule) -> [Double] {
        TimeGrid.uniformLambda(from: times.upperBound, to: times.lowerBound, steps: points, schedule: schedule)
    }

    static let principles = "The Principles of Diffusion Models (arXiv 2510.21890)"

    /// The diffusion ODE / SDE solvers on the λ-uniform grid.
    static let solvers: [SamplerEntry] = [
        SamplerEntry(
            name: "euler", family: "diffusion solvers", summary: "Euler on the probability-flow ODE", paper: principles
        ) { x, n, _, times, schedule, model, _ in
            DiffusionSampler.euler(x, grid: grid(n, times, schedule), schedule: schedule, model: model)
        },
        SamplerEntry(
            name: "heun", family: "diffusion solvers",
            summary: "Heun (2nd order) on the probability-flow ODE; two evaluations a step",
            paper: "Karras et al., NeurIPS 2022"
        ) { x, n, _, times, schedule, model, _ in
            DiffusionSampler.heun(x, grid: grid(Swift.max(n / 2, 1), times, schedule), schedule: schedule, model: model)
        },
        SamplerEntry(
            name: "ddim", family: "diffusion solvers", summary: "DDIM; eta 0 is deterministic, 1 ancestral",
            paper: "Song, Meng & Ermon, ICLR 2021",
            options: [.init("eta", default: 0, in: 0...1, "noise re-injected per step")]
        ) { x, n, o, times, schedule, model, rng in
            DiffusionSampler.ddim(
                x, grid: grid(n, times, schedule), eta: o["eta"]!, schedule: schedule, model: model, using: &rng)
        },
        SamplerEntry(
            name: "dpmpp2m", family: "diffusion solvers",
            summary: "DPM-Solver++(2M), data prediction, multistep; beta < 1 adds heavy-ball momentum",
            paper: "Lu et al., 2022 (arXiv 2211.01095); momentum: Wizadwongsa et al., ICLR 2024",
            options: [
                .init("beta", default: 1, in: 0.01...1, "heavy-ball momentum on the second-order updates (1: none)")
            ]
        ) { x, n, o, times, schedule, model, _ in
            DiffusionSampler.dpmSolverPlusPlus2M(
                x, grid: grid(n, times, schedule), schedule: schedule, model: model, momentum: o["beta"]!)
        },
        SamplerEntry(
            name: "plms", family: "diffusion solvers",
            summary: "pseudo linear multistep (Adams-Bashforth-k on the DDIM ODE)",
            paper: "Liu, Ren, Lin & Zhao, ICLR 2022",
            options: [.init("order", default: 4, in: 1...4, integer: true, "multistep order k")]
        ) { x, n, o, times, schedule, model, _ in
            DiffusionSampler.plms(
                x, grid: grid(n, times, schedule), order: Int(o["order"]!), schedule: schedule, model: model)
        },
        SamplerEntry(
            name: "euler-maruyama", family: "diffusion solvers", summary: "Euler-Maruyama on the reverse SDE family",
            paper: principles,
            options: [.init("eta", default: 1, in: 0...10, "noise scale: 1 the reverse SDE, 0 the ODE")]
        ) { x, n, o, times, schedule, model, rng in
            DiffusionSampler.eulerMaruyama(
                x, grid: grid(n, times, schedule), eta: o["eta"]!, schedule: schedule, model: model, using: &rng)
        },
    ]

    /// Heavy-ball momentum on PLMS (one evaluation a step).
    static let heavyBall: [SamplerEntry] = HeavyBallSampling.Method.allCases.map { method in
        let summaries: [HeavyBallSampling.Method: String] = [
            .heavyBall: "heavy-ball momentum on the combined PLMS slope",
            .generalizedHeavyBall: "generalized heavy-ball: momentum on each slope, order kept",
            .nesterov: "Nesterov form of heavy-ball: the step mixes the new velocity with the slope again",
        ]
        return SamplerEntry(
            name: method.rawValue, family: "heavy-ball sampling", summary: summaries[method]!,
            paper: "Wizadwongsa et al., ICLR 2024 (arXiv 2307.11118)",
            options: [
                .init("order", default: 4, in: 1...5, integer: true, "multistep order k"),
                .init("beta", default: 0.8, in: 0.01...1, "momentum (1: plain PLMS-k)"),
            ]
        ) { x, n, o, times, schedule, model, _ in
            let points = grid(n, times, schedule)
            let alphas = points.map(schedule.alpha), sigmas = points.map(schedule.sigma)
            return HeavyBallSampling(method: method, order: Int(o["order"]!), beta: o["beta"]!)
                .sample(x, alphas: alphas, sigmas: sigmas) { y, i in
                    Prediction.data.convert(model(y, points[i]), to: .epsilon, x: y, t: points[i], schedule: schedule)
                }
        }
    }

    /// The stochastic-interpolant integrators on the velocity of the model's path. In interpolant
    /// time τ (0 noise, 1 data; diffusion time `t = tMax − τ·(tMax − tMin)`) the model's diffusion
    /// path is a one-sided interpolant: its drift is the probability-flow velocity times
    /// `−(tMax − tMin)`, its score the model's (a score does not depend on how time is counted).
    static let interpolants: [SamplerEntry] = [
        SamplerEntry(
            name: "interpolant-sde", family: "stochastic interpolants",
            summary: "Euler-Maruyama on the forward SDE dX = (b + eps s)dt + sqrt(2 eps)dW; one evaluation a step",
            paper: "Albergo, Boffi & Vanden-Eijnden, 2023 (arXiv 2303.08797)",
            options: [.init("epsilon", default: 0.5, in: 0...10, "diffusion coefficient (0: the transport ODE)")]
        ) { x, n, o, times, schedule, model, rng in
            let span = times.upperBound - times.lowerBound
            func time(_ tau: Double) -> Double { times.upperBound - tau * span }
            // One evaluation a step gives both fields: the drift and the score at the same point.
            var cached: (tau: Double, x: Matrix64, data: Matrix64)?
            func data(_ tau: Double, _ y: Matrix64) -> Matrix64 {
                if let c = cached, c.tau == tau, c.x.scalars == y.scalars { return c.data }
                let d = model(y, time(tau))
                cached = (tau, y, d)
                return d
            }
            return StochasticInterpolant.integrateSDE(
                x, steps: n, epsilon: o["epsilon"]!,
                drift: { tau, y in
                    let v = Prediction.data.convert(data(tau, y), to: .velocity, x: y, t: time(tau), schedule: schedule)
                    return Matrix64(rows: v.rows, columns: v.columns, scalars: v.scalars.map { -span * $0 })
                },
                score: { tau, y in
                    Prediction.data.convert(data(tau, y), to: .score, x: y, t: time(tau), schedule: schedule)
                }, using: &rng)
        },
        SamplerEntry(
            name: "interpolant-rk4", family: "stochastic interpolants",
            summary: "classical Runge-Kutta 4 on the transport ODE dx/dt = v(t, x); four evaluations a step",
            paper: "Albergo, Boffi & Vanden-Eijnden, 2023 (arXiv 2303.08797)", minimumEvaluations: 4
        ) { x, n, _, times, schedule, model, _ in
            let span = times.upperBound - times.lowerBound
            return StochasticInterpolant.integrateODE(x, steps: n / 4) { tau, y in
                let t = times.upperBound - tau * span
                let v = Prediction.data.convert(model(y, t), to: .velocity, x: y, t: t, schedule: schedule)
                return Matrix64(rows: v.rows, columns: v.columns, scalars: v.scalars.map { -span * $0 })
            }
        },
    ]
}
