import Foundation
import InertiaTensor

/// The perturbation kernel of PFGM++ (Y. Xu, Z. Liu, Y. Tian, S. Tong, M. Tegmark & T. Jaakkola,
/// "PFGM++: Unlocking the Potential of Physics-Inspired Generative Models", ICML 2023;
/// `pfgm-plus-plus.md`). Data are charges on the plane z = 0 of R^(N+D); a point at distance
/// `r = ‖z‖` from it sees the data through
/// `p_r(x | y) ∝ r^D / (‖x − y‖² + r²)^((N+D)/2)`, which with `r = σ√D` is the multivariate
/// Student-t with D degrees of freedom and scale σ, and tends to EDM's Gaussian `N(y, σ²I)` as
/// D → ∞. PFGM++ changes only this kernel (the training noise and the prior); the network, EDM's
/// preconditioning, the ODE `dx/dσ = (x − D_θ(x; σ))/σ` and Heun's sampler are EDM's. So a
/// PFGM++ model is a `DiffusionModel.edm` with `perturbation` set, sampled by
/// `DiffusionSampler.edmHeun` from `prior`.
public struct PFGMKernel: Sendable, Equatable {
    /// D, the number of augmentation dimensions; `nil` for D = ∞ (the Gaussian).
    public let augmentation: Double?

    /// D = ∞: EDM's Gaussian kernel.
    public static let gaussian = PFGMKernel(unchecked: nil)

    /// The kernel of `augmentation` extra dimensions, any D > 0 (D ≤ 2 has infinite variance, so
    /// the training noise and the prior are too heavy-tailed to work with; D = 1 is PFGM).
    public init(augmentation: Double) {
        precondition(
            augmentation > 0 && augmentation.isFinite,
            "PFGMKernel: the augmentation dimension must be positive and finite, got \(augmentation)")
        self.augmentation = augmentation
    }

    private init(unchecked augmentation: Double?) { self.augmentation = augmentation }

    /// How a radius is drawn: the official code's BetaPrime form (`u ~ Beta(N/2, D/2)`,
    /// `R = r·sqrt(u/(1 − u))`, with its training code's clip of `u`) or the Student-t form
    /// `σ·ξ/sqrt(χ²_D/D)`. The two have the same distribution (up to the clip).
    public enum Form: Sendable, Equatable {
        case betaPrime(clip: ClosedRange<Double>?)
        case studentT
    }

    /// The clip of `u` in the official training code (`training/loss.py`): it truncates the
    /// extreme radii of training noise; the prior sampler does not clip.
    public static let trainingClip: ClosedRange<Double> = 1e-3...(1 - 1e-3)

    /// `r = σ√D` (∞ for the Gaussian).
    public func radius(sigma: Double) -> Double {
        augmentation.map { sigma * $0.squareRoot() } ?? .infinity
    }

    /// `log p_r(x | y)` of the normalised kernel at `r = σ√D`:
    /// `log Γ((N+D)/2) − (N/2) log π − log Γ(D/2) + D log r − ((N+D)/2) log(‖x − y‖² + r²)`.
    public func logDensity(_ x: [Double], around y: [Double], sigma: Double) -> Double {
        precondition(x.count == y.count, "PFGMKernel.logDensity: x has \(x.count) entries, y \(y.count)")
        let n = Double(x.count)
        let squared = zip(x, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        guard let d = augmentation else {
            return -0.5 * n * Foundation.log(2 * Double.pi * sigma * sigma) - squared / (2 * sigma * sigma)
        }
        let r = radius(sigma: sigma)
        return Foundation.lgamma((n + d) / 2) - 0.5 * n * Foundation.log(Double.pi) - Foundation.lgamma(d / 2)
            + d * Foundation.log(r) - 0.5 * (n + d) * Foundation.log(squared + r * r)
    }

    /// `R/r` of one kernel draw, `R = ‖x − y‖`, without its direction: `sqrt(u/(1 − u))` with
    /// `u ~ Beta(N/2, D/2)` (clipped as `form` says), or `sqrt(χ²_N/χ²_D)` in the Student-t form.
    public func radiusRatio(dimension n: Int, form: Form = .studentT, using rng: inout PhiloxGenerator) -> Double {
        guard let d = augmentation else {
            preconditionFailure("PFGMKernel.radiusRatio: r is infinite for the Gaussian kernel")
        }
        switch form {
        case .studentT:
            return (rng.nextChiSquared(degreesOfFreedom: Double(n)) / rng.nextChiSquared(degreesOfFreedom: d))
                .squareRoot()
        case .betaPrime(let clip):
            var u = rng.nextBeta(Double(n) / 2, d / 2)
            if let clip { u = Swift.min(Swift.max(u, clip.lowerBound), clip.upperBound) }
            return (u / (1 - u)).squareRoot()
        }
    }

    /// One draw of `x − y` in units of σ (the kernel's shape does not depend on σ: the noise at σ
    /// is σ times this), in `dimension` N.
    public func standardNoise(
        dimension n: Int, form: Form = .studentT, using rng: inout PhiloxGenerator
    ) -> [Double] {
        var xi = (0..<n).map { _ in rng.nextNormal() }
        guard let d = augmentation else { return xi }
        let scale: Double
        switch form {
        case .studentT:
            scale = (d / rng.nextChiSquared(degreesOfFreedom: d)).squareRoot()
        case .betaPrime:
            let norm = xi.reduce(0) { $0 + $1 * $1 }.squareRoot()
            scale = d.squareRoot() * radiusRatio(dimension: n, form: form, using: &rng) / norm
        }
        for k in xi.indices { xi[k] *= scale }
        return xi
    }

    /// `count` prior samples in `dimension` N at `σ_max` (the code's `rand_beta_prime`: radius
    /// `sqrt(u/(1 − u))·σ_max√D`, unclipped, in a uniform direction): already at the prior's scale,
    /// not to be multiplied by σ_max again as EDM's Gaussian latents are.
    public func prior(count: Int, dimension n: Int, sigmaMax: Double = 80, using rng: inout PhiloxGenerator) -> Matrix64
    {
        var scalars: [Double] = []
        scalars.reserveCapacity(count * n)
        for _ in 0..<count {
            scalars += standardNoise(dimension: n, form: .betaPrime(clip: nil), using: &rng).map { $0 * sigmaMax }
        }
        return Matrix64(rows: count, columns: n, scalars: scalars)
    }

    /// The posterior weights `p_r(y_i | x)` of the rows of `data` for an equally weighted finite
    /// data set: `∝ (‖x − y_i‖² + r²)^(−(N+D)/2)`, or the Gaussian softmax of `−‖x − y_i‖²/(2σ²)`.
    public func posteriorWeights(_ x: [Double], sigma: Double, data: Matrix64) -> [Double] {
        precondition(
            x.count == data.columns, "PFGMKernel.posteriorWeights: x has \(x.count) entries, data \(data.columns)")
        let n = Double(data.columns), r = radius(sigma: sigma)
        let logits = (0..<data.rows).map { i -> Double in
            let squared = (0..<data.columns).reduce(0.0) { $0 + (x[$1] - data[i, $1]) * (x[$1] - data[i, $1]) }
            guard let d = augmentation else { return -squared / (2 * sigma * sigma) }
            return -0.5 * (n + d) * Foundation.log(squared + r * r)
        }
        let top = logits.max() ?? 0
        let weights = logits.map { Foundation.exp($0 - top) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// The exact denoiser `E[y | x, σ]` of the finite data set `data` (rows) under this kernel, as
    /// a `Denoiser` whose time is σ: `DiffusionSampler.edmHeun` with it follows the PFGM++ ODE of
    /// the empirical distribution.
    public func exactDenoiser(data: Matrix64) -> Denoiser {
        { x, sigma in
            var out = Matrix64(rows: x.rows, columns: x.columns)
            for i in 0..<x.rows {
                let weights = posteriorWeights((0..<x.columns).map { x[i, $0] }, sigma: sigma, data: data)
                for (k, w) in weights.enumerated() {
                    for j in 0..<x.columns { out[i, j] += w * data[k, j] }
                }
            }
            return out
        }
    }
}
