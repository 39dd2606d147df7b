import InertiaNN
import InertiaTensor

/// Stochastic gradient descent with heavy-ball momentum, dampening, Nesterov momentum and coupled
/// weight decay, exactly as `torch.optim.SGD` (Sutskever et al., ICML 2013, in PyTorch's form):
///
///     g ← ±grad + wd·θ
///     b ← g on the first step, else μ·b + (1 − τ)·g
///     d ← g + μ·b (Nesterov) or b
///     θ ← θ − lr·d
///
/// One fused pass per parameter (`shared/papers/classic-momentum.md`, section 2.1).
public final class SGD: Optimizer {
    public let name = "sgd"
    public var learningRate: Double
    public let momentum: Double
    public let dampening: Double
    public let weightDecay: Double
    public let nesterov: Bool
    public let maximize: Bool
    private var buffers: [String: Tensor] = [:]
    private var steps: [String: Int] = [:]

    public init(learningRate: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
                nesterov: Bool = false, maximize: Bool = false) throws {
        func bad(_ detail: String) -> OptimizerError { .invalidHyperparameter(optimizer: "sgd", detail: detail) }
        guard learningRate >= 0, learningRate.isFinite else { throw bad("learning rate must be >= 0, got \(learningRate)") }
        guard momentum >= 0 else { throw bad("momentum must be >= 0, got \(momentum)") }
        guard weightDecay >= 0 else { throw bad("weight decay must be >= 0, got \(weightDecay)") }
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw bad("Nesterov momentum requires momentum > 0 and zero dampening (got momentum \(momentum), dampening \(dampening))")
        }
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.maximize = maximize
    }

    public var hyperparameters: [String: Double] {
        ["lr": learningRate, "momentum": momentum, "dampening": dampening, "weight_decay": weightDecay,
         "nesterov": nesterov ? 1 : 0]
    }

    public func step(_ parameters: [NamedParameter]) {
        let lr = Float(learningRate), mu = Float(momentum), tau = Float(dampening), wd = Float(weightDecay)
        let sign: Float = maximize ? -1 : 1
        for (name, parameter) in parameters {
            guard !parameter.isFrozen, let grad = parameter.grad else { continue }
            let first = steps[name, default: 0] == 0
            steps[name, default: 0] += 1
            let n = grad.count
            if momentum == 0 {
                parameter.value.withUnsafeMutableBufferPointer { p in
                    grad.withUnsafeBufferPointer { g in
                        for i in 0..<n { p[i] -= lr * (sign * g[i] + wd * p[i]) }
                    }
                }
                continue
            }
            var buffer = buffers[name] ?? Tensor.zeros(parameter.shape)
            buffers[name] = nil
            buffer.withUnsafeMutableBufferPointer { b in
                parameter.value.withUnsafeMutableBufferPointer { p in
                    grad.withUnsafeBufferPointer { g in
                        for i in 0..<n {
                            let gi = sign * g[i] + wd * p[i]
                            let bi = first ? gi : mu * b[i] + (1 - tau) * gi
                            b[i] = bi
                            p[i] -= lr * (nesterov ? gi + mu * bi : bi)
                        }
                    }
                }
            }
            buffers[name] = buffer
        }
    }

    public func state() -> OptimizerState {
        OptimizerState(
            optimizer: name, learningRate: learningRate, steps: steps,
            slots: Dictionary(uniqueKeysWithValues: buffers.map { ("\($0.key)/momentum_buffer", $0.value) }))
    }

    public func load(_ state: OptimizerState, for parameters: [NamedParameter]) throws {
        func bad(_ detail: String) -> OptimizerError { .stateMismatch(optimizer: name, detail: detail) }
        guard state.optimizer == name else { throw bad("the state was saved by optimizer '\(state.optimizer)'") }
        var newBuffers: [String: Tensor] = [:]
        let byName = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.parameter) })
        for (key, tensor) in state.slots {
            let name = String(key.split(separator: "/").dropLast().joined(separator: "/"))
            guard let p = byName[name] else { throw bad("state for parameter '\(name)', which the model does not have") }
            guard p.shape == tensor.shape else { throw bad("parameter '\(name)' has shape \(p.shape), its saved state \(tensor.shape)") }
            newBuffers[name] = tensor
        }
        for name in state.steps.keys where byName[name] == nil {
            throw bad("step count for parameter '\(name)', which the model does not have")
        }
        buffers = newBuffers
        steps = state.steps
        learningRate = state.learningRate
    }
}
