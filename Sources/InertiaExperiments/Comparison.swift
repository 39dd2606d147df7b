import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor
import InertiaTraining

/// Trains one model on one dataset with several optimizers over several seeds, and summarizes:
/// final training loss, best test accuracy, steps to a target loss, wall time (median and spread
/// over seeds), with curves for the report.
public struct Comparison {
    /// One optimizer configuration of the comparison.
    public struct Contender {
        public var label: String
        public var optimizer: String
        public var hyperparameters: [String: HyperparameterValue]
        public init(label: String, optimizer: String, hyperparameters: [String: HyperparameterValue]) {
            self.label = label
            self.optimizer = optimizer
            self.hyperparameters = hyperparameters
        }
    }

    /// What one (contender, seed) run recorded.
    public struct Run {
        public var contender: String
        public var seed: UInt64
        public var losses: [Double] = []
        public var learningRates: [Double] = []
        /// Every other hyper-parameter the optimizer reports, per step (AM's `beta`, ...).
        public var hyperparameterCurves: [String: [Double]] = [:]
        public var testAccuracy: [Double] = []
        public var testLoss: [Double] = []
        public var seconds: Double = 0
        public var interrupted = false
        public var error: String?
    }

    public var dataName: String
    public var train: Dataset
    public var test: Dataset
    public var makeModel: (inout PhiloxGenerator) -> Module
    public var contenders: [Contender]
    public var seeds: [UInt64]
    public var epochs: Int
    public var batchSize: Int
    /// "Steps to target" counts steps until the smoothed training loss first falls below this.
    public var targetLoss: Double

    public init(
        dataName: String, train: Dataset, test: Dataset, makeModel: @escaping (inout PhiloxGenerator) -> Module,
        contenders: [Contender], seeds: [UInt64], epochs: Int, batchSize: Int, targetLoss: Double
    ) {
        self.dataName = dataName
        self.train = train
        self.test = test
        self.makeModel = makeModel
        self.contenders = contenders
        self.seeds = seeds
        self.epochs = epochs
        self.batchSize = batchSize
        self.targetLoss = targetLoss
    }

    /// Runs every contender on every seed (seed-major, so an interruption leaves comparable runs);
    /// `onRun` sees each finished run, `onStep` every step.
    public func run(
        shouldStop: @escaping () -> Bool = { false }, onStep: (String, UInt64, StepReport) -> Void = { _, _, _ in },
        onRun: (Run) -> Void = { _ in }
    ) -> [Run] {
        var runs: [Run] = []
        outer: for seed in seeds {
            for contender in contenders {
                if shouldStop() { break outer }
                var record = Run(contender: contender.label, seed: seed)
                do {
                    guard let entry = OptimizerRegistry.entry(named: contender.optimizer) else {
                        throw OptimizerError.invalidHyperparameter(
                            optimizer: contender.optimizer, detail: "no such optimizer")
                    }
                    var rng = PhiloxGenerator(seed: seed)
                    let model = makeModel(&rng)
                    let optimizer = try entry(contender.hyperparameters, model: model)
                    let loader = try DataLoader(train, batchSize: batchSize, seed: seed)
                    var options = TrainingOptions(epochs: epochs)
                    options.shouldStop = shouldStop
                    let trainer = try Trainer(
                        model: model, optimizer: optimizer, loader: loader, testSet: test, options: options)
                    let summary = try trainer.run { event in
                        switch event {
                        case .step(let r):
                            record.losses.append(r.loss)
                            record.learningRates.append(r.learningRate)
                            for (key, value) in optimizer.hyperparameters where !Self.fixedKeys.contains(key) {
                                record.hyperparameterCurves[key, default: []].append(value)
                            }
                            onStep(contender.label, seed, r)
                        case .evaluation(let e):
                            record.testLoss.append(e.loss)
                            if let a = e.accuracy { record.testAccuracy.append(a) }
                        case .checkpoint: break
                        }
                    }
                    record.seconds = summary.seconds
                    record.interrupted = summary.interrupted
                } catch {
                    record.error = "\(error)"
                }
                runs.append(record)
                onRun(record)
                if record.interrupted { break outer }
            }
        }
        return runs
    }

    /// Hyper-parameters not plotted as their own curves (the learning rate has its plot).
    static let fixedKeys: Set<String> = ["lr", "base_lr", "weight_decay", "maximize"]

    /// Exponential moving average (0.9) of the per-step losses, the curve "steps to target" reads.
    public static func smoothed(_ losses: [Double]) -> [Double] {
        var out: [Double] = []
        var s = losses.first ?? 0
        for l in losses {
            s = 0.9 * s + 0.1 * l
            out.append(s)
        }
        return out
    }

    static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// The median of `values` when there are some and all are finite, else `nil` (a check's
    /// measurement that a missing or diverged run must leave unmeasured).
    static func finiteMedian(_ values: [Double]?) -> Double? {
        guard let values, !values.isEmpty, values.allSatisfy(\.isFinite) else { return nil }
        return median(values)
    }

    /// `a / b` when both were measured.
    static func ratio(_ a: Double?, _ b: Double?) -> Double? { a.flatMap { x in b.map { x / $0 } } }

    /// The summary table, one row per contender.
    public func table(_ runs: [Run]) -> Table {
        func cell(_ v: [Double], _ format: String) -> String {
            let finite = v.filter(\.isFinite)
            guard !finite.isEmpty else { return "n/a" }
            let m = Comparison.median(finite)
            return finite.count > 1
                ? String(format: format, m) + " [" + String(format: format, finite.min()!) + ", "
                    + String(format: format, finite.max()!) + "]"
                : String(format: format, m)
        }
        let rows = contenders.map { c -> [String] in
            let mine = runs.filter { $0.contender == c.label && $0.error == nil && !$0.interrupted }
            let failures = runs.filter { $0.contender == c.label && $0.error != nil }.count
            let stopped = runs.filter { $0.contender == c.label && $0.interrupted }.count
            let finalLoss = mine.map { Comparison.smoothed($0.losses).last ?? .nan }
            let best = mine.map { $0.testAccuracy.max() ?? .nan }
            let toTarget = mine.map { run -> Double in
                Comparison.smoothed(run.losses).firstIndex { $0 < targetLoss }.map { Double($0 + 1) } ?? .nan
            }
            let reached = toTarget.filter(\.isFinite).count
            return [
                c.label,
                "\(mine.count)" + (failures > 0 ? " (+\(failures) failed)" : "")
                    + (stopped > 0 ? " (+\(stopped) stopped)" : ""), cell(finalLoss, "%.4f"), cell(best, "%.4f"),
                cell(toTarget, "%.0f") + " (\(reached)/\(mine.count) reached)", cell(mine.map(\.seconds), "%.2f"),
            ]
        }
        return Table(
            title: "\(dataName): median [min, max] over seeds",
            header: [
                "optimizer", "runs", "final train loss", "best test accuracy",
                "steps to loss < \(String(format: "%g", targetLoss))", "seconds",
            ],
            rows: rows)
    }

    /// Curves: smoothed training loss (median with the seed range as a band), test accuracy per
    /// epoch, learning rate, and every other optimizer hyper-parameter that changed during a run
    /// (AM's β_t, say).
    public func plots(_ runs: [Run]) -> [Plot] {
        func band(_ label: String, _ pick: (Run) -> [Double]) -> Series? {
            Series(
                name: label, curves: runs.filter { $0.contender == label && $0.error == nil }.map(pick),
                x: { Double($0 + 1) })
        }
        let loss = contenders.compactMap { band($0.label) { Comparison.smoothed($0.losses) } }
        let accuracy = contenders.compactMap { band($0.label) { $0.testAccuracy } }
        let rates = contenders.compactMap { band($0.label) { $0.learningRates } }
        let varying = Set(
            runs.flatMap { run in run.hyperparameterCurves.filter { ($0.value.max() ?? 0) > ($0.value.min() ?? 0) }.keys
            })
        let hyperparameterPlots = varying.sorted().map { key in
            Plot(
                title: "Optimizer hyper-parameter \(key) (median and range over seeds)", xLabel: "optimizer step",
                yLabel: key,
                series: contenders.compactMap { band($0.label) { $0.hyperparameterCurves[key] ?? [] } }, logY: false)
        }
        return [
            Plot(
                title: "Training loss (smoothed, median and range over seeds)", xLabel: "optimizer step",
                yLabel: "cross-entropy (nats)", series: loss),
            Plot(title: "Test accuracy", xLabel: "epoch", yLabel: "accuracy (fraction)", series: accuracy, logY: false),
            Plot(title: "Learning rate", xLabel: "optimizer step", yLabel: "learning rate", series: rates),
        ] + hyperparameterPlots
    }
}
