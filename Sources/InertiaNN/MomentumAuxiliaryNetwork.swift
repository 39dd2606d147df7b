import InertiaTensor

/// Supervised local learning with the Momentum Auxiliary Network (J. Su et al., "Momentum
/// Auxiliary Network for Supervised Local Learning", ECCV 2024, arXiv 2407.05623; official code
/// `JunhaoSu0/MAN`; `shared/papers/momentum-auxiliary-network.md`).
///
/// The network is cut into gradient-isolated modules `B_1 ... B_K`; module `j < K` is trained only
/// by its local loss `CE(A_j(y_j), label)` on an auxiliary head `A_j`, the last by the network's own
/// loss, so only one module's activations live at a time. The auxiliary input is the module's
/// output (`.direct`, DGL-style local learning) or, with MAN (`.momentum`),
/// `y_j = LB_j(x) + E_j(x)`: `E_j` an exponential moving average of the next module's first
/// layer `F_{j+1}` (frozen, but differentiated with respect to its input) and `LB_j` a trainable
/// layer of the same architecture (the "learnable bias"), so module `j` learns through an
/// approximation of the layer that consumes its output. At inference only the modules run.
public final class LocalLearningNetwork: Module {
    /// What each auxiliary head sees.
    public enum AuxiliaryInput: Sendable, Equatable {
        /// The module's output (local learning without MAN).
        case direct
        /// MAN: `LB_j(x) + E_j(x)`, with `E_j ← decay · E_j + (1 − decay) · F_{j+1}` after each
        /// local backward (0.995 in the official commands).
        case momentum(decay: Float)
    }

    /// `B_1 ... B_K`; the last ends in the logits.
    public let stages: [Module]
    /// `A_1 ... A_{K−1}`.
    public let heads: [Module]
    /// `LB_1 ... LB_{K−1}` (MAN only).
    public let learnableBiases: [Module]
    /// `E_1 ... E_{K−1}` and their averaging (MAN only).
    public let averages: [ParameterEMA]
    public let auxiliaryInput: AuxiliaryInput
    /// `F_2 ... F_K`: the first layer of each module after the first (a submodule of it).
    private let firstLayers: [Module]

    /// - Parameters:
    ///   - stages: the modules `B_1 ... B_K` (K >= 2), applied in order.
    ///   - heads: the auxiliary heads `A_1 ... A_{K−1}`, from the auxiliary input to logits.
    ///   - auxiliaryInput: what the heads read: the module's output, or MAN's branch.
    ///   - firstLayer: `F_{j+1}` for `j` in `0..<K−1`: the first layer of `stages[j + 1]`.
    ///   - freshLayer: a new layer of `firstLayer(j)`'s architecture, called twice per boundary
    ///     with MAN (for `LB_j` and `E_j`). The official code initialises `LB_j`, `E_j` and
    ///     `F_{j+1}` independently (its copies are made before the weights are drawn).
    public init(
        stages: [Module], heads: [Module], auxiliaryInput: AuxiliaryInput, firstLayer: (Int) -> Module,
        freshLayer: (Int) -> Module
    ) {
        validated(stages.count >= 2, "LocalLearningNetwork: needs at least two modules, got \(stages.count)")
        validated(
            heads.count == stages.count - 1,
            "LocalLearningNetwork: \(heads.count) auxiliary heads for \(stages.count) modules (needs \(stages.count - 1))"
        )
        self.stages = stages
        self.heads = heads
        self.auxiliaryInput = auxiliaryInput
        firstLayers = (0..<(stages.count - 1)).map(firstLayer)
        switch auxiliaryInput {
        case .direct:
            learnableBiases = []
            averages = []
        case .momentum(let decay):
            learnableBiases = heads.indices.map(freshLayer)
            averages = heads.indices.map { ParameterEMA(target: freshLayer($0), decay: decay) }
        }
        super.init()
        for (i, stage) in stages.enumerated() { register(stage, as: "stage\(i)") }
        for (i, head) in heads.enumerated() { register(head, as: "auxiliary\(i)") }
        for (i, bias) in learnableBiases.enumerated() { register(bias, as: "learnableBias\(i)") }
        for (i, average) in averages.enumerated() { register(average.target, as: "average\(i)") }
    }

    /// Inference: the modules in order (the auxiliary branches do not take part).
    public override func forward(_ x: Tensor) -> Tensor { stages.reduce(x) { $1($0) } }

    /// The auxiliary input of boundary `j` for module output `x`.
    public func auxiliaryFeatures(_ j: Int, _ x: Tensor) -> Tensor {
        switch auxiliaryInput {
        case .direct: return x
        case .momentum: return learnableBiases[j](x) + averages[j].target(x)
        }
    }

    /// One iteration of spec 2.2 up to the optimizer step: for each module but the last, its
    /// forward on the previous module's detached output, the local loss's backward (reaching the
    /// module, its head and `LB_j`, not earlier modules and not `E_j`'s parameters), then the
    /// average's update from `F_{j+1}`'s current (not yet stepped) parameters, its running
    /// statistics left to its own forward passes; last, the network's loss on the last module.
    /// Gradients accumulate into the parameters; the caller zeroes them before and steps the
    /// optimizer after. Returns the local losses and, last, the network's.
    public func accumulateGradients(_ x: Tensor, labels: [Int]) throws -> [Float] {
        var input = x.detached()
        var losses: [Float] = []
        for j in heads.indices {
            let output = stages[j](input)
            let loss = Loss.crossEntropy(logits: heads[j](auxiliaryFeatures(j, output)), labels: labels)
            loss.backward()
            losses.append(loss.item)
            input = output.detached()
            if !averages.isEmpty { try averages[j].update(from: firstLayers[j], copyingBuffers: false) }
        }
        let loss = Loss.crossEntropy(logits: stages[stages.count - 1](input), labels: labels)
        loss.backward()
        losses.append(loss.item)
        return losses
    }

    /// The weights `(λ_r, λ_c)` of the reconstruction and classification terms of the InfoPro
    /// local loss in the official MAN code (`networks/resnetInfoPro_MAN.py`): with
    /// `r = stage / (K − 2)`, where `stage` is the ResNet stage (1-based) of the block the average
    /// copies and `K` the local-module count of the command line, `λ_r = r₁ (1 − r) + r₂ r` and
    /// `λ_c = c₁ (1 − r) + c₂ r` (the README's `ixx_1 = 5`, `ixx_2 = 0`, `ixy_1 = 0.5`, `ixy_2 = 0`).
    /// The reproduction here uses the DGL-style loss; these are for matching the published numbers.
    public static func infoProLossWeights(
        stage: Int, localModules: Int, reconstruction: (first: Double, last: Double) = (5, 0),
        classification: (first: Double, last: Double) = (0.5, 0)
    ) -> (ratio: Double, reconstruction: Double, classification: Double) {
        validated(localModules > 2, "infoProLossWeights: needs more than 2 local modules, got \(localModules)")
        let r = Double(stage) / Double(localModules - 2)
        return (
            r, reconstruction.first * (1 - r) + reconstruction.last * r,
            classification.first * (1 - r) + classification.last * r
        )
    }
}
