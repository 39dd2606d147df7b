import Foundation

/// Multi-objective test problems and the hypervolume indicator (for Pareto-set learning,
/// `shared/papers/svh-psl.md` 6): ZDT1–3 (E. Zitzler, K. Deb, L. Thiele, 2000), DTLZ1–2 (K. Deb,
/// L. Thiele, M. Laumanns, E. Zitzler, 2002), Pareto dominance and the exact hypervolume in 2-D and
/// 3-D, minimisation convention.
public enum MultiObjective {
    /// The ZDT problems (Zitzler, Deb & Thiele, 2000): two objectives on `[0, 1]^n`.
    public enum ZDT: Int, Sendable, CaseIterable { case zdt1 = 1, zdt2, zdt3 }

    /// `(f1, f2)` of a ZDT problem at `x ∈ [0, 1]^n`.
    public static func zdt(_ problem: ZDT, _ x: [Double]) -> (Double, Double) {
        precondition(x.count >= 2, "ZDT: needs at least two variables")
        let f1 = x[0]
        let g = 1 + 9 * x.dropFirst().reduce(0, +) / Double(x.count - 1)
        let ratio = f1 / g
        switch problem {
        case .zdt1: return (f1, g * (1 - ratio.squareRoot()))
        case .zdt2: return (f1, g * (1 - ratio * ratio))
        case .zdt3: return (f1, g * (1 - ratio.squareRoot() - ratio * Foundation.sin(10 * Double.pi * f1)))
        }
    }

    /// The DTLZ problems (Deb, Thiele, Laumanns & Zitzler, 2002): any number of objectives.
    public enum DTLZ: Int, Sendable, CaseIterable { case dtlz1 = 1, dtlz2 }

    /// The `objectives` values of a DTLZ problem at `x ∈ [0, 1]^n` (`n ≥ objectives`); the last
    /// `n − objectives + 1` variables form the distance function `g`. The Pareto front is
    /// `Σ f = 0.5` (DTLZ1) or `Σ f² = 1` (DTLZ2), reached where those variables are 0.5.
    public static func dtlz(_ problem: DTLZ, _ x: [Double], objectives m: Int) -> [Double] {
        precondition(
            m >= 2 && x.count >= m, "DTLZ: needs at least 2 objectives and as many variables, got \(m) and \(x.count)")
        let tail = x[(m - 1)...]
        switch problem {
        case .dtlz1:
            let g =
                100
                * (Double(tail.count)
                    + tail.reduce(0) { $0 + ($1 - 0.5) * ($1 - 0.5) - Foundation.cos(20 * Double.pi * ($1 - 0.5)) })
            return (1...m).map { j in
                var f = 0.5 * (1 + g)
                for i in 0..<(m - j) { f *= x[i] }
                return j > 1 ? f * (1 - x[m - j]) : f
            }
        case .dtlz2:
            let g = tail.reduce(0) { $0 + ($1 - 0.5) * ($1 - 0.5) }
            return (1...m).map { j in
                var f = 1 + g
                for i in 0..<(m - j) { f *= Foundation.cos(x[i] * Double.pi / 2) }
                return j > 1 ? f * Foundation.sin(x[m - j] * Double.pi / 2) : f
            }
        }
    }

    /// Whether `a` Pareto-dominates `b`: no worse in every objective, better in one.
    public static func dominates(_ a: [Double], _ b: [Double]) -> Bool {
        var better = false
        for (u, v) in zip(a, b) {
            if u > v { return false }
            if u < v { better = true }
        }
        return better
    }

    /// The indices of the points no other point dominates (duplicates all kept), in order.
    public static func nondominatedIndices(_ points: [[Double]]) -> [Int] {
        points.indices.filter { i in !points.contains { dominates($0, points[i]) } }
    }

    /// The volume dominated by `points` (rows of 2 or 3 objectives, minimised) and bounded by
    /// `reference`; points not strictly better than the reference in every objective add nothing.
    public static func hypervolume(_ points: [[Double]], reference: [Double]) -> Double {
        let d = reference.count
        precondition(d == 2 || d == 3, "hypervolume: exact in 2-D and 3-D, got \(d) objectives")
        let inside = points.filter { p in
            precondition(p.count == d, "hypervolume: a point with \(p.count) objectives for a \(d)-D reference")
            return zip(p, reference).allSatisfy { $0 < $1 }
        }
        return d == 2 ? area(inside, reference) : volume(inside, reference)
    }

    /// 2-D: sweep in the first objective, keeping the running minimum of the second.
    static func area(_ points: [[Double]], _ reference: [Double]) -> Double {
        var total = 0.0, bestSecond = reference[1]
        for p in points.sorted(by: { ($0[0], $0[1]) < ($1[0], $1[1]) }) where p[1] < bestSecond {
            total += (reference[0] - p[0]) * (bestSecond - p[1])
            bestSecond = p[1]
        }
        return total
    }

    /// 3-D: slices between consecutive third objectives, each the 2-D area of the points below it.
    static func volume(_ points: [[Double]], _ reference: [Double]) -> Double {
        let sorted = points.sorted { $0[2] < $1[2] }
        var total = 0.0
        for (k, p) in sorted.enumerated() {
            let top = k + 1 < sorted.count ? sorted[k + 1][2] : reference[2]
            guard top > p[2] else { continue }
            total += area(sorted[...k].map { [$0[0], $0[1]] }, [reference[0], reference[1]]) * (top - p[2])
        }
        return total
    }
}
