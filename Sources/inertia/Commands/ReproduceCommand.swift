import ArgumentParser
import Foundation
import Inertia

/// `inertia reproduce`: runs a paper's laptop-scale reproduction and states whether its claim held.
struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Run a paper reproduction (see --list); exit status 0 when it ran, whatever the verdict.")

    @Argument(help: "The paper's slug (see --list).")
    var slug: String?

    @Flag(
        help:
            "List the reproductions with their last run: verdict, the commit it ran on, whether the sources changed since, its wall time."
    )
    var list = false

    @Flag(help: "Run every reproduction.")
    var all = false

    @Option(help: "quick (seconds) | full (minutes, the spec's protocol)")
    var budget: Budget = .quick

    @Option(help: "Number of seeds (default: the reproduction's own for the budget).")
    var seeds: Int?

    @Option(help: "Folder holding one run folder per slug.")
    var out = "runs/reproduce"

    @Flag(help: "With --list: a markdown table (for the README).")
    var markdown = false

    @Flag(help: "No progress output.")
    var quiet = false

    @Flag(
        help:
            "One JSON line per reproduction (slug, budget, seeds, verdict, checks, report) instead of the table; with --list, one per slug."
    )
    var json = false

    func validate() throws {
        if !list && !all && slug == nil { throw ValidationError("give a slug, --all or --list") }
        if let slug, Reproductions.named(slug) == nil {
            throw ValidationError(
                "unknown reproduction '\(slug)' (available: \(Reproductions.all.map(\.slug).joined(separator: ", ")))")
        }
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be positive") }
    }

    /// What `--list` shows of a slug's last run, read from its `summary.json`.
    struct LastRun {
        var verdict = "not run"
        var commit = "-"
        var sourcesChangedSince = "-"
        var wallTime = "-"

        init(summaryAt path: String) {
            guard let data = FileManager.default.contents(atPath: path),
                let s = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return }
            verdict =
                "\(s["verdict"] as? String ?? "?") (\(s["budget"] as? String ?? "?"), \(s["date"] as? String ?? "?"))"
            if let seconds = s["wall_seconds"] as? Double { wallTime = Self.duration(seconds) }
            guard let commit = s["commit"] as? String else {
                self.commit = "not recorded"
                return
            }
            let uncommitted = s["uncommitted_changes"] as? Bool ?? false
            self.commit = SourceRevision.label(commit: commit, hasUncommittedChanges: uncommitted)
            if let count = SourceRevision.sourceCommits(since: commit) {
                sourcesChangedSince =
                    uncommitted ? "yes (it ran on uncommitted changes)" : count == 0 ? "no" : "yes (\(count) commits)"
            } else {
                sourcesChangedSince = "unknown"
            }
        }

        static func duration(_ seconds: Double) -> String {
            seconds < 60
                ? String(format: "%.0f s", seconds)
                : String(
                    format: "%.0f min %02.0f s", (seconds / 60).rounded(.down),
                    seconds.truncatingRemainder(dividingBy: 60).rounded(.down))
        }
    }

    func run() throws {
        if list {
            let runs = Reproductions.all.map { LastRun(summaryAt: "\(out)/\($0.slug)/summary.json") }
            let table = Table(
                title: "Reproductions",
                header: ["slug", "paper", "last run", "commit", "sources changed since", "wall time"],
                rows: zip(Reproductions.all, runs).map { r, last in
                    [r.slug, r.paper, last.verdict, last.commit, last.sourcesChangedSince, last.wallTime]
                })
            if json {
                for (r, last) in zip(Reproductions.all, runs) {
                    print(
                        JSONValue.object([
                            ("slug", .string(r.slug)), ("paper", .string(r.paper)),
                            ("last_run", .string(last.verdict)), ("commit", .string(last.commit)),
                            ("sources_changed_since", .string(last.sourcesChangedSince)),
                            ("wall_time", .string(last.wallTime)),
                        ]).text)
                }
            } else {
                print(markdown ? table.markdown : table.text)
            }
            return
        }
        let folder = try RunFolder(out)
        Interrupt.install()
        let targets = all ? Reproductions.all : [Reproductions.named(slug!)!]
        for reproduction in targets {
            let seedList = seeds.map { (0..<$0).map(UInt64.init) } ?? reproduction.defaultSeeds(budget)
            if !quiet {
                print(
                    "\(reproduction.slug) (\(budget.rawValue), seeds \(seedList.map(String.init).joined(separator: ",")))"
                )
            }
            let revision = SourceRevision.current()
            let started = Date()
            let result = try reproduction.reproduce(
                budget: budget, seeds: seedList, shouldStop: { Interrupt.requested }
            ) {
                message in
                if !quiet { FileHandle.standardError.write(Data("  \(message)\n".utf8)) }
            }
            var report = reproduction.report(result)
            report.summary["wall_seconds"] = Date().timeIntervalSince(started)
            if let revision {
                report.summary["commit"] = revision.commit
                report.summary["uncommitted_changes"] = revision.hasUncommittedChanges
            }
            let reportFolder = folder.file(reproduction.slug)
            try report.write(to: reportFolder)
            if json {
                let checks: [JSONValue] = result.checks.map { c in
                    .object([
                        ("name", .string(c.name)), ("measured", c.measured.map { .number($0) } ?? .null),
                        ("relation", .string(c.relation.rawValue)),
                        ("threshold", .number(c.threshold)), ("source", .string(c.source)),
                        ("verdict", .string(c.verdict.rawValue)), ("note", c.note.map { .string($0) } ?? .null),
                    ])
                }
                print(
                    JSONValue.object([
                        ("slug", .string(reproduction.slug)), ("budget", .string(budget.rawValue)),
                        ("seeds", .array(seedList.map { .number(Double($0)) })),
                        ("verdict", .string(result.verdict.rawValue)), ("partial", .bool(result.isPartial)),
                        ("checks", .array(checks)),
                        ("commit", revision.map { .string($0.commit) } ?? .null),
                        ("wall_seconds", .number(report.summary["wall_seconds"] as? Double ?? 0)),
                        ("report", .string("\(reportFolder)/report.html")),
                    ]).text)
            } else {
                print(report.checkTable.text)
                print("verdict: \(Terminal.verdict(result.verdict))\(result.isPartial ? " (partial run)" : "")")
                print("report: \(reportFolder)/report.html")
            }
            if Interrupt.requested { break }
        }
        try Interrupt.exitIfRequested()
    }
}

extension Budget: ExpressibleByArgument {}
