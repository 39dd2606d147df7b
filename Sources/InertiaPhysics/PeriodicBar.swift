import Foundation

/// The microscale cell of `shared/papers/equino.md` 2.3: a 1-D bar on `[0, length)` in linear finite
/// elements, each element of one phase with the law `sigma = E eps + beta eps^3`, loaded by a macro
/// strain `ebar` with a periodic fluctuation `w` (`w` at the last node equals `w` at node 0, pinned
/// to 0). Element `e` has total strain `ebar + (w[e+1] - w[e]) / h`. The equilibrium of the
/// fluctuation (the internal force `sigma[e-1] - sigma[e]` vanishing at the free nodes `1..<n`) is
/// solved by Newton's method in Float64; in 1-D it makes the stress uniform.
public struct PeriodicBar: Sendable {
    /// A phase's stress-strain law `sigma = modulus·eps + cubic·eps³`.
    public struct Material: Sendable, Equatable {
        public var modulus: Double
        public var cubic: Double

        public init(modulus: Double, cubic: Double = 0) {
            self.modulus = modulus
            self.cubic = cubic
        }

        public func stress(_ strain: Double) -> Double { strain * (modulus + cubic * strain * strain) }
        /// `d sigma / d eps`.
        public func tangent(_ strain: Double) -> Double { modulus + 3 * cubic * strain * strain }
    }

    /// One equilibrium state of the cell.
    public struct Solution: Sendable {
        public var macroStrain: Double
        /// Fluctuation at nodes `0..<elements` (node 0 pinned at 0; the node after the last is node 0).
        public var fluctuation: [Double]
        public var strains: [Double]
        public var stresses: [Double]
        /// The volume average of the element stresses.
        public var homogenizedStress: Double
        /// Newton updates applied.
        public var newtonIterations: Int
    }

    /// A Newton solve that did not reach its tolerance.
    public struct NotConverged: Error, CustomStringConvertible {
        public let macroStrain: Double
        public let iterations: Int
        public let residualNorm: Double
        public var description: String {
            "PeriodicBar: Newton did not converge at ebar = \(macroStrain) (residual \(residualNorm) after \(iterations) updates)"
        }
    }

    public let materials: [Material]
    /// Phase index of each element.
    public let phases: [Int]
    public let length: Double

    public init(phases: [Int], materials: [Material], length: Double = 1) {
        precondition(phases.count >= 2, "PeriodicBar: needs at least two elements, got \(phases.count)")
        precondition(
            phases.allSatisfy { materials.indices.contains($0) },
            "PeriodicBar: a phase index is outside the \(materials.count) materials")
        precondition(length > 0, "PeriodicBar: length must be positive, got \(length)")
        self.phases = phases
        self.materials = materials
        self.length = length
    }

    public var elements: Int { phases.count }
    public var elementSize: Double { length / Double(elements) }

    /// Element strains `ebar + (w[e+1] - w[e]) / h` of a fluctuation given at nodes `0..<elements`.
    public func strains(macroStrain: Double, fluctuation w: [Double]) -> [Double] {
        precondition(w.count == elements, "PeriodicBar: \(w.count) nodal values for \(elements) nodes")
        let h = elementSize
        return (0..<elements).map { e in macroStrain + (w[(e + 1) % elements] - w[e]) / h }
    }

    public func stresses(strains: [Double]) -> [Double] {
        zip(phases, strains).map { materials[$0].stress($1) }
    }

    /// The volume average of element values (elements are of equal size).
    public func average(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    /// Solves the cell's equilibrium at `macroStrain` from zero fluctuation, counting Newton updates
    /// until the 2-norm of the internal force at the free nodes is below `tolerance`.
    public func solve(macroStrain: Double, tolerance: Double = 1e-14, maxIterations: Int = 50) throws -> Solution {
        let n = elements, h = elementSize
        var w = [Double](repeating: 0, count: n)
        var iterations = 0
        while true {
            let eps = strains(macroStrain: macroStrain, fluctuation: w)
            let sigma = stresses(strains: eps)
            // Residual at free node i (1..<n): sigma[i-1] - sigma[i].
            var residual = (1..<n).map { sigma[$0 - 1] - sigma[$0] }
            let norm = residual.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm < tolerance {
                return Solution(
                    macroStrain: macroStrain, fluctuation: w, strains: eps, stresses: sigma,
                    homogenizedStress: average(sigma), newtonIterations: iterations)
            }
            guard iterations < maxIterations, norm.isFinite else {
                throw NotConverged(macroStrain: macroStrain, iterations: iterations, residualNorm: norm)
            }
            // d residual_i / d w_j: tridiagonal in the free nodes (node 0 and node n are pinned).
            let k = (0..<n).map { materials[phases[$0]].tangent(eps[$0]) / h }
            let diagonal = (1..<n).map { k[$0 - 1] + k[$0] }
            let off = (1..<(n - 1)).map { -k[$0] }
            residual = Self.solveTridiagonal(lower: off, diagonal: diagonal, upper: off, rhs: residual)
            for i in 1..<n { w[i] -= residual[i - 1] }
            iterations += 1
        }
    }

    /// The Thomas algorithm for a tridiagonal system (no pivoting: meant for diagonally dominant
    /// or positive definite matrices).
    static func solveTridiagonal(lower: [Double], diagonal: [Double], upper: [Double], rhs: [Double]) -> [Double] {
        let n = diagonal.count
        var c = [Double](repeating: 0, count: n), d = rhs
        var denominator = diagonal[0]
        if n > 1 { c[0] = upper[0] / denominator }
        d[0] /= denominator
        for i in 1..<n {
            denominator = diagonal[i] - lower[i - 1] * c[i - 1]
            if i < n - 1 { c[i] = upper[i] / denominator }
            d[i] = (d[i] - lower[i - 1] * d[i - 1]) / denominator
        }
        for i in stride(from: n - 2, through: 0, by: -1) { d[i] -= c[i] * d[i + 1] }
        return d
    }
}
