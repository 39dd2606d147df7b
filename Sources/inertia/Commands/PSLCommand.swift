import ArgumentParser
import Foundation
import Inertia

/// `inertia psl`: expensive multi-objective optimisation of a test problem by Pareto set learning
/// (SVH-PSL, PSL-MOBO, or random search for comparison), with the evaluated points, the learned
/// Pareto set and a report in the run folder.
struct PSLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "psl", abstract: "Pareto set learning on GP surrogates (SVH-PSL) for a ZDT or DTLZ problem.")

    enum Problem: String, ExpressibleByArgument, CaseIterable { case zdt1, zdt2, zdt3, dtlz1, dtlz2 }
    enum Method: String, ExpressibleByArgument, CaseIterable { case svh, psl, random }

    @Option(help: "zdt1 | zdt2 | zdt3 | dtlz1 | dtlz2") var problem: Problem = .zdt1
    @Option(help: "Decision variables (in [0, 1]).") var variables = 8
    @Option(help: "Objectives of a DTLZ problem (ZDT has 2).") var objectives = 3
    @Option(help: "svh (Stein variational) | psl (PSL-MOBO: no kernel) | random (random search, same budget)")
    var method: Method = .svh
    @Option(help: "Latin-hypercube points evaluated first.") var initial = 10
    @Option(help: "Outer iterations (a GP fit, a hypernetwork, a batch each).") var iterations = 8
    @Option(help: "Evaluations per iteration.") var batch = 4
    @Option(help: "Hypernetwork steps per iteration.") var steps = 300
    @Option(help: "Hidden width of the hypernetwork.") var width = 64
    @Option(help: "Reference point coordinate for the reported hypervolume (every objective).") var reference = 1.1
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Run folder (evaluated.csv, front.csv, report.html, summary.json).") var out = "runs/psl"

    func validate() throws {
        try requireFinite(["reference": reference])
        guard variables >= 2, initial >= 2, iterations >= 0, batch >= 1, steps >= 1, width >= 1 else {
            throw ValidationError(
                "need --variables >= 2, --initial >= 2, --iterations >= 0, --batch, --steps and --width >= 1")
        }
        let m = problem.rawValue.hasPrefix("dtlz") ? objectives : 2
        guard m == 2 || m == 3 else {
            throw ValidationError("the exact hypervolume is for 2 or 3 objectives, got \(m)")
        }
        guard variables >= m else {
            throw ValidationError("a DTLZ problem with \(m) objectives needs at least \(m) variables")
        }
    }

    var definition: ParetoSetLearning.Problem {
        switch problem {
        case .zdt1: return .zdt(.zdt1, variables: variables, reference: [reference, reference])
        case .zdt2: return .zdt(.zdt2, variables: variables, reference: [reference, reference])
        case .zdt3: return .zdt(.zdt3, variables: variables, reference: [reference, reference])
        case .dtlz1, .dtlz2:
            let kind: MultiObjective.DTLZ = problem == .dtlz1 ? .dtlz1 : .dtlz2
            let m = objectives
            return ParetoSetLearning.Problem(
                variables: variables, objectives: m, reference: [Double](repeating: reference, count: m)
            ) { x in
                MultiObjective.dtlz(kind, x, objectives: m)
            }
        }
    }

    func run() throws {
        let folder = try RunFolder(out)
        let target = definition
        var configuration = ParetoSetLearning.Configuration.laptop
        configuration.initialSamples = initial
        configuration.iterations = iterations
        configuration.batchSize = batch
        configuration.steps = steps
        configuration.hiddenWidth = width
        if method == .psl { configuration.kernel = .none }
        let began = DispatchTime.now().uptimeNanoseconds
        var inputs: Matrix64, values: [[Double]], volumes: [Double], front: Matrix64?
        if method == .random {
            var rng = PhiloxGenerator(seed: seed)
            let total = initial + iterations * batch
            inputs = Matrix64(
                rows: total, columns: variables, scalars: (0..<(total * variables)).map { _ in rng.nextDouble() })
            values = (0..<total).map { i in
                target.evaluate(Array(inputs.scalars[(i * variables)..<((i + 1) * variables)]))
            }
            volumes = (0...iterations).map { k in
                MultiObjective.hypervolume(Array(values.prefix(initial + k * batch)), reference: target.reference)
            }
            front = nil
        } else {
            let result = try ParetoSetLearning(configuration: configuration).run(target, seed: seed) {
                iteration, volume in
                FileHandle.standardError.write(
                    Data(String(format: "iteration %d: hypervolume %.5f\n", iteration + 1, volume).utf8))
                return true
            }
            (inputs, values, volumes) = (result.inputs, result.values, result.hypervolumes)
            front = result.model.solutions(
                ParetoSetLearning.simplexLattice(objectives: target.objectives, atLeast: 100))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) * 1e-9
        let m = target.objectives
        let objectiveNames = (1...m).map { "f\($0)" }, variableNames = (1...variables).map { "x\($0)" }
        func table(_ x: Matrix64, _ f: [[Double]]) -> String {
            let joined = Matrix64(
                rows: x.rows, columns: variables + m,
                scalars: (0..<x.rows).flatMap { i in
                    Array(x.scalars[(i * variables)..<((i + 1) * variables)]) + f[i]
                })
            return (variableNames + objectiveNames).joined(separator: ",") + "\n" + NumericCSV.format(joined)
        }
        try AtomicFile.write(Data(table(inputs, values).utf8), to: folder.file("evaluated.csv"))
        var frontValues: [[Double]] = []
        if let front {
            frontValues = (0..<front.rows).map { i in
                target.evaluate(Array(front.scalars[(i * variables)..<((i + 1) * variables)]))
            }
            try AtomicFile.write(Data(table(front, frontValues).utf8), to: folder.file("front.csv"))
        }
        var series = [Series(name: "evaluated", x: values.map { $0[0] }, y: values.map { $0[1] }, style: .points)]
        if !frontValues.isEmpty {
            series.append(
                Series(
                    name: "learned set (true values)", x: frontValues.map { $0[0] }, y: frontValues.map { $0[1] },
                    style: .points))
        }
        let plots = [
            Plot(
                title: "Objectives f1, f2 of the evaluated points" + (m > 2 ? " (first two of \(m))" : ""),
                xLabel: "f1", yLabel: "f2", series: series, logY: false),
            Plot(
                title: "Hypervolume of the evaluated points (reference \(reference) in every objective)",
                xLabel: "evaluations", yLabel: "hypervolume",
                series: [
                    Series(name: method.rawValue, x: volumes.indices.map { Double(initial + $0 * batch) }, y: volumes)
                ], logY: false),
        ]
        let report = Report(
            title: "Pareto set learning: \(problem.rawValue)",
            subtitle:
                "\(method.rawValue), \(variables) variables, \(initial) + \(iterations) x \(batch) evaluations, seed \(seed)",
            tables: [], figures: plots.map(Figure.chart),
            notes: [
                String(
                    format: "Final hypervolume %.5f after %d evaluations, %.1f s.", volumes.last ?? 0, values.count,
                    seconds)
            ],
            summary: [
                "problem": problem.rawValue, "method": method.rawValue, "variables": variables, "objectives": m,
                "evaluations": values.count, "hypervolumes": volumes, "seconds": seconds,
            ])
        try report.write(to: folder.path)
        print(
            "\(method.rawValue) on \(problem.rawValue) (\(variables) variables, \(m) objectives): \(values.count) evaluations"
        )
        print(
            String(
                format: "hypervolume    %.5f (reference %g; after the initial design %.5f)", volumes.last ?? 0,
                reference, volumes.first ?? 0))
        print(String(format: "time           %.1f s", seconds))
        print(
            "results        \(out)/evaluated.csv" + (front == nil ? "" : ", \(out)/front.csv") + ", \(out)/report.html")
        guard volumes.allSatisfy(\.isFinite) else {
            throw CommandFailure("the hypervolume is not finite; see \(out)/evaluated.csv")
        }
    }
}
