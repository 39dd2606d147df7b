import Foundation
import InertiaTensor
import XCTest

@testable import InertiaGenerative

/// The 2-D distributions' densities and the probability-flow likelihood against exact mixture
/// densities.
final class LikelihoodAndDistributionTests: XCTestCase {
    /// Riemann sum of the density over a grid covering the support.
    func totalMass(_ distribution: ToyDistribution, range: ClosedRange<Double>, cells: Int) -> Double {
        let width = (range.upperBound - range.lowerBound) / Double(cells)
        var points: [Double] = []
        for i in 0..<cells {
            for j in 0..<cells {
                points += [range.lowerBound + (Double(i) + 0.5) * width, range.lowerBound + (Double(j) + 0.5) * width]
            }
        }
        let densities = distribution.logDensity(Matrix64(rows: cells * cells, columns: 2, scalars: points)).map {
            exp($0)
        }
        return densities.reduce(0, +) * width * width
    }

    func testDensitiesIntegrateToOneAndMatchTheirSamplers() {
        let distributions: [(ToyDistribution, ClosedRange<Double>)] = [
            (.mixture(.ring(count: 8, radius: 2, standardDeviation: 0.25)), -4...4),
            (.checkerboard, -4...4),
            (.moons(noise: 0.1), -1.8...2.8),
            (.spirals(arms: 2, noise: 0.05), -1.5...1.5),
        ]
        for (distribution, range) in distributions {
            XCTAssertEqual(totalMass(distribution, range: range, cells: 120), 1, accuracy: 0.01, "\(distribution)")
            // The sampler's histogram in a few cells against the density's mass there.
            var rng = PhiloxGenerator(seed: 9)
            let samples = distribution.sample(40_000, using: &rng)
            let width = (range.upperBound - range.lowerBound) / 8
            for cell in [(2, 5), (4, 4), (5, 2), (6, 6)] {
                let lowX = range.lowerBound + Double(cell.0) * width, lowY = range.lowerBound + Double(cell.1) * width
                let inside = (0..<samples.rows).filter {
                    samples[$0, 0] >= lowX && samples[$0, 0] < lowX + width && samples[$0, 1] >= lowY
                        && samples[$0, 1] < lowY + width
                }
                let fraction = Double(inside.count) / Double(samples.rows)
                var mass = 0.0, points: [Double] = []
                let fine = 20
                for i in 0..<fine {
                    for j in 0..<fine {
                        points += [
                            lowX + (Double(i) + 0.5) * width / Double(fine),
                            lowY + (Double(j) + 0.5) * width / Double(fine),
                        ]
                    }
                }
                mass =
                    distribution.logDensity(Matrix64(rows: fine * fine, columns: 2, scalars: points)).reduce(0) {
                        $0 + exp($1)
                    } * pow(width / Double(fine), 2)
                let tolerance = 4 * (max(mass * (1 - mass), 1e-4) / Double(samples.rows)).squareRoot() + 0.003
                XCTAssertEqual(fraction, mass, accuracy: tolerance, "\(distribution) cell \(cell)")
            }
        }
        XCTAssertTrue(ToyDistribution.isOnCheckerboard(0.5, 0.5))
        XCTAssertFalse(ToyDistribution.isOnCheckerboard(2.5, 0.5))
        XCTAssertEqual(
            ToyDistribution.checkerboard.logDensity(Matrix64(rows: 1, columns: 2, scalars: [2.5, 0.5]))[0], -.infinity)
    }

    func testMixtureLogDensityIsTheClosedForm() {
        let mixture = GaussianMixtureDenoiser(
            weights: [0.3, 0.7], means: [[1, 0], [-1, 2]], standardDeviations: [0.5, 1])
        let x = Matrix64(rows: 1, columns: 2, scalars: [0.2, 0.9])
        let (a, s) = (0.6, 0.8)
        func normal(_ m: [Double], _ variance: Double) -> Double {
            let r2 = pow(0.2 - a * m[0], 2) + pow(0.9 - a * m[1], 2)
            return exp(-r2 / (2 * variance)) / (2 * Double.pi * variance)
        }
        let expected = log(0.3 * normal([1, 0], a * a * 0.25 + s * s) + 0.7 * normal([-1, 2], a * a + s * s))
        XCTAssertEqual(mixture.logDensity(x, alpha: a, sigma: s)[0], expected, accuracy: 1e-12)
    }

    func testFlowLikelihoodRecoversTheExactMixtureDensity() {
        let mixture = GaussianMixtureDenoiser.ring(count: 8, radius: 2, standardDeviation: 0.3)
        var rng = PhiloxGenerator(seed: 4)
        let points = ToyDistribution.mixture(mixture).sample(20, using: &rng)
        for schedule in [DiffusionSchedule.linearFlowDefault, .vpCosineDefault] {
            let model: Denoiser = { x, t in mixture.posterior(x, t: t, schedule: schedule).data }
            let t0 = 1e-3
            let exact = mixture.logDensity(points, alpha: schedule.alpha(t0), sigma: schedule.sigma(t0))
            let terminal = { (x: Matrix64) in mixture.logDensity(x, alpha: schedule.alpha(1), sigma: schedule.sigma(1))
            }
            let flow = ProbabilityFlowLikelihood(steps: 200).logDensity(
                points, from: t0, to: 1, schedule: schedule, model: model,
                terminalLogDensity: terminal, using: &rng)
            XCTAssertLessThan(zip(flow.logDensity, exact).map { abs($0 - $1) }.max()!, 2e-3, "\(schedule)")
            // At T = 1 both schedules end at N(0, I): the prior alone gives the same answer.
            let prior = ProbabilityFlowLikelihood(steps: 200).logDensity(
                points, from: t0, to: 1, schedule: schedule, model: model,
                terminalLogDensity: ProbabilityFlowLikelihood.isotropicGaussian(standardDeviation: 1), using: &rng)
            XCTAssertLessThan(zip(prior.logDensity, flow.logDensity).map { abs($0 - $1) }.max()!, 1e-9)
        }
        // Hutchinson is unbiased: averaged over many probes it approaches the exact trace.
        let schedule = DiffusionSchedule.linearFlowDefault
        let model: Denoiser = { x, t in mixture.posterior(x, t: t, schedule: schedule).data }
        let few = Matrix64(rows: 4, columns: 2, scalars: Array(points.scalars.prefix(8)))
        let exact = ProbabilityFlowLikelihood(steps: 50).logDensity(
            few, from: 1e-3, to: 1, schedule: schedule, model: model,
            terminalLogDensity: ProbabilityFlowLikelihood.isotropicGaussian(standardDeviation: 1), using: &rng)
        let estimate = ProbabilityFlowLikelihood(steps: 50, trace: .hutchinson(probes: 64)).logDensity(
            few, from: 1e-3, to: 1, schedule: schedule, model: model,
            terminalLogDensity: ProbabilityFlowLikelihood.isotropicGaussian(standardDeviation: 1), using: &rng)
        XCTAssertLessThan(zip(estimate.logDensity, exact.logDensity).map { abs($0 - $1) }.max()!, 0.1)
        XCTAssertNotEqual(estimate.logDensity, exact.logDensity)
    }
}
