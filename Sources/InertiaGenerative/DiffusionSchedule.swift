import Foundation

/// The noising paths of diffusion and flow models in one convention (`shared/papers/diffusion-principles.md`
/// 2.1–2.3; C.-H. Lai, Y. Song, D. Kim, Y. Mitsufuji, S. Ermon, "The Principles of Diffusion Models",
/// arXiv 2510.21890): `x_t = α(t)·x_0 + σ(t)·ε`, t = 0 data, t = 1 noise, with the half log-SNR
/// `λ = log(α/σ)` strictly decreasing. Float64.
public enum DiffusionSchedule: Sendable, Equatable {
    /// DDPM / VP-SDE: `α = exp(−¼t²(β_max − β_min) − ½tβ_min)`, `σ = sqrt(1 − α²)`.
    case vpLinear(betaMin: Double, betaMax: Double)
    /// Improved DDPM: `α = cos(((t + s)/(1 + s))·π/2)/cos((s/(1 + s))·π/2)`; never evaluate at t = 1.
    case vpCosine(s: Double)
    /// SMLD / NCSN: `α = 1`, `σ = σ_min (σ_max/σ_min)^t`.
    case ve(sigmaMin: Double, sigmaMax: Double)
    /// EDM: `α = 1`, `σ = t` (time is σ̃ itself).
    case edm
    /// Rectified flow / conditional OT: `α = 1 − t`, `σ = σ_min + (1 − σ_min)t`.
    case linearFlow(sigmaMin: Double)
    /// `α = cos(πt/2)`, `σ = sin(πt/2)`.
    case trig

    public static let vpLinearDefault = DiffusionSchedule.vpLinear(betaMin: 0.1, betaMax: 20)
    public static let vpCosineDefault = DiffusionSchedule.vpCosine(s: 0.008)
    public static let veDefault = DiffusionSchedule.ve(sigmaMin: 0.01, sigmaMax: 50)
    public static let linearFlowDefault = DiffusionSchedule.linearFlow(sigmaMin: 0)

    public func alpha(_ t: Double) -> Double {
        switch self {
        case .vpLinear(let b0, let b1): return Foundation.exp(-0.25 * t * t * (b1 - b0) - 0.5 * t * b0)
        case .vpCosine(let s):
            return Foundation.cos((t + s) / (1 + s) * .pi / 2) / Foundation.cos(s / (1 + s) * .pi / 2)
        case .ve, .edm: return 1
        case .linearFlow: return 1 - t
        case .trig: return Foundation.cos(.pi * t / 2)
        }
    }

    public func sigma(_ t: Double) -> Double {
        switch self {
        case .vpLinear(let b0, let b1):
            // sqrt(1 − α²) = sqrt(−expm1(2 log α)): no cancellation near t = 0.
            return (-Foundation.expm1(2 * (-0.25 * t * t * (b1 - b0) - 0.5 * t * b0))).squareRoot()
        case .vpCosine:
            let a = alpha(t)
            return Swift.max(0, 1 - a * a).squareRoot()
        case .ve(let lo, let hi): return lo * Foundation.pow(hi / lo, t)
        case .edm: return t
        case .linearFlow(let lo): return lo + (1 - lo) * t
        case .trig: return Foundation.sin(.pi * t / 2)
        }
    }

    /// dα/dt.
    public func alphaDerivative(_ t: Double) -> Double {
        switch self {
        case .vpLinear(let b0, let b1): return -0.5 * (b0 + t * (b1 - b0)) * alpha(t)
        case .vpCosine(let s):
            return -(.pi / 2) / (1 + s) * Foundation.sin((t + s) / (1 + s) * .pi / 2)
                / Foundation.cos(s / (1 + s) * .pi / 2)
        case .ve, .edm: return 0
        case .linearFlow: return -1
        case .trig: return -(.pi / 2) * Foundation.sin(.pi * t / 2)
        }
    }

    /// dσ/dt.
    public func sigmaDerivative(_ t: Double) -> Double {
        switch self {
        case .vpLinear, .vpCosine:
            let a = alpha(t), s = sigma(t)
            return -a * alphaDerivative(t) / s
        case .ve(let lo, let hi): return sigma(t) * Foundation.log(hi / lo)
        case .edm: return 1
        case .linearFlow(let lo): return 1 - lo
        case .trig: return (.pi / 2) * Foundation.cos(.pi * t / 2)
        }
    }

    /// The half log-SNR `λ = log(α/σ)`.
    public func lambda(_ t: Double) -> Double { Foundation.log(alpha(t)) - Foundation.log(sigma(t)) }

    /// dλ/dt `= α̇/α − σ̇/σ` (< 0).
    public func lambdaDerivative(_ t: Double) -> Double {
        alphaDerivative(t) / alpha(t) - sigmaDerivative(t) / sigma(t)
    }

    /// The drift coefficient `f = α̇/α`.
    public func drift(_ t: Double) -> Double { alphaDerivative(t) / alpha(t) }

    /// The squared diffusion coefficient `g² = 2σσ̇ − 2fσ²`.
    public func diffusionSquared(_ t: Double) -> Double {
        let s = sigma(t)
        return 2 * s * sigmaDerivative(t) - 2 * drift(t) * s * s
    }

    /// `σ̃ = σ/α = e^{−λ}` (the EDM noise level).
    public func sigmaTilde(_ t: Double) -> Double { sigma(t) / alpha(t) }

    /// The time with half log-SNR `λ`: closed form for `vpLinear`, bisection on `[0, 1]` otherwise
    /// (`edm`: `σ = e^{−λ}`).
    public func time(forLambda l: Double) -> Double {
        switch self {
        case .vpLinear(let b0, let b1):
            let a = 0.25 * (b1 - b0), b = 0.5 * b0, c = -0.5 * Foundation.log1p(Foundation.exp(-2 * l))
            return (-b + (b * b - 4 * a * c).squareRoot()) / (2 * a)
        case .edm: return Foundation.exp(-l)
        default:
            var low = 0.0, high = 1.0
            for _ in 0..<200 {
                let mid = 0.5 * (low + high)
                if lambda(mid) > l { low = mid } else { high = mid }
            }
            return 0.5 * (low + high)
        }
    }
}
