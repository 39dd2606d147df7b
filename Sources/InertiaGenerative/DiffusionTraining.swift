import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// Training a `DenoiserNetwork` by the regression objectives of `diffusion-principles.md` 4, and
/// wrapping it as a sampler's `Denoiser` (with classifier-free guidance).
public struct DiffusionModel {
    public let network: DenoiserNetwork
    public let schedule: DiffusionSchedule
    /// What the network predicts (its training target).
    public let prediction: Prediction
    /// The time the network sees: `t` itself (flow matching) unless set.
    public var networkTime: (Double) -> Double = { $0 }

    public init(network: DenoiserNetwork, schedule: DiffusionSchedule, prediction: Prediction) {
        self.network = network
        self.schedule = schedule
        self.prediction = prediction
    }

    /// The training target for `x_0`, `ε` at time `t`.
    func target(_ x0: Float, _ eps: Float, _ t: Double) -> Float {
        let a = Float(schedule.alpha(t)), s = Float(schedule.sigma(t))
        switch prediction {
        case .epsilon: return eps
        case .data: return x0
        case .score: return -eps / s
        case .v: return a * eps - s * x0
        case .velocity: return Float(schedule.alphaDerivative(t)) * x0 + Float(schedule.sigmaDerivative(t)) * eps
        }
    }

    /// One minibatch loss (mean over all elements, weight 1): `t ~ U[tMin, tMax]`, labels replaced by
    /// the null label with probability `unconditionalProbability`.
    public func loss(_ x0: Tensor, labels: [Int], timeRange: ClosedRange<Double>, unconditionalProbability: Double,
                     using rng: inout PhiloxGenerator) -> Tensor {
        let b = x0.shape[0], d = x0.shape[1]
        let times = (0..<b).map { _ in timeRange.lowerBound + (timeRange.upperBound - timeRange.lowerBound) * rng.nextDouble() }
        let eps = Tensor(shape: [b, d], scalars: (0..<(b * d)).map { _ in Float(rng.nextNormal()) })
        let data = x0.scalars, noise = eps.scalars
        var noisy = [Float](repeating: 0, count: b * d), targets = noisy
        for i in 0..<b {
            let a = Float(schedule.alpha(times[i])), s = Float(schedule.sigma(times[i]))
            for j in 0..<d {
                noisy[i * d + j] = a * data[i * d + j] + s * noise[i * d + j]
                targets[i * d + j] = target(data[i * d + j], noise[i * d + j], times[i])
            }
        }
        let dropped = labels.map { rng.nextDouble() < unconditionalProbability ? network.nullLabel : $0 }
        let out = network(Tensor(shape: [b, d], scalars: noisy), time: Tensor(times.map { Float(networkTime($0)) }), labels: dropped)
        return (out - Tensor(shape: [b, d], scalars: targets)).squared().mean()
    }

    /// Trains on `points` (rows) with their `labels` for `steps` Adam steps of `batchSize` rows drawn
    /// with replacement; `onStep(step, loss)` sees every step and stops training by returning false.
    public func fit(points: Matrix64, labels: [Int], steps: Int, batchSize: Int = 512, learningRate: Double = 1e-3,
                    timeRange: ClosedRange<Double>, unconditionalProbability: Double = 0.1, using rng: inout PhiloxGenerator,
                    onStep: (Int, Float) -> Bool = { _, _ in true }) throws {
        precondition(labels.count == points.rows, "DiffusionModel.fit: \(labels.count) labels for \(points.rows) points")
        let adam = try Adam(learningRate: learningRate)
        let d = points.columns
        for step in 0..<steps {
            let batch = (0..<batchSize).map { _ in rng.nextInt(below: points.rows) }
            let x0 = Tensor(shape: [batchSize, d], scalars: batch.flatMap { i in (0..<d).map { Float(points[i, $0]) } })
            network.zeroGradients()
            let loss = self.loss(x0, labels: batch.map { labels[$0] }, timeRange: timeRange, unconditionalProbability: unconditionalProbability,
                                 using: &rng)
            loss.backward()
            adam.step(network.namedParameters())
            if !onStep(step, loss.item) { break }
        }
    }

    /// A sampler's denoiser: `x̂_0` from the network's output, guided as `u_∅ + w(u_c − u_∅)` when
    /// `label` is given (`w = 1`: the conditional model), unconditional otherwise.
    public func denoiser(label: Int? = nil, guidance w: Double = 1) -> Denoiser {
        { x, t in
            let time = networkTime(t)
            var output = network.evaluate(x, time: time)
            if let label {
                output = classifierFreeGuidance(unconditional: output, conditional: network.evaluate(x, time: time, label: label), scale: w)
            }
            return prediction.convert(output, to: .data, x: x, t: t, schedule: schedule)
        }
    }
}

/// The sliced 2-Wasserstein distance between two equally large point sets: the root mean over
/// random unit directions of the 1-D W2² between the sorted projections.
public func slicedWasserstein(_ a: Matrix64, _ b: Matrix64, directions: Int = 200, using rng: inout PhiloxGenerator) -> Double {
    precondition(a.rows == b.rows && a.columns == b.columns, "slicedWasserstein: \(a.rows)x\(a.columns) vs \(b.rows)x\(b.columns)")
    var total = 0.0
    for _ in 0..<directions {
        var direction = (0..<a.columns).map { _ in rng.nextNormal() }
        let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        direction = direction.map { $0 / norm }
        func project(_ m: Matrix64) -> [Double] {
            (0..<m.rows).map { i in (0..<m.columns).reduce(0.0) { $0 + m[i, $1] * direction[$1] } }.sorted()
        }
        total += zip(project(a), project(b)).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(a.rows)
    }
    return (total / Double(directions)).squareRoot()
}
