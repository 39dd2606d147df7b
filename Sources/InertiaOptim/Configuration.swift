/// A hyper-parameter value as code writes it (`0.1`, `true`, `"l2"`) or as the command line
/// gives it (text, parsed by the option it is meant for).
public enum HyperparameterValue: Hashable, Sendable, CustomStringConvertible, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByStringLiteral
{
    case number(Double)
    case flag(Bool)
    case text(String)

    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .flag(value) }
    public init(stringLiteral value: String) { self = .text(value) }

    public var description: String {
        switch self {
        case .number(let x): return x == x.rounded() && Swift.abs(x) < 1e6 ? String(Int(x)) : "\(x)"
        case .flag(let b): return b ? "true" : "false"
        case .text(let s): return s
        }
    }

    /// The value as a number: a number, or text that reads as one.
    var number: Double? {
        switch self {
        case .number(let x): return x
        case .text(let s): return Double(s)
        case .flag: return nil
        }
    }
}

/// What a hyper-parameter holds.
public enum HyperparameterKind: Equatable, Sendable, CustomStringConvertible {
    case number, integer, flag
    /// A name, checked where it is used (the registry name of a wrapped optimizer).
    case name
    /// One of these names.
    case choice([String])

    public var description: String {
        switch self {
        case .number: return "number"
        case .integer: return "integer"
        case .flag: return "true|false"
        case .name: return "name"
        case .choice(let names): return names.joined(separator: "|")
        }
    }
}

/// One declared hyper-parameter of a configuration: its registry name, what it holds, and how
/// to read and set it on the configuration struct (through a key path, so the default lives in
/// the struct's property declaration only).
public struct HyperparameterOption<Configuration> {

    public let name: String
    public let kind: HyperparameterKind
    public let summary: String
    let read: (Configuration) -> HyperparameterValue
    /// Sets the value; returns what is wrong with it, or nil.
    let assign: (inout Configuration, HyperparameterValue) -> String?

    init(
        name: String, kind: HyperparameterKind, summary: String, read: @escaping (Configuration) -> HyperparameterValue,
        assign: @escaping (inout Configuration, HyperparameterValue) -> String?
    ) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.read = read
        self.assign = assign
    }

    /// This option on a configuration that holds this one's at `path`, its name prefixed.
    public func within<Outer>(
        _ path: WritableKeyPath<Outer, Configuration>, prefix: String = ""
    ) -> HyperparameterOption<Outer> {
        let read = self.read, assign = self.assign
        return HyperparameterOption<Outer>(
            name: prefix + name, kind: kind, summary: summary, read: { outer in read(outer[keyPath: path]) },
            assign: { outer, value in assign(&outer[keyPath: path], value) })
    }

    /// A real number; it must be finite (an infinite learning rate or NaN momentum is never meant).
    public static func number(_ name: String, _ path: WritableKeyPath<Configuration, Double>, _ summary: String) -> Self
    {
        Self(name: name, kind: .number, summary: summary, read: { .number($0[keyPath: path]) }) { config, value in
            guard let x = value.number else { return "expects a number, got '\(value)'" }
            guard x.isFinite else { return "must be a finite number, got \(x)" }
            config[keyPath: path] = x
            return nil
        }
    }

    public static func integer(_ name: String, _ path: WritableKeyPath<Configuration, Int>, _ summary: String) -> Self {
        Self(name: name, kind: .integer, summary: summary, read: { .number(Double($0[keyPath: path])) }) {
            config, value in
            guard let x = value.number, x == x.rounded(), Swift.abs(x) <= 1e15 else {
                return "expects an integer, got '\(value)'"
            }
            config[keyPath: path] = Int(x)
            return nil
        }
    }

    /// A boolean: `true` / `false`, or `1` / `0` as the command line may write it.
    public static func flag(_ name: String, _ path: WritableKeyPath<Configuration, Bool>, _ summary: String) -> Self {
        Self(name: name, kind: .flag, summary: summary, read: { .flag($0[keyPath: path]) }) { config, value in
            switch value {
            case .flag(let b): config[keyPath: path] = b
            case .number(1), .text("true"), .text("1"): config[keyPath: path] = true
            case .number(0), .text("false"), .text("0"): config[keyPath: path] = false
            default: return "expects true or false, got '\(value)'"
            }
            return nil
        }
    }

    /// A name, checked where it is used.
    public static func name(_ name: String, _ path: WritableKeyPath<Configuration, String>, _ summary: String) -> Self {
        Self(name: name, kind: .name, summary: summary, read: { .text($0[keyPath: path]) }) { config, value in
            guard case .text(let text) = value, !text.isEmpty else { return "expects a name, got '\(value)'" }
            config[keyPath: path] = text
            return nil
        }
    }

    /// One of an enumeration's cases, named by its raw value.
    public static func choice<Choice: CaseIterable & RawRepresentable>(
        _ name: String, _ path: WritableKeyPath<Configuration, Choice>, _ summary: String
    ) -> Self where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        return Self(name: name, kind: .choice(names), summary: summary, read: { .text($0[keyPath: path].rawValue) }) {
            config, value in
            guard case .text(let text) = value, let choice = Choice(rawValue: text) else {
                return "expects one of \(names.joined(separator: ", ")), got '\(value)'"
            }
            config[keyPath: path] = choice
            return nil
        }
    }
}

/// An optimizer's hyper-parameters, declared once: a struct whose property initialisers are the
/// defaults and whose `options` name them for the registry and the command line.
public protocol OptimizerConfiguration {
    /// The defaults.
    init()
    static var options: [HyperparameterOption<Self>] { get }
}

extension OptimizerConfiguration {
    /// The defaults with `settings` applied; a name that is not declared or a value of the wrong
    /// kind is an error naming it.
    public static func decode(_ settings: [String: HyperparameterValue], optimizer: String) throws -> Self {
        var config = Self()
        let options = Self.options
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) {
            guard let option = options.first(where: { $0.name == name }) else {
                throw OptimizerError.invalidHyperparameter(
                    optimizer: optimizer,
                    detail:
                        "unknown hyper-parameter '\(name)' (known: \(options.map(\.name).sorted().joined(separator: ", ")))"
                )
            }
            if let problem = option.assign(&config, value) {
                throw OptimizerError.invalidHyperparameter(optimizer: optimizer, detail: "\(name) \(problem)")
            }
        }
        return config
    }

    /// Every option's value in this configuration, in declaration order.
    public var values: [(name: String, value: HyperparameterValue)] { Self.options.map { ($0.name, $0.read(self)) } }
}

/// The AdamW that takes the parameters a matrix optimizer (Muon, FISMO, AuON) cannot, when the
/// registry hands the matrix optimizer out already routed: biases, gains, embeddings and heads.
/// Its options appear as `adamw_lr` and `adamw_weight_decay`.
public struct AuxiliaryAdamW: OptimizerConfiguration, Sendable {
    public var learningRate = 1e-3
    public var weightDecay = 0.0

    public init() {}

    public static var options: [HyperparameterOption<AuxiliaryAdamW>] {
        [
            .number("lr", \.learningRate, "learning rate of the AdamW for non-matrix parameters"),
            .number("weight_decay", \.weightDecay, "weight decay of that AdamW"),
        ]
    }

    /// The options of a configuration holding one at `path`.
    public static func options<C>(within path: WritableKeyPath<C, AuxiliaryAdamW>) -> [HyperparameterOption<C>] {
        options.map { $0.within(path, prefix: "adamw_") }
    }

    /// `matrix` on the parameters of rank >= 2 whose names do not contain `embed` or `head`, this
    /// AdamW on the rest, under the matrix optimizer's name (spec 2.3 of Muon).
    public func routing(_ matrix: FusedOptimizer) throws -> RoutedOptimizer {
        RoutedOptimizer.matricesAndRest(
            matrix: matrix, rest: try AdamW(learningRate: learningRate, weightDecay: weightDecay), name: matrix.name)
    }
}
