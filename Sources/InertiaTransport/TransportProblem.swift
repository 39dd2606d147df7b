import Foundation
import InertiaTensor

/// Why an optimal-transport problem was rejected.
public enum TransportError: Error, Equatable, CustomStringConvertible {
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidInput(let detail): return "optimal transport: \(detail)"
        }
    }
}

/// A discrete optimal-transport problem in Float64: source weights `a` (n), target weights `b`
/// (m) and a cost matrix `C` (n×m), checked on construction: weights finite and non-negative with
/// equal positive totals (empty means uniform, as POT), a finite cost of matching size.
public struct TransportProblem: Sendable {
    public let source: [Double]
    public let target: [Double]
    public let cost: Matrix64

    public init(source: [Double], target: [Double], cost: Matrix64) throws {
        let a = source.isEmpty ? [Double](repeating: 1 / Double(Swift.max(cost.rows, 1)), count: cost.rows) : source
        let b =
            target.isEmpty ? [Double](repeating: 1 / Double(Swift.max(cost.columns, 1)), count: cost.columns) : target
        func bad(_ detail: String) -> TransportError { .invalidInput(detail) }
        guard cost.rows > 0 && cost.columns > 0 else {
            throw bad("the cost matrix is empty (\(cost.rows)x\(cost.columns))")
        }
        guard a.count == cost.rows else {
            throw bad("\(a.count) source weights for a cost matrix with \(cost.rows) rows")
        }
        guard b.count == cost.columns else {
            throw bad("\(b.count) target weights for a cost matrix with \(cost.columns) columns")
        }
        for (name, w) in [("source", a), ("target", b)] {
            if let i = w.firstIndex(where: { !$0.isFinite }) { throw bad("\(name) weight \(i) is \(w[i])") }
            if let i = w.firstIndex(where: { $0 < 0 }) { throw bad("\(name) weight \(i) is negative (\(w[i]))") }
        }
        let totalA = a.reduce(0, +), totalB = b.reduce(0, +)
        guard totalA > 0 && totalB > 0 else {
            throw bad("the weights must have positive totals (source \(totalA), target \(totalB))")
        }
        guard Swift.abs(totalA - totalB) <= 1e-9 * Swift.max(totalA, totalB) else {
            throw bad("source and target weights have different totals (\(totalA) vs \(totalB)); normalize both")
        }
        if let i = cost.scalars.firstIndex(where: { !$0.isFinite }) {
            throw bad("cost entry (\(i / cost.columns), \(i % cost.columns)) is \(cost.scalars[i])")
        }
        self.source = a
        self.target = b
        self.cost = cost
    }

    public var rows: Int { cost.rows }
    public var columns: Int { cost.columns }
}

/// Ground costs between point clouds (rows are points).
public enum GroundCost {
    /// `‖x_i − y_j‖²` (POT's `ot.dist` default).
    public static func squaredEuclidean(_ x: Matrix64, _ y: Matrix64) -> Matrix64 { distances(x, y) { $0 } }

    /// `‖x_i − y_j‖_p^p`'s root, `‖x_i − y_j‖_p`, for `p >= 1` (`p = 1`: cityblock).
    public static func pNorm(_ x: Matrix64, _ y: Matrix64, p: Double) -> Matrix64 {
        precondition(p >= 1, "GroundCost.pNorm: p must be >= 1, got \(p)")
        return distances(x, y, power: p) { Foundation.pow($0, 1 / p) }
    }

    /// The matrix divided by its largest entry (as POT's examples normalize costs).
    public static func normalizedByMaximum(_ c: Matrix64) -> Matrix64 {
        let largest = c.scalars.max() ?? 0
        return largest > 0 ? c * (1 / largest) : c
    }

    private static func distances(
        _ x: Matrix64, _ y: Matrix64, power: Double = 2, _ finish: (Double) -> Double
    ) -> Matrix64 {
        precondition(x.columns == y.columns, "GroundCost: points of dimension \(x.columns) and \(y.columns)")
        var c = Matrix64(rows: x.rows, columns: y.rows)
        let d = x.columns
        for i in 0..<x.rows {
            for j in 0..<y.rows {
                var s = 0.0
                for k in 0..<d {
                    let diff = Swift.abs(x.scalars[i * d + k] - y.scalars[j * d + k])
                    s += power == 2 ? diff * diff : Foundation.pow(diff, power)
                }
                c.scalars[i * y.rows + j] = finish(s)
            }
        }
        return c
    }
}
