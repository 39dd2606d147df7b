import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor
import InertiaTraining

/// The Fashion-MNIST protocol that `muon.md` 5 and `auon.md` 5 share: the first 10 k training
/// images, the full test set, an MLP 784-256-256-10 with ReLU, batch 128, cosine lr to 0. A matrix
/// optimizer takes the two hidden weights; AdamW (lr 1e-3, no decay) the classifier and biases.
enum HiddenMatrixStudy {
    struct Outcome {
        var accuracy: Double
        var epochLosses: [Double]
        /// The training loss of every step, up to a non-finite one.
        var stepLosses: [Double]
        var allFinite: Bool
    }

    static let hiddenWeights: Set<String> = ["layers.0.weight", "layers.2.weight"]

    /// One run; `hidden == nil` is the AdamW baseline (lr 1e-3, wd 0.01 on everything). `nil`
    /// when interrupted. A run whose loss turns NaN or infinite ends there, not finite, and counts
    /// test accuracy 0 (it classifies nothing), so that medians over seeds stay ordered.
    static func run(
        hidden: ((Double) throws -> FusedOptimizer)?, lr: Double, data: (train: Dataset, test: Dataset), seed: UInt64,
        epochs: Int, shouldStop: @escaping () -> Bool
    ) throws -> Outcome? {
        var rng = PhiloxGenerator(seed: seed)
        let model = MLP(sizes: [784, 256, 256, 10], using: &rng)
        let subset = data.train.subset(Array(0..<10_000))
        let loader = try DataLoader(subset, batchSize: 128, seed: seed)
        let schedule = Schedule.cosine(steps: epochs * loader.batchCount, endFactor: 0, periodic: false)
        let optimizer: Optimizer
        if let hidden {
            let matrix = try hidden(lr), auxiliary = try AdamW(learningRate: 1e-3, weightDecay: 0)
            matrix.schedule = schedule
            auxiliary.schedule = schedule
            optimizer = RoutedOptimizer([
                .init(selects: { name, _ in hiddenWeights.contains(name) }, optimizer: matrix),
                .init(selects: { _, _ in true }, optimizer: auxiliary),
            ])
        } else {
            let adamW = try AdamW(learningRate: 1e-3, weightDecay: 0.01)
            adamW.schedule = schedule
            optimizer = adamW
        }
        var options = TrainingOptions(epochs: epochs)
        options.shouldStop = shouldStop
        let trainer = try Trainer(
            model: model, optimizer: optimizer, loader: loader, testSet: data.test, options: options)
        var epochLosses: [Double] = [], current: [Double] = [], steps: [Double] = [], finite = true
        let summary: TrainingSummary
        do {
            summary = try trainer.run { event in
                if case .step(let r) = event {
                    current.append(r.loss)
                    if r.loss.isFinite { steps.append(r.loss) }
                    finite = finite && r.loss.isFinite
                }
                if case .evaluation = event {
                    epochLosses.append(current.reduce(0, +) / Double(Swift.max(current.count, 1)))
                    current = []
                }
            }
        } catch TrainingError.nonFiniteLoss {
            return Outcome(accuracy: 0, epochLosses: epochLosses, stepLosses: steps, allFinite: false)
        }
        if summary.interrupted { return nil }
        return Outcome(
            accuracy: summary.finalEvaluation?.accuracy ?? .nan, epochLosses: epochLosses, stepLosses: steps,
            allFinite: finite)
    }

    /// A matrix optimizer of the study: its name, learning-rate grid and constructor.
    typealias Candidate = (name: String, grid: [Double], make: (Double) throws -> FusedOptimizer)

    /// What a sweep measured: a table row per optimizer and lr (median test accuracy over the
    /// seeds), each candidate's best median, the AdamW baseline's accuracies, and counts over
    /// every run (non-finite losses, epoch-average loss increases).
    struct Sweep {
        /// The runs of one optimizer at one lr (the baseline's lr is AdamW's 1e-3), a value per seed.
        struct Cell {
            var name: String
            var lr: Double
            var accuracies: [Double] = []
            var stepLosses: [[Double]] = []
        }

        var rows: [[String]] = []
        var cells: [Cell] = []
        var best: [String: Double] = [:]
        var adamW: [Double] = []
        var runs = 0, nonFiniteRuns = 0, lossIncreases = 0
        /// A run was interrupted: the sweep stopped there.
        var partial = false

        mutating func record(_ outcome: Outcome, name: String, lr: Double) {
            if cells.last?.name != name || cells.last?.lr != lr { cells.append(Cell(name: name, lr: lr)) }
            cells[cells.count - 1].accuracies.append(outcome.accuracy)
            cells[cells.count - 1].stepLosses.append(outcome.stepLosses)
        }

        mutating func count(_ outcome: Outcome) {
            runs += 1
            nonFiniteRuns += outcome.allFinite ? 0 : 1
            lossIncreases += zip(outcome.epochLosses.dropFirst(), outcome.epochLosses).filter { $0 > $1 }.count
        }
    }

    /// The AdamW baseline on every seed (when `baseline`), then every candidate at every lr of its
    /// grid on every seed.
    static func sweep(
        _ candidates: [Candidate], baseline: Bool, data: (train: Dataset, test: Dataset), seeds: [UInt64],
        epochs: Int, shouldStop: @escaping () -> Bool, progress: (String) -> Void
    ) throws -> Sweep {
        var sweep = Sweep()
        if baseline {
            for seed in seeds {
                progress("Fashion-MNIST AdamW, seed \(seed)")
                guard
                    let r = try run(
                        hidden: nil, lr: 1e-3, data: data, seed: seed, epochs: epochs, shouldStop: shouldStop)
                else {
                    sweep.partial = true
                    return sweep
                }
                sweep.adamW.append(r.accuracy)
                sweep.count(r)
                sweep.record(r, name: "AdamW (all parameters)", lr: 1e-3)
            }
            sweep.rows.append([
                "AdamW (all parameters)", "0.001", String(format: "%.4f", Comparison.median(sweep.adamW)),
            ])
        }
        for candidate in candidates {
            for lr in candidate.grid {
                var accuracies: [Double] = []
                for seed in seeds {
                    progress("Fashion-MNIST \(candidate.name) lr \(lr), seed \(seed)")
                    guard
                        let r = try run(
                            hidden: candidate.make, lr: lr, data: data, seed: seed, epochs: epochs,
                            shouldStop: shouldStop)
                    else {
                        sweep.partial = true
                        return sweep
                    }
                    accuracies.append(r.accuracy)
                    sweep.count(r)
                    sweep.record(r, name: candidate.name, lr: lr)
                }
                let median = Comparison.median(accuracies)
                sweep.best[candidate.name] = Swift.max(sweep.best[candidate.name] ?? -.infinity, median)
                sweep.rows.append([candidate.name, String(format: "%g", lr), String(format: "%.4f", median)])
            }
        }
        return sweep
    }

    /// The table of a sweep.
    static func table(_ sweep: Sweep, epochs: Int, seeds: Int, title: String = "") -> Table {
        Table(
            title:
                "\(title)Fashion-MNIST 10k, 784-256-256-10, batch 128, \(epochs) epoch(s), cosine lr: median test accuracy over \(seeds) seed(s)",
            header: ["optimizer", "lr", "test accuracy"], rows: sweep.rows)
    }

    /// The sweep's pictures: training loss against step (smoothed; median and range over seeds), a
    /// panel per lr with the AdamW baseline in each, and test accuracy against lr per optimizer.
    static func figures(_ sweep: Sweep, title: String = "") -> [Figure] {
        let baseline = sweep.cells.first { $0.name.hasPrefix("AdamW") }
        let candidates = sweep.cells.filter { !$0.name.hasPrefix("AdamW") }
        func band(_ cell: Sweep.Cell, name: String) -> Series? {
            Series(name: name, curves: cell.stepLosses.map { Comparison.smoothed($0) }, x: { Double($0 + 1) })?
                .decimated()
        }
        let rates = Array(Set(candidates.map(\.lr))).sorted()
        var figures: [Figure] = [
            .row(
                title: "\(title)Fashion-MNIST training loss (smoothed; median and range over seeds)",
                panels: rates.map { lr in
                    .chart(
                        Plot(
                            title: "lr \(Plot.label(lr))", xLabel: "step", yLabel: "cross-entropy (nats)",
                            series: (baseline.flatMap { band($0, name: "AdamW lr 0.001") }.map { [$0] } ?? [])
                                + candidates.filter { $0.lr == lr }.compactMap { band($0, name: $0.name) }))
                })
        ]
        let names = candidates.reduce(into: [String]()) { if !$0.contains($1.name) { $0.append($1.name) } }
        // Curves where some optimizer has several lrs; bars otherwise.
        if names.contains(where: { name in candidates.filter { $0.name == name }.count > 1 }) {
            var accuracy = names.map { name -> Series in
                let cells = candidates.filter { $0.name == name }.sorted { $0.lr < $1.lr }
                return Series(name: name, x: cells.map(\.lr), acrossRuns: cells.map(\.accuracies))
            }
            if let baseline, let lo = rates.first, let hi = rates.last {
                let median = Comparison.median(baseline.accuracies)
                accuracy.append(Series(name: "AdamW lr 0.001 (all parameters)", x: [lo, hi], y: [median, median]))
            }
            figures.append(
                .chart(
                    Plot(
                        title: "\(title)Fashion-MNIST test accuracy against the matrix optimizer's lr",
                        xLabel: "learning rate", yLabel: "test accuracy (fraction)", series: accuracy, logY: false,
                        logX: true)))
        } else {
            // One lr per optimizer: a bar each, the baseline's among them.
            let cells = (baseline.map { [$0] } ?? []) + candidates
            figures.append(
                .bars(
                    BarChart(
                        title: "\(title)Fashion-MNIST test accuracy (median, range over seeds)", xLabel: "optimizer",
                        yLabel: "test accuracy (fraction)",
                        categories: cells.map {
                            "\($0.name.hasPrefix("AdamW") ? "AdamW" : $0.name) lr \(Plot.label($0.lr))"
                        },
                        series: [
                            BarChart.Bars(
                                name: "test accuracy", values: cells.map { Comparison.median($0.accuracies) },
                                lower: cells.map { $0.accuracies.min() ?? .nan },
                                upper: cells.map { $0.accuracies.max() ?? .nan })
                        ], yRange: 0...1)))
        }
        return figures
    }

    /// Seconds per `step()` of `optimizer` on one weight of `shape` (256×256 unless given), the
    /// best of `repetitions`.
    static func stepSeconds(_ optimizer: FusedOptimizer, repetitions: Int, shape: [Int] = [256, 256]) -> Double {
        var rng = PhiloxGenerator(seed: 5)
        let w = Parameter(Tensor.normal(shape, using: &rng))
        w.value.grad = Tensor.normal(shape, using: &rng)
        var best = Double.infinity
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            optimizer.step([("w", w)])
            best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return best
    }

    /// Mean seconds per `step()` over `steps` consecutive steps on one weight of `shape`: the
    /// cost of an optimizer that refreshes something every few steps (FISMO's eigendecompositions).
    static func meanStepSeconds(_ optimizer: FusedOptimizer, steps: Int, shape: [Int]) -> Double {
        var rng = PhiloxGenerator(seed: 5)
        let w = Parameter(Tensor.normal(shape, standardDeviation: 0.05, using: &rng))
        let gradients = (0..<steps).map { _ in Tensor.normal(shape, using: &rng) }
        let start = DispatchTime.now().uptimeNanoseconds
        for g in gradients {
            w.value.grad = g
            optimizer.step([("w", w)])
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(steps)
    }
}
