import Foundation

/// DOM's kernel relaxation of point loads and supports (Giannone, Srivastava, Winther & Ahmed,
/// "Aligning Optimization Trajectories with Diffusion Models for Constrained Design Generation",
/// NeurIPS 2023, code `kernel_relaxation.py`; `diffusion-trajectory-alignment.md` 2.1): a sparse map
/// of point values `q_l` at `p_l` made smooth as `K(p) = Σ_l q_l (1 − exp(−1/|p − p_l|²))`,
/// distances in grid cells (`q_l` itself at its own source). Loads are not normalised.
public func kernelRelaxation(
    sources: [(position: SIMD2<Double>, value: Double)], at points: [SIMD2<Double>]
) -> [Double] {
    points.map { p in
        sources.reduce(0) { sum, source in
            let d = p - source.position
            let squared = (d * d).sum()
            return sum + source.value * (squared == 0 ? 1 : 1 - exp(-1 / squared))
        }
    }
}
