import Foundation
import InertiaTensor

/// Proper orthogonal decomposition of a snapshot matrix `W` (one snapshot a column, Float64): its
/// leading left singular vectors (the modes), all singular values and the coefficients
/// `diag(s)·Vᵀ` of the snapshots in the kept modes, as the `pod` class of EquiNO's code builds
/// its bases (`shared/papers/equino.md` 2.1). The modes are the eigenvectors of `WWᵀ` (orthonormal even where
/// singular values vanish, as they do when the snapshots span fewer dimensions than kept), so the
/// cost is cubic in the field's dimension: meant for cells of up to a few thousand unknowns.
public struct ProperOrthogonalDecomposition: Sendable {
    /// Modes `[dimension, rank]`, orthonormal columns.
    public let modes: Matrix64
    /// All singular values of `W`, descending.
    public let singularValues: [Double]
    /// `diag(s_1..s_r)·V_rᵀ`, `[rank, snapshots]`: the snapshots' coordinates in the modes.
    public let coefficients: Matrix64

    /// Keeps `rank` modes of `snapshots` (`[dimension, count]`); `rank` may not exceed the smaller
    /// dimension.
    public init(snapshots w: Matrix64, rank: Int) {
        precondition(
            rank >= 1 && rank <= Swift.min(w.rows, w.columns),
            "ProperOrthogonalDecomposition: rank \(rank) for a \(w.rows)x\(w.columns) snapshot matrix")
        let eigen = SymmetricEigen(w * w.transposed)
        let order = Array(eigen.values.indices.reversed())
        singularValues = order.prefix(Swift.min(w.rows, w.columns)).map { Swift.max(eigen.values[$0], 0).squareRoot() }
        var modes = Matrix64(rows: w.rows, columns: rank)
        for k in 0..<rank {
            for i in 0..<w.rows { modes.scalars[i * rank + k] = eigen.vectors[i, order[k]] }
        }
        self.modes = modes
        coefficients = modes.transposed * w
    }

    public var rank: Int { modes.columns }

    /// `Σ_{k>r} s_k² / Σ_k s_k²`: the squared relative Frobenius error of the rank-r reconstruction.
    public var discardedEnergy: Double {
        let squares = singularValues.map { $0 * $0 }
        let total = squares.reduce(0, +)
        return total > 0 ? squares.dropFirst(rank).reduce(0, +) / total : 0
    }

    /// `modes · coefficients`: the field of the given mode coefficients.
    public func field(_ coefficients: [Double]) -> [Double] {
        precondition(
            coefficients.count == rank,
            "ProperOrthogonalDecomposition: \(coefficients.count) coefficients for rank \(rank)")
        return (0..<modes.rows).map { i in (0..<rank).reduce(0) { $0 + modes[i, $1] * coefficients[$1] } }
    }

    /// Mean and (population) standard deviation of all coefficient entries: the scalar
    /// de-standardisation of the branch network's outputs (`scaling_bu`, `scaling_bs`).
    public var coefficientScaling: (mean: Double, std: Double) {
        let values = coefficients.scalars
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }
}
