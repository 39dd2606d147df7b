import Foundation

/// L-BFGS for a smooth function of a Float64 vector (Nocedal & Wright, "Numerical Optimization",
/// 2nd ed., Algorithm 7.4 with the strong-Wolfe line search of Algorithms 3.5 and 3.6), the
/// full-batch second phase that physics-informed operators finish with (EquiNO's code uses
/// TensorFlow Probability's `lbfgs_minimize`, `shared/papers/equino.md` 2.2). The first step is
/// scaled to unit length; later ones use the `sᵀy / yᵀy` initial Hessian.
public struct LimitedMemoryBFGS: Sendable {
    /// How a minimisation ended.
    public enum Stop: String, Sendable {
        /// The gradient's largest component fell below `gradientTolerance`.
        case gradient
        /// The objective changed by less than `valueTolerance` (relative) in a step.
        case value
        /// No step along the search direction satisfied the Wolfe conditions.
        case lineSearch
        case iterations
        /// The objective or its gradient was not finite at the start.
        case nonFinite
    }

    public struct Result: Sendable {
        public var x: [Double]
        public var value: Double
        public var gradient: [Double]
        public var iterations: Int
        public var evaluations: Int
        public var stop: Stop
    }

    /// Correction pairs kept (TensorFlow Probability's default).
    public var history: Int
    public var maxIterations: Int
    public var gradientTolerance: Double
    public var valueTolerance: Double
    /// Sufficient-decrease and curvature constants of the strong Wolfe conditions.
    public var c1 = 1e-4
    public var c2 = 0.9

    public init(
        history: Int = 10, maxIterations: Int = 500, gradientTolerance: Double = 1e-10, valueTolerance: Double = 0
    ) {
        precondition(history >= 1 && maxIterations >= 0, "LimitedMemoryBFGS: history >= 1, maxIterations >= 0")
        self.history = history
        self.maxIterations = maxIterations
        self.gradientTolerance = gradientTolerance
        self.valueTolerance = valueTolerance
    }

    /// Minimises `objective` (value and gradient) from `start`.
    public func minimize(
        from start: [Double], _ objective: ([Double]) -> (value: Double, gradient: [Double])
    ) -> Result {
        var evaluations = 0
        func evaluate(_ x: [Double]) -> (value: Double, gradient: [Double]) {
            evaluations += 1
            return objective(x)
        }
        var x = start
        var (f, g) = evaluate(x)
        guard f.isFinite, g.allSatisfy(\.isFinite) else {
            return Result(x: x, value: f, gradient: g, iterations: 0, evaluations: evaluations, stop: .nonFinite)
        }
        var s: [[Double]] = [], y: [[Double]] = [], rho: [Double] = []
        var iteration = 0
        while true {
            if maxNorm(g) <= gradientTolerance {
                return Result(
                    x: x, value: f, gradient: g, iterations: iteration, evaluations: evaluations, stop: .gradient)
            }
            if iteration >= maxIterations {
                return Result(
                    x: x, value: f, gradient: g, iterations: iteration, evaluations: evaluations, stop: .iterations)
            }
            var direction = twoLoop(g, s: s, y: y, rho: rho).map { -$0 }
            var slope = dot(direction, g)
            if slope >= 0 {
                // Not a descent direction (lost curvature information): restart from steepest descent.
                s.removeAll()
                y.removeAll()
                rho.removeAll()
                direction = g.map { -$0 }
                slope = -dot(g, g)
            }
            let initialStep = s.isEmpty ? Swift.min(1, 1 / dot(g, g).squareRoot()) : 1
            guard
                let accepted = lineSearch(
                    x: x, value: f, slope: slope, direction: direction, initialStep: initialStep, evaluate: evaluate)
            else {
                return Result(
                    x: x, value: f, gradient: g, iterations: iteration, evaluations: evaluations, stop: .lineSearch)
            }
            let step = direction.map { $0 * accepted.step }
            let change = zip(accepted.gradient, g).map { $0 - $1 }
            let curvature = dot(step, change)
            let previous = f
            x = zip(x, step).map { $0 + $1 }
            f = accepted.value
            g = accepted.gradient
            iteration += 1
            if curvature > 1e-16 * dot(change, change) {
                s.append(step)
                y.append(change)
                rho.append(1 / curvature)
                if s.count > history {
                    s.removeFirst()
                    y.removeFirst()
                    rho.removeFirst()
                }
            }
            if abs(previous - f) <= valueTolerance * Swift.max(abs(previous), abs(f), 1) {
                return Result(
                    x: x, value: f, gradient: g, iterations: iteration, evaluations: evaluations, stop: .value)
            }
        }
    }

    /// `H·g` for the L-BFGS inverse-Hessian approximation (Algorithm 7.4).
    private func twoLoop(_ g: [Double], s: [[Double]], y: [[Double]], rho: [Double]) -> [Double] {
        var q = g
        var alpha = [Double](repeating: 0, count: s.count)
        for i in stride(from: s.count - 1, through: 0, by: -1) {
            alpha[i] = rho[i] * dot(s[i], q)
            for j in q.indices { q[j] -= alpha[i] * y[i][j] }
        }
        if let last = s.indices.last {
            let gamma = dot(s[last], y[last]) / dot(y[last], y[last])
            for j in q.indices { q[j] *= gamma }
        }
        for i in s.indices {
            let beta = rho[i] * dot(y[i], q)
            for j in q.indices { q[j] += s[i][j] * (alpha[i] - beta) }
        }
        return q
    }

    /// A step length meeting the strong Wolfe conditions (Algorithm 3.5), or `nil`.
    private func lineSearch(
        x: [Double], value f0: Double, slope d0: Double, direction: [Double], initialStep: Double,
        evaluate: ([Double]) -> (value: Double, gradient: [Double])
    ) -> (step: Double, value: Double, gradient: [Double])? {
        typealias Point = (step: Double, value: Double, slope: Double, gradient: [Double])
        func at(_ step: Double) -> Point {
            let (value, gradient) = evaluate(zip(x, direction).map { $0 + step * $1 })
            return (step, value, dot(gradient, direction), gradient)
        }
        func acceptable(_ p: Point) -> Bool { p.value.isFinite && p.gradient.allSatisfy(\.isFinite) }
        var previous: Point = (0, f0, d0, [])
        var step = initialStep
        for trial in 0..<40 {
            let current = at(step)
            if !acceptable(current) {
                // Overshot into a non-finite region: shorten the step.
                step = 0.5 * (previous.step + step)
                continue
            }
            if current.value > f0 + c1 * step * d0 || (trial > 0 && current.value >= previous.value) {
                return zoom(previous, current, f0: f0, d0: d0, at: at)
            }
            if abs(current.slope) <= -c2 * d0 { return (current.step, current.value, current.gradient) }
            if current.slope >= 0 { return zoom(current, previous, f0: f0, d0: d0, at: at) }
            previous = current
            step *= 2
        }
        return nil
    }

    /// Algorithm 3.6: shrinks the bracket `[low, high]` (low has the smaller value) by safeguarded
    /// cubic interpolation until a point meets the strong Wolfe conditions.
    private func zoom(
        _ lowStart: (step: Double, value: Double, slope: Double, gradient: [Double]),
        _ highStart: (step: Double, value: Double, slope: Double, gradient: [Double]),
        f0: Double, d0: Double,
        at: (Double) -> (step: Double, value: Double, slope: Double, gradient: [Double])
    ) -> (step: Double, value: Double, gradient: [Double])? {
        var low = lowStart, high = highStart
        for _ in 0..<40 {
            let width = abs(high.step - low.step)
            if width <= 1e-16 * Swift.max(abs(low.step), 1) { break }
            var step = cubicMinimizer(low, high)
            let lower = Swift.min(low.step, high.step), upper = Swift.max(low.step, high.step)
            if !step.isFinite || step <= lower + 0.1 * width || step >= upper - 0.1 * width {
                step = 0.5 * (low.step + high.step)
            }
            let trial = at(step)
            if !trial.value.isFinite || trial.value > f0 + c1 * step * d0 || trial.value >= low.value {
                high = trial
            } else {
                if abs(trial.slope) <= -c2 * d0 { return (trial.step, trial.value, trial.gradient) }
                if trial.slope * (high.step - low.step) >= 0 { high = low }
                low = trial
            }
        }
        // The bracket collapsed: take its better end if it decreased the objective at all.
        guard low.step > 0, low.value < f0 else { return nil }
        return (low.step, low.value, low.gradient)
    }

    /// The minimiser of the cubic matching values and slopes at two points.
    private func cubicMinimizer(
        _ a: (step: Double, value: Double, slope: Double, gradient: [Double]),
        _ b: (step: Double, value: Double, slope: Double, gradient: [Double])
    ) -> Double {
        let d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.step - b.step)
        let radicand = d1 * d1 - a.slope * b.slope
        guard radicand >= 0 else { return .nan }
        let d2 = (b.step > a.step ? 1.0 : -1.0) * radicand.squareRoot()
        return b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2)
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += a[i] * b[i] }
        return sum
    }

    private func maxNorm(_ v: [Double]) -> Double { v.reduce(0) { Swift.max($0, abs($1)) } }
}
