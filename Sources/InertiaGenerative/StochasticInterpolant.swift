import Foundation
import InertiaTensor

/// Stochastic interpolants (M. S. Albergo, N. M. Boffi, E. Vanden-Eijnden, "Stochastic Interpolants:
/// A Unifying Framework for Flows and Diffusions", 2023; `shared/papers/stochastic-interpolants.md`):
/// `x_t = a(t)·x0 + b(t)·x1 + γ(t)·z`, t = 0 base, t = 1 target (the reverse of the diffusion time of
/// `DiffusionSchedule`). Spatially linear interpolants of the official code's catalogue.
public struct StochasticInterpolant: Sendable, Equatable {
    /// The interpolation between the two endpoints, `I(t, x₀, x₁) = α(t)x₀ + β(t)x₁`.
    public enum Path: Sendable, Equatable {
        /// `a = 1 − t`, `b = t`.
        case linear
        /// `a = sqrt(1 − γ²)cos(πt/2)`, `b = sqrt(1 − γ²)sin(πt/2)` (needs γ < 1).
        case trig
        /// Without γ, Gaussian base: flow matching (`linear`) or VP diffusion (`trig`) in reversed time.
        case oneSidedLinear, oneSidedTrig
        /// `a = cos²(πt)` for t ≤ ½ (else 0), `b = cos²(πt)` for t > ½ (else 0): both endpoints
        /// vanish at t = ½, where `x_{1/2} = γz` is pure noise (the code's `encoding-decoding`).
        case encodingDecoding
        /// `a = 0`, `b = 1`: `x_t = x1 + γz` from the data back to itself (ρ0 = ρ1; the code's
        /// `mirror`, which writes it as `a = γ` multiplying `x0 = z`).
        case mirror
    }

    /// The noise scale γ (γ(0) = γ(1) = 0).
    public enum Noise: Sendable, Equatable {
        /// `sqrt(scale·t(1 − t))` (scale 1: the code's "brownian").
        case brownian(scale: Double)
        /// `t(1 − t)`.
        case squared
        /// `sin²(πt)`.
        case sineSquared
        case zero

        public func gamma(_ t: Double) -> Double {
            switch self {
            case .brownian(let c): return (c * t * (1 - t)).squareRoot()
            case .squared: return t * (1 - t)
            case .sineSquared: return Foundation.pow(Foundation.sin(.pi * t), 2)
            case .zero: return 0
            }
        }

        /// `γγ̇`, finite at the ends even where γ̇ is not.
        public func gammaTimesDerivative(_ t: Double) -> Double {
            switch self {
            case .brownian(let c): return c / 2 * (1 - 2 * t)
            case .squared: return t * (1 - t) * (1 - 2 * t)
            case .sineSquared: return 2 * .pi * Foundation.pow(Foundation.sin(.pi * t), 3) * Foundation.cos(.pi * t)
            case .zero: return 0
            }
        }
    }

    public let path: Path
    public let noise: Noise

    public init(path: Path, noise: Noise) {
        let oneSided = path == .oneSidedLinear || path == .oneSidedTrig
        precondition(
            !oneSided || noise == .zero,
            "StochasticInterpolant: one-sided paths have no γ (the base sample is the noise)")
        precondition(
            !(path == .encodingDecoding || path == .mirror) || noise.gamma(0.5) > 0,
            "StochasticInterpolant: the \(path) path needs γ > 0 (all of x_t's spread at t = 1/2 is γz)")
        self.path = path
        self.noise = noise
    }

    /// `(a, b, ȧ, ḃ)` at `t`.
    public func coefficients(_ t: Double) -> (a: Double, b: Double, aDot: Double, bDot: Double) {
        switch path {
        case .linear, .oneSidedLinear: return (1 - t, t, -1, 1)
        case .oneSidedTrig:
            return (
                Foundation.cos(.pi * t / 2), Foundation.sin(.pi * t / 2), -.pi / 2 * Foundation.sin(.pi * t / 2),
                .pi / 2 * Foundation.cos(.pi * t / 2)
            )
        case .encodingDecoding:
            let c = Foundation.cos(.pi * t), derivative = -.pi * Foundation.sin(2 * .pi * t)
            return t <= 0.5 ? (c * c, 0, derivative, 0) : (0, c * c, 0, derivative)
        case .mirror: return (0, 1, 0, 0)
        case .trig:
            let g = noise.gamma(t), gg = noise.gammaTimesDerivative(t), root = Swift.max(1 - g * g, 1e-300).squareRoot()
            let c = Foundation.cos(.pi * t / 2), s = Foundation.sin(.pi * t / 2)
            return (root * c, root * s, -gg * c / root - .pi / 2 * root * s, -gg * s / root + .pi / 2 * root * c)
        }
    }

    /// The exact fields for Gaussian `ρ0 = N(m0, C0)`, `ρ1 = N(m1, C1)` coupled independently, which
    /// are affine in `x`: `m(t) = a m0 + b m1`, `C(t) = a²C0 + b²C1 + γ²I`, the drift
    /// `b(t, x) = ṁ + (aȧC0 + bḃC1 + γγ̇ I)C⁻¹(x − m)` and the score `s = −C⁻¹(x − m)`.
    public func gaussianLinearFields(
        m0: [Double], c0: Matrix64, m1: [Double], c1: Matrix64, t: Double
    )
        -> (mean: [Double], meanVelocity: [Double], covariance: Matrix64, cross: Matrix64, precision: Matrix64)
    {
        let (a, b, ad, bd) = coefficients(t)
        let g = noise.gamma(t)
        let covariance = (c0 * (a * a) + c1 * (b * b)).addingToDiagonal(g * g)
        return (
            (0..<m0.count).map { a * m0[$0] + b * m1[$0] }, (0..<m0.count).map { ad * m0[$0] + bd * m1[$0] },
            covariance,
            c0 * (a * ad) + c1 * (b * bd), SymmetricEigen(covariance).power(-1)
        )
    }

    /// The fields at one point `x`: the I-velocity `v = ṁ + (aȧC0 + bḃC1)C⁻¹(x − m)`, the score
    /// `s = −C⁻¹(x − m)`, the drift `b = v − γγ̇ s` and the noise denoiser `η_z = −γ s`.
    public func gaussianFields(
        m0: [Double], c0: Matrix64, m1: [Double], c1: Matrix64, t: Double, x: [Double]
    )
        -> (
            mean: [Double], covariance: Matrix64, v: [Double], score: [Double], drift: [Double], noiseDenoiser: [Double]
        )
    {
        let d = m0.count
        let fields = gaussianLinearFields(m0: m0, c0: c0, m1: m1, c1: c1, t: t)
        let g = noise.gamma(t), gg = noise.gammaTimesDerivative(t)
        let whitened =
            fields.precision * Matrix64(rows: d, columns: 1, scalars: (0..<d).map { x[$0] - fields.mean[$0] })
        let pulled = (fields.cross * whitened).scalars
        let v = (0..<d).map { fields.meanVelocity[$0] + pulled[$0] }
        let score = whitened.scalars.map { -$0 }
        return (fields.mean, fields.covariance, v, score, (0..<d).map { v[$0] - gg * score[$0] }, score.map { -g * $0 })
    }

    /// Integrates `dX = b(t, X)dt` by classical Runge–Kutta 4 from t = 0 to 1 in `steps` steps.
    public static func integrateODE(_ x: Matrix64, steps: Int, drift: (Double, Matrix64) -> Matrix64) -> Matrix64 {
        var x = x
        let h = 1 / Double(steps)
        func add(_ a: Matrix64, _ s: Double, _ b: Matrix64) -> Matrix64 {
            Matrix64(rows: a.rows, columns: a.columns, scalars: zip(a.scalars, b.scalars).map { $0 + s * $1 })
        }
        for i in 0..<steps {
            let t = Double(i) * h
            let k1 = drift(t, x), k2 = drift(t + h / 2, add(x, h / 2, k1)), k3 = drift(t + h / 2, add(x, h / 2, k2)),
                k4 = drift(t + h, add(x, h, k3))
            for k in 0..<x.scalars.count {
                x.scalars[k] += h / 6 * (k1.scalars[k] + 2 * k2.scalars[k] + 2 * k3.scalars[k] + k4.scalars[k])
            }
        }
        return x
    }

    /// Integrates `dX = b(t, X)dt` from t = 0 to 1 by Heun's method (two drift evaluations per step).
    public static func integrateODEHeun(_ x: Matrix64, steps: Int, drift: (Double, Matrix64) -> Matrix64) -> Matrix64 {
        var x = x
        let h = 1 / Double(steps)
        for i in 0..<steps {
            let t = Double(i) * h
            let k1 = drift(t, x)
            let predicted = Matrix64(
                rows: x.rows, columns: x.columns, scalars: zip(x.scalars, k1.scalars).map { $0 + h * $1 })
            let k2 = drift(t + h, predicted)
            for k in 0..<x.scalars.count { x.scalars[k] += h / 2 * (k1.scalars[k] + k2.scalars[k]) }
        }
        return x
    }

    /// The forward SDE `dX = (b + εs)dt + sqrt(2ε)dW` by Euler–Maruyama from t = 0 to `end`, then one
    /// deterministic step to 1 if `end < 1` (one-sided scores diverge at t = 1).
    public static func integrateSDE(
        _ x: Matrix64, steps: Int, epsilon: Double, end: Double = 1, drift: (Double, Matrix64) -> Matrix64,
        score: (Double, Matrix64) -> Matrix64, using rng: inout PhiloxGenerator
    ) -> Matrix64 {
        var x = x
        let h = end / Double(steps), noise = (2 * epsilon * h).squareRoot()
        for i in 0..<steps {
            let t = Double(i) * h
            let b = drift(t, x), s = score(t, x)
            for k in 0..<x.scalars.count {
                x.scalars[k] += h * (b.scalars[k] + epsilon * s.scalars[k]) + noise * rng.nextNormal()
            }
        }
        if end < 1 {
            let b = drift(end, x)
            for k in 0..<x.scalars.count { x.scalars[k] += (1 - end) * b.scalars[k] }
        }
        return x
    }

    /// The backward SDE `dX = (b − εs)dt + sqrt(2ε)dW̄`, integrated by Euler–Maruyama from t = 1
    /// down to `end`: it carries ρ1 to ρ0 (every ε gives the same marginals as the ODE run backward).
    public static func integrateBackwardSDE(
        _ x: Matrix64, steps: Int, epsilon: Double, end: Double = 0, drift: (Double, Matrix64) -> Matrix64,
        score: (Double, Matrix64) -> Matrix64, using rng: inout PhiloxGenerator
    ) -> Matrix64 {
        var x = x
        let h = (1 - end) / Double(steps), noise = (2 * epsilon * h).squareRoot()
        for i in 0..<steps {
            let t = 1 - Double(i) * h
            let b = drift(t, x), s = score(t, x)
            for k in 0..<x.scalars.count {
                x.scalars[k] += -h * (b.scalars[k] - epsilon * s.scalars[k]) + noise * rng.nextNormal()
            }
        }
        return x
    }
}
