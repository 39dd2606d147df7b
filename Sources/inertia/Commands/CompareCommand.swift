import ArgumentParser
import Foundation
import Inertia

/// `inertia compare`: one model, one dataset, several optimizers over several seeds; a table on
/// screen and a report with plots on disk.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract:
            "Compare optimizers on one model and dataset over seeds; writes report.html, summary.json and metrics.jsonl."
    )

    @OptionGroup var common: DataOptions

    @Option(
        help:
            "Optimizers, comma separated, each optionally with a learning rate and other hyper-parameters: adamw,sgd@0.1:momentum=0.9"
    )
    var optimizers = "sgd@0.1:momentum=0.9,adam,adamw,nadam,rmsprop@0.001"

    @Option(help: "Learning-rate multipliers to try for every optimizer, comma separated (e.g. 0.3,1,3).")
    var lrGrid = "1"

    @Option(help: "Seeds per configuration.")
    var seeds = 3

    @Option(help: "Target training loss for 'steps to target'.")
    var target = 0.3

    @Option(help: "Run folder.")
    var out = "runs/compare"

    @Flag(help: "No progress output.")
    var quiet = false

    @Flag(help: "Print the summary as JSON instead of a table.")
    var json = false

    func contenders() throws -> [Comparison.Contender] {
        let multipliers = try lrGrid.split(separator: ",").map { part -> Double in
            guard let v = Double(part), v > 0, v.isFinite else {
                throw ValidationError("--lr-grid takes positive numbers, got '\(part)'")
            }
            return v
        }
        var out: [Comparison.Contender] = []
        for item in optimizers.split(separator: ",") {
            let fields = item.split(separator: ":", omittingEmptySubsequences: false)
            let head = fields[0].split(separator: "@", omittingEmptySubsequences: false)
            let name = String(head[0])
            guard let entry = OptimizerRegistry.entry(named: name) else {
                throw ValidationError(
                    "unknown optimizer '\(name)' (available: \(OptimizerRegistry.entries.map(\.name).joined(separator: ", ")))"
                )
            }
            guard head.count <= 2, case .number(let defaultRate)? = entry.defaultValue("lr") else {
                throw ValidationError("'\(item)': write name@lr:key=value:key=value")
            }
            var base = defaultRate
            if head.count == 2 {
                guard let lr = Double(head[1]), lr > 0, lr.isFinite else {
                    throw ValidationError("bad learning rate in '\(item)'")
                }
                base = lr
            }
            var settings: [String: HyperparameterValue] = [:]
            for field in fields.dropFirst() {
                guard let (name, value) = nameValue(field) else {
                    throw ValidationError("'\(item)': '\(field)' is not key=value")
                }
                settings[name] = .text(value)
            }
            let labelled = multipliers.count > 1 || head.count == 2
            for m in multipliers {
                let lr = base * m
                settings["lr"] = .number(lr)
                do {
                    try entry.validate(settings)
                } catch {
                    throw ValidationError("'\(item)': \(error)")
                }
                out.append(
                    Comparison.Contender(
                        label: labelled ? "\(name) lr=\(String(format: "%g", lr))" : name,
                        optimizer: name, hyperparameters: settings))
            }
        }
        guard !out.isEmpty else { throw ValidationError("--optimizers is empty") }
        return out
    }

    func validate() throws {
        guard seeds > 0 else { throw ValidationError("--seeds must be positive") }
        try requireFinite(["target": target])
        _ = try contenders()
    }

    func run() throws {
        common.applyThreads()
        Interrupt.install()
        let (train, test) = try common.load(testFraction: 0.2, seed: 0)
        let sizes = common.hiddenSizes
        let features = train.inputs.shape[1], classes = train.classCount!
        let comparison = Comparison(
            dataName: common.data, train: train, test: test,
            makeModel: { rng in MLP(sizes: [features] + sizes + [classes], using: &rng) },
            contenders: try contenders(), seeds: (0..<seeds).map(UInt64.init), epochs: common.epochs,
            batchSize: common.batchSize, targetLoss: target)
        let folder = try RunFolder(out)
        // A report left by an earlier run must not stand beside this run's metrics.
        for name in ["report.html", "summary.json"] { try? FileManager.default.removeItem(atPath: folder.file(name)) }
        let metrics = try MetricsLog(path: folder.file("metrics.jsonl"))
        let totalRuns = comparison.contenders.count * seeds
        let stepsPerRun = common.epochs * ((train.count + common.batchSize - 1) / common.batchSize)
        var finished = 0
        let started = Date()
        let isTerminal = isatty(STDERR_FILENO) != 0 && !quiet
        var lastPrint = Date.distantPast
        if !quiet && !json {
            print(
                "comparing \(comparison.contenders.map(\.label).joined(separator: ", ")) on \(common.data) (MLP \([features] + sizes + [classes])), \(seeds) seed(s), \(common.epochs) common.epochs"
            )
        }
        let runs = comparison.run(
            shouldStop: { Interrupt.requested },
            onStep: { label, seed, r in
                metrics.write([
                    ("optimizer", .string(label)), ("seed", .number(Double(seed))), ("step", .number(Double(r.step))),
                    ("loss", .number(r.loss)), ("lr", .number(r.learningRate)),
                ])
                guard !quiet, Date().timeIntervalSince(lastPrint) > (isTerminal ? 0.1 : 5) else { return }
                lastPrint = Date()
                let overall = (Double(finished) + Double(r.step) / Double(stepsPerRun)) / Double(totalRuns)
                let elapsed = Date().timeIntervalSince(started)
                let eta = overall > 0 ? elapsed / overall * (1 - overall) : 0
                let text = String(
                    format: "run %d/%d  %@ seed %d  step %d/%d  loss %.4f  overall %.0f%%  ETA %.0fs", finished + 1,
                    totalRuns,
                    label, seed, r.step, stepsPerRun, r.loss, overall * 100, eta)
                if isTerminal {
                    FileHandle.standardError.write(Data("\r\(text)\u{1B}[K".utf8))
                } else {
                    FileHandle.standardError.write(Data((text + "\n").utf8))
                }
            }, onRun: { _ in finished += 1 })
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let complete = runs.filter { !$0.interrupted }.count
        let partial = Interrupt.requested || complete < totalRuns
        let table = comparison.table(runs)
        var notes = [
            "Loss curves are an exponential moving average (0.9) of the per-step training loss; bands span the seeds."
        ]
        for run in runs where run.error != nil {
            notes.append("\(run.contender) seed \(run.seed) failed: \(run.error!)")
        }
        let report = Report(
            title: "Optimizer comparison on \(common.data)",
            subtitle:
                "MLP \([features] + sizes + [classes]), batch \(common.batchSize), \(common.epochs) common.epochs, seeds 0..<\(seeds), \(train.count) training / \(test.count) test samples. \(partial ? "" : "Complete.")",
            isPartial: partial, tables: [table], figures: comparison.plots(runs).map(Figure.chart), notes: notes,
            summary: [
                "data": common.data, "seeds": seeds, "epochs": common.epochs, "runs": complete,
                "planned_runs": totalRuns,
            ])
        try report.write(to: out)
        if json {
            print(String(decoding: try report.summaryJSON(), as: UTF8.self))
        } else {
            print(table.text)
            if partial {
                print("interrupted: the report covers \(complete) of \(totalRuns) runs and says it is partial")
            }
            print("report: \(out)/report.html")
        }
        try Interrupt.exitIfRequested()
    }
}
