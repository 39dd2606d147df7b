import ArgumentParser
import Foundation
import Inertia

/// `inertia bench flow-map`: LSD training steps per second at `flow-maps.md` 5's sizes (the
/// 5 → 4 x 128 GELU → 2 MLP, batch 512 of checkerboard points, diagonal flow matching plus the
/// Lagrangian self-distillation loss with its forward-mode time derivative, backward, clipping at
/// norm 1, Adam). `bench/peers/flow_map_step.py` runs the same step with `torch.func.jvp`.
struct FlowMapBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow-map", abstract: "Flow-map LSD training steps per second (4 x 128 GELU, batch 512).")

    @OptionGroup var options: BenchOptions

    @OptionGroup var training: TrainingStepOptions

    func run() throws {
        var dataStream = PhiloxGenerator(seed: 1)
        let data = ToyDistribution.checkerboard.sample(200_000, using: &dataStream)
        try runTrainingStepBench(
            "flow-map", label: "flow-map LSD", options: options, batch: training.batch, steps: training.steps
        ) {
            var rng = PhiloxGenerator(seed: 0)
            let model = FlowMapModel(dimension: 2, distillation: .lagrangian, using: &rng)
            return { steps in
                var loss: Float = 0
                try model.fit(points: data, steps: steps, batchSize: training.batch, using: &rng) { _, value in
                    loss = value
                    return true
                }
                return loss
            }
        }
    }
}
