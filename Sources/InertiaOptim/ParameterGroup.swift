import InertiaNN

/// Parameters selected by name that get their own learning rate, weight decay or schedule.
/// The first group whose selector matches a parameter applies; others use the optimizer's
/// defaults.
public struct ParameterGroup {
    public var name: String
    public var selects: (String) -> Bool
    public var learningRate: Double?
    public var weightDecay: Double?
    public var schedule: Schedule?

    public init(
        name: String, selects: @escaping (String) -> Bool, learningRate: Double? = nil, weightDecay: Double? = nil,
        schedule: Schedule? = nil
    ) {
        self.name = name
        self.selects = selects
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.schedule = schedule
    }

    /// A selector matching names against shell-style globs (`*` any run, `?` one character).
    public static func glob(_ patterns: [String]) -> (String) -> Bool {
        { name in patterns.contains { matches(Array($0), Array(name)) } }
    }

    /// A selector matching names that contain any of the given substrings (`"bias"`, `"norm"`).
    public static func containing(_ parts: [String]) -> (String) -> Bool {
        { name in parts.contains { !$0.isEmpty && name.contains($0) } }
    }

    static func matches(_ pattern: [Character], _ text: [Character]) -> Bool {
        var p = 0, t = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count && (pattern[p] == "?" || pattern[p] == text[t]) {
                p += 1
                t += 1
            } else if p < pattern.count && pattern[p] == "*" {
                star = p
                mark = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                mark += 1
                t = mark
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}

/// Which parameters get no weight decay.
public enum WeightDecayMask {
    /// Every parameter is decayed.
    case none
    /// Tensors of rank <= 1 (biases, normalization gains) are not decayed.
    case biasesAndNormGains
    /// Parameters whose name satisfies the predicate are not decayed.
    case names((String) -> Bool)

    func excludes(_ name: String, _ parameter: Parameter) -> Bool {
        switch self {
        case .none: return false
        case .biasesAndNormGains: return parameter.value.rank <= 1
        case .names(let predicate): return predicate(name)
        }
    }
}
