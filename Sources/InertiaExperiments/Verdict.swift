/// Whether a paper's claim held, decided by checks whose thresholds come from the paper's spec.
public enum Verdict: String, Codable, Sendable {
    case held
    case notHeld = "did not hold"
    case inconclusive
}

/// One acceptance criterion: a measured value against a threshold from the spec.
public struct Check: Codable, Equatable, Sendable {
    /// How the measurement must compare with the threshold for the check to hold.
    public enum Relation: String, Codable, Sendable {
        case atMost = "<="
        case atLeast = ">="
    }

    public var name: String
    /// The measurement, or `nil` when it could not be made (missing data, interrupted run).
    public var measured: Double?
    public var relation: Relation
    public var threshold: Double
    /// Where the threshold comes from (the spec's section).
    public var source: String
    /// The measurement's uncertainty (spread over seeds); a value within it of the threshold
    /// decides nothing.
    public var uncertainty: Double
    /// Why the measurement is missing or qualified.
    public var note: String?
    /// Whether an infinite measurement is a result rather than a failure to measure: a target
    /// never reached (steps to it: +infinity) or a run that diverged (a loss ratio: +infinity)
    /// fails the check instead of leaving it inconclusive. NaN stays inconclusive.
    public var infinityIsAResult: Bool

    public init(
        name: String, measured: Double?, relation: Relation, threshold: Double, source: String, uncertainty: Double = 0,
        note: String? = nil, infinityIsAResult: Bool = false
    ) {
        self.name = name
        self.measured = measured
        self.relation = relation
        self.threshold = threshold
        self.source = source
        self.uncertainty = uncertainty
        self.note = note
        self.infinityIsAResult = infinityIsAResult
    }

    /// A check whose measurement may be missing: its note is `reason` exactly when `measured` is
    /// `nil` (the run did not measure it), so the verdict says why it is inconclusive.
    public init(
        name: String, measured: Double?, relation: Relation, threshold: Double, source: String,
        missingBecause reason: String
    ) {
        self.init(
            name: name, measured: measured, relation: relation, threshold: threshold, source: source,
            note: measured == nil ? reason : nil)
    }

    /// This check alone.
    public var verdict: Verdict {
        guard let m = measured, m.isFinite || (m.isInfinite && infinityIsAResult) else { return .inconclusive }
        let margin = relation == .atMost ? threshold - m : m - threshold
        if Swift.abs(margin) < uncertainty { return .inconclusive }
        return margin >= 0 ? .held : .notHeld
    }
}

/// A check a reproduction's spec asks for, declared before anything runs: the section it comes
/// from, what is measured, and the relation and threshold that decide it. Every check a run
/// reports must match a declared one (same section, relation and threshold), and a declared check
/// the run did not measure (missing data, a stopped run, a part not built yet) is reported
/// inconclusive with the reason: it is never dropped, so a verdict never says more than was
/// measured.
public struct SpecCheck: Sendable, Equatable {
    public var source: String
    public var summary: String
    public var relation: Check.Relation
    /// `nil` when the threshold is computed from the run (a sampling floor, say).
    public var threshold: Double?

    public init(_ source: String, _ summary: String, _ relation: Check.Relation, _ threshold: Double?) {
        self.source = source
        self.summary = summary
        self.relation = relation
        self.threshold = threshold
    }

    /// Whether `check` measures this spec check.
    public func matches(_ check: Check) -> Bool {
        check.source == source && check.relation == relation && (threshold == nil || threshold == check.threshold)
    }
}

extension Verdict {
    /// All checks held: held. Any decisively failed: did not hold. Otherwise inconclusive.
    public static func combining(_ checks: [Check]) -> Verdict {
        let verdicts = checks.map(\.verdict)
        if verdicts.isEmpty { return .inconclusive }
        if verdicts.contains(.notHeld) { return .notHeld }
        if verdicts.contains(.inconclusive) { return .inconclusive }
        return .held
    }
}
