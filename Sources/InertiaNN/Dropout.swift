import InertiaTensor

/// Modules that draw random numbers keep their generator here, so checkpoints can save and
/// restore it and a resumed run draws the same numbers.
public protocol RandomStateful: AnyObject {
    var generator: PhiloxGenerator { get set }
}

/// Zeroes each element with probability `p` in training and scales the rest by `1 / (1 - p)`;
/// the identity in evaluation mode. Seeded: the same seed gives the same masks.
public final class Dropout: Module, RandomStateful {
    public let probability: Double
    public var generator: PhiloxGenerator

    public init(probability: Double, seed: UInt64) {
        validated(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.generator = PhiloxGenerator(seed: seed)
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        guard isTraining, probability > 0 else { return x }
        let keep = Tensor.bernoulli(x.shape, probability: 1 - probability, using: &generator)
        return x * (keep * Float(1 / (1 - probability)))
    }
}
