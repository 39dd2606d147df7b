import Foundation
import InertiaTensor
import XCTest

@testable import InertiaGenerative

/// The interpolant losses: per-sample values against a direct computation, the minimiser property
/// with exact Gaussian fields (spec 6.3) and the antithetic invariant (spec 6.6).
final class InterpolantLossTests: XCTestCase {
    let m0 = [0.0, 0.0], m1 = [2.0, -1.0]
    let c0 = Matrix64.identity(2), c1 = Matrix64(rows: 2, columns: 2, scalars: [0.5, 0.2, 0.2, 0.3])

    /// Draws `n` samples of (x0, x1, z) from the spec's Gaussian pair (x1 = m1 + L ξ).
    func draws(_ n: Int, using rng: inout PhiloxGenerator) -> (Matrix64, Matrix64, Matrix64) {
        let l = try! Cholesky(c1).lower
        var x0 = Matrix64(rows: n, columns: 2), x1 = x0, z = x0
        for i in 0..<n {
            let xi = [rng.nextNormal(), rng.nextNormal()]
            for j in 0..<2 {
                x0[i, j] = rng.nextNormal()
                z[i, j] = rng.nextNormal()
                x1[i, j] = m1[j] + l[j, 0] * xi[0] + l[j, 1] * xi[1]
            }
        }
        return (x0, x1, z)
    }

    /// A network returning the exact field (plus `shift`) of the Gaussian pair at each row.
    func exact(
        _ interpolant: StochasticInterpolant, _ field: InterpolantLoss.Field, shift: [Double] = [0, 0]
    ) -> (Tensor, Tensor) -> Tensor {
        { x, t in
            let points = Matrix64(x), times = t.scalars.map(Double.init)
            var out: [Float] = []
            for i in 0..<points.rows {
                let f = interpolant.gaussianFields(
                    m0: self.m0, c0: self.c0, m1: self.m1, c1: self.c1, t: times[i], x: [points[i, 0], points[i, 1]])
                let value: [Double]
                switch field {
                case .drift: value = f.drift
                case .velocity: value = f.v
                case .score: value = f.score
                case .noiseDenoiser: value = f.noiseDenoiser
                }
                out += zip(value, shift).map { Float($0 + $1) }
            }
            return Tensor(shape: [points.rows, 2], scalars: out)
        }
    }

    func testPerSampleValuesAreTheCodesFormulas() {
        var rng = PhiloxGenerator(seed: 1)
        let (x0, x1, z) = draws(5, using: &rng)
        let times = [0.1, 0.3, 0.5, 0.7, 0.9]
        let network: (Tensor, Tensor) -> Tensor = { x, t in x * 0.5 + t.reshaped(to: [5, 1]) }
        let interpolant = StochasticInterpolant(path: .linear, noise: .brownian(scale: 1))
        for field in InterpolantLoss.Field.allCases {
            for antithetic in [false, true] {
                let values = InterpolantLoss(interpolant, field: field, antithetic: antithetic)
                    .perSample(network: network, x0: x0, x1: x1, times: times, z: z).scalars
                for i in 0..<5 {
                    let t = times[i], g = (t * (1 - t)).squareRoot(), gd = 0.5 * (1 - 2 * t) / g
                    func loss(_ sign: Double) -> Double {
                        (0..<2).reduce(0.0) { sum, j in
                            let noise = sign * z[i, j]
                            let x = (1 - t) * x0[i, j] + t * x1[i, j] + g * noise
                            let f = 0.5 * x + t
                            let target: Double
                            switch field {
                            case .drift: target = x1[i, j] - x0[i, j] + gd * noise
                            case .velocity: target = x1[i, j] - x0[i, j]
                            case .score: target = -noise / g
                            case .noiseDenoiser: target = noise
                            }
                            return sum + 0.5 * f * f - target * f
                        }
                    }
                    let expected = antithetic ? (loss(1) + loss(-1)) / 2 : loss(1)
                    XCTAssertEqual(
                        Double(values[i]), expected, accuracy: 1e-4 * max(1, abs(expected)),
                        "\(field) antithetic \(antithetic)")
                }
            }
        }
    }

    func testExactFieldsMinimiseTheLosses() {
        var rng = PhiloxGenerator(seed: 2)
        let n = 50_000
        let (x0, x1, z) = draws(n, using: &rng)
        let times = (0..<n).map { _ in 0.1 + 0.8 * rng.nextDouble() }
        let delta = [0.3, -0.2]
        let half = 0.5 * (delta[0] * delta[0] + delta[1] * delta[1])
        let cases: [(StochasticInterpolant, InterpolantLoss.Field)] = [
            (.init(path: .linear, noise: .brownian(scale: 1)), .drift),
            (.init(path: .linear, noise: .brownian(scale: 1)), .score),
            (.init(path: .linear, noise: .brownian(scale: 1)), .noiseDenoiser),
            (.init(path: .oneSidedLinear, noise: .zero), .velocity),
        ]
        for (interpolant, field) in cases {
            let loss = InterpolantLoss(interpolant, field: field, antithetic: true)
            let base = Double(loss(network: exact(interpolant, field), x0: x0, x1: x1, times: times, z: z).item)
            let shifted = Double(
                loss(network: exact(interpolant, field, shift: delta), x0: x0, x1: x1, times: times, z: z).item)
            XCTAssertEqual(shifted - base, half, accuracy: 0.05 * half, "\(interpolant.path) \(field)")
        }
    }

    func testAntitheticPairsKeepTheMeanAndCutTheVarianceNearTheEnds() {
        var rng = PhiloxGenerator(seed: 3)
        let n = 20_000
        let (x0, x1, z) = draws(n, using: &rng)
        let interpolant = StochasticInterpolant(path: .linear, noise: .brownian(scale: 1))
        for field in [InterpolantLoss.Field.score, .drift] {
            for t in [0.01, 0.5, 0.99] {
                let times = [Double](repeating: t, count: n)
                func statistics(_ antithetic: Bool) -> (mean: Double, variance: Double) {
                    let values = InterpolantLoss(interpolant, field: field, antithetic: antithetic)
                        .perSample(network: exact(interpolant, field), x0: x0, x1: x1, times: times, z: z).scalars.map(
                            Double.init)
                    let mean = values.reduce(0, +) / Double(n)
                    return (mean, values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1))
                }
                let plain = statistics(false), paired = statistics(true)
                let standardError = ((plain.variance + paired.variance) / Double(n)).squareRoot()
                XCTAssertEqual(plain.mean, paired.mean, accuracy: 3 * standardError, "\(field) t = \(t)")
                if t != 0.5 { XCTAssertLessThan(paired.variance, 0.2 * plain.variance, "\(field) t = \(t)") }
            }
        }
    }
}
