import InertiaTensor

/// Layers applied in order; children are named `"0"`, `"1"`, ... as in PyTorch.
public final class Sequential: Module {
    public let layers: [Module]

    public init(_ layers: [Module]) {
        self.layers = layers
        super.init()
        for (i, layer) in layers.enumerated() { register(layer, as: String(i)) }
    }

    public convenience init(_ layers: Module...) { self.init(layers) }

    public override func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
    }
}

/// A multilayer perceptron: `Linear` layers of the given sizes with an activation between them
/// (and optionally dropout), none after the last. Child names match `nn.Sequential`'s, so
/// `[784, 256, 10]` has `layers.0.weight`, `layers.2.weight`.
public final class MLP: Module {
    public let layers: Sequential

    public init(
        sizes: [Int], activation: Activation.Kind = .relu, dropout: Double = 0, using rng: inout PhiloxGenerator
    ) {
        validated(sizes.count >= 2, "MLP: needs at least an input and an output size, got \(sizes)")
        var modules: [Module] = []
        for i in 0..<(sizes.count - 1) {
            modules.append(Linear(sizes[i], sizes[i + 1], using: &rng))
            if i < sizes.count - 2 {
                modules.append(Activation(activation))
                if dropout > 0 { modules.append(Dropout(probability: dropout, seed: rng.next())) }
            }
        }
        layers = Sequential(modules)
        super.init()
        register(layers, as: "layers")
    }

    public override func forward(_ input: Tensor) -> Tensor { layers(input) }
}
