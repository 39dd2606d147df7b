import InertiaNN

/// One registered optimizer: its name, what it is, its paper, its declared hyper-parameters and
/// a factory taking values by name (the rest keep their defaults). Matrix optimizers come out
/// routed (`AuxiliaryAdamW`), so every entry trains any model. A preconditioner such as MKOR wraps
/// another registered optimizer (its `base` option) and attaches to the model's layers: build it
/// with `model:`; the hyper-parameters it does not declare go to the base optimizer.
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
    /// Whether building it needs the model (`callAsFunction(_:model:)`).
    public let needsModel: Bool
    /// The registry name of the optimizer it wraps by default, if it wraps one.
    public let defaultBase: String?
    private let ownOptions: [Option]
    private let build: ([String: HyperparameterValue], Module?) throws -> Optimizer

    public init<Configuration: OptimizerConfiguration>(
        name: String, summary: String, paper: String, configuration: Configuration.Type = Configuration.self,
        make: @escaping (Configuration) throws -> Optimizer
    ) {
        self.name = name
        self.summary = summary
        self.paper = paper
        needsModel = false
        defaultBase = nil
        ownOptions = Self.options(of: Configuration.self)
        build = { settings, _ in try make(try Configuration.decode(settings, optimizer: name)) }
    }

    /// An optimizer around the registered optimizer its configuration's `base` names, made for a
    /// model; settings its configuration does not declare build the base optimizer.
    public init<Configuration: WrappingConfiguration>(
        name: String, summary: String, paper: String, configuration: Configuration.Type = Configuration.self,
        wrapping make: @escaping (Configuration, Optimizer, Module) throws -> Optimizer
    ) {
        self.name = name
        self.summary = summary
        self.paper = paper
        needsModel = true
        defaultBase = Configuration().base
        ownOptions = Self.options(of: Configuration.self)
        build = { settings, model in
            let own = Set(Configuration.options.map(\.name))
            let configuration = try Configuration.decode(settings.filter { own.contains($0.key) }, optimizer: name)
            let base = try OptimizerRegistry.wrappable(configuration.base, by: name)(
                settings.filter { !own.contains($0.key) })
            guard let model else { throw OptimizerError.needsModel(optimizer: name) }
            return try make(configuration, base, model)
        }
    }

    private static func options<C: OptimizerConfiguration>(of configuration: C.Type) -> [Option] {
        let defaults = C()
        return C.options.map {
            Option(name: $0.name, kind: $0.kind.description, defaultValue: $0.read(defaults), summary: $0.summary)
        }
    }

    /// The declared hyper-parameters with their defaults, in declaration order; a wrapping
    /// optimizer's own, then those of its default base optimizer.
    public var options: [Option] {
        guard let defaultBase, let base = OptimizerRegistry.entry(named: defaultBase) else { return ownOptions }
        let own = Set(ownOptions.map(\.name))
        return ownOptions
            + base.options.filter { !own.contains($0.name) }.map {
                Option(
                    name: $0.name, kind: $0.kind, defaultValue: $0.defaultValue,
                    summary: "\($0.summary) (of the base optimizer, \(defaultBase))")
            }
    }

    /// The default of hyper-parameter `name`, if the optimizer declares it.
    public func defaultValue(_ name: String) -> HyperparameterValue? { options.first { $0.name == name }?.defaultValue }

    /// Builds the optimizer; unknown names and values of the wrong kind are errors naming them,
    /// and so is a missing `model` where the optimizer needs one.
    public func callAsFunction(
        _ settings: [String: HyperparameterValue] = [:], model: Module? = nil
    ) throws
        -> Optimizer
    {
        try build(settings, model)
    }

    /// Checks `settings` as building would, without a model.
    public func validate(_ settings: [String: HyperparameterValue]) throws {
        do { _ = try build(settings, nil) } catch OptimizerError.needsModel {}
    }
}

/// The configuration of an optimizer that wraps another registered one.
public protocol WrappingConfiguration: OptimizerConfiguration {
    /// The registry name of the wrapped optimizer.
    var base: String { get }
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
        MKOR.registryEntry,
        TargetSurrogateOptimizer.registryEntry,
    ]

    public static func entry(named name: String) -> OptimizerEntry? { entries.first { $0.name == name } }

    /// The entry of `base`, which `wrapper` wraps: a registered optimizer that needs no model itself.
    static func wrappable(_ base: String, by wrapper: String) throws -> OptimizerEntry {
        guard let entry = entry(named: base), !entry.needsModel else {
            let names = entries.filter { !$0.needsModel }.map(\.name)
            throw OptimizerError.invalidHyperparameter(
                optimizer: wrapper,
                detail: "base '\(base)' is not an optimizer it can wrap (known: \(names.joined(separator: ", ")))")
        }
        return entry
    }
}
