import Foundation
import InertiaTensor

/// The regression losses of stochastic interpolants (`stochastic-interpolants.md` 2.5, the official
/// code's `loss_per_sample_*`), in the code's form `½|F̂|² − target·F̂` (negative; equal to
/// `½|F̂ − target|²` minus a constant, so the minimiser is the conditional mean of the target):
///
/// | field | target at `x_t = I + γz` | one-sided (`x_t = a x0 + b x1`) |
/// |---|---|---|
/// | drift b | `∂_t I + γ̇ z` | `ȧ x0 + ḃ x1` |
/// | velocity v | `∂_t I` | `ȧ x0 + ḃ x1` |
/// | score s | `−z/γ` | `−x0/a` |
/// | noise denoiser η | `z` (the paper's sign; the code's is `−z`) | `x0` |
///
/// Antithetic pairs draw one `z` (one-sided: one `x0`) and average the losses at `x⁺ = I + γz` and
/// `x⁻ = I − γz` (one-sided: `b x1 ± a x0`), whose targets flip the sign of the `z` (`x0`) terms:
/// the `1/γ` and `γ̇` singularities at the ends cancel to first order. The pair is averaged, not
/// summed as in the code, so plain and antithetic losses have the same expectation.
public struct InterpolantLoss: Sendable {
    /// The field a network learns: the drift `b`, the velocity `v`, the score `s` or the denoiser `η`.
    public enum Field: String, Sendable, CaseIterable {
        case drift, velocity, score, noiseDenoiser = "eta"
    }

    public let interpolant: StochasticInterpolant
    public let field: Field
    public let antithetic: Bool

    public init(_ interpolant: StochasticInterpolant, field: Field, antithetic: Bool) {
        self.interpolant = interpolant
        self.field = field
        self.antithetic = antithetic
    }

    var isOneSided: Bool { interpolant.path == .oneSidedLinear || interpolant.path == .oneSidedTrig }

    /// The points `x_t` and targets for the given sign of the `z` (one-sided: `x0`) terms.
    func pointsAndTargets(
        x0: Matrix64, x1: Matrix64, times: [Double], z: Matrix64, sign: Double
    ) -> (points: Matrix64, targets: Matrix64) {
        var points = x0, targets = x0
        for i in 0..<x0.rows {
            let t = times[i]
            let (a, b, ad, bd) = interpolant.coefficients(t)
            let g = interpolant.noise.gamma(t), gd = g > 0 ? interpolant.noise.gammaTimesDerivative(t) / g : 0
            for j in 0..<x0.columns {
                if isOneSided {
                    let latent = sign * x0[i, j]
                    points[i, j] = a * latent + b * x1[i, j]
                    switch field {
                    case .drift, .velocity: targets[i, j] = ad * latent + bd * x1[i, j]
                    case .score: targets[i, j] = -latent / a
                    case .noiseDenoiser: targets[i, j] = latent
                    }
                } else {
                    let noise = sign * z[i, j], mean = a * x0[i, j] + b * x1[i, j],
                        meanVelocity = ad * x0[i, j] + bd * x1[i, j]
                    points[i, j] = mean + g * noise
                    switch field {
                    case .drift: targets[i, j] = meanVelocity + gd * noise
                    case .velocity: targets[i, j] = meanVelocity
                    case .score: targets[i, j] = -noise / g
                    case .noiseDenoiser: targets[i, j] = noise
                    }
                }
            }
        }
        return (points, targets)
    }

    /// The loss of every sample `[B]`, differentiable through `network(x_t [B, d], t [B]) → [B, d]`.
    /// Times must avoid the ends where the targets are singular (0 and 1 for γ-terms, 1 for
    /// one-sided scores). `z` is ignored by one-sided paths.
    public func perSample(
        network: (Tensor, Tensor) -> Tensor, x0: Matrix64, x1: Matrix64, times: [Double], z: Matrix64
    ) -> Tensor {
        precondition(
            x0.rows == x1.rows && x0.columns == x1.columns && times.count == x0.rows,
            "InterpolantLoss: x0, x1 and times disagree")
        precondition(
            isOneSided || (z.rows == x0.rows && z.columns == x0.columns), "InterpolantLoss: z must be shaped like x0")
        let time = Tensor(times.map(Float.init))
        func term(sign: Double) -> Tensor {
            let (points, targets) = pointsAndTargets(x0: x0, x1: x1, times: times, z: z, sign: sign)
            let output = network(points.tensor, time)
            return (output.squared() * 0.5 - output * targets.tensor).sum(alongAxis: 1)
        }
        return antithetic ? (term(sign: 1) + term(sign: -1)) * 0.5 : term(sign: 1)
    }

    /// The batch mean of `perSample`.
    public func callAsFunction(
        network: (Tensor, Tensor) -> Tensor, x0: Matrix64, x1: Matrix64, times: [Double], z: Matrix64
    ) -> Tensor {
        perSample(network: network, x0: x0, x1: x1, times: times, z: z).mean()
    }
}
