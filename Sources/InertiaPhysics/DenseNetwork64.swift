import Foundation
import InertiaOptim
import InertiaTensor

/// A fully connected network in Float64 with its parameters in one flat vector, for the small
/// branch networks that physics-informed operators train to tight tolerances (EquiNO trains in
/// Float64 and finishes with L-BFGS, `shared/papers/equino.md` 2.2; the Float32 tensor engine
/// stalls there). Layer `l` stores its weights `[out, in]` row-major, then its biases. Gradients
/// are written by hand (checked against central differences in the tests).
public struct DenseNetwork64: Sendable {
    /// The hidden layers' nonlinearity (the output layer is linear).
    public enum Activation: String, Sendable {
        case tanh
        /// `x·sigmoid(x)` (EquiNO's code).
        case swish

        func value(_ x: Double) -> Double {
            switch self {
            case .tanh: return Foundation.tanh(x)
            case .swish: return x / (1 + Foundation.exp(-x))
            }
        }

        func derivative(_ x: Double) -> Double {
            switch self {
            case .tanh:
                let t = Foundation.tanh(x)
                return 1 - t * t
            case .swish:
                let s = 1 / (1 + Foundation.exp(-x))
                return s + x * s * (1 - s)
            }
        }
    }

    /// Widths from the input to the output.
    public let sizes: [Int]
    public let activation: Activation
    public var parameters: [Double]

    /// Glorot-uniform weights (Keras' default, as in EquiNO's code) and zero biases.
    public init(sizes: [Int], activation: Activation, using rng: inout PhiloxGenerator) {
        precondition(sizes.count >= 2 && sizes.allSatisfy { $0 > 0 }, "DenseNetwork64: bad layer sizes \(sizes)")
        self.sizes = sizes
        self.activation = activation
        var parameters: [Double] = []
        for l in 0..<(sizes.count - 1) {
            let limit = (6 / Double(sizes[l] + sizes[l + 1])).squareRoot()
            parameters += (0..<(sizes[l] * sizes[l + 1])).map { _ in (2 * rng.nextDouble() - 1) * limit }
            parameters += [Double](repeating: 0, count: sizes[l + 1])
        }
        self.parameters = parameters
    }

    public var parameterCount: Int { parameters.count }
    public var inputSize: Int { sizes[0] }
    public var outputSize: Int { sizes[sizes.count - 1] }

    public func callAsFunction(_ input: [Double]) -> [Double] { output(input, parameters: parameters) }

    /// The output at `input` with the given parameters instead of the stored ones.
    public func output(_ input: [Double], parameters p: [Double]) -> [Double] {
        forward(input, parameters: p).activations.last!
    }

    /// Adds `d(outputGradient · f(input)) / d parameters` to `gradient`.
    public func accumulateGradient(
        _ input: [Double], parameters p: [Double], outputGradient: [Double], into gradient: inout [Double]
    ) {
        precondition(outputGradient.count == outputSize, "DenseNetwork64: output gradient of the wrong size")
        precondition(gradient.count == p.count, "DenseNetwork64: gradient buffer of the wrong size")
        let (preActivations, activations) = forward(input, parameters: p)
        var delta = outputGradient
        var offset = p.count
        for l in stride(from: sizes.count - 2, through: 0, by: -1) {
            let fanIn = sizes[l], fanOut = sizes[l + 1]
            offset -= fanIn * fanOut + fanOut
            let previous = activations[l]
            for o in 0..<fanOut {
                gradient[offset + fanIn * fanOut + o] += delta[o]
                let row = offset + o * fanIn
                for i in 0..<fanIn { gradient[row + i] += delta[o] * previous[i] }
            }
            guard l > 0 else { break }
            var next = [Double](repeating: 0, count: fanIn)
            for o in 0..<fanOut {
                let row = offset + o * fanIn
                for i in 0..<fanIn { next[i] += p[row + i] * delta[o] }
            }
            let z = preActivations[l - 1]
            delta = (0..<fanIn).map { next[$0] * activation.derivative(z[$0]) }
        }
    }

    /// Pre-activations of the hidden layers and the activations of every layer (input first).
    private func forward(
        _ input: [Double], parameters p: [Double]
    ) -> (
        preActivations: [[Double]], activations: [[Double]]
    ) {
        precondition(input.count == inputSize, "DenseNetwork64: input of size \(input.count), expected \(inputSize)")
        precondition(p.count == parameters.count, "DenseNetwork64: \(p.count) parameters, expected \(parameters.count)")
        var activations = [input], preActivations: [[Double]] = []
        var offset = 0
        for l in 0..<(sizes.count - 1) {
            let fanIn = sizes[l], fanOut = sizes[l + 1], x = activations[l]
            var z = [Double](repeating: 0, count: fanOut)
            for o in 0..<fanOut {
                var sum = p[offset + fanIn * fanOut + o]
                let row = offset + o * fanIn
                for i in 0..<fanIn { sum += p[row + i] * x[i] }
                z[o] = sum
            }
            offset += fanIn * fanOut + fanOut
            if l < sizes.count - 2 {
                preActivations.append(z)
                activations.append(z.map(activation.value))
            } else {
                activations.append(z)
            }
        }
        return (preActivations, activations)
    }
}

extension DenseNetwork64 {
    /// Adam on the full objective for `adamSteps` steps (`beta = (0.9, 0.999)`, `eps = 1e-7`,
    /// Keras' defaults, as EquiNO's code uses), then L-BFGS for up to `lbfgsIterations`
    /// iterations from where Adam stopped. `objective` maps parameters to the loss and its
    /// gradient; returns the loss after every Adam step and L-BFGS's final result.
    public mutating func fit(
        adamSteps: Int, learningRate: Double, lbfgsIterations: Int,
        objective: ([Double]) -> (value: Double, gradient: [Double])
    ) -> (adamLosses: [Double], lbfgs: LimitedMemoryBFGS.Result?) {
        var m = [Double](repeating: 0, count: parameterCount), v = m
        let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7
        var losses: [Double] = []
        losses.reserveCapacity(adamSteps)
        for step in stride(from: 1, through: adamSteps, by: 1) {
            let (value, gradient) = objective(parameters)
            losses.append(value)
            let correction1 = 1 - Foundation.pow(beta1, Double(step))
            let correction2 = 1 - Foundation.pow(beta2, Double(step))
            for i in parameters.indices {
                m[i] = beta1 * m[i] + (1 - beta1) * gradient[i]
                v[i] = beta2 * v[i] + (1 - beta2) * gradient[i] * gradient[i]
                parameters[i] -= learningRate * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon)
            }
        }
        guard lbfgsIterations > 0 else { return (losses, nil) }
        let result = LimitedMemoryBFGS(maxIterations: lbfgsIterations, gradientTolerance: 1e-12).minimize(
            from: parameters, objective)
        if result.value.isFinite { parameters = result.x }
        return (losses, result)
    }
}
