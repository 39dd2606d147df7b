import Foundation
import InertiaGenerative
import InertiaTensor

/// The guidance toy of `cfg-manifold-projection.md` 5 (Anderson's experiment C runs on it too):
/// nine equal Gaussians of standard deviation 0.15 on the circle of radius 2, component k of class
/// k mod 3, the condition class 0, with the mixtures' exact flow-matching velocities (data at t = 1).
struct GuidanceRing {
    static let deviation = 0.15
    let all = GaussianMixtureDenoiser.ring(count: 9, radius: 2, standardDeviation: GuidanceRing.deviation)
    let classZero: GaussianMixtureDenoiser

    init() { classZero = all.selecting([0, 3, 6]) }

    var unconditional: ManifoldProjection.Velocity { { [all] in all.flowVelocity($0, t: $1) } }
    var conditional: ManifoldProjection.Velocity { { [classZero] in classZero.flowVelocity($0, t: $1) } }

    /// The fraction of rows farther than 3 standard deviations from every class-0 mean.
    func offFraction(_ x: Matrix64) -> Double {
        let limit = 3 * GuidanceRing.deviation
        let off = (0..<x.rows).filter { i in
            classZero.means.allSatisfy { m in
                ((x[i, 0] - m[0]) * (x[i, 0] - m[0]) + (x[i, 1] - m[1]) * (x[i, 1] - m[1])).squareRoot() > limit
            }
        }
        return Double(off.count) / Double(Swift.max(1, x.rows))
    }
}
