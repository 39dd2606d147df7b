import Foundation
import InertiaTensor

/// A model as samplers see it: `x̂_0` at every row of `x` at time `t` (convert other network
/// outputs with `Prediction.convert`).
public typealias Denoiser = (_ x: Matrix64, _ t: Double) -> Matrix64

/// Time grids from `t_max` down to `t_min` (`diffusion-principles.md` 6.1).
public enum TimeGrid {
    /// `t_i = t_max + (i/N)(t_min − t_max)`, `N + 1` points.
    public static func uniform(from tMax: Double, to tMin: Double, steps n: Int) -> [Double] {
        (0...n).map { tMax + Double($0) / Double(n) * (tMin - tMax) }
    }

    /// Uniform in the half log-SNR λ (DPM-Solver's "logSNR" grid).
    public static func uniformLambda(
        from tMax: Double, to tMin: Double, steps n: Int, schedule: DiffusionSchedule
    ) -> [Double] {
        let l0 = schedule.lambda(tMax), l1 = schedule.lambda(tMin)
        return (0...n).map { i in
            i == 0 ? tMax : i == n ? tMin : schedule.time(forLambda: l0 + Double(i) / Double(n) * (l1 - l0))
        }
    }

    /// EDM's ρ-grid on σ̃: `(σ_max^{1/ρ} + i/(N−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ`, `i = 0..N−1`, then 0.
    public static func edm(sigmaMin: Double = 0.002, sigmaMax: Double = 80, rho: Double = 7, steps n: Int) -> [Double] {
        let a = Foundation.pow(sigmaMax, 1 / rho), b = Foundation.pow(sigmaMin, 1 / rho)
        var grid: [Double] = []
        for i in 0..<n {
            let fraction = Double(i) / Double(n - 1)
            grid.append(Foundation.pow(a + fraction * (b - a), rho))
        }
        return grid + [0]
    }
}

/// Deterministic and stochastic samplers of the probability-flow ODE / reverse SDE
/// (`diffusion-principles.md` 5–6): Euler, Heun (EDM second order), DDIM with η, DPM-Solver++(2M),
/// EDM's Heun in σ̃ form and Euler–Maruyama. Rows of `x` are samples; Float64.
public enum DiffusionSampler {
    /// `û = α̇x̂_0 + σ̇ε̂`, `ε̂ = (x − αx̂_0)/σ`.
    static func velocity(_ x: Matrix64, _ t: Double, _ schedule: DiffusionSchedule, _ model: Denoiser) -> Matrix64 {
        Prediction.data.convert(model(x, t), to: .velocity, x: x, t: t, schedule: schedule)
    }

    static func axpy(_ x: Matrix64, _ a: Double, _ y: Matrix64) -> Matrix64 {
        Matrix64(rows: x.rows, columns: x.columns, scalars: zip(x.scalars, y.scalars).map { $0 + a * $1 })
    }

    /// Euler on the PF-ODE: `x ← x + (t_{i+1} − t_i)·û(x, t_i)`. N NFE.
    public static func euler(_ x: Matrix64, grid: [Double], schedule: DiffusionSchedule, model: Denoiser) -> Matrix64 {
        var x = x
        for i in 0..<(grid.count - 1) { x = axpy(x, grid[i + 1] - grid[i], velocity(x, grid[i], schedule, model)) }
        return x
    }

    /// Heun: Euler, then the trapezoidal corrector whenever `σ(t_{i+1}) > 0`.
    public static func heun(_ x: Matrix64, grid: [Double], schedule: DiffusionSchedule, model: Denoiser) -> Matrix64 {
        var x = x
        for i in 0..<(grid.count - 1) {
            let h = grid[i + 1] - grid[i]
            let d = velocity(x, grid[i], schedule, model)
            let predicted = axpy(x, h, d)
            if schedule.sigma(grid[i + 1]) > 0 {
                let corrected = velocity(predicted, grid[i + 1], schedule, model)
                x = axpy(
                    x, h / 2,
                    Matrix64(
                        rows: d.rows, columns: d.columns, scalars: zip(d.scalars, corrected.scalars).map { $0 + $1 }))
            } else {
                x = predicted
            }
        }
        return x
    }

    /// PLMS-k (L. Liu, Y. Ren, Z. Lin, Z. Zhao, "Pseudo Numerical Methods for Diffusion Models on
    /// Manifolds", ICLR 2022, in the heavy-ball paper's form): Adams–Bashforth-k on the DDIM ODE
    /// `dx̄/ds̄ = ε̂` in `x̄ = x/α`, `s̄ = σ/α`, at lower orders while the history is short (so the
    /// global order is 2 from the Euler start); one NFE per step. `HeavyBallSampling` with β = 1.
    public static func plms(
        _ x: Matrix64, grid: [Double], order: Int = 4, schedule: DiffusionSchedule, model: Denoiser
    ) -> Matrix64 {
        HeavyBallSampling(method: .heavyBall, order: order, beta: 1).sample(
            x, alphas: grid.map(schedule.alpha), sigmas: grid.map(schedule.sigma)
        ) { x, n in
            Prediction.data.convert(model(x, grid[n]), to: .epsilon, x: x, t: grid[n], schedule: schedule)
        }
    }

    /// DDIM with `η` (0: the deterministic first-order exponential integrator; 1: DDPM ancestral):
    /// `x_s = α_s x̂_0 + sqrt(σ_s² − c²)·ε̂ + c·z`, `c = η σ_s sqrt(1 − e^{2(λ_t − λ_s)})`; no noise on the last step.
    public static func ddim(
        _ x: Matrix64, grid: [Double], eta: Double = 0, schedule: DiffusionSchedule, model: Denoiser,
        using rng: inout PhiloxGenerator
    ) -> Matrix64 {
        var x = x
        for i in 0..<(grid.count - 1) {
            let t = grid[i], s = grid[i + 1]
            let x0 = model(x, t)
            let alphaT = schedule.alpha(t), sigmaT = schedule.sigma(t), alphaS = schedule.alpha(s),
                sigmaS = schedule.sigma(s)
            let last = i == grid.count - 2
            let c =
                last || eta == 0
                ? 0 : eta * sigmaS * (1 - Foundation.exp(2 * (schedule.lambda(t) - schedule.lambda(s)))).squareRoot()
            let keep = (sigmaS * sigmaS - c * c).squareRoot()
            for k in 0..<x.scalars.count {
                let eps = (x.scalars[k] - alphaT * x0.scalars[k]) / sigmaT
                x.scalars[k] = alphaS * x0.scalars[k] + keep * eps + (c > 0 ? c * rng.nextNormal() : 0)
            }
        }
        return x
    }

    /// DPM-Solver++(2M) (Lu et al., 2022), data prediction, multistep; the first step is first
    /// order, and with `lowerOrderFinal` so is the last of runs under 10 steps. `momentum` β < 1
    /// is the heavy-ball form of `MomentumDPMSolverMultistepScheduler` (Wizadwongsa et al., ICLR
    /// 2024; heavy-ball-diffusion-sampling 2.6): the second-order updates `D` are averaged,
    /// `vel ← (1 − β)vel + βD` (the first one taken as is), and the first-order steps carry none.
    public static func dpmSolverPlusPlus2M(
        _ x: Matrix64, grid: [Double], schedule: DiffusionSchedule, model: Denoiser,
        lowerOrderFinal: Bool = false, momentum beta: Double = 1
    ) -> Matrix64 {
        precondition(beta > 0 && beta <= 1, "dpmSolverPlusPlus2M: momentum must lie in (0, 1], got \(beta)")
        var x = x
        var previous: Matrix64?, previousH = 0.0, velocity: Matrix64?
        let n = grid.count - 1
        for i in 1...n {
            let t = grid[i - 1], s = grid[i]
            let x0 = model(x, t)
            let h = schedule.lambda(s) - schedule.lambda(t)
            var dm = x0
            if let previous, !(lowerOrderFinal && i == n && n < 10) {
                let r = previousH / h
                dm = Matrix64(
                    rows: x0.rows, columns: x0.columns,
                    scalars: zip(x0.scalars, previous.scalars).map { (1 + 1 / (2 * r)) * $0 - 1 / (2 * r) * $1 })
                // Heavy-ball momentum on the second-order updates only (heavy-ball-diffusion-sampling 2.6).
                if let v = velocity {
                    dm = Matrix64(
                        rows: dm.rows, columns: dm.columns,
                        scalars: zip(v.scalars, dm.scalars).map { (1 - beta) * $0 + beta * $1 })
                }
                velocity = dm
            }
            let ratio = schedule.sigma(s) / schedule.sigma(t), gain = -schedule.alpha(s) * Foundation.expm1(-h)
            for k in 0..<x.scalars.count { x.scalars[k] = ratio * x.scalars[k] + gain * dm.scalars[k] }
            previous = x0
            previousH = h
        }
        return x
    }

    /// EDM's stochastic "churn" (Karras et al. 2022, Algorithm 2): before each step with
    /// `minimumSigma ≤ σ_i ≤ maximumSigma`, raise the noise level to `σ̂ = σ_i(1 + γ)`,
    /// `γ = min(churn/N, √2 − 1)`, by adding `sqrt(σ̂² − σ_i²)·noiseScale·z`. `churn = 0` (the code's
    /// default) is the deterministic sampler.
    public struct Churn: Sendable, Equatable {
        public var churn: Double
        public var minimumSigma: Double
        public var maximumSigma: Double
        public var noiseScale: Double

        public init(
            churn: Double = 0, minimumSigma: Double = 0, maximumSigma: Double = .infinity, noiseScale: Double = 1
        ) {
            self.churn = churn
            self.minimumSigma = minimumSigma
            self.maximumSigma = maximumSigma
            self.noiseScale = noiseScale
        }
    }

    /// EDM's Heun in σ̃ form (α = 1): `dx/dσ = (x − D(x; σ))/σ`, Euler only on a step that ends at
    /// σ = 0, with optional churn. `model` receives σ as its time. `injectedNoise` α > 0 adds
    /// `α·σ_i·z` at the start of every step without raising σ: the sampling error that PFGM++'s
    /// robustness study injects (`generate_alpha.py`, `pfgm-plus-plus.md` 3).
    public static func edmHeun(
        _ x: Matrix64, sigmas: [Double], churn: Churn = Churn(), injectedNoise alpha: Double = 0, model: Denoiser,
        using rng: inout PhiloxGenerator
    ) -> Matrix64 {
        var x = x
        func slope(_ x: Matrix64, _ sigma: Double) -> Matrix64 {
            let d = model(x, sigma)
            return Matrix64(
                rows: x.rows, columns: x.columns, scalars: zip(x.scalars, d.scalars).map { ($0 - $1) / sigma })
        }
        let steps = Double(sigmas.count - 1)
        for i in 0..<(sigmas.count - 1) {
            var sigma = sigmas[i]
            if alpha > 0 {
                for k in 0..<x.scalars.count { x.scalars[k] += alpha * sigma * rng.nextNormal() }
            }
            if churn.churn > 0 && sigma >= churn.minimumSigma && sigma <= churn.maximumSigma {
                let raised = sigma * (1 + Swift.min(churn.churn / steps, 2.0.squareRoot() - 1))
                let spread = (raised * raised - sigma * sigma).squareRoot() * churn.noiseScale
                for k in 0..<x.scalars.count { x.scalars[k] += spread * rng.nextNormal() }
                sigma = raised
            }
            let h = sigmas[i + 1] - sigma
            let d = slope(x, sigma)
            let predicted = axpy(x, h, d)
            if sigmas[i + 1] > 0 {
                let corrected = slope(predicted, sigmas[i + 1])
                x = axpy(
                    x, h / 2,
                    Matrix64(
                        rows: d.rows, columns: d.columns, scalars: zip(d.scalars, corrected.scalars).map { $0 + $1 }))
            } else {
                x = predicted
            }
        }
        return x
    }

    /// Euler–Maruyama on the family `dx = [f x − ½(1 + η²) g² ∇log p] dt + η g dW̄` (spec 5; η = 1 the
    /// reverse SDE, η = 0 the probability-flow ODE, every η the same marginals):
    /// `x_s = x + Δ(−f x + ½(1 + η²) g² ŝ) + η g sqrt(Δ) z`, `Δ = t − s`; the last step without noise.
    public static func eulerMaruyama(
        _ x: Matrix64, grid: [Double], eta: Double = 1, schedule: DiffusionSchedule, model: Denoiser,
        using rng: inout PhiloxGenerator
    ) -> Matrix64 {
        var x = x
        for i in 0..<(grid.count - 1) {
            let t = grid[i], delta = t - grid[i + 1]
            let score = Prediction.data.convert(model(x, t), to: .score, x: x, t: t, schedule: schedule)
            let f = schedule.drift(t), g2 = schedule.diffusionSquared(t), weight = 0.5 * (1 + eta * eta)
            let noise = i == grid.count - 2 ? 0 : eta * (g2 * delta).squareRoot()
            for k in 0..<x.scalars.count {
                x.scalars[k] +=
                    delta * (-f * x.scalars[k] + weight * g2 * score.scalars[k])
                    + (noise > 0 ? noise * rng.nextNormal() : 0)
            }
        }
        return x
    }
}

extension DiffusionSampler {
    /// The samplers by name, for sweeps and the CLI.
    public enum Method: String, CaseIterable, Sendable {
        case euler, heun, ddim, dpmpp2m, plms, eulerMaruyama = "euler-maruyama"
    }

    /// `method` with `evaluations` network calls (Heun takes half as many steps) on the λ-uniform grid
    /// from `tMax` down to `tMin`; DDIM runs with η = 0, PLMS with k = 4 (the registry's defaults:
    /// this is `SamplerRegistry`'s entry of the same name).
    public static func sample(
        _ method: Method, _ x: Matrix64, evaluations: Int, from tMax: Double = 0.999, to tMin: Double = 1e-3,
        schedule: DiffusionSchedule, model: Denoiser, using rng: inout PhiloxGenerator
    ) -> Matrix64 {
        let entry = SamplerRegistry.entry(named: method.rawValue)!
        return entry.draw(x, evaluations, entry.defaults, tMin...tMax, schedule, model, &rng)
    }
}
