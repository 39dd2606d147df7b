import InertiaNN
import InertiaOptim
import InertiaTensor

/// What the checkpoint target restores into and MakeSeeds writes from: a 2-3-2 MLP (seed 0) and
/// the registry's optimizers with their defaults, so that seeds reach the deepest checks.
public enum FuzzModel {
    public static func network() -> MLP {
        var rng = PhiloxGenerator(seed: 0)
        return MLP(sizes: [2, 3, 2], using: &rng)
    }

    /// Every registered optimizer with its defaults, those that attach to a model built for `model`.
    public static func optimizers(for model: Module) -> [Optimizer] {
        OptimizerRegistry.entries.compactMap { try? $0([:], model: model) }
    }
}
