import Foundation
import InertiaTensor

/// Unregularized optimal transport where it has an exact answer, to check entropic solutions as
/// the regularization shrinks: the 1-D closed form (the monotone, quantile coupling) and the
/// assignment problem (uniform weights, as many sources as targets) by the Hungarian algorithm.
public enum ExactTransport {
    /// `min Σ P_ij |x_i − y_j|^p` over couplings of the weighted points (`W_p^p`), by the
    /// monotone coupling of the sorted points (optimal in 1-D for `p >= 1`). Empty weights mean uniform.
    public static func transportCost1D(
        _ x: [Double], _ y: [Double], sourceWeights: [Double] = [], targetWeights: [Double] = [],
        p: Double = 2
    ) throws -> Double {
        let problem = try TransportProblem(
            source: sourceWeights, target: targetWeights,
            cost: Matrix64(rows: x.count, columns: y.count))
        guard p >= 1 else { throw TransportError.invalidInput("the 1-D closed form needs p >= 1, got \(p)") }
        let xs = x.indices.sorted { x[$0] < x[$1] }, ys = y.indices.sorted { y[$0] < y[$1] }
        let totalA = problem.source.reduce(0, +), totalB = problem.target.reduce(0, +)
        var i = 0, j = 0
        var leftA = problem.source[xs[0]] / totalA, leftB = problem.target[ys[0]] / totalB
        var cost = 0.0
        while i < xs.count && j < ys.count {
            let mass = Swift.min(leftA, leftB)
            cost += mass * Foundation.pow(Swift.abs(x[xs[i]] - y[ys[j]]), p)
            leftA -= mass
            leftB -= mass
            if leftA <= leftB {
                i += 1
                if i < xs.count { leftA = problem.source[xs[i]] / totalA }
            } else {
                j += 1
                if j < ys.count { leftB = problem.target[ys[j]] / totalB }
            }
        }
        return cost * totalA
    }

    /// The assignment `σ` minimizing `Σ_i C[i, σ(i)]` for `rows <= columns` (each row to a distinct
    /// column), by the Hungarian algorithm with potentials (shortest augmenting paths, `O(n²m)`).
    public static func assignment(_ cost: Matrix64) -> [Int] {
        let n = cost.rows, m = cost.columns
        precondition(n <= m, "ExactTransport.assignment: needs rows <= columns, got \(n)x\(m)")
        // 1-based arrays as in the classical formulation; column 0 is a virtual start.
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: m + 1)
        var owner = [Int](repeating: 0, count: m + 1), way = [Int](repeating: 0, count: m + 1)
        for i in 1...n {
            owner[0] = i
            var column = 0
            var minimum = [Double](repeating: .infinity, count: m + 1), used = [Bool](repeating: false, count: m + 1)
            repeat {
                used[column] = true
                let row = owner[column]
                var delta = Double.infinity, next = 0
                for j in 1...m where !used[j] {
                    let reduced = cost.scalars[(row - 1) * m + (j - 1)] - u[row] - v[j]
                    if reduced < minimum[j] {
                        minimum[j] = reduced
                        way[j] = column
                    }
                    if minimum[j] < delta {
                        delta = minimum[j]
                        next = j
                    }
                }
                for j in 0...m {
                    if used[j] {
                        u[owner[j]] += delta
                        v[j] -= delta
                    } else {
                        minimum[j] -= delta
                    }
                }
                column = next
            } while owner[column] != 0
            repeat {
                let previous = way[column]
                owner[column] = owner[previous]
                column = previous
            } while column != 0
        }
        var result = [Int](repeating: -1, count: n)
        for j in 1...m where owner[j] != 0 { result[owner[j] - 1] = j - 1 }
        return result
    }

    /// `Σ_i C[i, σ(i)]` of the optimal assignment; with uniform weights `1/n` on a square problem
    /// the exact OT cost is this divided by `n`.
    public static func assignmentCost(_ cost: Matrix64) -> Double {
        let sigma = assignment(cost)
        return sigma.enumerated().reduce(0) { $0 + cost.scalars[$1.offset * cost.columns + $1.element] }
    }
}
