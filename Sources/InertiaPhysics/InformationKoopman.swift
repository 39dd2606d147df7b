import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// Information Koopman: Cheng, Yuan, Yang, Zhang, Cheng, He & Sun, "Information Shapes Koopman
/// Representation", arXiv 2510.13025 (ICLR 2026), with the semantics of its released code
/// (`Wenxuan52/InformationKoopman`, `shared/papers/information-koopman.md`). The latent terms of
/// its loss on latents `[B, T, H]` (row vectors, `z_{t+1} ≈ z_t·C`).
public enum KoopmanLatents {
    /// `C = mean_b pinv(Z_b)·Z'_b` `[H, H]` with the ridge pseudo-inverse
    /// `pinv(Z) = (ZᵀZ + ridge·I_H)⁻¹Zᵀ` when `T >= H`, and its dual `Zᵀ(ZZᵀ + ridge·I_T)⁻¹`
    /// (equal in exact arithmetic) when `T < H`; in Float64, off the tape (the code detaches
    /// `C`, so gradients reach the encoder only through `z_t` in `z_t·C`). Throws when a latent
    /// is not finite.
    public static func ridgeOperator(_ latents: Tensor, successors: Tensor, ridge: Double = 0.1) throws -> Matrix64 {
        guard latents.rank == 3, successors.shape == latents.shape else {
            throw TensorError.shapeMismatch(
                op: "KoopmanLatents.ridgeOperator",
                detail:
                    "needs latents and successors of one shape [B, T, H], got \(latents.shape) and \(successors.shape)")
        }
        guard ridge > 0, ridge.isFinite else {
            throw TensorError.invalidArgument(
                op: "KoopmanLatents.ridgeOperator", detail: "ridge must be positive and finite, got \(ridge)")
        }
        for (name, tensor) in [("latents", latents), ("successors", successors)] {
            if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw TensorError.invalidArgument(
                    op: "KoopmanLatents.ridgeOperator", detail: "\(name) entry \(bad) is \(tensor.scalars[bad])")
            }
        }
        let (b, t, h) = (latents.shape[0], latents.shape[1], latents.shape[2])
        let z = latents.scalars, next = successors.scalars
        var sum = Matrix64(rows: h, columns: h)
        for sequence in 0..<b {
            let range = (sequence * t * h)..<((sequence + 1) * t * h)
            let zb = Matrix64(rows: t, columns: h, scalars: z[range].map(Double.init))
            let nextb = Matrix64(rows: t, columns: h, scalars: next[range].map(Double.init))
            let zt = zb.transposed
            let operatorB =
                t >= h
                ? try Cholesky((zt * zb).addingToDiagonal(ridge)).inverse * (zt * nextb)
                : zt * (try Cholesky((zb * zt).addingToDiagonal(ridge)).inverse * nextb)
            sum = sum + operatorB
        }
        return sum * (1 / Double(Swift.max(b, 1)))
    }

    /// Multi-positive InfoNCE over time within each sequence (lower = more mutual information
    /// between neighbouring latents): cosine similarities over `temperature`; for each anchor
    /// `n` with `k <= n < T − k` the positives are the `2k` neighbours `n ± 1 ... n ± k`, the
    /// negatives every other position but `n`, and
    /// `−log(Σ_pos e^s / (Σ_pos e^s + Σ_neg e^s + 1e-8))` after subtracting the anchor's largest
    /// non-self similarity; the mean over sequences and anchors. Zero when `T <= 2k`.
    public static func temporalInfoNCE(_ latents: Tensor, neighbours k: Int = 3, temperature: Float = 0.1) -> Tensor {
        validated(latents.rank == 3, "KoopmanLatents.temporalInfoNCE: needs latents [B, T, H], got \(latents.shape)")
        validated(
            k >= 1 && temperature > 0,
            "KoopmanLatents.temporalInfoNCE: needs neighbours >= 1 and a positive temperature, got \(k) and \(temperature)"
        )
        let (b, t) = (latents.shape[0], latents.shape[1])
        guard t > 2 * k, b > 0 else { return Tensor(0) }
        let unit = latents / latents.norm(alongAxes: [2], keepingDimensions: true).clamped(lower: 1e-12)
        let anchors = t - 2 * k
        let similarity = (Tensor.matmul(unit, unit, transposingB: true) / temperature).slice(alongAxis: 1, k..<(t - k))
        // `positive` marks the 2k neighbours of each anchor; `selfMask` puts a huge negative on
        // the anchor itself, so that `exp` gives 0 there.
        var positive = [Float](repeating: 0, count: anchors * t)
        var selfMask = [Float](repeating: 0, count: anchors * t)
        for a in 0..<anchors {
            selfMask[a * t + a + k] = -Float.greatestFiniteMagnitude
            for m in (a..<(a + 2 * k + 1)) where m != a + k { positive[a * t + m] = 1 }
        }
        let values = similarity.scalars
        var shifts = [Float](repeating: 0, count: b * anchors)
        for row in shifts.indices {
            let a = row % anchors
            var largest = -Float.infinity
            for m in 0..<t where m != a + k { largest = Swift.max(largest, values[row * t + m]) }
            shifts[row] = largest
        }
        let exps =
            (similarity + Tensor(shape: [anchors, t], scalars: selfMask)
            - Tensor(shape: [b, anchors, 1], scalars: shifts)).exp()
        let positives = (exps * Tensor(shape: [anchors, t], scalars: positive)).sum(alongAxis: 2)
        let all = exps.sum(alongAxis: 2)
        return ((all + 1e-8).log() - positives.log()).mean()
    }

    /// The von Neumann entropy of the latents' normalised covariance: all rows of `[..., H]`
    /// stacked (`N × H`), centred, `Σ = ZᵀZ/(N − 1) + 1e-8·I`, `ρ = Σ / max(tr Σ, 1e-8)`,
    /// `−Σ λ log λ` over `ρ`'s eigenvalues clamped at 1e-8. In `[0, log H]`; `exp` of it is an
    /// effective rank.
    public static func covarianceEntropy(_ latents: Tensor) -> Tensor {
        validated(latents.rank >= 2, "KoopmanLatents.covarianceEntropy: needs latents [..., H], got \(latents.shape)")
        let h = latents.shape[latents.rank - 1], n = latents.count / Swift.max(h, 1)
        validated(n >= 2 && h >= 1, "KoopmanLatents.covarianceEntropy: needs two latents or more, got \(latents.shape)")
        return densityMatrix(latents.reshaped(to: [n, h])).vonNeumannEntropy(eigenvalueFloor: 1e-8)
    }

    /// `ρ` of `covarianceEntropy` for latents `[N, H]`.
    public static func densityMatrix(_ latents: Tensor) -> Tensor {
        let n = latents.shape[0], h = latents.shape[1]
        let centred = latents - latents.mean(alongAxis: 0, keepingDimensions: true)
        let covariance = Tensor.matmul(centred, centred, transposingA: true) / Float(n - 1) + Tensor.eye(h) * 1e-8
        return covariance / (covariance * Tensor.eye(h)).sum().clamped(lower: 1e-8)
    }
}

/// A Koopman autoencoder trained as the Information Koopman code trains it: an MLP encoder to
/// `latentDimension`, a mirrored MLP decoder, and per batch the detached ridge Koopman matrix `C`
/// of the batch's latents (`KoopmanLatents.ridgeOperator`). The operator kept for rollouts is
/// the epoch's batch-size-weighted average of `C` (the code's `C_fwd`).
public final class KoopmanAutoencoder: Module {
    /// The weights of the loss
    /// `L_fwd + identityWeight·L_id + mutualInformationWeight·InfoNCE + entropyWeight·S_vN`.
    /// The sign of `entropyWeight` is the spec's flagged discrepancy: the released code adds
    /// `+0.1·S` (so it minimises the entropy), the paper maximises it (`−0.1`).
    public struct Objective: Equatable, Sendable {
        public var identityWeight: Float
        public var mutualInformationWeight: Float
        public var entropyWeight: Float
        /// InfoNCE's `k` and temperature (the trainer's defaults, which the code really uses).
        public var neighbours: Int
        public var temperature: Float
        public var ridge: Double

        public init(
            identityWeight: Float = 0.1, mutualInformationWeight: Float, entropyWeight: Float, neighbours: Int = 3,
            temperature: Float = 0.1, ridge: Double = 0.1
        ) {
            self.identityWeight = identityWeight
            self.mutualInformationWeight = mutualInformationWeight
            self.entropyWeight = entropyWeight
            self.neighbours = neighbours
            self.temperature = temperature
            self.ridge = ridge
        }

        /// The released code's weights: InfoNCE 2.0 and `+0.1·S` (entropy minimised).
        public static let releasedCode = Objective(mutualInformationWeight: 2, entropyWeight: 0.1)
        /// The paper's sign: InfoNCE 2.0 and `−0.1·S` (entropy maximised).
        public static let paperSign = Objective(mutualInformationWeight: 2, entropyWeight: -0.1)

        /// The entropy term and what its sign does, for logs and reports.
        public var entropyConvention: String {
            if entropyWeight == 0 { return "no entropy term" }
            let direction =
                entropyWeight < 0 ? "maximises S (the paper's sign)" : "minimises S (the released code's sign)"
            return "entropyWeight \(entropyWeight): \(direction)"
        }
    }

    /// The loss of one batch by term, and the batch's Koopman matrix.
    public struct Loss {
        public let forward: Tensor
        public let identity: Tensor
        public let mutualInformation: Tensor
        public let entropy: Tensor
        public let total: Tensor
        public let koopmanMatrix: Matrix64
    }

    /// One epoch's means over batches of the loss terms.
    public struct EpochRecord: Equatable, Sendable {
        public var forward = 0.0, identity = 0.0, mutualInformation = 0.0, entropy = 0.0, total = 0.0
    }

    public let observationDimension: Int
    public let latentDimension: Int
    public let encoder: MLP
    public let decoder: MLP
    /// The operator `C_fwd` of the last training epoch, used by `forward` and `rollout`.
    public private(set) var koopmanOperator: Matrix64?

    /// Encoder `observationDimension → hidden... → latentDimension`, decoder mirrored
    /// (`information-koopman.md` 5: 32 → 128 → 128 → 16).
    public init(
        observationDimension: Int, hidden: [Int] = [128, 128], latentDimension: Int = 16,
        activation: Activation.Kind = .relu, using rng: inout PhiloxGenerator
    ) {
        validated(
            observationDimension >= 1 && latentDimension >= 1,
            "KoopmanAutoencoder: dimensions must be positive, got \(observationDimension) and \(latentDimension)")
        self.observationDimension = observationDimension
        self.latentDimension = latentDimension
        encoder = MLP(sizes: [observationDimension] + hidden + [latentDimension], activation: activation, using: &rng)
        decoder = MLP(
            sizes: [latentDimension] + hidden.reversed() + [observationDimension], activation: activation, using: &rng)
        super.init()
        register(encoder, as: "encoder")
        register(decoder, as: "decoder")
    }

    /// Latents `[..., H]` of states `[..., D]`.
    public func encode(_ states: Tensor) -> Tensor { mapRows(states, encoder, to: latentDimension) }

    /// States `[..., D]` of latents `[..., H]`.
    public func decode(_ latents: Tensor) -> Tensor { mapRows(latents, decoder, to: observationDimension) }

    private func mapRows(_ x: Tensor, _ network: MLP, to width: Int) -> Tensor {
        let last = x.shape[x.rank - 1]
        return network(x.reshaped(to: [x.count / Swift.max(last, 1), last])).reshaped(
            to: Array(x.shape.dropLast()) + [width])
    }

    /// The one-step prediction `dec(enc(s)·C_fwd)`; needs a trained operator.
    public override func forward(_ states: Tensor) -> Tensor {
        guard let c = koopmanOperator else {
            preconditionFailure("KoopmanAutoencoder.forward: no Koopman operator yet (train with fit first)")
        }
        return decode(Tensor.matmul(encode(states), c.tensor))
    }

    /// The loss on windows `[B, T + 1, D]` of consecutive states: `s_1..s_T` and their successors
    /// `s_2..s_{T+1}`. Each state is encoded once (the code encodes the two overlapping sequences
    /// separately, which gives the same latents for a deterministic encoder). `L_fwd` and `L_id`
    /// are sums over the `T` positions of the batch mean squared error, as in the code.
    public func loss(_ windows: Tensor, objective: Objective) throws -> Loss {
        guard windows.rank == 3, windows.shape[1] >= 2, windows.shape[2] == observationDimension else {
            throw TensorError.shapeMismatch(
                op: "KoopmanAutoencoder.loss",
                detail: "needs windows [B, T + 1, \(observationDimension)] with T >= 1, got \(windows.shape)")
        }
        let b = windows.shape[0], t = windows.shape[1] - 1, d = observationDimension, h = latentDimension
        let latents = encode(windows)
        let z = latents.slice(alongAxis: 1, 0..<t)
        let c = try KoopmanLatents.ridgeOperator(
            z.detached(), successors: latents.slice(alongAxis: 1, 1..<(t + 1)).detached(), ridge: objective.ridge)
        let flat = z.reshaped(to: [b * t, h])
        let states = windows.slice(alongAxis: 1, 0..<t).reshaped(to: [b * t, d])
        let successors = windows.slice(alongAxis: 1, 1..<(t + 1)).reshaped(to: [b * t, d])
        let forward = (decode(Tensor.matmul(flat, c.tensor)) - successors).squared().mean() * Float(t)
        let identity = (decode(flat) - states).squared().mean() * Float(t)
        let mutualInformation = KoopmanLatents.temporalInfoNCE(
            z, neighbours: objective.neighbours, temperature: objective.temperature)
        let entropy = KoopmanLatents.covarianceEntropy(z)
        let total =
            forward + objective.identityWeight * identity + objective.mutualInformationWeight * mutualInformation
            + objective.entropyWeight * entropy
        return Loss(
            forward: forward, identity: identity, mutualInformation: mutualInformation, entropy: entropy, total: total,
            koopmanMatrix: c)
    }

    /// Trains on windows `[S, T + 1, D]` as the code's trainer does: each epoch a seeded shuffle
    /// into batches of `batchSize` (the last one smaller), Adam at `learningRate` multiplied by
    /// `decay` every `decayEvery` epochs (StepLR), gradients clipped to global norm
    /// `maxGradientNorm`. Keeps the last epoch's weighted average of the batch operators as
    /// `koopmanOperator`. `onEpoch(epoch, record)` sees every epoch and stops training by
    /// returning false. A non-finite loss or gradient stops training with an error naming the
    /// epoch and batch.
    @discardableResult
    public func fit(
        windows: Tensor, objective: Objective, epochs: Int, batchSize: Int = 16, learningRate: Double = 1e-3,
        decayEvery: Int = 20, decay: Double = 0.8, maxGradientNorm: Double = 1, using rng: inout PhiloxGenerator,
        onEpoch: (Int, EpochRecord) -> Bool = { _, _ in true }
    ) throws -> [EpochRecord] {
        guard windows.rank == 3, windows.shape[0] >= 1 else {
            throw TensorError.shapeMismatch(
                op: "KoopmanAutoencoder.fit", detail: "needs windows [S, T + 1, D] with S >= 1, got \(windows.shape)")
        }
        guard epochs >= 0, batchSize >= 1, decayEvery >= 1 else {
            throw TensorError.invalidArgument(
                op: "KoopmanAutoencoder.fit",
                detail: "needs epochs >= 0, batchSize >= 1, decayEvery >= 1, got \(epochs), \(batchSize), \(decayEvery)"
            )
        }
        let count = windows.shape[0]
        let batches = (count + batchSize - 1) / batchSize
        let adam = try Adam(learningRate: learningRate)
        adam.schedule = .stepDecay(every: decayEvery * batches, gamma: decay)
        let parameters = namedParameters()
        var records: [EpochRecord] = []
        train()
        for epoch in 0..<epochs {
            let order = rng.permutation(count)
            var record = EpochRecord()
            var average = Matrix64(rows: latentDimension, columns: latentDimension)
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = Array(order[start..<Swift.min(start + batchSize, count)])
                for (_, parameter) in parameters { parameter.zeroGrad() }
                let batch = try loss(windows.indexSelect(alongAxis: 0, indices: rows), objective: objective)
                let value = batch.total.item
                guard value.isFinite else {
                    throw TensorError.invalidArgument(
                        op: "KoopmanAutoencoder.fit",
                        detail: "the loss is \(value) at epoch \(epoch), batch \(start / batchSize)")
                }
                batch.total.backward()
                let norm = GradientClipping.clipGlobalNorm(parameters, maxNorm: maxGradientNorm)
                guard norm.isFinite else {
                    throw TensorError.invalidArgument(
                        op: "KoopmanAutoencoder.fit",
                        detail: "the gradient norm is \(norm) at epoch \(epoch), batch \(start / batchSize)")
                }
                adam.step(parameters)
                average = average + batch.koopmanMatrix * (Double(rows.count) / Double(count))
                record.forward += Double(batch.forward.item) / Double(batches)
                record.identity += Double(batch.identity.item) / Double(batches)
                record.mutualInformation += Double(batch.mutualInformation.item) / Double(batches)
                record.entropy += Double(batch.entropy.item) / Double(batches)
                record.total += Double(value) / Double(batches)
            }
            koopmanOperator = average
            records.append(record)
            if !onEpoch(epoch, record) { break }
        }
        eval()
        return records
    }

    /// Predicted states `[N, steps + 1, D]` from initial states `[N, D]`: `z_0 = enc(s_0)`,
    /// `z_{t+1} = z_t·C_fwd`, each decoded (position 0 is the reconstruction of `s_0`).
    public func rollout(from initial: Tensor, steps: Int) -> Tensor {
        validated(
            initial.rank == 2 && initial.shape[1] == observationDimension,
            "KoopmanAutoencoder.rollout: needs initial states [N, \(observationDimension)], got \(initial.shape)")
        guard let c = koopmanOperator else {
            preconditionFailure("KoopmanAutoencoder.rollout: no Koopman operator yet (train with fit first)")
        }
        return withoutGradients {
            let operatorTensor = c.tensor
            var z = encode(initial)
            var states = [decode(z)]
            for _ in 0..<Swift.max(steps, 0) {
                z = Tensor.matmul(z, operatorTensor)
                states.append(decode(z))
            }
            return Tensor.stack(states, alongAxis: 1)
        }
    }
}
