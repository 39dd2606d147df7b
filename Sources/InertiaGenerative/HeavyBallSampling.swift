import Foundation
import InertiaTensor

/// Heavy-ball (HB) and generalized heavy-ball (GHVB) momentum on pseudo linear multistep (PLMS)
/// diffusion sampling (S. Wizadwongsa, W. Chinchuthakun, P. Khungurn, A. Raj, S. Suwajanakorn,
/// "Diffusion Sampling with Momentum for Mitigating Divergence Artifacts", ICLR 2024; official code
/// `sWizad/momentum-diffusion`; `shared/papers/heavy-ball-diffusion-sampling.md` 2). Both enlarge
/// the absolute-stability region of Adams–Bashforth-k against the stiffness of guided sampling;
/// β = 1 is plain PLMS-k. HB averages the combined slope (first order for β < 1); GHVB averages
/// the raw slopes and recombines them with β-dependent coefficients that keep order k.
public struct HeavyBallSampling: Sendable, Equatable {
    /// Heavy-ball (HB) or generalized heavy-ball (GHVB) momentum on the sampler's slope, or the
    /// code's Nesterov form of HB (`PLMSWithNTScheduler`, spec 2.6).
    public enum Method: String, CaseIterable, Sendable {
        case heavyBall = "hb", generalizedHeavyBall = "ghvb", nesterov = "nt"
    }

    public let method: Method
    /// The multistep order k (1...5).
    public let order: Int
    /// The momentum β in (0, 1].
    public let beta: Double

    public init(method: Method, order: Int, beta: Double) {
        precondition((1...5).contains(order), "HeavyBallSampling: order must be 1...5, got \(order)")
        precondition(beta > 0 && beta <= 1, "HeavyBallSampling: beta must lie in (0, 1], got \(beta)")
        self.method = method
        self.order = order
        self.beta = beta
    }

    /// The code's single number: a fractional `r` is `(k = ⌊r⌋ + 1, β = frac(r))`, an integer `r` is `(r, 1)`
    /// (3.8 → k 4, β 0.8; 4.0 → PLMS-4).
    public init(method: Method, code r: Double) {
        let whole = r.rounded(.down), fraction = r - whole
        if fraction < 1e-9 || 1 - fraction < 1e-9 {
            self.init(method: method, order: Int(r.rounded()), beta: 1)
        } else {
            // 3.8 − 3 is 0.7999999999999998 in binary: β is rounded to 12 decimals.
            self.init(method: method, order: Int(whole) + 1, beta: (fraction * 1e12).rounded() / 1e12)
        }
    }

    /// Adams–Bashforth-k coefficients, newest first.
    public static func adamsBashforth(_ k: Int) -> [Double] {
        switch k {
        case 1: return [1]
        case 2: return [1.5, -0.5]
        case 3: return [23, -16, 5].map { $0 / 12 }
        case 4: return [55, -59, 37, -9].map { $0 / 24 }
        default: return [1901, -2774, 2616, -1274, 251].map { $0 / 720 }
        }
    }

    /// GHVB's `c^{(k)}(β)`, newest first (the AB row at β = 1; every row sums to 1).
    public static func generalizedCoefficients(_ k: Int, beta b: Double) -> [Double] {
        switch k {
        case 1: return [1]
        case 2: return [2 + b, -(2 - b)].map { $0 / (2 * b) }
        case 3: return [18 + 5 * b, -(24 - 8 * b), 6 - b].map { $0 / (12 * b) }
        case 4: return [46 + 9 * b, -(78 - 19 * b), 42 - 5 * b, -(10 - b)].map { $0 / (24 * b) }
        default:
            return [1650 + 251 * b, -(3420 - 646 * b), 2880 - 264 * b, -(1380 - 106 * b), 270 - 19 * b].map {
                $0 / (720 * b)
            }
        }
    }

    /// The left end `z_min` of the real absolute-stability interval `[z_min, 0]` of `z = hλ`
    /// (spec 2.7): `−(4 − 2β)/Σ_j a_j (−1)^j` with `a_j = β·(AB or GHVB coefficient)`. For the
    /// Nesterov form the same crossing at ξ = −1 of its recurrence
    /// `(ξ − 1) = z P(ξ) β [(1 − β)ξ/(ξ − 1 + β) + 1]` (`P` the AB polynomial) gives the HB value
    /// divided by `3 − 2β` (derived here; the tests check it by integrating `y' = λy`).
    public var stabilityIntervalLeftEnd: Double {
        let row =
            method == .generalizedHeavyBall
            ? Self.generalizedCoefficients(order, beta: beta) : Self.adamsBashforth(order)
        let alternating = row.enumerated().reduce(0.0) { $0 + beta * $1.element * ($1.offset % 2 == 0 ? 1 : -1) }
        let heavyBall = -(4 - 2 * beta) / alternating
        return method == .nesterov ? heavyBall / (3 - 2 * beta) : heavyBall
    }

    /// Integrates `y' = slope(y, n)` over steps `h[n]` (state as a flat vector) with start-up at
    /// lower orders while the history is short; returns `y_0 ... y_N`.
    public func integrate(_ y0: [Double], steps h: [Double], slope: ([Double], Int) -> [Double]) -> [[Double]] {
        var y = y0, velocity: [Double]?, history: [[Double]] = []
        var trajectory = [y0]
        for (n, step) in h.enumerated() {
            let e = slope(y, n)
            let direction: [Double]
            switch method {
            case .heavyBall:
                history.append(e)
                if history.count > order { history.removeFirst() }
                let row = Self.adamsBashforth(history.count)
                let combined = Self.combine(row, history)
                let v = velocity.map { zip($0, combined).map { (1 - beta) * $0 + beta * $1 } } ?? combined
                velocity = v
                direction = v
            case .nesterov:
                // v ← (1 − β)v + βp, then the step takes (1 − β)v + βp (spec 2.6).
                history.append(e)
                if history.count > order { history.removeFirst() }
                let combined = Self.combine(Self.adamsBashforth(history.count), history)
                let v = velocity.map { zip($0, combined).map { (1 - beta) * $0 + beta * $1 } } ?? combined
                velocity = v
                direction = zip(v, combined).map { (1 - beta) * $0 + beta * $1 }
            case .generalizedHeavyBall:
                let v = velocity.map { zip($0, e).map { (1 - beta) * $0 + beta * $1 } } ?? e
                velocity = v
                history.append(v)
                if history.count > order { history.removeFirst() }
                direction = Self.combine(Self.generalizedCoefficients(history.count, beta: beta), history)
            }
            y = zip(y, direction).map { $0 + step * $1 }
            trajectory.append(y)
        }
        return trajectory
    }

    /// `Σ_j row[j]·history[newest − j]`.
    static func combine(_ row: [Double], _ history: [[Double]]) -> [Double] {
        var out = [Double](repeating: 0, count: history[0].count)
        for (j, coefficient) in row.enumerated() {
            let entry = history[history.count - 1 - j]
            for i in out.indices { out[i] += coefficient * entry[i] }
        }
        return out
    }

    /// Samples with the noise model `eps(x, t)` (already guided: CFG first, momentum second) on the
    /// discrete DDPM timesteps `t_0 > … > t_N` (0-based indices into `cumulativeAlphas`), through ODE
    /// (1) of the spec in `x̄ = x/α`, `s̄ = σ/α`: `x̄_0 = x_T/α(t_0)`, one network call per step, `x = α(t_N)·x̄_N`.
    public func sample(
        _ xT: Matrix64, timesteps: [Int], cumulativeAlphas abar: [Double], eps: (Matrix64, Int) -> Matrix64
    ) -> Matrix64 {
        sample(
            xT, alphas: timesteps.map { abar[$0].squareRoot() }, sigmas: timesteps.map { (1 - abar[$0]).squareRoot() }
        ) { x, n in
            eps(x, timesteps[n])
        }
    }

    /// The same integration on any grid, given `α` and `σ` at its points (all `α > 0`); `eps(x, n)`
    /// is the noise prediction at grid point n.
    public func sample(
        _ xT: Matrix64, alphas alpha: [Double], sigmas sigma: [Double], eps: (Matrix64, Int) -> Matrix64
    ) -> Matrix64 {
        precondition(
            alpha.count >= 2 && alpha.count == sigma.count,
            "HeavyBallSampling: needs α and σ at two or more grid points")
        precondition(alpha.allSatisfy { $0 > 0 }, "HeavyBallSampling: α must be positive on the grid (x̄ = x/α)")
        let sbar = zip(sigma, alpha).map { $0 / $1 }
        let steps = (0..<(alpha.count - 1)).map { sbar[$0 + 1] - sbar[$0] }
        let start = xT.scalars.map { $0 / alpha[0] }
        let trajectory = integrate(start, steps: steps) { xbar, n in
            eps(Matrix64(rows: xT.rows, columns: xT.columns, scalars: xbar.map { $0 * alpha[n] }), n).scalars
        }
        return Matrix64(rows: xT.rows, columns: xT.columns, scalars: trajectory.last!.map { $0 * alpha.last! })
    }

    /// ᾱ of the discrete DDPM schedule (β linear from 1e-4 to 0.02 over 1000 steps), index i ↔ t = (i + 1)/1000.
    public static func ddpmCumulativeAlphas(steps: Int = 1000) -> [Double] {
        var product = 1.0
        return (0..<steps).map { i in
            product *= 1 - (1e-4 + (0.02 - 1e-4) * Double(i) / Double(steps - 1))
            return product
        }
    }
}
