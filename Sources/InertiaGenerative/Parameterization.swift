import Foundation
import InertiaTensor

/// What a diffusion network predicts (`diffusion-principles.md` 3). All five are affine in one
/// another at fixed `(x_t, t)`, so any can be converted to any other through `(x̂_0, ε̂)`.
public enum Prediction: String, Sendable, CaseIterable {
    /// ε̂, the noise.
    case epsilon
    /// x̂_0 = D(x_t, t), the denoiser.
    case data
    /// ŝ = ∇log p_t = −ε̂/σ.
    case score
    /// Salimans–Ho `v = αε − σx_0`.
    case v
    /// The flow velocity in diffusion time `u = α̇x_0 + σ̇ε` (the probability-flow ODE drift).
    case velocity

    /// `value` (rows: samples) converted from this prediction to `target`, at `x` and time `t`.
    public func convert(
        _ value: Matrix64, to target: Prediction, x: Matrix64, t: Double, schedule: DiffusionSchedule
    ) -> Matrix64 {
        let a = schedule.alpha(t), s = schedule.sigma(t), ad = schedule.alphaDerivative(t),
            sd = schedule.sigmaDerivative(t)
        var x0 = Matrix64(rows: x.rows, columns: x.columns), eps = x0
        for k in 0..<x.scalars.count {
            let xv = x.scalars[k], f = value.scalars[k]
            switch self {
            case .epsilon: (x0.scalars[k], eps.scalars[k]) = ((xv - s * f) / a, f)
            case .data: (x0.scalars[k], eps.scalars[k]) = (f, (xv - a * f) / s)
            case .score: (x0.scalars[k], eps.scalars[k]) = ((xv + s * s * f) / a, -s * f)
            case .v:
                (x0.scalars[k], eps.scalars[k]) = (
                    (a * xv - s * f) / (a * a + s * s), (s * xv + a * f) / (a * a + s * s)
                )
            case .velocity:
                let determinant = a * sd - s * ad
                (x0.scalars[k], eps.scalars[k]) = ((sd * xv - s * f) / determinant, (a * f - ad * xv) / determinant)
            }
        }
        var out = Matrix64(rows: x.rows, columns: x.columns)
        for k in 0..<x.scalars.count {
            let d = x0.scalars[k], e = eps.scalars[k]
            switch target {
            case .epsilon: out.scalars[k] = e
            case .data: out.scalars[k] = d
            case .score: out.scalars[k] = -e / s
            case .v: out.scalars[k] = a * e - s * d
            case .velocity: out.scalars[k] = ad * d + sd * e
            }
        }
        return out
    }
}

/// Classifier-free guidance (Ho & Salimans, 2022; spec 7): `ũ = u_∅ + w·(u_c − u_∅)`, `w = 1` the
/// plain conditional model, `w = 0` the unconditional. Affine, so it commutes with `Prediction.convert`.
public func classifierFreeGuidance(unconditional: Matrix64, conditional: Matrix64, scale w: Double) -> Matrix64 {
    Matrix64(
        rows: conditional.rows, columns: conditional.columns,
        scalars: zip(unconditional.scalars, conditional.scalars).map { $0 + w * ($1 - $0) })
}

/// EDM's preconditioning (Karras et al., 2022): `D(x; σ) = c_skip·x + c_out·F(c_in·x; c_noise)` and
/// the loss weight, for data standard deviation `σ_data`.
public struct EDMPreconditioning: Sendable, Equatable {
    public var sigmaData: Double

    public init(sigmaData: Double = 0.5) { self.sigmaData = sigmaData }

    public func coefficients(
        _ sigma: Double
    ) -> (skip: Double, out: Double, input: Double, noise: Double, lossWeight: Double) {
        let sd2 = sigmaData * sigmaData, s2 = sigma * sigma
        return (
            sd2 / (s2 + sd2), sigma * sigmaData / (s2 + sd2).squareRoot(), 1 / (s2 + sd2).squareRoot(),
            0.25 * Foundation.log(sigma),
            (s2 + sd2) / (s2 * sd2)
        )
    }
}
