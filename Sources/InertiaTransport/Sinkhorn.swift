import Foundation
import InertiaTensor

/// Entropic optimal transport by Sinkhorn's algorithm, with POT's conventions (`ot.sinkhorn`,
/// POT 0.9; Cuturi, "Sinkhorn Distances", NeurIPS 2013; `shared/papers/sinkhorn-newton-sparse.md`
/// 2.6), so results agree with POT to round-off: the same update order (column scaling first),
/// the same stopping rule (every 10th iteration, the 2-norm of the column-marginal error against
/// `stopThreshold`), the same iteration count and potentials.
public enum Sinkhorn {
    public enum Method: String, CaseIterable, Sendable {
        /// Sinkhorn–Knopp in the scaling domain (`method="sinkhorn"`): fast, underflows for small `reg`.
        case knopp = "sinkhorn"
        /// Log-domain (`method="sinkhorn_log"`): stable for any `reg`, an `exp` per entry per sweep.
        case log = "sinkhorn_log"
    }

    public struct Options: Sendable {
        public var method: Method = .knopp
        /// POT's `numItermax`.
        public var maxIterations = 1000
        /// POT's `stopThr`.
        public var stopThreshold = 1e-9

        public init(method: Method = .knopp, maxIterations: Int = 1000, stopThreshold: Double = 1e-9) {
            self.method = method
            self.maxIterations = maxIterations
            self.stopThreshold = stopThreshold
        }
    }

    /// What a solve returns.
    public struct Result: Sendable {
        public var plan: Matrix64
        /// The dual potentials in POT's log form: `log P_ij = −C_ij/reg + logU_i + logV_j`.
        public var logU: [Double], logV: [Double]
        /// Sweeps done (POT's `niter` + 1).
        public var iterations: Int
        /// Every checked marginal error (POT's `log['err']`).
        public var errors: [Double]
        public var converged: Bool
        /// Why the result may not be the answer (non-convergence, numerical breakdown); `nil` when converged.
        public var warning: String?
        /// `⟨P, C⟩` (POT's `sinkhorn2`).
        public var transportCost: Double
        /// `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁` of the returned plan.
        public var marginalError: Double
    }

    public static func solve(_ problem: TransportProblem, regularization reg: Double, options: Options = Options()) throws -> Result {
        guard reg > 0 && reg.isFinite else { throw TransportError.invalidInput("regularization must be a positive number, got \(reg)") }
        guard options.maxIterations >= 1 else { throw TransportError.invalidInput("maxIterations must be >= 1") }
        switch options.method {
        case .knopp: return knopp(problem, reg, options)
        case .log: return logDomain(problem, reg, options)
        }
    }

    static let grain = 16

    /// Column sums of `f(i, j)` over the rows, summed per chunk of rows and the chunks combined
    /// in order (thread-count independent).
    static func columnSums(rows: Int, columns: Int, _ row: (Int, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        let chunks = (rows + grain - 1) / grain
        var partials = [Double](repeating: 0, count: chunks * columns)
        partials.withUnsafeMutableBufferPointer { out in
            Parallel.forEachRange(count: rows, grain: grain) { range in
                let acc = out.baseAddress! + (range.lowerBound / grain) * columns
                for i in range { row(i, acc) }
            }
        }
        var sums = [Double](repeating: 0, count: columns)
        for c in 0..<chunks { for j in 0..<columns { sums[j] += partials[c * columns + j] } }
        return sums
    }

    static func knopp(_ problem: TransportProblem, _ reg: Double, _ options: Options) -> Result {
        let n = problem.rows, m = problem.columns, a = problem.source, b = problem.target
        let kernel = problem.cost.scalars.map { Foundation.exp(-$0 / reg) }
        var u = [Double](repeating: 1 / Double(n), count: n), v = [Double](repeating: 1 / Double(m), count: m)
        var errors: [Double] = [], converged = false, warning: String?, iteration = 0
        kernel.withUnsafeBufferPointer { k in
            for ii in 0..<options.maxIterations {
                iteration = ii
                let previous = (u, v)
                let ktu = columnSums(rows: n, columns: m) { i, acc in
                    let ui = u[i], row = k.baseAddress! + i * m
                    for j in 0..<m { acc[j] += row[j] * ui }
                }
                v = zip(b, ktu).map { $0 / $1 }
                var kv = [Double](repeating: 0, count: n)
                kv.withUnsafeMutableBufferPointer { out in
                    v.withUnsafeBufferPointer { vp in
                        Parallel.forEachRange(count: n, grain: grain) { range in
                            for i in range {
                                let row = k.baseAddress! + i * m
                                var s = 0.0
                                for j in 0..<m { s += row[j] / a[i] * vp[j] }
                                out[i] = s
                            }
                        }
                    }
                }
                u = kv.map { 1 / $0 }
                if ktu.contains(0) || !u.allSatisfy(\.isFinite) || !v.allSatisfy(\.isFinite) {
                    warning = "numerical errors at iteration \(ii) (the kernel exp(-C/reg) underflows: use the log method or a larger reg); returning the previous iterate"
                    (u, v) = previous
                    break
                }
                if ii % 10 == 0 {
                    let column = columnSums(rows: n, columns: m) { i, acc in
                        let ui = u[i], row = k.baseAddress! + i * m
                        for j in 0..<m { acc[j] += ui * row[j] * v[j] }
                    }
                    let err = zip(column, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                    errors.append(err)
                    if err < options.stopThreshold {
                        converged = true
                        break
                    }
                }
            }
        }
        var plan = Matrix64(rows: n, columns: m)
        for i in 0..<n { for j in 0..<m { plan.scalars[i * m + j] = u[i] * kernel[i * m + j] * v[j] } }
        if !converged && warning == nil {
            warning = "did not converge in \(options.maxIterations) iterations (last error \(errors.last ?? .nan) >= \(options.stopThreshold)); returning the last iterate"
        }
        return finish(problem, plan: plan, logU: u.map { Foundation.log($0) }, logV: v.map { Foundation.log($0) }, iterations: iteration + 1,
                      errors: errors, converged: converged, warning: warning)
    }

    static func logDomain(_ problem: TransportProblem, _ reg: Double, _ options: Options) -> Result {
        let n = problem.rows, m = problem.columns
        let logA = problem.source.map { Foundation.log($0) }, logB = problem.target.map { Foundation.log($0) }
        let scaled = problem.cost.scalars.map { -$0 / reg }
        var u = [Double](repeating: 0, count: n), v = [Double](repeating: 0, count: m)
        var errors: [Double] = [], converged = false, iteration = 0
        scaled.withUnsafeBufferPointer { mr in
            for ii in 0..<options.maxIterations {
                iteration = ii
                // v = log b − LSE_i(Mr_ij + u_i): column maxima, then column sums of exp(· − max).
                var columnMax = [Double](repeating: -.infinity, count: m)
                for i in 0..<n {
                    let row = mr.baseAddress! + i * m, ui = u[i]
                    for j in 0..<m { columnMax[j] = Swift.max(columnMax[j], row[j] + ui) }
                }
                let sums = columnSums(rows: n, columns: m) { i, acc in
                    let row = mr.baseAddress! + i * m, ui = u[i]
                    for j in 0..<m { acc[j] += Foundation.exp(row[j] + ui - columnMax[j]) }
                }
                for j in 0..<m { v[j] = logB[j] - (Foundation.log(sums[j]) + columnMax[j]) }
                // u = log a − LSE_j(Mr_ij + v_j).
                u.withUnsafeMutableBufferPointer { up in
                    Parallel.forEachRange(count: n, grain: grain) { range in
                        for i in range {
                            let row = mr.baseAddress! + i * m
                            var largest = -Double.infinity
                            for j in 0..<m { largest = Swift.max(largest, row[j] + v[j]) }
                            var s = 0.0
                            for j in 0..<m { s += Foundation.exp(row[j] + v[j] - largest) }
                            up[i] = logA[i] - (Foundation.log(s) + largest)
                        }
                    }
                }
                if ii % 10 == 0 {
                    let column = columnSums(rows: n, columns: m) { i, acc in
                        let row = mr.baseAddress! + i * m, ui = u[i]
                        for j in 0..<m { acc[j] += Foundation.exp(row[j] + ui + v[j]) }
                    }
                    let err = zip(column, problem.target).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                    errors.append(err)
                    if err < options.stopThreshold {
                        converged = true
                        break
                    }
                }
            }
        }
        var plan = Matrix64(rows: n, columns: m)
        for i in 0..<n { for j in 0..<m { plan.scalars[i * m + j] = Foundation.exp(scaled[i * m + j] + u[i] + v[j]) } }
        let warning = converged ? nil
            : "did not converge in \(options.maxIterations) iterations (last error \(errors.last ?? .nan) >= \(options.stopThreshold)); returning the last iterate"
        return finish(problem, plan: plan, logU: u, logV: v, iterations: iteration + 1, errors: errors, converged: converged, warning: warning)
    }

    static func finish(_ problem: TransportProblem, plan: Matrix64, logU: [Double], logV: [Double], iterations: Int, errors: [Double],
                       converged: Bool, warning: String?) -> Result {
        Result(plan: plan, logU: logU, logV: logV, iterations: iterations, errors: errors, converged: converged, warning: warning,
               transportCost: zip(plan.scalars, problem.cost.scalars).reduce(0) { $0 + $1.0 * $1.1 },
               marginalError: marginalError(plan, problem))
    }

    /// `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁`.
    public static func marginalError(_ plan: Matrix64, _ problem: TransportProblem) -> Double {
        let n = plan.rows, m = plan.columns
        var rows = [Double](repeating: 0, count: n), columns = [Double](repeating: 0, count: m)
        for i in 0..<n {
            for j in 0..<m {
                rows[i] += plan.scalars[i * m + j]
                columns[j] += plan.scalars[i * m + j]
            }
        }
        return zip(rows, problem.source).reduce(0) { $0 + Swift.abs($1.0 - $1.1) }
            + zip(columns, problem.target).reduce(0) { $0 + Swift.abs($1.0 - $1.1) }
    }
}
