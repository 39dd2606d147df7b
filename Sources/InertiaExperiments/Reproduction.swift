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
/// and the tables, plots and notes of its report.
public struct ReproductionResult {
    public var slug: String
    public var budget: Budget
    public var seeds: [UInt64]
    public var checks: [Check]
    public var tables: [Table]
    public var plots: [Plot]
    public var notes: [String]
    public var isPartial: Bool

    public init(
        slug: String, budget: Budget, seeds: [UInt64], checks: [Check], tables: [Table] = [], plots: [Plot] = [],
        notes: [String] = [], isPartial: Bool = false
    ) {
        self.slug = slug
        self.budget = budget
        self.seeds = seeds
        self.checks = checks
        self.tables = tables
        self.plots = plots
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
            plots: result.plots,
            notes: result.notes,
            summary: [
                "slug": slug, "paper": paper, "claim": claim, "budget": result.budget.rawValue,
                "seeds": result.seeds.map { Int($0) },
                "date": ISO8601DateFormatter().string(from: Date()),
            ])
    }
}

extension Reproduction {
    /// Runs the reproduction and marks the result partial whenever a stop was seen: a loop that
    /// polled `shouldStop` and got `true` skipped or cut short a run, whether or not the
    /// reproduction says so itself. The command line and the tests run reproductions through this.
    public func reproduce(
        budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws -> ReproductionResult {
        let observer = StopObserver(shouldStop)
        var result = try run(budget: budget, seeds: seeds, shouldStop: observer.poll, progress: progress)
        if observer.stopped && !result.isPartial {
            result.isPartial = true
            result.notes.append("Stopped early: some runs were skipped or cut short, so this report is partial.")
        }
        return result
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
    ]

    public static func named(_ slug: String) -> (any Reproduction)? { all.first { $0.slug == slug } }
}
