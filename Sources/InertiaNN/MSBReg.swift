import Foundation
import InertiaTensor

/// The three losses of MSBReg (S. Moon, D. Buracas, S. Park, J. Kim, J. Canny, "An
/// Embedding-Dynamic Approach to Self-supervised Learning", arXiv 2207.03552, WACV 2023;
/// `shared/papers/msbreg.md`): embeddings are particles on the unit sphere, pulled to their
/// image's centroid (multiview centroid), spread over the sphere (singular value) and kicked
/// about independently (Brownian). The paper's exact formulas could not be verified: these are
/// the spec's reconstructed forms ("our choice"), with the singular-value alternative as a
/// variant; do not report their numbers as the paper's.
public enum MSBReg {
    /// The singular-value loss's form.
    public enum SingularValueForm: String, Sendable, Equatable {
        /// `−Σσ_i / sqrt(R · min(R, d))`: −1 when isotropic, `−1/sqrt(min(R, d))` when collapsed.
        case nuclear
        /// `Var(σ) / mean(σ)²` (the spec's alternative).
        case variance
    }

    /// Each row of `[..., d]` divided by `max(‖row‖, 1e-12)`.
    public static func normalizedRows(_ z: Tensor) -> Tensor {
        z / (z * z).sum(alongAxis: -1, keepingDimensions: true).squareRoot().clamped(lower: 1e-12)
    }

    /// The normalised centroids `[N, d]` of target particles `[N, M, d]`, off the tape.
    public static func centroids(target: Tensor) -> Tensor {
        validated(target.rank == 3, "MSBReg.centroids: needs target particles [N, M, d], got \(target.shape)")
        return normalizedRows(target.detached().mean(alongAxis: 1))
    }

    /// `mean_{n,v} ‖z_{n,v} − c_n‖² = mean(2 − 2 z·c)` for unit online particles `[N, M, d]` and
    /// the centroids of the target particles `[N, M, d]` (no gradient reaches the target).
    public static func multiviewCentroidLoss(online: Tensor, target: Tensor) -> Tensor {
        validated(
            online.rank == 3 && online.shape == target.shape,
            "MSBReg.multiviewCentroidLoss: online \(online.shape) and target \(target.shape) must both be [N, M, d]")
        let c = centroids(target: target).unsqueezed(axis: 1)
        return (2 - 2 * (online * c).sum(alongAxis: -1)).mean()
    }

    /// The singular-value loss of the particles `[R, d]` (all views of the batch, one per row).
    public static func singularValueLoss(_ z: Tensor, form: SingularValueForm = .nuclear) -> Tensor {
        validated(z.rank == 2, "MSBReg.singularValueLoss: needs particles [R, d], got \(z.shape)")
        let (rows, width) = (z.shape[0], z.shape[1])
        switch form {
        case .nuclear:
            return z.nuclearNorm() * Float(-1 / Double(rows * Swift.min(rows, width)).squareRoot())
        case .variance:
            let gram = rows >= width ? Tensor.matmul(z, z, transposingA: true) : Tensor.matmul(z, z, transposingB: true)
            let sigma = gram.symmetricEigenvalues().clamped(lower: 1e-12).squareRoot()
            let mean = sigma.mean()
            return ((sigma - mean) * (sigma - mean)).mean() / (mean * mean)
        }
    }

    /// Fresh Brownian kicks `[R, d]`, independent per particle, `N(0, I/d)`.
    public static func brownianNoise(rows: Int, dimension: Int, using rng: inout PhiloxGenerator) -> Tensor {
        Tensor.normal([rows, dimension], standardDeviation: Float(1 / Double(dimension).squareRoot()), using: &rng)
    }

    /// `mean_rows ⟨z_row, r_row⟩` for particles `[R, d]` and kicks `r` `[R, d]` (a constant): its
    /// gradient is `r / R`, a random displacement of every particle.
    public static func brownianLoss(_ z: Tensor, noise: Tensor) -> Tensor {
        validated(
            z.rank == 2 && z.shape == noise.shape,
            "MSBReg.brownianLoss: particles \(z.shape) and noise \(noise.shape) must both be [R, d]")
        return (z * noise.detached()).sum(alongAxis: -1).mean()
    }

    /// BYOL's target decay at step `k` of `total`: `1 − (1 − base)(cos(πk/K) + 1)/2`, from `base`
    /// to 1.
    public static func targetDecay(step k: Int, totalSteps: Int, base: Double) -> Double {
        validated(totalSteps > 0, "MSBReg.targetDecay: needs a positive step count, got \(totalSteps)")
        return 1 - (1 - base) * (Foundation.cos(Double.pi * Double(k) / Double(totalSteps)) + 1) / 2
    }

    /// The effective rank `exp(H(p))`, `p_i = σ_i / Σσ_j`, of the centred rows of `features`
    /// `[R, d]` (Roy & Vetterli 2007): `d` for isotropic features, 1 for collapsed ones.
    public static func effectiveRank(_ features: Tensor) -> Double {
        validated(features.rank == 2, "MSBReg.effectiveRank: needs features [R, d], got \(features.shape)")
        let centred = features.detached() - features.detached().mean(alongAxis: 0, keepingDimensions: true)
        let sigma = Tensor.matmul(centred, centred, transposingA: true).symmetricEigenvalues().scalars.map {
            Double(Swift.max($0, 0)).squareRoot()
        }
        let total = sigma.reduce(0, +)
        guard total > 0 else { return 1 }
        let entropy = sigma.reduce(0.0) { h, s in s > 0 ? h - (s / total) * Foundation.log(s / total) : h }
        return Foundation.exp(entropy)
    }
}
