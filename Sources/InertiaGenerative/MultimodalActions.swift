import Foundation
import InertiaTensor

/// `meanflow-policy.md` 5's conditional toy: a scalar state `s ~ U[-1, 1]` and an action in R² from
/// four equally weighted Gaussians (std 0.08) centred at `(cos φ_k, sin φ_k)`, `φ_k = (π/2) s + k π/2`,
/// so the modes rotate with the state; with the spec's precision and coverage.
public struct MultimodalActions: Sendable {
    public var modes = 4
    public var standardDeviation = 0.08

    public init() {}

    /// The mode centres at state `s`.
    public func centres(state s: Double) -> [(Double, Double)] {
        (0..<modes).map { k in
            let phi = Double.pi / 2 * s + Double(k) * 2 * Double.pi / Double(modes)
            return (Foundation.cos(phi), Foundation.sin(phi))
        }
    }

    /// `n` actions at the fixed state `s`.
    public func sample(_ n: Int, state s: Double, using rng: inout PhiloxGenerator) -> Matrix64 {
        let c = centres(state: s)
        return Matrix64(
            rows: n, columns: 2,
            scalars: (0..<n).flatMap { _ -> [Double] in
                let (a, b) = c[rng.nextInt(below: modes)]
                return [a + standardDeviation * rng.nextNormal(), b + standardDeviation * rng.nextNormal()]
            })
    }

    /// `n` (action, state) pairs with uniform states: actions `[n, 2]`, states `[n, 1]`.
    public func sample(_ n: Int, using rng: inout PhiloxGenerator) -> (actions: Matrix64, states: Matrix64) {
        var actions: [Double] = [], states: [Double] = []
        for _ in 0..<n {
            let s = 2 * rng.nextDouble() - 1
            states.append(s)
            actions += sample(1, state: s, using: &rng).scalars
        }
        return (Matrix64(rows: n, columns: 2, scalars: actions), Matrix64(rows: n, columns: 1, scalars: states))
    }

    /// The fraction of `samples` within 3 standard deviations of some mode at state `s`.
    public func precision(_ samples: Matrix64, state s: Double) -> Double {
        let c = centres(state: s), radius = 3 * standardDeviation
        let hits = (0..<samples.rows).filter { i in
            c.contains { Foundation.hypot(samples[i, 0] - $0.0, samples[i, 1] - $0.1) <= radius }
        }
        return Double(hits.count) / Double(Swift.max(samples.rows, 1))
    }

    /// The fraction of the modes that receive more than 10 % of `samples`, each sample counted for
    /// its nearest mode.
    public func coverage(_ samples: Matrix64, state s: Double) -> Double {
        let c = centres(state: s)
        var counts = [Int](repeating: 0, count: modes)
        for i in 0..<samples.rows {
            let nearest = c.indices.min {
                Foundation.hypot(samples[i, 0] - c[$0].0, samples[i, 1] - c[$0].1)
                    < Foundation.hypot(samples[i, 0] - c[$1].0, samples[i, 1] - c[$1].1)
            }!
            counts[nearest] += 1
        }
        return Double(counts.filter { Double($0) > 0.1 * Double(samples.rows) }.count) / Double(modes)
    }
}
