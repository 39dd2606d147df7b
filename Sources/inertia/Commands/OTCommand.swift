import ArgumentParser
import Foundation
import Inertia

/// `inertia ot`: entropic optimal transport between two point clouds (or two histograms on a
/// given cost matrix), by POT-compatible Sinkhorn, its log-domain form, Sinkhorn-Newton-Sparse or
/// Anderson-accelerated Sinkhorn.
struct OTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ot",
        abstract: "Entropic optimal transport between point clouds or histograms.",
        discussion: """
            Point clouds: --source and --target are CSV files with one point per row (uniform weights, or the last \
            column as weights with --weighted). Histograms: --cost is an n x m CSV matrix and --source / --target hold \
            one weight per row (or are omitted for uniform weights).
            """)

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case sinkhorn, sinkhornLog = "sinkhorn-log", sns, anderson
    }

    enum Cost: String, ExpressibleByArgument, CaseIterable {
        case sqeuclidean, euclidean, cityblock
    }

    @Option(help: "Source points (CSV), or source weights with --cost.") var source: String?
    @Option(help: "Target points (CSV), or target weights with --cost.") var target: String?
    @Option(help: "A cost matrix (CSV, n rows x m columns) instead of point clouds.") var cost: String?
    @Flag(help: "The last column of the point files holds the weights.") var weighted = false
    @Option(help: "Ground cost between points: \(Cost.allCases.map(\.rawValue).joined(separator: ", ")).") var metric:
        Cost = .sqeuclidean
    @Flag(help: "Divide the cost by its largest entry (as POT's examples do).") var normalizeCost = false
    @Option(help: "Entropic regularization (POT's reg; SNS's eta = 1/reg).") var reg: Double = 0.01
    @Option(help: "sinkhorn, sinkhorn-log, sns or anderson.") var method: Method = .sinkhornLog
    @Option(help: "Iteration limit (Sinkhorn sweeps; Newton steps for sns).") var maxIterations: Int = 100_000
    @Option(
        help:
            "Stopping threshold: POT's stopThr for sinkhorn / sinkhorn-log, the L1 marginal error for sns, the fixed-point residual for anderson."
    )
    var stopThreshold: Double = 1e-9
    @Option(help: "Write the transport plan here (CSV, written atomically).") var plan: String?
    @Option(
        help:
            "Fail (exit status 1) when the plan's L1 marginal error ends above this; below it, not reaching --stop-threshold is only a warning, as in POT."
    )
    var maxMarginalError: Double = 1e-4
    @Flag(help: "One JSON line instead of text.") var json = false

    func validate() throws {
        try requireFinite(["reg": reg, "stop-threshold": stopThreshold, "max-marginal-error": maxMarginalError])
        guard maxMarginalError > 0 else { throw ValidationError("--max-marginal-error must be a positive number") }
        guard reg > 0 else { throw ValidationError("--reg must be a positive number") }
        guard stopThreshold > 0 else { throw ValidationError("--stop-threshold must be a positive number") }
        guard maxIterations >= 1 else { throw ValidationError("--max-iterations must be >= 1") }
        if cost == nil && (source == nil || target == nil) {
            throw ValidationError(
                "give --source and --target point clouds, or --cost with optional --source / --target weights")
        }
    }

    func problem() throws -> TransportProblem {
        if let cost {
            let matrix = try NumericCSV.read(cost)
            func weights(_ path: String?) throws -> [Double] {
                guard let path else { return [] }
                let table = try NumericCSV.read(path)
                guard table.columns == 1 || table.rows == 1 else {
                    throw TransportError.invalidInput("\(path): weights must be one column or one row")
                }
                return table.scalars
            }
            let c = normalizeCost ? GroundCost.normalizedByMaximum(matrix) : matrix
            return try TransportProblem(source: try weights(source), target: try weights(target), cost: c)
        }
        func cloud(_ path: String) throws -> (points: Matrix64, weights: [Double]) {
            let table = try NumericCSV.read(path)
            guard weighted else { return (table, []) }
            guard table.columns >= 2 else {
                throw TransportError.invalidInput("\(path): --weighted needs coordinates and a weight column")
            }
            let d = table.columns - 1
            let points = Matrix64(
                rows: table.rows, columns: d, scalars: (0..<table.rows).flatMap { i in (0..<d).map { table[i, $0] } })
            return (points, (0..<table.rows).map { table[$0, d] })
        }
        let (x, a) = try cloud(source!), (y, b) = try cloud(target!)
        guard x.columns == y.columns else {
            throw TransportError.invalidInput("source points have \(x.columns) coordinates, target points \(y.columns)")
        }
        var c: Matrix64
        switch metric {
        case .sqeuclidean: c = GroundCost.squaredEuclidean(x, y)
        case .euclidean: c = GroundCost.pNorm(x, y, p: 2)
        case .cityblock: c = GroundCost.pNorm(x, y, p: 1)
        }
        if normalizeCost { c = GroundCost.normalizedByMaximum(c) }
        return try TransportProblem(source: a, target: b, cost: c)
    }

    func run() throws {
        let problem: TransportProblem
        do { problem = try self.problem() } catch let error as TransportError {
            throw CommandFailure(error.description)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let transportPlan: Matrix64, cost: Double, iterations: Int, error: Double, converged: Bool, warning: String?
        var extra: [(String, JSONValue)] = []
        switch method {
        case .sinkhorn, .sinkhornLog:
            let r = try Sinkhorn.solve(
                problem, regularization: reg,
                options: .init(
                    method: method == .sinkhorn ? .knopp : .log, maxIterations: maxIterations,
                    stopThreshold: stopThreshold))
            (transportPlan, cost, iterations, error, converged, warning) = (
                r.plan, r.transportCost, r.iterations, r.marginalError, r.converged, r.warning
            )
        case .sns:
            let r = try SinkhornNewtonSparse.solve(
                problem, eta: 1 / reg, options: .init(maxNewtonIterations: maxIterations, tolerance: stopThreshold))
            (transportPlan, cost, iterations, converged, warning) = (
                r.plan, r.transportCost, r.sinkhornIterations + r.newtonIterations, r.converged, r.warning
            )
            error = Sinkhorn.marginalError(r.plan, problem)
            extra = [
                ("newton_iterations", .number(Double(r.newtonIterations))), ("final_density", .number(r.finalDensity)),
            ]
        case .anderson:
            let r = try AndersonSinkhorn.solve(
                problem, eta: 1 / reg, tolerance: stopThreshold, maxIterations: maxIterations)
            (transportPlan, cost, iterations, error, converged, warning) = (
                r.plan, r.transportCost, r.iterations, r.marginalError, r.converged, r.warning
            )
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        if let plan { try AtomicFile.write(Data(NumericCSV.format(transportPlan).utf8), to: plan) }
        if let warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        if json {
            print(
                JSONValue.object(
                    [
                        ("method", .string(method.rawValue)), ("n", .number(Double(problem.rows))),
                        ("m", .number(Double(problem.columns))),
                        ("reg", .number(reg)), ("cost", .number(cost)), ("iterations", .number(Double(iterations))),
                        ("marginal_error_l1", .number(error)), ("converged", .bool(converged)),
                        ("seconds", .number(seconds)),
                    ] + extra
                ).text)
        } else {
            print("method \(method.rawValue), \(problem.rows) x \(problem.columns), reg \(reg)")
            print(String(format: "cost <P, C>        %.10g", cost))
            print("iterations         \(iterations)")
            print(String(format: "marginal error L1  %.3e", error))
            print("converged          \(converged ? "yes" : "no")")
            print(String(format: "time               %.3f s", seconds))
            if let plan { print("plan               \(plan)") }
        }
        guard error <= maxMarginalError else {
            throw CommandFailure(
                String(
                    format:
                        "%@ ended far from a transport plan: its L1 marginal error is %.3e (--max-marginal-error %g)%@",
                    method.rawValue, error,
                    maxMarginalError, plan == nil ? "" : "; the plan written to \(plan!) does not have these marginals")
            )
        }
    }
}
