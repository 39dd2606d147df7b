import Foundation
import InertiaExperiments
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaGenerative

/// HB and GHVB against `shared/fixtures/heavy-ball-diffusion-sampling` and the spec's invariants.
final class HeavyBallSamplingTests: XCTestCase {
    func parse(_ key: String) -> (method: HeavyBallSampling.Method, k: Int, beta: Double) {
        // "hb_k2_beta0.8" / "ghvb_k4_beta1.0"
        let parts = key.split(separator: "_")
        return (
            parts[0] == "hb" ? .heavyBall : .generalizedHeavyBall, Int(parts[1].dropFirst())!,
            Double(parts[2].dropFirst(4))!
        )
    }

    func testCoefficientsTrajectoriesAndStabilityIntervalsMatchTheFixture() throws {
        let f = try fixture("heavy-ball-diffusion-sampling", "coefficients_and_stability.json")
        for (key, value) in (f["mixer_coefficients"] as! [String: Any])["values"] as! [String: Any] {
            // "k2_b0.9"
            let parts = key.split(separator: "_")
            let k = Int(parts[0].dropFirst())!, b = Double(parts[1].dropFirst())!
            let expected = doubles(value)
            let row =
                b == 1 ? HeavyBallSampling.adamsBashforth(k) : HeavyBallSampling.generalizedCoefficients(k, beta: b)
            XCTAssertLessThan(maxDifference(row, expected), 1e-12, key)
            XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-12)
        }
        // y' = λy from y0 with step h, as the fixture's text writes them; the step count is the
        // trajectory's length less one.
        let equation = f["test_equation_trajectories"] as! [String: Any]
        let ode = try XCTUnwrap(equation["ode"] as? String)
        let lambda = try XCTUnwrap(SpecFixture.writtenNumber("lam", in: ode)),
            y0 = try XCTUnwrap(SpecFixture.writtenNumber("y0", in: ode))
        let h = try XCTUnwrap(SpecFixture.writtenNumber("h", in: ode))
        for (key, value) in equation["values"] as! [String: Any] {
            let (method, k, beta) = parse(key)
            let trajectory = HeavyBallSampling(method: method, order: k, beta: beta)
                .integrate([y0], steps: [Double](repeating: h, count: doubles(value).count - 1)) { y, _ in
                    [lambda * y[0]]
                }.map { $0[0] }
            XCTAssertLessThan(maxDifference(trajectory, doubles(value)), 1e-12, key)
        }
        for (key, value) in (f["real_stability_interval_left_end"] as! [String: Any])["values"] as! [String: Any] {
            let (method, k, beta) = parse(key)
            XCTAssertEqual(
                HeavyBallSampling(method: method, order: k, beta: beta).stabilityIntervalLeftEnd,
                (value as! NSNumber).doubleValue, accuracy: 1e-9, key)
        }
    }

    /// The ODE's coefficient, start value, interval and step-count grid are read from the
    /// fixture's "ode" text ("y'=cos(t)y-0.5y^2, y(0)=1, t in [0,2], n=40..640"); the grid doubles.
    func testObservedConvergenceOrders() throws {
        let f =
            try fixture("heavy-ball-diffusion-sampling", "coefficients_and_stability.json")[
                "observed_convergence_order"] as! [String: Any]
        let ode = try XCTUnwrap(f["ode"] as? String)
        func captures(_ pattern: String) throws -> [Double] {
            let expression = try NSRegularExpression(pattern: pattern)
            let match = try XCTUnwrap(
                expression.firstMatch(in: ode, range: NSRange(ode.startIndex..., in: ode)), "\(pattern) in \(ode)")
            return try (1..<match.numberOfRanges).map {
                try XCTUnwrap(Double(ode[Range(match.range(at: $0), in: ode)!]))
            }
        }
        let number = "(-?[0-9]+(?:\\.[0-9]+)?)"
        let c = try captures("^y'=cos\\(t\\)y-" + number + "y\\^2,")[0]
        let y0 = try XCTUnwrap(SpecFixture.writtenNumber("y(0)", in: ode))
        let interval = try captures("t in \\[" + number + "," + number + "\\]")
        let grid = try captures("n=([0-9]+)\\.\\.([0-9]+)").map { Int($0) }
        let counts = Array(sequence(first: grid[0]) { $0 * 2 < grid[1] + 1 ? $0 * 2 : nil })
        XCTAssertEqual(counts.last, grid[1], "the grid doubles from \(grid[0]) to \(grid[1])")
        let (t0, t1) = (interval[0], interval[1])
        // y' = cos(t) y − c y²: 1/y = e^{−(sin t − sin t0)}(1/y0 + c ∫_{t0}^{t} e^{sin s − sin t0} ds).
        var integral = 0.0
        let pieces = 200_000
        for i in 0..<pieces {
            let a = t0 + (t1 - t0) * Double(i) / Double(pieces), b = t0 + (t1 - t0) * Double(i + 1) / Double(pieces)
            let e = { (s: Double) in Foundation.exp(Foundation.sin(s) - Foundation.sin(t0)) }
            integral += (b - a) / 6 * (e(a) + 4 * e((a + b) / 2) + e(b))
        }
        let exact = 1 / (Foundation.exp(Foundation.sin(t0) - Foundation.sin(t1)) * (1 / y0 + c * integral))
        var checked = 0
        for (key, value) in f where key.hasPrefix("hb") || key.hasPrefix("ghvb") {
            let (method, k, beta) = parse(key)
            let sampler = HeavyBallSampling(method: method, order: k, beta: beta)
            let errors = counts.map { n -> Double in
                let h = (t1 - t0) / Double(n)
                let end = sampler.integrate([y0], steps: [Double](repeating: h, count: n)) { y, step in
                    [Foundation.cos(t0 + Double(step) * h) * y[0] - c * y[0] * y[0]]
                }.last![0]
                return Swift.abs(end - exact)
            }
            let order =
                -(Foundation.log(errors.last!) - Foundation.log(errors[0]))
                / Foundation.log(Double(counts.last!) / Double(counts[0]))
            XCTAssertEqual(order, (value as! NSNumber).doubleValue, accuracy: 0.15, key)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0)
    }

    /// The left end of the real stability interval, by integrating `y' = λy` with `h = 1`: just
    /// inside it (0.97 z_min) the iterates die out, just outside (1.03 z_min) they grow. HB and
    /// GHVB check the spec's formula (2.7), the Nesterov form the one derived for it.
    func testStabilityIntervalsBoundTheTestEquation() {
        for method in HeavyBallSampling.Method.allCases {
            for k in [1, 2, 4] {
                for beta in [1.0, 0.8, 0.5] {
                    let sampler = HeavyBallSampling(method: method, order: k, beta: beta)
                    let left = sampler.stabilityIntervalLeftEnd
                    func last(_ z: Double) -> Double {
                        let path = sampler.integrate([1], steps: [Double](repeating: 1, count: 4000)) { y, _ in
                            [z * y[0]]
                        }
                        return path.suffix(50).map { Swift.abs($0[0]) }.max()!
                    }
                    let label = "\(method.rawValue) k \(k) beta \(beta): z_min \(left)"
                    XCTAssertLessThan(last(0.97 * left), 1e-3, label)
                    XCTAssertGreaterThan(last(1.03 * left), 1e3, label)
                }
            }
        }
    }

    /// DPM-Solver++(2M) with heavy-ball momentum: β = 1 is the plain solver; the momentum acts
    /// from the second second-order update on (two steps agree for any β, three do not); and it
    /// still converges to the ODE's solution as the steps grow.
    func testMomentumDPMSolverAveragesOnlyTheSecondOrderUpdates() {
        let schedule = DiffusionSchedule.vpCosineDefault
        let gaussian = GaussianMixtureDenoiser(weights: [1], means: [[1, -0.5]], standardDeviations: [0.5])
        let model: Denoiser = { x, t in gaussian.posterior(x, t: t, schedule: schedule).data }
        let start = Matrix64(rows: 3, columns: 2, scalars: [0.3, -1.1, 1.7, 0.4, -0.2, 0.9])
        func run(_ steps: Int, _ beta: Double) -> Matrix64 {
            DiffusionSampler.dpmSolverPlusPlus2M(
                start, grid: TimeGrid.uniformLambda(from: 0.999, to: 1e-3, steps: steps, schedule: schedule),
                schedule: schedule, model: model, momentum: beta)
        }
        let plain = DiffusionSampler.dpmSolverPlusPlus2M(
            start, grid: TimeGrid.uniformLambda(from: 0.999, to: 1e-3, steps: 12, schedule: schedule),
            schedule: schedule, model: model)
        XCTAssertEqual(run(12, 1).scalars, plain.scalars)
        XCTAssertEqual(run(2, 0.6).scalars, run(2, 1).scalars)
        XCTAssertGreaterThan((run(3, 0.6) - run(3, 1)).maxAbs, 1e-6)
        let reference = run(2000, 1)
        let errors = [20, 80, 320].map { (run($0, 0.8) - reference).maxAbs }
        XCTAssertTrue(zip(errors, errors.dropFirst()).allSatisfy { $1 < $0 / 2 }, "\(errors)")
    }

    func testOrderCodesBetaOneAndSampling() {
        XCTAssertEqual(
            HeavyBallSampling(method: .heavyBall, code: 3.8), HeavyBallSampling(method: .heavyBall, order: 4, beta: 0.8)
        )
        XCTAssertEqual(
            HeavyBallSampling(method: .heavyBall, code: 4.0), HeavyBallSampling(method: .heavyBall, order: 4, beta: 1))
        XCTAssertEqual(
            HeavyBallSampling(method: .generalizedHeavyBall, code: 0.5),
            HeavyBallSampling(method: .generalizedHeavyBall, order: 1, beta: 0.5))
        // GHVB with k = 1 is HB with k = 1; beta = 1 makes both plain PLMS.
        let slope: ([Double], Int) -> [Double] = { y, n in [-2 * y[0] + Double(n) * 0.1] }
        let steps = [Double](repeating: 0.1, count: 12)
        XCTAssertEqual(
            HeavyBallSampling(method: .heavyBall, order: 1, beta: 0.7).integrate([1], steps: steps, slope: slope),
            HeavyBallSampling(method: .generalizedHeavyBall, order: 1, beta: 0.7).integrate(
                [1], steps: steps, slope: slope))
        XCTAssertEqual(
            HeavyBallSampling(method: .heavyBall, order: 3, beta: 1).integrate([1], steps: steps, slope: slope),
            HeavyBallSampling(method: .generalizedHeavyBall, order: 3, beta: 1).integrate(
                [1], steps: steps, slope: slope))
        // Gaussian data: the exact eps model; many PLMS-4 steps land on the closed-form PF-ODE solution.
        let abar = HeavyBallSampling.ddpmCumulativeAlphas()
        let mean = [1.0, -0.5], std = 0.5
        let gaussian = GaussianMixtureDenoiser(weights: [1], means: [mean], standardDeviations: [std])
        let eps: (Matrix64, Int) -> Matrix64 = { x, t in
            let a = abar[t].squareRoot(), s = (1 - abar[t]).squareRoot()
            let denoised = gaussian.posterior(x, alpha: a, sigma: s).data
            var out = x
            for k in 0..<x.scalars.count { out.scalars[k] = (x.scalars[k] - a * denoised.scalars[k]) / s }
            return out
        }
        let start = Matrix64(rows: 2, columns: 2, scalars: [0.3, -1.1, 1.7, 0.4])
        let timesteps = Array(stride(from: 999, through: 0, by: -1))
        let fine = HeavyBallSampling(method: .heavyBall, code: 4).sample(
            start, timesteps: timesteps, cumulativeAlphas: abar, eps: eps)
        // Closed form: x̃_0 = mean + (s0/sqrt(s0² + s̄²))(x̃_T − mean) along s̄, mapped back by α(t_N).
        let sbarT = ((1 - abar[999]) / abar[999]).squareRoot(), sbar0 = ((1 - abar[0]) / abar[0]).squareRoot()
        for i in 0..<2 {
            for j in 0..<2 {
                let xbarT = start[i, j] / abar[999].squareRoot()
                let xbar0 =
                    mean[j] + (std * std + sbar0 * sbar0).squareRoot() / (std * std + sbarT * sbarT).squareRoot()
                    * (xbarT - mean[j])
                XCTAssertEqual(fine[i, j], abar[0].squareRoot() * xbar0, accuracy: 1e-3)
            }
        }
    }
}
