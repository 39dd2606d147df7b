import Foundation

/// Type-II Anderson acceleration of a fixed-point iteration `x ← g(x)` (D. G. Anderson, 1965;
/// H. F. Walker & P. Ni, SIAM J. Numer. Anal. 49, 2011; `shared/papers/anderson-acceleration.md`):
/// from the last `m + 1` iterates and residuals `f = g(x) − x`, the affine combination of residuals
/// with the smallest norm, applied to the map's outputs. One `g` call per iteration, as Picard.
///
/// Difference form (default): `γ = argmin ‖f_k − ΔF γ‖² + λ‖γ‖²`, `x ← x_k + βf_k − (ΔX + βΔF)γ`,
/// solved by Cholesky of the `m×m` normal equations in Float64. Constrained form (CFG-MP's DiT
/// code): `α = (FᵀF + λI)⁻¹1` normalised to sum 1, `x ← (1 − β)Σαx + βΣαg`.
public struct AndersonAcceleration: Sendable {
    /// How the mixing weights are found: least squares on residual differences (`difference`, type II), or on
    /// the residuals with the weights summing to 1 (`constrained`).
    public enum Form: Sendable, Equatable { case difference, constrained }

    /// The ridge `λ` added to the Gram matrix of the least-squares problem.
    public enum Regularization: Sendable, Equatable {
        case none
        /// `λ = c·trace(ΔFᵀΔF)` (or of `FᵀF`): scale-free, the library default with `c = 1e-10`.
        case relative(Double)
        /// A fixed `λ` (CFG-MP's `1e-4`); dominates once residuals are small.
        case absolute(Double)
    }

    public var memory: Int
    public var damping: Double
    public var regularization: Regularization
    public var form: Form
    /// Clear the history (and take one damped Picard step) when the residual grows tenfold in one
    /// step or the small system is not positive definite.
    public var restarts: Bool

    public init(
        memory: Int = 5, damping: Double = 1, regularization: Regularization = .relative(1e-10),
        form: Form = .difference,
        restarts: Bool = true
    ) {
        precondition(memory >= 0, "AndersonAcceleration: memory must be >= 0, got \(memory)")
        precondition(damping > 0 && damping <= 1, "AndersonAcceleration: damping must lie in (0, 1], got \(damping)")
        self.memory = memory
        self.damping = damping
        self.regularization = regularization
        self.form = form
        self.restarts = restarts
    }

    /// The accelerated fixed point and how it was reached.
    public struct Result: Sendable {
        public var x: [Double]
        /// The `k` at which `‖g(x_k) − x_k‖₂ < tolerance` (or `maxIterations`).
        public var iterations: Int
        public var residualNorm: Double
        public var converged: Bool
        public var restartCount: Int
        /// `‖f_k‖₂` for every `k`.
        public var residualHistory: [Double]
    }

    /// Iterates from `x0` until `‖g(x) − x‖₂ < tolerance`; `observe` sees every iterate `x_k`.
    public func solve(
        _ x0: [Double], tolerance: Double, maxIterations: Int, observe: ([Double]) -> Void = { _ in },
        map g: ([Double]) -> [Double]
    ) -> Result {
        var x = x0
        var xs: [[Double]] = [], gs: [[Double]] = [], fs: [[Double]] = []
        var history: [Double] = [], restartCount = 0
        for k in 0..<maxIterations {
            observe(x)
            let gx = g(x)
            precondition(
                gx.count == x.count, "AndersonAcceleration: the map returned \(gx.count) values for \(x.count)")
            let f = zip(gx, x).map { $0 - $1 }
            let norm = Self.norm(f)
            history.append(norm)
            if norm < tolerance {
                return Result(
                    x: x, iterations: k, residualNorm: norm, converged: true, restartCount: restartCount,
                    residualHistory: history)
            }
            if restarts, history.count >= 2, norm > 10 * history[history.count - 2], !fs.isEmpty {
                xs.removeAll()
                gs.removeAll()
                fs.removeAll()
                restartCount += 1
            }
            xs.append(x)
            gs.append(gx)
            fs.append(f)
            if fs.count > memory + 1 {
                xs.removeFirst()
                gs.removeFirst()
                fs.removeFirst()
            }
            if fs.count == 1 {
                x = zip(x, f).map { $0 + damping * $1 }
                continue
            }
            if let next = mix(xs, gs, fs) {
                x = next
            } else {
                // Not positive definite: restart with a damped Picard step.
                x = zip(x, f).map { $0 + damping * $1 }
                xs = [xs.last!]
                gs = [gs.last!]
                fs = [fs.last!]
                restartCount += 1
            }
        }
        let f = zip(g(x), x).map { $0 - $1 }
        return Result(
            x: x, iterations: maxIterations, residualNorm: Self.norm(f), converged: false, restartCount: restartCount,
            residualHistory: history)
    }

    /// One mixing step from a history of iterates `x_i` and their images `g(x_i)`, oldest first:
    /// the last `memory + 1` entries mixed, or the damped Picard step from the newest when there is
    /// one entry or the small system is not positive definite. For iterations driven from outside
    /// (CFG-MP+'s projection mixes each sample's history between batched model calls).
    public func nextIterate(iterates: [[Double]], outputs: [[Double]]) -> [Double] {
        precondition(
            !iterates.isEmpty && iterates.count == outputs.count,
            "AndersonAcceleration: needs as many outputs as iterates, and at least one")
        let xs = Array(iterates.suffix(memory + 1)), gs = Array(outputs.suffix(memory + 1))
        let fs = zip(gs, xs).map { g, x in zip(g, x).map { $0 - $1 } }
        let picard = zip(xs.last!, fs.last!).map { $0 + damping * $1 }
        return fs.count == 1 ? picard : mix(xs, gs, fs) ?? picard
    }

    private func mix(_ xs: [[Double]], _ gs: [[Double]], _ fs: [[Double]]) -> [Double]? {
        let d = xs[0].count, beta = damping
        switch form {
        case .difference:
            let k = fs.count - 1
            let dF = (0..<k).map { i in zip(fs[i + 1], fs[i]).map { $0 - $1 } }
            let dX = (0..<k).map { i in zip(xs[i + 1], xs[i]).map { $0 - $1 } }
            let f = fs[k]
            var gram = Matrix64(rows: k, columns: k)
            for i in 0..<k {
                for j in 0...i {
                    gram[i, j] = Self.dot(dF[i], dF[j])
                    gram[j, i] = gram[i, j]
                }
            }
            guard let gamma = Self.choleskySolve(regularized(gram), dF.map { Self.dot($0, f) }) else { return nil }
            var next = zip(xs[k], f).map { $0 + beta * $1 }
            for i in 0..<k { for t in 0..<d { next[t] -= gamma[i] * (dX[i][t] + beta * dF[i][t]) } }
            return next
        case .constrained:
            let k = fs.count
            var gram = Matrix64(rows: k, columns: k)
            for i in 0..<k {
                for j in 0...i {
                    gram[i, j] = Self.dot(fs[i], fs[j])
                    gram[j, i] = gram[i, j]
                }
            }
            guard let raw = Self.choleskySolve(regularized(gram), [Double](repeating: 1, count: k)) else { return nil }
            let total = raw.reduce(0, +)
            guard total != 0 && total.isFinite else { return nil }
            let alpha = raw.map { $0 / total }
            var next = [Double](repeating: 0, count: d)
            for i in 0..<k { for t in 0..<d { next[t] += alpha[i] * ((1 - beta) * xs[i][t] + beta * gs[i][t]) } }
            return next
        }
    }

    private func regularized(_ gram: Matrix64) -> Matrix64 {
        switch regularization {
        case .none: return gram
        case .relative(let c): return gram.addingToDiagonal(c * gram.trace)
        case .absolute(let lambda): return gram.addingToDiagonal(lambda)
        }
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

    /// Solves `M z = r` for a symmetric positive definite `M`; `nil` when a pivot is not positive.
    static func choleskySolve(_ m: Matrix64, _ r: [Double]) -> [Double]? {
        let n = m.rows
        var l = Matrix64(rows: n, columns: n)
        for i in 0..<n {
            for j in 0...i {
                var s = m[i, j]
                for t in 0..<j { s -= l[i, t] * l[j, t] }
                if i == j {
                    guard s > 0 && s.isFinite else { return nil }
                    l[i, i] = s.squareRoot()
                } else {
                    l[i, j] = s / l[j, j]
                }
            }
        }
        var z = r
        for i in 0..<n {
            for t in 0..<i { z[i] -= l[i, t] * z[t] }
            z[i] /= l[i, i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            for t in (i + 1)..<n { z[i] -= l[t, i] * z[t] }
            z[i] /= l[i, i]
        }
        return z
    }
}
