import Foundation
import Synchronization

/// How much compute a reproduction spends.
public enum Budget: String, CaseIterable, Codable, Sendable {
    /// Seconds; run by the test suite.
    case quick
    /// Minutes; the spec's own protocol.
    case full
}

/// What a reproduction produced: its checks (thresholds from the spec), the verdict they give,
/// and the tables, figures and notes of its report.
public struct ReproductionResult {
    public var slug: String
    public var budget: Budget
    public var seeds: [UInt64]
    public var checks: [Check]
    public var tables: [Table]
    public var figures: [Figure]
    public var notes: [String]
    public var isPartial: Bool

    public init(
        slug: String, budget: Budget, seeds: [UInt64], checks: [Check], tables: [Table] = [], figures: [Figure] = [],
        notes: [String] = [], isPartial: Bool = false
    ) {
        self.slug = slug
        self.budget = budget
        self.seeds = seeds
        self.checks = checks
        self.tables = tables
        self.figures = figures
        self.notes = notes
        self.isPartial = isPartial
    }

    public var verdict: Verdict { isPartial ? .inconclusive : Verdict.combining(checks) }
}

/// One paper's laptop-scale reproduction, named by the slug of its spec (`shared/papers/<slug>.md`).
public protocol Reproduction {
    var slug: String { get }
    /// Authors, venue, year.
    var paper: String { get }
    /// The claim tested, in one sentence.
    var claim: String { get }
    /// The checks of the spec's reproduction section, every one, whether or not this code
    /// measures it yet.
    var specChecks: [SpecCheck] { get }
    /// Seeds used when none are given.
    func defaultSeeds(_ budget: Budget) -> [UInt64]
    func run(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws -> ReproductionResult
}

extension Reproduction {
    /// The report of a result.
    public func report(_ result: ReproductionResult) -> Report {
        Report(
            title: "\(slug): \(paper)",
            subtitle:
                "Claim: \(claim) Budget: \(result.budget.rawValue), seeds \(result.seeds.map(String.init).joined(separator: ", ")).",
            isPartial: result.isPartial, verdict: result.verdict, checks: result.checks, tables: result.tables,
            figures: result.figures,
            notes: result.notes,
            summary: [
                "slug": slug, "paper": paper, "claim": claim, "budget": result.budget.rawValue,
                "seeds": result.seeds.map { Int($0) },
                "date": ISO8601DateFormatter().string(from: Date()),
            ])
    }
}

extension Reproduction {
    /// Runs the reproduction and holds it to its declared checks: a check that matches no
    /// declared one is an error (`ReproductionError.undeclaredCheck`); a declared check the run did
    /// not measure is added as inconclusive with the reason, so the verdict is at best
    /// inconclusive. The result is also marked partial whenever a stop was seen: a loop that
    /// polled `shouldStop` and got `true` skipped or cut short a run, whether or not the
    /// reproduction says so itself. The command line runs reproductions through this.
    public func reproduce(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws -> ReproductionResult {
        let observer = StopObserver(shouldStop)
        var result = try run(budget: budget, seeds: seeds, shouldStop: observer.poll, progress: progress)
        if observer.stopped && !result.isPartial {
            result.isPartial = true
            result.notes.append("Stopped early: some runs were skipped or cut short, so this report is partial.")
        }
        if let undeclared = result.checks.first(where: { check in !specChecks.contains { $0.matches(check) } }) {
            throw ReproductionError.undeclaredCheck(slug: slug, check: undeclared)
        }
        for declared in specChecks where !result.checks.contains(where: declared.matches) {
            let reason =
                observer.stopped
                ? "the run was stopped first"
                : "this run did not measure it (missing data, or not implemented yet: see the notes)"
            result.checks.append(
                Check(
                    name: declared.summary, measured: nil, relation: declared.relation,
                    threshold: declared.threshold ?? .nan,
                    source: declared.source, note: "not measured: \(reason)"))
        }
        return result
    }
}

/// A reproduction that reports a check its spec declarations do not list.
public enum ReproductionError: Error, CustomStringConvertible {
    case undeclaredCheck(slug: String, check: Check)

    public var description: String {
        switch self {
        case .undeclaredCheck(let slug, let check):
            return
                "\(slug): check '\(check.name)' (\(check.source), \(check.relation.rawValue) \(check.threshold)) is not among the "
                + "reproduction's declared spec checks"
        }
    }
}

/// Remembers whether a stop condition was ever seen true (polls may come from several threads;
/// the condition itself is the caller's, polled as the reproduction would poll it).
final class StopObserver: @unchecked Sendable {
    private let condition: () -> Bool
    private let seen = Atomic<Bool>(false)

    init(_ condition: @escaping () -> Bool) { self.condition = condition }

    var stopped: Bool { seen.load(ordering: .relaxed) }

    func poll() -> Bool {
        guard condition() else { return false }
        seen.store(true, ordering: .relaxed)
        return true
    }
}

/// Every reproduction Inertia has. Adding one: its file under `Reproductions/`, its test, one line here.
public enum Reproductions {
    public static let all: [any Reproduction] = [
        ClassicMomentumReproduction(),
        LionKappaReproduction(),
        AdamPReproduction(),
        AdaptiveMemoryMomentumReproduction(),
        MuonReproduction(),
        AuONReproduction(),
        FISMOReproduction(),
        MKORReproduction(),
        SinkhornNewtonSparseReproduction(),
        AndersonAccelerationReproduction(),
        ConsensusBasedOptimizationReproduction(),
        TargetSurrogatesReproduction(),
        DiffusionPrinciplesReproduction(),
        HeavyBallDiffusionSamplingReproduction(),
        StochasticInterpolantsReproduction(),
        SVHPSLReproduction(),
        CFGManifoldProjectionReproduction(),
        KineticOptimalPathsReproduction(),
        PFGMPlusPlusReproduction(),
        KDiffReproduction(),
        LightSchrodingerBridgeReproduction(),
        FlowMapsReproduction(),
        MeanFlowPolicyReproduction(),
        InformationKoopmanReproduction(),
        WalkOnSpheresReproduction(),
        DiffusionTrajectoryAlignmentReproduction(),
        EquiNOReproduction(),
        HardConstraintsMoEReproduction(),
        MomentumSMoEReproduction(),
        MomentumAttentionReproduction(),
        MomentumAuxiliaryNetworkReproduction(),
    ]

    public static func named(_ slug: String) -> (any Reproduction)? { all.first { $0.slug == slug } }
}
