import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// Training a `DenoiserNetwork` by the regression objectives of `diffusion-principles.md` 4, and
/// wrapping it as a sampler's `Denoiser` (with classifier-free guidance). Every objective there is a
/// weighted ε-MSE: the recipes differ in the target (`prediction`), the weight `w(t)` and how t is
/// drawn; EDM's recipe is `preconditioning` (with the `.edm` schedule and log-normal σ).
public struct DiffusionModel {
    /// How training draws t; both are clamped into the range `loss` and `fit` are given.
    public enum TimeDistribution: Sendable, Equatable {
        case uniform
        /// `t = exp(mean + standardDeviation·n)`, `n ~ N(0, 1)` (EDM: −1.2 and 1.2 on σ̃ = t).
        case logNormal(mean: Double, standardDeviation: Double)
    }

    public let network: DenoiserNetwork
    public let schedule: DiffusionSchedule
    /// What the network predicts (its training target); ignored with `preconditioning`.
    public let prediction: Prediction
    /// The time the network sees: `t` itself (flow matching) unless set; ignored with `preconditioning`.
    public var networkTime: (Double) -> Double = { $0 }
    /// The per-example loss weight `w(t)` (1: DDPM's "simple" loss, flow matching, v-prediction).
    public var weighting: (Double) -> Double = { _ in 1 }
    public var timeDistribution = TimeDistribution.uniform
    /// EDM (Karras et al. 2022): `D(x; σ) = c_skip x + c_out F(c_in x; c_noise)` for an `α = 1`
    /// schedule; the network F regresses `(x₀ − c_skip x)/c_out` with weight 1, which is EDM's
    /// `λ(σ)‖D − x₀‖²` exactly (`λ c_out² = 1`).
    public var preconditioning: EDMPreconditioning?
    /// The training noise: Gaussian (`.gaussian`, every recipe but PFGM++) or PFGM++'s heavy-tailed
    /// kernel, drawn in the official code's clipped BetaPrime form (`PFGMKernel.trainingClip`).
    public var perturbation = PFGMKernel.gaussian

    public init(network: DenoiserNetwork, schedule: DiffusionSchedule, prediction: Prediction) {
        self.network = network
        self.schedule = schedule
        self.prediction = prediction
    }

    /// EDM's recipe: the `.edm` schedule, preconditioning with `sigmaData`, σ log-normal (−1.2, 1.2).
    public static func edm(network: DenoiserNetwork, sigmaData: Double = 0.5) -> DiffusionModel {
        var model = DiffusionModel(network: network, schedule: .edm, prediction: .data)
        model.preconditioning = EDMPreconditioning(sigmaData: sigmaData)
        model.timeDistribution = .logNormal(mean: -1.2, standardDeviation: 1.2)
        return model
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

    func drawTime(_ range: ClosedRange<Double>, using rng: inout PhiloxGenerator) -> Double {
        switch timeDistribution {
        case .uniform: return range.lowerBound + (range.upperBound - range.lowerBound) * rng.nextDouble()
        case .logNormal(let mean, let deviation):
            return Swift.min(
                Swift.max(Foundation.exp(mean + deviation * rng.nextNormal()), range.lowerBound), range.upperBound)
        }
    }

    /// One minibatch loss, `mean_b w(t_b)·mean_dims (F − target)²`: t drawn by `timeDistribution`
    /// within `timeRange`, labels replaced by the null label with probability `unconditionalProbability`.
    public func loss(
        _ x0: Tensor, labels: [Int], timeRange: ClosedRange<Double>, unconditionalProbability: Double,
        using rng: inout PhiloxGenerator
    ) -> Tensor {
        let b = x0.shape[0], d = x0.shape[1]
        let times = (0..<b).map { _ in drawTime(timeRange, using: &rng) }
        let eps: Tensor
        if perturbation == .gaussian {
            eps = Tensor(shape: [b, d], scalars: (0..<(b * d)).map { _ in Float(rng.nextNormal()) })
        } else {
            eps = Tensor(
                shape: [b, d],
                scalars: (0..<b).flatMap { _ in
                    perturbation.standardNoise(
                        dimension: d, form: .betaPrime(clip: PFGMKernel.trainingClip), using: &rng
                    ).map(Float.init)
                })
        }
        let data = x0.scalars, noise = eps.scalars
        var inputs = [Float](repeating: 0, count: b * d), targets = inputs,
            networkTimes = [Float](repeating: 0, count: b)
        var weights = [Float](repeating: 0, count: b)
        for i in 0..<b {
            let a = Float(schedule.alpha(times[i])), s = Float(schedule.sigma(times[i]))
            if let preconditioning {
                precondition(a == 1, "DiffusionModel: EDM preconditioning needs an α = 1 schedule (.edm)")
                let c = preconditioning.coefficients(Double(s))
                for j in 0..<d {
                    let noisy = data[i * d + j] + s * noise[i * d + j]
                    inputs[i * d + j] = Float(c.input) * noisy
                    targets[i * d + j] = (data[i * d + j] - Float(c.skip) * noisy) / Float(c.out)
                }
                networkTimes[i] = Float(c.noise)
                weights[i] = 1
            } else {
                for j in 0..<d {
                    inputs[i * d + j] = a * data[i * d + j] + s * noise[i * d + j]
                    targets[i * d + j] = target(data[i * d + j], noise[i * d + j], times[i])
                }
                networkTimes[i] = Float(networkTime(times[i]))
                weights[i] = Float(weighting(times[i]))
            }
        }
        let dropped = labels.map { rng.nextDouble() < unconditionalProbability ? network.nullLabel : $0 }
        let out = network(Tensor(shape: [b, d], scalars: inputs), time: Tensor(networkTimes), labels: dropped)
        let perExample = (out - Tensor(shape: [b, d], scalars: targets)).squared().mean(alongAxis: 1)
        return (perExample * Tensor(weights)).mean()
    }

    /// Trains on `points` (rows) with their `labels` for `steps` Adam steps of `batchSize` rows drawn
    /// with replacement; `onStep(step, loss)` sees every step and stops training by returning false.
    public func fit(
        points: Matrix64, labels: [Int], steps: Int, batchSize: Int = 512, learningRate: Double = 1e-3,
        timeRange: ClosedRange<Double>, unconditionalProbability: Double = 0.1, using rng: inout PhiloxGenerator,
        onStep: (Int, Float) -> Bool = { _, _ in true }
    ) throws {
        precondition(
            labels.count == points.rows, "DiffusionModel.fit: \(labels.count) labels for \(points.rows) points")
        trainOnMinibatches(
            points: points, steps: steps, batchSize: batchSize, parameters: network.namedParameters(),
            optimizer: try Adam(learningRate: learningRate), using: &rng,
            loss: { rows, x0, rng in
                self.loss(
                    x0, labels: rows.map { labels[$0] }, timeRange: timeRange,
                    unconditionalProbability: unconditionalProbability, using: &rng)
            }, onStep: onStep)
    }

    /// A sampler's denoiser: `x̂_0` from the network's output, guided as `u_∅ + w(u_c − u_∅)` when
    /// `label` is given (`w = 1`: the conditional model), unconditional otherwise.
    public func denoiser(label: Int? = nil, guidance w: Double = 1) -> Denoiser {
        { x, t in
            var input = x, time = networkTime(t)
            var coefficients: (skip: Double, out: Double, input: Double, noise: Double, lossWeight: Double)?
            if let preconditioning {
                let c = preconditioning.coefficients(schedule.sigma(t))
                input = x * c.input
                time = c.noise
                coefficients = c
            }
            var output = network.evaluate(input, time: time)
            if let label {
                output = classifierFreeGuidance(
                    unconditional: output, conditional: network.evaluate(input, time: time, label: label), scale: w)
            }
            if let c = coefficients { return x * c.skip + output * c.out }
            return prediction.convert(output, to: .data, x: x, t: t, schedule: schedule)
        }
    }
}

/// The sliced Wasserstein distance between two equally large point sets over `directions` random
/// unit directions: order 2, the root mean of the 1-D W2² between the sorted projections; order
/// 1, the mean of the 1-D W1 (`cfg-manifold-projection.md` 5's SW1).
public func slicedWasserstein(
    _ a: Matrix64, _ b: Matrix64, directions: Int = 200, order: Int = 2, using rng: inout PhiloxGenerator
) -> Double {
    precondition(
        a.rows == b.rows && a.columns == b.columns,
        "slicedWasserstein: \(a.rows)x\(a.columns) vs \(b.rows)x\(b.columns)")
    precondition(order == 1 || order == 2, "slicedWasserstein: order 1 or 2, got \(order)")
    var total = 0.0
    for _ in 0..<directions {
        var direction = (0..<a.columns).map { _ in rng.nextNormal() }
        let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        direction = direction.map { $0 / norm }
        func project(_ m: Matrix64) -> [Double] {
            (0..<m.rows).map { i in (0..<m.columns).reduce(0.0) { $0 + m[i, $1] * direction[$1] } }.sorted()
        }
        total +=
            zip(project(a), project(b)).reduce(0) {
                $0 + (order == 1 ? Swift.abs($1.0 - $1.1) : ($1.0 - $1.1) * ($1.0 - $1.1))
            }
            / Double(a.rows)
    }
    return order == 1 ? total / Double(directions) : (total / Double(directions)).squareRoot()
}
