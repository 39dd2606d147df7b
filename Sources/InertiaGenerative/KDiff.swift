import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// One member of k-Diff's prediction-target family (Q. Jin & C. Wang, "Revisiting Diffusion Model
/// Predictions Through Dimensionality", arXiv 2601.21419, 2026), in `k-diff.md`'s reconstruction
/// from the abstract: the paper's own definitions were not available, so this is "k-Diff (Inertia
/// reconstruction)". In JiT's flow convention `z_t = t x + (1 − t) ε` (data at t = 1, ε standard
/// normal) the network predicts `y_k = x − k ε`: k = 0 is x-prediction, k = 1 velocity
/// (`v = x − ε`, not Salimans–Ho's v) and `y_k/k → −ε` as k grows. Any member converts exactly to
/// the others at `(z, t)`.
public struct KDiffTarget: Sendable, Equatable {
    public let k: Double

    public init(k: Double) {
        precondition(k >= 0 && k.isFinite, "KDiffTarget: k must be finite and >= 0, got \(k)")
        self.k = k
    }

    /// x-prediction (k = 0) and velocity prediction (k = 1).
    public static let data = KDiffTarget(k: 0), velocity = KDiffTarget(k: 1)

    /// `(1 − t) + k t`, positive for t < 1 or k > 0.
    public func denominator(t: Double) -> Double { (1 - t) + k * t }

    /// The target `y_k = x − k ε`.
    public func target(data x: [Double], noise eps: [Double]) -> [Double] { zip(x, eps).map { $0 - k * $1 } }

    /// `x̂ = ((1 − t) y + k z)/den`.
    public func data(from y: [Double], z: [Double], t: Double) -> [Double] {
        let den = denominator(t: t)
        return zip(y, z).map { ((1 - t) * $0 + k * $1) / den }
    }

    /// `ε̂ = (z − t y)/den`.
    public func noise(from y: [Double], z: [Double], t: Double) -> [Double] {
        let den = denominator(t: t)
        return zip(y, z).map { ($1 - t * $0) / den }
    }

    /// `v̂ = x̂ − ε̂ = (y + (k − 1) z)/den`.
    public func velocity(from y: [Double], z: [Double], t: Double) -> [Double] {
        let den = denominator(t: t)
        return zip(y, z).map { ($0 + (k - 1) * $1) / den }
    }
}

/// A flow model trained on a k-Diff target (`k-diff.md` 2.3–2.6, reconstruction): a raw-time GELU
/// MLP with a zero-initialised output predicts a fixed `y_k`, ε, or `y_k` with k learned as
/// `softplus(speed·κ)` (κ starts at k = 1); every target is trained by the same velocity-space loss
/// `mean |v̂ − v|²` (so the best k is well defined and can be learned), and sampled by Euler steps
/// of `dz/dt = v̂` from noise at t = 0 to data at t = 1.
public final class KDiffModel {
    /// What the network predicts.
    public enum Target: Sendable, Equatable {
        /// `y_k` for a fixed k (x: `.data`, v: `.velocity`).
        case fixed(KDiffTarget)
        /// ε (the family's k → ∞ end), converted as `x̂ = (z − (1 − t) ε̂)/max(t, clip)`.
        case noise
        /// `y_k` with `k = softplus(speed·κ)`, κ learned with the network (k-Diff).
        case learned(speed: Double)
    }

    /// The floor of `1 − t` and of t in the divisions of the conversions (JiT-style).
    public static let clip: Float = 0.05

    public let dimension: Int
    public let network: DenoiserNetwork
    public let target: Target
    /// κ of a learned target (a one-element parameter), `nil` otherwise.
    public let kappa: Parameter?
    /// Training times `t = sigmoid(mean + standardDeviation·n)` (the spec's logit-normal).
    public var timeMean = -0.8, timeStandardDeviation = 0.8

    /// A model for data of `dimension`, hidden widths `hidden`, predicting `target`.
    public init(
        dimension: Int, hidden: [Int] = [128, 128, 128, 128], target: Target, using rng: inout PhiloxGenerator
    ) {
        self.dimension = dimension
        network = DenoiserNetwork(dimension: dimension, hidden: hidden, time: .raw, activation: .gelu, using: &rng)
        for (_, parameter) in network.namedParameters().suffix(2) {
            parameter.assign(Tensor(repeating: 0, shape: parameter.shape))
        }
        self.target = target
        if case .learned(let speed) = target {
            precondition(speed > 0 && speed.isFinite, "KDiffModel: the speed must be positive, got \(speed)")
            kappa = Parameter(Tensor([Float(Foundation.log(Foundation.exp(1.0) - 1) / speed)]))
        } else {
            kappa = nil
        }
    }

    /// The network's parameters and κ (named "kappa").
    public var parameters: [NamedParameter] {
        network.namedParameters() + (kappa.map { [(name: "kappa", parameter: $0)] } ?? [])
    }

    /// The current k (`nil` for ε-prediction).
    public var k: Double? {
        switch target {
        case .fixed(let member): return member.k
        case .noise: return nil
        case .learned: return kappa.map { Double(learnedK($0.value).item) }
        }
    }

    func learnedK(_ kappa: Tensor) -> Tensor {
        guard case .learned(let speed) = target else { preconditionFailure("KDiffModel: k is not learned") }
        return (kappa * Float(speed)).softplus()
    }

    /// `v̂` from the network output `y` at `z` (rows) and times `t` (`[B, 1]`), through x̂ with the
    /// clipped divisions of `k-diff.md` 2.6 (recorded on the tape when κ is).
    func predictedVelocity(_ y: Tensor, z: Tensor, t: Tensor) -> Tensor {
        let remaining = 1 - t, data: Tensor
        switch target {
        case .noise:
            data = (z - remaining * y) / t.clamped(lower: Self.clip)
        case .fixed(let member):
            let k = Float(member.k)
            data = (remaining * y + k * z) / (remaining + k * t)
        case .learned:
            let k = learnedK(kappa!.value)
            data = (remaining * y + k * z) / (remaining + k * t)
        }
        return (data - z) / remaining.clamped(lower: Self.clip)
    }

    /// The velocity-space loss `mean |v̂ − v|²/D` on the batch `x` (`[B, D]`), with fresh ε and t.
    public func loss(_ x: Tensor, using rng: inout PhiloxGenerator) -> Tensor {
        let b = x.shape[0], d = x.shape[1]
        let times = (0..<b).map { _ in
            Float(1 / (1 + Foundation.exp(-(timeMean + timeStandardDeviation * rng.nextNormal()))))
        }
        let eps = Tensor(shape: [b, d], scalars: (0..<(b * d)).map { _ in Float(rng.nextNormal()) })
        let t = Tensor(shape: [b, 1], scalars: times)
        let z = t * x + (1 - t) * eps
        let y = network(z, time: Tensor(times), labels: [])
        return (predictedVelocity(y, z: z, t: t) - (x - eps)).squared().mean()
    }

    /// `v̂` at the rows of `z`, all at time `t`, without recording gradients.
    public func velocity(_ z: Matrix64, t: Double) -> Matrix64 {
        let y = network.evaluate(z, time: t)
        return withoutGradients {
            Matrix64(
                predictedVelocity(
                    y.tensor, z: z.tensor, t: Tensor(repeating: Float(t), shape: [z.rows, 1])))
        }
    }

    /// Euler's method on `dz/dt = v̂` from `noise` at t = 0 to t = 1 in `steps` equal steps.
    public func sample(_ noise: Matrix64, steps: Int) -> Matrix64 {
        precondition(steps >= 1, "KDiffModel.sample: steps must be >= 1, got \(steps)")
        var z = noise
        let h = 1 / Double(steps)
        for i in 0..<steps { z = z + velocity(z, t: Double(i) * h) * h }
        return z
    }

    /// Trains on `points` (rows) for `steps` Adam steps of `batchSize` rows drawn with
    /// replacement: learning rate cosine from `learningRate` to `endLearningRate`, gradients
    /// clipped to global norm `maxGradientNorm`; `onStep(step, loss)` sees every step and stops
    /// training by returning false.
    public func fit(
        points: Matrix64, steps: Int, batchSize: Int = 256, learningRate: Double = 1e-3,
        endLearningRate: Double = 5e-5, maxGradientNorm: Double = 1, using rng: inout PhiloxGenerator,
        onStep: (Int, Float) -> Bool = { _, _ in true }
    ) throws {
        precondition(
            points.columns == dimension, "KDiffModel.fit: points have \(points.columns) columns, the model \(dimension)"
        )
        let adam = try Adam(learningRate: learningRate)
        adam.schedule = .cosine(steps: steps, endFactor: endLearningRate / learningRate, periodic: false)
        trainOnMinibatches(
            points: points, steps: steps, batchSize: batchSize, parameters: parameters, optimizer: adam,
            maxGradientNorm: maxGradientNorm, using: &rng, loss: { _, x, rng in self.loss(x, using: &rng) },
            onStep: onStep)
    }
}
