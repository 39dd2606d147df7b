import Foundation
import InertiaTensor

/// `−Δu = f` in a 2-D domain, `u = g` on its boundary, by the 5-point finite-difference stencil
/// on the `n × n` grid of a bounding box (`walk-on-spheres.md` 5's reference: 65 × 65 over
/// [-1, 1]², the boundary handled by nearest-point Dirichlet values). The unknowns are the grid
/// nodes inside the domain; a neighbour outside takes `g` at the boundary point closest to it.
/// The system is symmetric positive definite, solved by conjugate gradients in Float64.
public struct FiniteDifferencePoisson<Domain: WalkOnSpheresDomain> where Domain.Point == SIMD2<Double> {
    public let domain: Domain
    public let lower: SIMD2<Double>
    public let upper: SIMD2<Double>
    /// Nodes a side.
    public let n: Int
    /// The grid nodes inside the domain, row-major order of the grid (`(i, j)` is
    /// `lower + (i·hx, j·hy)`).
    public let interiorNodes: [(i: Int, j: Int)]
    /// Their positions.
    public let points: [SIMD2<Double>]
    let unknownIndex: [Int: Int]

    public init(domain: Domain, lower: SIMD2<Double>, upper: SIMD2<Double>, n: Int) {
        precondition(n >= 3, "FiniteDifferencePoisson: needs at least 3 nodes a side, got \(n)")
        precondition(lower.x < upper.x && lower.y < upper.y, "FiniteDifferencePoisson: the box is empty")
        self.domain = domain
        self.lower = lower
        self.upper = upper
        self.n = n
        var nodes: [(Int, Int)] = [], positions: [SIMD2<Double>] = [], index: [Int: Int] = [:]
        let h = (upper - lower) / Double(n - 1)
        for i in 0..<n {
            for j in 0..<n {
                let p = lower + SIMD2(Double(i), Double(j)) * h
                if domain.distanceToBoundary(p) > 0 {
                    index[i * n + j] = nodes.count
                    nodes.append((i, j))
                    positions.append(p)
                }
            }
        }
        interiorNodes = nodes
        points = positions
        unknownIndex = index
    }

    /// The solution at `points`, with the solver's diagnostics.
    public func solve(
        source f: (SIMD2<Double>) -> Double, boundary g: (SIMD2<Double>) -> Double, tolerance: Double = 1e-12
    ) -> (values: [Double], solution: SparseMatrix64.Solution) {
        let h = (upper - lower) / Double(n - 1)
        let cx = 1 / (h.x * h.x), cy = 1 / (h.y * h.y)
        var entries: [(row: Int, column: Int, value: Double)] = []
        var b = [Double](repeating: 0, count: points.count)
        for (row, node) in interiorNodes.enumerated() {
            entries.append((row, row, 2 * cx + 2 * cy))
            b[row] = f(points[row])
            for (di, dj, c) in [(-1, 0, cx), (1, 0, cx), (0, -1, cy), (0, 1, cy)] {
                let i = node.i + di, j = node.j + dj
                if let column = (0..<n).contains(i) && (0..<n).contains(j) ? unknownIndex[i * n + j] : nil {
                    entries.append((row, column, -c))
                } else {
                    let outside = lower + SIMD2(Double(i), Double(j)) * h
                    b[row] += c * g(domain.closestBoundaryPoint(outside))
                }
            }
        }
        let matrix = SparseMatrix64(rows: points.count, columns: points.count, entries: entries)
        let solution = matrix.solveConjugateGradient(b, tolerance: tolerance)
        return (solution.x, solution)
    }
}
