/// One registered optimizer: its name, what it is, its paper, its declared hyper-parameters and
/// a factory taking values by name (the rest keep their defaults). Matrix optimizers come out
/// routed (`AuxiliaryAdamW`), so every entry trains any model.
public struct OptimizerEntry {
    /// One hyper-parameter as listed: name, kind, default and what it is.
    public struct Option: Sendable {
        public let name: String
        public let kind: String
        public let defaultValue: HyperparameterValue
        public let summary: String
    }

    public let name: String
    public let summary: String
    public let paper: String
    /// The declared hyper-parameters with their defaults, in declaration order.
    public let options: [Option]
    let build: ([String: HyperparameterValue]) throws -> Optimizer

    public init<Configuration: OptimizerConfiguration>(
        name: String, summary: String, paper: String, configuration: Configuration.Type = Configuration.self,
        make: @escaping (Configuration) throws -> Optimizer
    ) {
        self.name = name
        self.summary = summary
        self.paper = paper
        let defaults = Configuration()
        options = Configuration.options.map {
            Option(name: $0.name, kind: $0.kind.description, defaultValue: $0.read(defaults), summary: $0.summary)
        }
        build = { settings in try make(try Configuration.decode(settings, optimizer: name)) }
    }

    /// The default of hyper-parameter `name`, if the optimizer declares it.
    public func defaultValue(_ name: String) -> HyperparameterValue? { options.first { $0.name == name }?.defaultValue }

    /// Builds the optimizer; unknown names and values of the wrong kind are errors naming them.
    public func callAsFunction(_ settings: [String: HyperparameterValue] = [:]) throws -> Optimizer {
        try build(settings)
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
