import ArgumentParser
import Foundation
import Inertia

/// `inertia bench ot`: the problems of `shared/peers/sinkhorn.py` (n points uniform in [0,1]² from
/// the SplitMix64 streams of seeds 1 and 2, uniform weights, squared Euclidean cost divided by its
/// maximum, reg 0.05 and 0.01, stopThr 1e-9, the same iteration caps), solved by Inertia's
/// POT-compatible Sinkhorn in both domains, and by SNS (to the same L1 marginal error POT reaches).
struct OTBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ot", abstract: "Sinkhorn (both domains) and SNS on the peers' point clouds, n = 500, 2000, 5000.")

    @Option(name: .long, parsing: .upToNextOption, help: "Numbers of points.")
    var sizes: [Int] = [500, 2000, 5000]

    @Option(name: .long, parsing: .upToNextOption, help: "Methods: sinkhorn, sinkhorn_log, sns.")
    var methods: [String] = ["sinkhorn", "sinkhorn_log", "sns"]

    @Option(name: .long, parsing: .upToNextOption, help: "Thread counts to measure, in order.")
    var threads: [Int] = [2]

    @Flag(
        help:
            "Instead: SNS at eta 300 and Inertia's Sinkhorn (both domains, reg 1/300, stopThr 1e-8) on the sinkhorn-newton-sparse reproduction's experiment A costs (100x100 U[0,1] from SplitMix64 seeds 500-504), best of --rounds."
    )
    var experimentA = false

    @Option(help: "With --experiment-a: timed runs per solver and seed (the best is kept).")
    var rounds = 3

    func validate() throws {
        guard sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--sizes must be positive") }
        let known = Set(Sinkhorn.Method.allCases.map(\.rawValue) + ["sns"])
        if let bad = methods.first(where: { !known.contains($0) }) { throw ValidationError("unknown method '\(bad)'") }
    }

    static func problem(_ n: Int) throws -> TransportProblem {
        let x = Matrix64(rows: n, columns: 2, scalars: SplitMix64.uniformFloat64(seed: 1, count: 2 * n))
        let y = Matrix64(rows: n, columns: 2, scalars: SplitMix64.uniformFloat64(seed: 2, count: 2 * n))
        return try TransportProblem(
            source: [], target: [], cost: GroundCost.normalizedByMaximum(GroundCost.squaredEuclidean(x, y)))
    }

    /// Experiment A of the sinkhorn-newton-sparse reproduction, for `Scripts/sns_experiment_a_pot.py`
    /// to time POT on the same costs (it regenerates them from the same SplitMix64 streams and
    /// checks `cost_sum`).
    func runExperimentA() throws {
        let loadStart = BenchEnvironment.loadAverage
        var rows: [JSONValue] = []
        let saved = Parallel.threadCount
        for threads in threads {
            Parallel.threadCount = threads
            for seed in UInt64(0)..<5 {
                let problem = try SinkhornNewtonSparseReproduction.randomProblem(100, seed: seed)
                for method in methods {
                    var best = Double.infinity, iterations = 0, converged = false, plan = problem.cost
                    for _ in 0..<max(rounds, 1) {
                        let start = DispatchTime.now().uptimeNanoseconds
                        if method == "sns" {
                            let r = try SinkhornNewtonSparse.solve(problem, eta: 300, options: .init(tolerance: 1e-8))
                            (iterations, converged, plan) = (
                                r.sinkhornIterations + r.newtonIterations, r.converged, r.plan
                            )
                        } else {
                            let r = try Sinkhorn.solve(
                                problem, regularization: 1.0 / 300,
                                options: .init(
                                    method: Sinkhorn.Method(rawValue: method)!, maxIterations: 100_000,
                                    stopThreshold: 1e-8))
                            (iterations, converged, plan) = (r.iterations, r.converged, r.plan)
                        }
                        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
                    }
                    rows.append(
                        .object([
                            ("threads", .number(Double(threads))), ("problem", .string("sns-a")),
                            ("seed", .number(Double(seed))), ("n", .number(100)), ("eta", .number(300)),
                            ("method", .string(method)), ("iterations", .number(Double(iterations))),
                            ("converged", .bool(converged)), ("seconds", .number(best)),
                            ("marg_err_l1", .number(Sinkhorn.marginalError(plan, problem))),
                            ("cost_sum", .number(problem.cost.scalars.reduce(0, +))),
                        ]))
                }
            }
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "sns_experiment_a", threads: threads, loadStart: loadStart, results: .array(rows)))
    }

    func run() throws {
        if experimentA { return try runExperimentA() }
        let loadStart = BenchEnvironment.loadAverage
        var rows: [JSONValue] = []
        let saved = Parallel.threadCount
        for threads in threads {
            Parallel.threadCount = threads
            for n in sizes {
                let problem = try Self.problem(n)
                for reg in [0.05, 0.01] {
                    for method in methods {
                        let start = DispatchTime.now().uptimeNanoseconds
                        var row: [(String, JSONValue)] = [
                            ("threads", .number(Double(threads))), ("n", .number(Double(n))), ("reg", .number(reg)),
                            ("method", .string(method)),
                        ]
                        let iterations: Int, converged: Bool, plan: Matrix64, cost: Double
                        if method == "sns" {
                            let r = try SinkhornNewtonSparse.solve(
                                problem, eta: 1 / reg, options: .init(tolerance: 1e-9))
                            (iterations, converged, plan, cost) = (
                                r.sinkhornIterations + r.newtonIterations, r.converged, r.plan, r.transportCost
                            )
                            row.append(("newton_iterations", .number(Double(r.newtonIterations))))
                        } else {
                            let cap = method == "sinkhorn" ? 20_000 : Int(Swift.min(20_000, 4e10 / Double(n * n)))
                            let r = try Sinkhorn.solve(
                                problem, regularization: reg,
                                options: .init(
                                    method: Sinkhorn.Method(rawValue: method)!, maxIterations: cap, stopThreshold: 1e-9)
                            )
                            (iterations, converged, plan, cost) = (r.iterations, r.converged, r.plan, r.transportCost)
                            row.append(("max_iter", .number(Double(cap))))
                        }
                        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                        row += [
                            ("iterations", .number(Double(iterations))), ("converged", .bool(converged)),
                            ("seconds", .number(seconds)),
                            ("ms_per_iter", .number(1e3 * seconds / Double(iterations))),
                            ("marg_err_l1", .number(Sinkhorn.marginalError(plan, problem))), ("cost", .number(cost)),
                        ]
                        rows.append(.object(row))
                        FileHandle.standardError.write(
                            Data(
                                String(
                                    format: "ot %d thr n=%d reg=%g %@: %d iterations, %.4f s, cost %.6g\n",
                                    threads, n, reg, method, iterations, seconds, cost
                                ).utf8))
                    }
                }
            }
        }
        Parallel.threadCount = saved
        print(BenchEnvironment.line(bench: "sinkhorn", threads: threads, loadStart: loadStart, results: .array(rows)))
    }
}
