import InertiaTensor

/// The quintic Newton–Schulz iteration of Muon (Jordan et al., 2024; `shared/papers/muon.md` 2.1):
/// `X ← aX + (bA + cA²)X` with `A = XXᵀ` and `(a, b, c) = (3.4445, −4.7750, 2.0315)`, from
/// `G/(‖G‖_F + ε)` in the wide orientation. It maps every singular value of `G/‖G‖_F` through
/// `φ(σ) = aσ + bσ³ + cσ⁵` `steps` times, keeping the singular vectors: an approximate polar
/// factor whose singular values land near [0.7, 1.2]. Runs on the GEMM (Float32).
public enum NewtonSchulz {
    public static let coefficients: (a: Float, b: Float, c: Float) = (3.4445, -4.7750, 2.0315)

    /// `NS_steps(G)` for a matrix `G` (rank 2).
    public static func orthogonalize(_ g: Tensor, steps: Int = 5, epsilon: Float = 1e-7) -> Tensor {
        precondition(g.rank == 2, "NewtonSchulz: needs a matrix, got shape \(g.shape)")
        return withoutGradients {
            let transposed = g.shape[0] > g.shape[1]
            var x = transposed ? g.transposed() : g
            x = x / (x.norm().item + epsilon)
            let (a, b, c) = coefficients
            for _ in 0..<steps {
                let gram = Tensor.matmul(x, x, transposingB: true)
                let polynomial = gram * b + Tensor.matmul(gram, gram) * c
                x = x * a + Tensor.matmul(polynomial, x)
            }
            return transposed ? x.transposed() : x
        }
    }
}
