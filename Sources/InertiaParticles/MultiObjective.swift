import Foundation

/// Multi-objective test problems and the hypervolume indicator (for Pareto-set learning,
/// `shared/papers/svh-psl.md` 6): ZDT1–3 (E. Zitzler, K. Deb, L. Thiele, 2000) and the exact
/// hypervolume in 2-D and 3-D, minimisation convention.
public enum MultiObjective {
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
