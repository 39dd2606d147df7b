import Foundation
import InertiaTensor
import Synchronization

/// The differentiable least-squares layer of physics-informed hard constraints
/// (`shared/papers/hard-constraints-moe.md` 2.1-2.2; Chalapathi, Du & Krishnapriyan, "Scaling
/// physics-informed hard constraints with mixture-of-experts", ICLR 2024): given basis features,
/// it finds the weights `w` that minimise `0.5 ||R(w)||² + 0.5 ridge ||w||²` by Levenberg-Marquardt
/// in Float64, and differentiates `w*` by the implicit function theorem (the exact Hessian of the
/// objective at `w*`), never through the iterations.
///
/// Row `i` of a problem has `K` feature vectors `f_ik` (length `N`, the basis count) and a
/// residual form `phi`: `r_i = phi(f_i1·w, ..., f_iK·w) - target_i`. A PDE residual at a grid point
/// uses the basis values and their finite-difference derivatives there as features (`u`, `u_t`,
/// `u_xx`); an initial-condition row uses the basis values alone.
public struct HardConstraintLayer: Sendable {
    /// A residual form `phi(z)` of up to four features, with its gradient and Hessian.
    public struct ResidualForm: Sendable {
        /// Features used (the rest of a row's features must be zero or are ignored).
        public let features: Int
        /// `phi` is affine (no curvature): one Gauss-Newton step solves the problem exactly.
        public let isAffine: Bool
        let evaluate: @Sendable (SIMD4<Double>) -> (value: Double, gradient: SIMD4<Double>)
        let curvature: @Sendable (SIMD4<Double>) -> [SIMD4<Double>]

        /// `evaluate` gives `phi` and its gradient; `curvature` the Hessian's rows (`nil`: an
        /// affine form, zero curvature).
        public init(
            features: Int, evaluate: @escaping @Sendable (SIMD4<Double>) -> (value: Double, gradient: SIMD4<Double>),
            curvature: (@Sendable (SIMD4<Double>) -> [SIMD4<Double>])? = nil
        ) {
            precondition((1...4).contains(features), "HardConstraintLayer: a residual form has 1 to 4 features")
            self.features = features
            self.isAffine = curvature == nil
            self.evaluate = evaluate
            self.curvature = curvature ?? { _ in [.zero, .zero, .zero, .zero] }
        }

        /// `phi(z) = z_1`: a linear least-squares row.
        public static let linear = ResidualForm(features: 1) { z in (z[0], SIMD4(1, 0, 0, 0)) }
    }

    /// One solved problem.
    public struct Solution: Sendable {
        public var weights: [Double]
        /// `r_i` at the solution (without the ridge rows).
        public var residual: [Double]
        /// `0.5 ||r||² + 0.5 ridge ||w||²`.
        public var objective: Double
        /// `||Jᵀr + ridge·w||` at the solution.
        public var gradientNorm: Double
        /// LM iterations taken (accepted or rejected).
        public var steps: Int
    }

    /// Accumulates wall time spent in solves and IFT backward passes (thread-safe).
    public final class Clock: Sendable {
        private let nanoseconds = Atomic<UInt64>(0)
        public init() {}
        public var seconds: Double { Double(nanoseconds.load(ordering: .relaxed)) * 1e-9 }
        public func reset() { nanoseconds.store(0, ordering: .relaxed) }
        func measure<T>(_ body: () throws -> T) rethrows -> T {
            let start = DispatchTime.now().uptimeNanoseconds
            defer { nanoseconds.add(DispatchTime.now().uptimeNanoseconds - start, ordering: .relaxed) }
            return try body()
        }
    }

    public var forms: [ResidualForm]
    /// `mu` of the penalty `0.5 mu ||w||²` (the code's `1e-4·w` residual rows are `mu = 1e-8`).
    public var ridge: Double
    public var maxSteps: Int
    public var initialDamping: Double
    /// Every weight's starting value (the code: 0, or 1 for diffusion-sorption).
    public var start: Double

    public init(
        forms: [ResidualForm], ridge: Double, maxSteps: Int = 100, initialDamping: Double = 1e-3, start: Double = 0
    ) {
        precondition(!forms.isEmpty, "HardConstraintLayer: needs at least one residual form")
        precondition(ridge >= 0 && maxSteps >= 0 && initialDamping > 0, "HardConstraintLayer: bad settings")
        self.forms = forms
        self.ridge = ridge
        self.maxSteps = maxSteps
        self.initialDamping = initialDamping
        self.start = start
    }

    /// One problem's data in Float64: `features[(i·K + k)·N + n]`, a form index and a target per row.
    public struct Problem: Sendable {
        public var features: [Double]
        public var forms: [Int]
        public var targets: [Double]
        public var featureCount: Int
        public var basisCount: Int

        public init(features: [Double], forms: [Int], targets: [Double], featureCount: Int, basisCount: Int) {
            precondition(
                features.count == forms.count * featureCount * basisCount && targets.count == forms.count,
                "HardConstraintLayer.Problem: \(features.count) features, \(forms.count) rows, \(targets.count) targets"
            )
            self.features = features
            self.forms = forms
            self.targets = targets
            self.featureCount = featureCount
            self.basisCount = basisCount
        }

        public var rows: Int { forms.count }
    }

    /// Row `i`'s `z = (f_ik · w)_k`.
    private func projections(_ p: Problem, row i: Int, _ w: [Double]) -> SIMD4<Double> {
        var z = SIMD4<Double>.zero
        let n = p.basisCount
        p.features.withUnsafeBufferPointer { f in
            for k in 0..<Swift.min(p.featureCount, 4) {
                var sum = 0.0
                let base = (i * p.featureCount + k) * n
                for j in 0..<n { sum += f[base + j] * w[j] }
                z[k] = sum
            }
        }
        return z
    }

    /// Residuals and the Jacobian `[rows, N]` at `w`.
    private func linearize(_ p: Problem, _ w: [Double], jacobian: Bool) -> (r: [Double], j: [Double]) {
        let n = p.basisCount
        var r = [Double](repeating: 0, count: p.rows)
        var j = [Double](repeating: 0, count: jacobian ? p.rows * n : 0)
        for i in 0..<p.rows {
            let form = forms[p.forms[i]]
            let (value, gradient) = form.evaluate(projections(p, row: i, w))
            r[i] = value - p.targets[i]
            guard jacobian else { continue }
            for k in 0..<form.features where gradient[k] != 0 {
                let base = (i * p.featureCount + k) * n
                for c in 0..<n { j[i * n + c] += gradient[k] * p.features[base + c] }
            }
        }
        return (r, j)
    }

    private func objective(_ r: [Double], _ w: [Double]) -> Double {
        0.5 * r.reduce(0) { $0 + $1 * $1 } + 0.5 * ridge * w.reduce(0) { $0 + $1 * $1 }
    }

    /// The minimiser: for affine residual forms the normal equations (one Gauss-Newton step from
    /// `start`, exact, section 2.1), otherwise Levenberg-Marquardt (section 2.1's rule): the step solves `(H + lam·diag(H)) d = -g` with
    /// `H = JᵀJ + ridge·I`, `g = Jᵀr + ridge·w`; accepted if the objective decreases (then
    /// `lam *= 0.3`), else `lam *= 10`; stops when `||g|| < 1e-8 (1 + ||R||)` or after `maxSteps`.
    public func solve(_ p: Problem) -> Solution {
        precondition(p.forms.allSatisfy { forms.indices.contains($0) }, "HardConstraintLayer: unknown residual form")
        let n = p.basisCount
        var w = [Double](repeating: start, count: n)
        var (r, j) = linearize(p, w, jacobian: true)
        var value = objective(r, w)
        var lambda = initialDamping
        var steps = 0
        var gradient = normalGradient(j, r, w, n)
        if p.forms.allSatisfy({ forms[$0].isAffine }), let factor = try? Cholesky(gaussNewton(j, rows: p.rows, n)) {
            let delta = factor.solve(gradient.map { -$0 })
            w = zip(w, delta).map { $0 + $1 }
            (r, j) = linearize(p, w, jacobian: true)
            gradient = normalGradient(j, r, w, n)
            return Solution(
                weights: w, residual: r, objective: objective(r, w),
                gradientNorm: gradient.reduce(0) { $0 + $1 * $1 }.squareRoot(), steps: 1)
        }
        while steps < maxSteps {
            let gradientNorm = gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if gradientNorm < 1e-8 * (1 + (2 * value).squareRoot()) { break }
            steps += 1
            var h = gaussNewton(j, rows: p.rows, n)
            for d in 0..<n { h[d, d] *= 1 + lambda }
            guard let factor = try? Cholesky(h) else {
                lambda *= 10
                continue
            }
            let delta = factor.solve(gradient.map { -$0 })
            let candidate = zip(w, delta).map { $0 + $1 }
            let (candidateR, _) = linearize(p, candidate, jacobian: false)
            let candidateValue = objective(candidateR, candidate)
            if candidateValue < value {
                w = candidate
                (r, j) = linearize(p, w, jacobian: true)
                value = candidateValue
                gradient = normalGradient(j, r, w, n)
                lambda *= 0.3
            } else {
                lambda *= 10
            }
        }
        return Solution(
            weights: w, residual: r, objective: value,
            gradientNorm: gradient.reduce(0) { $0 + $1 * $1 }.squareRoot(), steps: steps)
    }

    /// `Jᵀr + ridge·w`.
    private func normalGradient(_ j: [Double], _ r: [Double], _ w: [Double], _ n: Int) -> [Double] {
        var g = w.map { ridge * $0 }
        for i in r.indices where r[i] != 0 {
            for c in 0..<n { g[c] += j[i * n + c] * r[i] }
        }
        return g
    }

    /// `JᵀJ + ridge·I`.
    private func gaussNewton(_ j: [Double], rows: Int, _ n: Int) -> Matrix64 {
        var h = Matrix64.identity(n) * ridge
        j.withUnsafeBufferPointer { jp in
            for i in 0..<rows {
                let row = jp.baseAddress! + i * n
                for a in 0..<n where row[a] != 0 {
                    for b in a..<n { h.scalars[a * n + b] += row[a] * row[b] }
                }
            }
        }
        for a in 0..<n {
            for b in 0..<a { h.scalars[a * n + b] = h.scalars[b * n + a] }
        }
        return h
    }

    /// The implicit-function-theorem backward of `solution` (section 2.2): solves `H λ = upstream`
    /// with the exact Hessian of the objective at `w*` (a Tikhonov term is added only if it is not
    /// positive definite), then returns `-∂/∂θ [λ · ∇_w Φ(w*, θ)]` for the features and targets.
    public func adjoint(
        _ p: Problem, _ solution: Solution, upstream: [Double]
    ) -> (features: [Double], targets: [Double]) {
        let n = p.basisCount, kCount = p.featureCount
        let w = solution.weights, r = solution.residual
        precondition(
            upstream.count == n, "HardConstraintLayer.adjoint: \(upstream.count) upstream values for \(n) weights")
        let (_, j) = linearize(p, w, jacobian: true)
        var h = gaussNewton(j, rows: p.rows, n)
        var rowData: [(z: SIMD4<Double>, gradient: SIMD4<Double>, curvature: [SIMD4<Double>])] = []
        rowData.reserveCapacity(p.rows)
        for i in 0..<p.rows {
            let form = forms[p.forms[i]]
            let z = projections(p, row: i, w)
            let gradient = form.evaluate(z).gradient
            let curvature = form.curvature(z)
            rowData.append((z, gradient, curvature))
            // + r_i Σ_km phi_km f_ik f_imᵀ
            for k in 0..<form.features {
                for m in 0..<form.features where curvature[k][m] != 0 {
                    let weight = r[i] * curvature[k][m]
                    let fk = (i * kCount + k) * n, fm = (i * kCount + m) * n
                    for a in 0..<n {
                        for b in 0..<n { h.scalars[a * n + b] += weight * p.features[fk + a] * p.features[fm + b] }
                    }
                }
            }
        }
        var lambda: [Double]
        var tikhonov = 1e-12 * Swift.max(h.trace / Double(n), 1e-300)
        while true {
            if let factor = try? Cholesky(h.symmetrized) {
                lambda = factor.solve(upstream)
                break
            }
            h = h.addingToDiagonal(tikhonov)
            tikhonov *= 10
        }
        var featureGradient = [Double](repeating: 0, count: p.features.count)
        var targetGradient = [Double](repeating: 0, count: p.rows)
        for i in 0..<p.rows {
            let form = forms[p.forms[i]]
            let (_, phi, curvature) = rowData[i]
            var featureDotLambda = SIMD4<Double>.zero
            for k in 0..<form.features {
                let base = (i * kCount + k) * n
                var sum = 0.0
                for c in 0..<n { sum += p.features[base + c] * lambda[c] }
                featureDotLambda[k] = sum
            }
            let s = (phi * featureDotLambda).sum()  // J_i · λ
            targetGradient[i] = s
            for k in 0..<form.features {
                // -[s φ_k w + r_i (φ_k λ + Σ_m φ_km (f_im·λ) w)]
                let wCoefficient = -(s * phi[k] + r[i] * (curvature[k] * featureDotLambda).sum())
                let lambdaCoefficient = -r[i] * phi[k]
                let base = (i * kCount + k) * n
                for c in 0..<n { featureGradient[base + c] = wCoefficient * w[c] + lambdaCoefficient * lambda[c] }
            }
        }
        return (featureGradient, targetGradient)
    }

    /// Solves `G` independent problems on the tape: `features [G, rows, K, N]` and `targets
    /// [G, rows]` give the weights `[G, N]`, differentiable in both inputs by `adjoint`. Every
    /// problem shares `rowForms`. Problems run in parallel; `clock` (if any) accumulates the time
    /// of the solves and of their backward pass.
    public func callAsFunction(
        features: Tensor, targets: Tensor, rowForms: [Int], clock: Clock? = nil
    ) -> (weights: Tensor, solutions: [Solution]) {
        validated(
            features.rank == 4 && targets.shape == Array(features.shape.prefix(2))
                && features.shape[1] == rowForms.count && features.shape[2] <= 4,
            "HardConstraintLayer: needs features [G, rows, K <= 4, N] and targets [G, rows] with \(rowForms.count) rows, got \(features.shape) and \(targets.shape)"
        )
        let groups = features.shape[0], rows = features.shape[1], kCount = features.shape[2], n = features.shape[3]
        let featureValues = features.scalars, targetValues = targets.scalars
        let per = rows * kCount * n
        let problems = (0..<groups).map { g in
            Problem(
                features: featureValues[(g * per)..<((g + 1) * per)].map(Double.init), forms: rowForms,
                targets: targetValues[(g * rows)..<((g + 1) * rows)].map(Double.init), featureCount: kCount,
                basisCount: n)
        }
        let solutions = Self.parallelMap(groups) { g in
            clock.map { $0.measure { solve(problems[g]) } } ?? solve(problems[g])
        }
        let output = Tensor(shape: [groups, n], scalars: solutions.flatMap { $0.weights.map(Float.init) })
        let layer = self
        let weights = Tensor.custom("hard_constraint", inputs: [features, targets], output: output) { upstream, _ in
            let g = upstream.scalars
            let adjoints = Self.parallelMap(groups) { index in
                let body = {
                    layer.adjoint(
                        problems[index], solutions[index], upstream: g[(index * n)..<((index + 1) * n)].map(Double.init)
                    )
                }
                return clock.map { $0.measure(body) } ?? body()
            }
            return [
                Tensor(shape: features.shape, scalars: adjoints.flatMap { $0.features.map(Float.init) }),
                Tensor(shape: targets.shape, scalars: adjoints.flatMap { $0.targets.map(Float.init) }),
            ]
        }
        return (weights, solutions)
    }

    /// `(0..<count).map(body)` over the worker threads (results in order).
    static func parallelMap<T: Sendable>(_ count: Int, _ body: (Int) -> T) -> [T] {
        let results = Mutex<[T?]>(Array(repeating: nil, count: count))
        Parallel.forEachRange(count: count, grain: 1) { range in
            for i in range {
                let value = body(i)
                results.withLock { $0[i] = value }
            }
        }
        return results.withLock { $0.map { $0! } }
    }
}
