import Foundation

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
