import Foundation
import InertiaTensor

/// Log-likelihoods from the probability-flow ODE by the instantaneous change of variables
/// (R. T. Q. Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018; Y. Song et al.,
/// "Score-Based Generative Modeling through SDEs", ICLR 2021, appendix D.2;
/// `diffusion-principles.md`): along `dx/dt = û(x, t)`,
///
///     log p_{t0}(x_{t0}) = log p_T(x_T) + ∫_{t0}^{T} ∇·û(x_t, t) dt
///
/// integrated from the data side `t0` to the noise side `T` by Heun's method on the state and the
/// running integral together. The divergence is the exact trace (central differences along each
/// coordinate: `2d` extra model calls, for low dimension) or Hutchinson's estimator (Rademacher
/// probes, unbiased, `2` calls per probe). Differences are taken in Float64; for a Float32
/// network raise `differenceStep` to ~1e-2 so its rounding stays below the truncation error.
public struct ProbabilityFlowLikelihood: Sendable {
    /// How the divergence of the velocity is taken: exactly (one evaluation per dimension) or by Hutchinson's
    /// estimator with Rademacher probes.
    public enum Trace: Sendable, Equatable {
        case exact
        case hutchinson(probes: Int)
    }

    public var steps: Int
    public var trace: Trace
    public var differenceStep: Double

    public init(steps: Int = 100, trace: Trace = .exact, differenceStep: Double = 1e-4) {
        precondition(steps > 0, "ProbabilityFlowLikelihood: steps must be positive, got \(steps)")
        if case .hutchinson(let probes) = trace {
            precondition(probes > 0, "ProbabilityFlowLikelihood: probes must be positive")
        }
        self.steps = steps
        self.trace = trace
        self.differenceStep = differenceStep
    }

    /// `log p_{t0}` at every row of `x`, and the points `x_T` the flow carries them to.
    /// `terminalLogDensity` is `log p_T` (e.g. `isotropicGaussian` for a schedule with `α(T) = 0`).
    public func logDensity(
        _ x: Matrix64, from t0: Double, to terminal: Double, schedule: DiffusionSchedule, model: @escaping Denoiser,
        terminalLogDensity: (Matrix64) -> [Double], using rng: inout PhiloxGenerator
    ) -> (logDensity: [Double], terminal: Matrix64) {
        logDensity(
            x, from: t0, to: terminal, velocity: { DiffusionSampler.velocity($0, $1, schedule, model) },
            terminalLogDensity: terminalLogDensity, using: &rng)
    }

    /// The same for any flow `dx/dt = velocity(x, t)` (either direction of time: an interpolant's
    /// data density is `from: 1, to: 0` with its drift and the base density).
    public func logDensity(
        _ x: Matrix64, from t0: Double, to terminal: Double, velocity: (Matrix64, Double) -> Matrix64,
        terminalLogDensity: (Matrix64) -> [Double], using rng: inout PhiloxGenerator
    ) -> (logDensity: [Double], terminal: Matrix64) {
        precondition(terminal != t0, "ProbabilityFlowLikelihood: the two times must differ")
        var state = x, integral = [Double](repeating: 0, count: x.rows)
        let h = (terminal - t0) / Double(steps)
        for i in 0..<steps {
            let t = t0 + Double(i) * h
            let (slope, divergence) = field(state, t, velocity, using: &rng)
            let predicted = DiffusionSampler.axpy(state, h, slope)
            let (next, nextDivergence) = field(predicted, t + h, velocity, using: &rng)
            state = DiffusionSampler.axpy(state, h / 2, slope + next)
            for r in 0..<x.rows { integral[r] += h / 2 * (divergence[r] + nextDivergence[r]) }
        }
        return (zip(terminalLogDensity(state), integral).map { $0 + $1 }, state)
    }

    /// `û(x, t)` and its divergence at every row.
    func field(
        _ x: Matrix64, _ t: Double, _ velocity: (Matrix64, Double) -> Matrix64, using rng: inout PhiloxGenerator
    ) -> (Matrix64, [Double]) {
        let u = velocity(x, t), d = x.columns, eps = differenceStep
        var divergence = [Double](repeating: 0, count: x.rows)
        // `(z · (û(x + εz) − û(x − εz)))/(2ε)` per row, the directions `z` rows of `direction`.
        func directional(_ direction: Matrix64) -> [Double] {
            let plus = velocity(DiffusionSampler.axpy(x, eps, direction), t),
                minus = velocity(DiffusionSampler.axpy(x, -eps, direction), t)
            return (0..<x.rows).map { r in
                (0..<d).reduce(0.0) { $0 + direction[r, $1] * (plus[r, $1] - minus[r, $1]) } / (2 * eps)
            }
        }
        switch trace {
        case .exact:
            for j in 0..<d {
                var unit = Matrix64(rows: x.rows, columns: d)
                for r in 0..<x.rows { unit[r, j] = 1 }
                for (r, value) in directional(unit).enumerated() { divergence[r] += value }
            }
        case .hutchinson(let probes):
            for _ in 0..<probes {
                let z = Matrix64(
                    rows: x.rows, columns: d, scalars: (0..<(x.rows * d)).map { _ in rng.nextBernoulli(0.5) ? 1 : -1 })
                for (r, value) in directional(z).enumerated() { divergence[r] += value / Double(probes) }
            }
        }
        return (u, divergence)
    }

    /// `log N(x; 0, s²I)` at every row.
    public static func isotropicGaussian(standardDeviation s: Double) -> (Matrix64) -> [Double] {
        { x in
            (0..<x.rows).map { r in
                let squared = (0..<x.columns).reduce(0.0) { $0 + x[r, $1] * x[r, $1] }
                return -0.5 * squared / (s * s) - Double(x.columns)
                    * (Foundation.log(s) + 0.5 * Foundation.log(2 * Double.pi))
            }
        }
    }
}
