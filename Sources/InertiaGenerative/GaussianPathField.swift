import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// Flow matching on any Gaussian probability path `x_t = σ_t x₀ + α_t x₁` (noise `x₀ ~ N(0, I)` at
/// t = 0, data `x₁` at t = 1; Lipman, Chen, Ben-Hamu, Nickel & Le, "Flow Matching for Generative
/// Modeling", ICLR 2023): a `DenoiserNetwork` with raw time regresses the conditional velocity
/// `σ̇_t x₀ + α̇_t x₁` at `t ~ U[0, 1]`. The path is any schedule with its derivatives, such as
/// Cond-OT or a `KineticOptimalPath`'s (`kinetic-optimal-paths.md` 5.3 trains one on each).
public struct GaussianPathField {
    /// `(σ_t, α_t, σ̇_t, α̇_t)` at flow time t.
    public typealias Path = (Double) -> (sigma: Double, alpha: Double, dSigma: Double, dAlpha: Double)

    public let network: DenoiserNetwork
    public let path: Path

    public init(network: DenoiserNetwork, path: @escaping Path) {
        self.network = network
        self.path = path
    }

    /// The mean squared error to the conditional velocity on the data rows `x1`, with fresh
    /// noise and times.
    public func loss(_ x1: Tensor, using rng: inout PhiloxGenerator) -> Tensor {
        let b = x1.shape[0], d = x1.shape[1]
        let times = (0..<b).map { _ in rng.nextDouble() }
        let data = x1.scalars
        var inputs = [Float](repeating: 0, count: b * d), targets = inputs
        for i in 0..<b {
            let p = path(times[i])
            for j in 0..<d {
                let noise = rng.nextNormal(), x = Double(data[i * d + j])
                inputs[i * d + j] = Float(p.sigma * noise + p.alpha * x)
                targets[i * d + j] = Float(p.dSigma * noise + p.dAlpha * x)
            }
        }
        let out = network(Tensor(shape: [b, d], scalars: inputs), time: Tensor(times.map(Float.init)), labels: [])
        return (out - Tensor(shape: [b, d], scalars: targets)).squared().mean()
    }

    /// Trains on `points` (rows) for `steps` Adam steps of `batchSize` rows drawn with replacement;
    /// `onStep(step, loss)` sees every step and stops training by returning false.
    public func fit(
        points: Matrix64, steps: Int, batchSize: Int = 512, learningRate: Double = 1e-3,
        using rng: inout PhiloxGenerator, onStep: (Int, Float) -> Bool = { _, _ in true }
    ) throws {
        trainOnMinibatches(
            points: points, steps: steps, batchSize: batchSize, parameters: network.namedParameters(),
            optimizer: try Adam(learningRate: learningRate), using: &rng,
            loss: { _, x1, rng in loss(x1, using: &rng) }, onStep: onStep)
    }

    /// The learned velocity at the rows of `x`, time t.
    public func velocity(_ x: Matrix64, t: Double) -> Matrix64 { network.evaluate(x, time: t) }

    /// Euler's method from `noise` at t = 0 to t = 1 in `steps` equal steps.
    public func sample(_ noise: Matrix64, steps: Int) -> Matrix64 {
        precondition(steps >= 1, "GaussianPathField.sample: steps must be >= 1, got \(steps)")
        var x = noise
        for i in 0..<steps { x = x + velocity(x, t: Double(i) / Double(steps)) * (1 / Double(steps)) }
        return x
    }

    /// The learned field's kinetic energy on its own path, `∫ E‖v_θ(x_t, t)‖² dt` by the midpoint
    /// rule on `midpoints` times with `samples` points `x_t = σ_t x₀ + α_t x₁` each (x₁ drawn from
    /// the rows of `points`).
    public func kineticEnergy(
        points: Matrix64, midpoints: Int, samples: Int, using rng: inout PhiloxGenerator
    ) -> Double {
        let d = points.columns
        var total = 0.0
        for k in 0..<midpoints {
            let t = (Double(k) + 0.5) / Double(midpoints), p = path(t)
            var x = Matrix64(rows: samples, columns: d)
            for i in 0..<samples {
                let row = rng.nextInt(below: points.rows)
                for j in 0..<d { x[i, j] = p.sigma * rng.nextNormal() + p.alpha * points[row, j] }
            }
            total += velocity(x, t: t).scalars.reduce(0) { $0 + $1 * $1 } / Double(samples)
        }
        return total / Double(midpoints)
    }
}
