import ArgumentParser
import Foundation
import Inertia

/// `inertia bench meanflow`: MeanFlow training steps per second at `meanflow-policy.md` 5's sizes
/// (the (z, t, r, s) → 3 x 128 GELU → 2 MLP, batch 512 of the four-mode action toy, the JVP target
/// along (v, 1, 0), adaptive L2, backward, clipping at norm 1, AdamW).
/// `bench/peers/meanflow_step.py` runs the same step with `torch.func.jvp`.
struct MeanFlowBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meanflow", abstract: "MeanFlow training steps per second (3 x 128 GELU, batch 512).")

    @OptionGroup var options: BenchOptions

    @OptionGroup var training: TrainingStepOptions

    func run() throws {
        var dataStream = PhiloxGenerator(seed: 1)
        let (actions, states) = MultimodalActions().sample(200_000, using: &dataStream)
        try runTrainingStepBench(
            "meanflow", label: "MeanFlow", options: options, batch: training.batch, steps: training.steps
        ) {
            var rng = PhiloxGenerator(seed: 0)
            let model = MeanFlowModel(
                dimension: 2, conditionDimension: 1,
                objective: .meanFlow(target: .plain, flowRatio: 0.5, dispersiveWeight: 0), using: &rng)
            return { steps in
                var loss: Float = 0
                try model.fit(points: actions, conditions: states, steps: steps, batchSize: training.batch, using: &rng)
                {
                    loss = $1
                    return true
                }
                return loss
            }
        }
    }
}
