/// One registered optimizer: its name, what it is, its paper, its defaults and a factory taking
/// hyper-parameters by name (missing ones take the defaults).
public struct OptimizerEntry {
    public let name: String
    public let summary: String
    public let paper: String
    public let defaults: [String: Double]
    public let make: ([String: Double]) throws -> FusedOptimizer

    public init(name: String, summary: String, paper: String, defaults: [String: Double],
                make: @escaping ([String: Double]) throws -> FusedOptimizer) {
        self.name = name
        self.summary = summary
        self.paper = paper
        self.defaults = defaults
        self.make = make
    }

    /// Builds the optimizer; unknown hyper-parameter names are an error naming them.
    public func callAsFunction(_ hyperparameters: [String: Double] = [:]) throws -> FusedOptimizer {
        if let unknown = hyperparameters.keys.sorted().first(where: { defaults[$0] == nil }) {
            throw OptimizerError.invalidHyperparameter(
                optimizer: name, detail: "unknown hyper-parameter '\(unknown)' (known: \(defaults.keys.sorted().joined(separator: ", ")))")
        }
        return try make(defaults.merging(hyperparameters) { $1 })
    }
}

/// Every optimizer Inertia has. Adding one: its file, its tests, one line here.
public enum OptimizerRegistry {
    public static let entries: [OptimizerEntry] = [
        SGD.registryEntry,
        Adam.registryEntry,
        AdamW.registryEntry,
        NAdam.registryEntry,
        RAdam.registryEntry,
        RMSprop.registryEntry,
        Adagrad.registryEntry,
        Lion.registryEntry,
        LionK.registryEntry,
        AdamP.registryEntry,
        SGDP.registryEntry,
        AMSGD.registryEntry,
        AMAdamW.registryEntry,
        Muon.registryEntry,
        FISMO.registryEntry,
        AuON.registryEntry,
        AuON.hybridRegistryEntry,
    ]

    public static func entry(named name: String) -> OptimizerEntry? { entries.first { $0.name == name } }
}
