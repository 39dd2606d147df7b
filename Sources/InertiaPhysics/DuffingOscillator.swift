/// The damped Duffing oscillator `x'' = −δ·x' + α·x − β·x³`, integrated by classical Runge–Kutta 4
/// in Float64. With `α, β > 0` it has two wells at `x = ±√(α/β)` and a saddle at 0; the energy
/// `E = x'²/2 − α·x²/2 + β·x⁴/4` falls at the rate `δ·x'²` (`information-koopman.md` 5 uses
/// `δ = 0.2`, `α = β = 1`, `dt = 0.05`).
public struct DuffingOscillator: Sendable {
    public var damping: Double
    public var linearStiffness: Double
    public var cubicStiffness: Double

    public init(damping: Double = 0.2, linearStiffness: Double = 1, cubicStiffness: Double = 1) {
        self.damping = damping
        self.linearStiffness = linearStiffness
        self.cubicStiffness = cubicStiffness
    }

    /// `(x', x'')` at the state `(x, x')`.
    public func velocity(_ state: SIMD2<Double>) -> SIMD2<Double> {
        let x = state.x, v = state.y
        return SIMD2(v, -damping * v + linearStiffness * x - cubicStiffness * x * x * x)
    }

    /// `x'²/2 − α·x²/2 + β·x⁴/4`, constant along the undamped flow.
    public func energy(_ state: SIMD2<Double>) -> Double {
        let x = state.x, v = state.y
        return 0.5 * v * v - 0.5 * linearStiffness * x * x + 0.25 * cubicStiffness * x * x * x * x
    }

    /// `count` states `(x, x')` from `initial` (the first of them) `timeStep` apart, one RK4 step each.
    public func trajectory(from initial: SIMD2<Double>, count: Int, timeStep: Double) -> [SIMD2<Double>] {
        precondition(count >= 1, "DuffingOscillator.trajectory: count must be >= 1, got \(count)")
        precondition(
            timeStep.isFinite && timeStep > 0,
            "DuffingOscillator.trajectory: timeStep must be positive, got \(timeStep)")
        var states = [initial]
        states.reserveCapacity(count)
        var y = initial
        for _ in 1..<count {
            let k1 = velocity(y)
            let k2 = velocity(y + 0.5 * timeStep * k1)
            let k3 = velocity(y + 0.5 * timeStep * k2)
            let k4 = velocity(y + timeStep * k3)
            y += timeStep / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            states.append(y)
        }
        return states
    }
}
