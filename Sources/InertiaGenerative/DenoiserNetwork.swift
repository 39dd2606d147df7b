import Foundation
import InertiaNN
import InertiaTensor

/// A small conditional network for low-dimensional diffusion and flow models
/// (`diffusion-principles.md` 10.2, `stochastic-interpolants.md` 5.2): `[x, time features,
/// embedding(label)] → MLP (SiLU unless told) → output` of the data's dimension. Time enters raw (one input,
/// the interpolant spec's `3 → 3×128 → 2` networks) or as Fourier features `sin(ω_k t), cos(ω_k t)`
/// with frequencies log-spaced between the two given (keep `ω·c_noise` around 10²–10³ for
/// diffusion times). The label table has one extra row, the "null" label that classifier-free
/// guidance trains with.
public final class DenoiserNetwork: Module {
    /// How the time enters the network: as is, or as Fourier features over a range of frequencies.
    public enum TimeEncoding: Sendable, Equatable {
        case raw
        case fourier(features: Int, minimumFrequency: Double, maximumFrequency: Double)
    }

    /// The Fourier frequencies (empty for raw time).
    public let frequencies: [Float]
    public let labels: Embedding?
    public let classes: Int
    public let body: Sequential

    public init(
        dimension: Int, hidden: [Int] = [128, 128, 128],
        time: TimeEncoding = .fourier(features: 16, minimumFrequency: 1, maximumFrequency: 200),
        classes: Int = 0, labelDimension: Int = 16, activation: Activation.Kind = .silu,
        using rng: inout PhiloxGenerator
    ) {
        var timeInputs = 1
        if case .fourier(let features, let low, let high) = time {
            precondition(
                features % 2 == 0 && features >= 2,
                "DenoiserNetwork: Fourier features must be even and positive, got \(features)")
            let count = features / 2
            frequencies = (0..<count).map { k in
                Float(low * Foundation.pow(high / low, Double(k) / Double(Swift.max(count - 1, 1))))
            }
            timeInputs = features
        } else {
            frequencies = []
        }
        self.classes = classes
        labels = classes > 0 ? Embedding(count: classes + 1, dimension: labelDimension, using: &rng) : nil
        var layers: [Module] = []
        var width = dimension + timeInputs + (classes > 0 ? labelDimension : 0)
        for h in hidden {
            layers.append(Linear(width, h, using: &rng))
            layers.append(Activation(activation))
            width = h
        }
        layers.append(Linear(width, dimension, using: &rng))
        body = Sequential(layers)
        super.init()
        if let labels { register(labels, as: "labels") }
        register(body, as: "body")
    }

    /// The "null" label index (unconditional).
    public var nullLabel: Int { classes }

    /// The output at inputs `x` `[B, d]`, network times `time` `[B]` and labels (`nullLabel` for
    /// none; ignored without classes).
    public func callAsFunction(_ x: Tensor, time: Tensor, labels indices: [Int]) -> Tensor {
        let b = x.shape[0]
        var inputs: [Tensor]
        if frequencies.isEmpty {
            inputs = [x, time.reshaped(to: [b, 1])]
        } else {
            let angles = time.reshaped(to: [b, 1]) * Tensor(shape: [1, frequencies.count], scalars: frequencies)
            inputs = [x, angles.sin(), angles.cos()]
        }
        if let labels {
            precondition(indices.count == b, "DenoiserNetwork: \(indices.count) labels for a batch of \(b)")
            inputs.append(labels.forward(indices: IndexTensor(shape: [b], indices: indices)))
        }
        return body(Tensor.concatenate(inputs, alongAxis: 1))
    }

    /// Rows per block of `evaluate`: a block's activations (`rows × 128` floats per layer) stay
    /// in a core's L2 cache through the whole network.
    public static let evaluationBlockRows = 512

    /// The output at the rows of `x`, all at network time `time` and with one label (`nil`: the
    /// null label), without recording gradients: the network as samplers query it. Large batches
    /// run in blocks of `evaluationBlockRows` rows, blocks in parallel and each block's kernels on
    /// one thread, instead of one memory-bound pass per layer over the whole batch; every output
    /// row depends on its input row alone, so the result is the same as one big batch.
    public func evaluate(_ x: Matrix64, time: Double, label: Int? = nil) -> Matrix64 {
        let d = x.columns, blockRows = Self.evaluationBlockRows
        let blocks = (x.rows + blockRows - 1) / blockRows
        var output = [Double](repeating: 0, count: x.rows * d)
        output.withUnsafeMutableBufferPointer { out in
            let destination = out
            Parallel.forEach(chunks: blocks) { block in
                let rows = block * blockRows..<min(x.rows, (block + 1) * blockRows)
                withoutGradients {
                    let input = Tensor(
                        shape: [rows.count, d],
                        scalars: x.scalars[(rows.lowerBound * d)..<(rows.upperBound * d)].map(Float.init))
                    let labels = classes > 0 ? [Int](repeating: label ?? nullLabel, count: rows.count) : []
                    let result = self(
                        input, time: Tensor([Float](repeating: Float(time), count: rows.count)), labels: labels)
                    result.withUnsafeBufferPointer { values in
                        for (i, value) in values.enumerated() { destination[rows.lowerBound * d + i] = Double(value) }
                    }
                }
            }
        }
        return Matrix64(rows: x.rows, columns: d, scalars: output)
    }
}
