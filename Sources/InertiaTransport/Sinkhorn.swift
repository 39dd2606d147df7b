import Foundation
import InertiaTensor

/// Entropic optimal transport by Sinkhorn's algorithm, with POT's conventions (`ot.sinkhorn`,
/// POT 0.9; Cuturi, "Sinkhorn Distances", NeurIPS 2013; `shared/papers/sinkhorn-newton-sparse.md`
/// 2.6), so results agree with POT to round-off: the same update order (column scaling first),
/// the same stopping rule (every 10th iteration, the 2-norm of the column-marginal error against
/// `stopThreshold`), the same iteration count and potentials.
public enum Sinkhorn {
    /// The iteration: scaling vectors (`knopp`, POT's `sinkhorn_knopp`) or log-domain potentials (`log`,
    /// POT's `sinkhorn_log`).
    public enum Method: String, CaseIterable, Sendable {
        /// Sinkhorn–Knopp in the scaling domain (`method="sinkhorn"`): fast, underflows for small `reg`.
        case knopp = "sinkhorn"
        /// Log-domain (`method="sinkhorn_log"`): stable for any `reg`, an `exp` per entry per sweep.
        case log = "sinkhorn_log"
    }

    /// POT's options: method, iteration limit, stopping threshold, optional epsilon scaling.
    public struct Options: Sendable {
        public var method: Method = .knopp
        /// POT's `numItermax`.
        public var maxIterations = 1000
        /// POT's `stopThr`.
        public var stopThreshold = 1e-9
        /// Log domain only: solve first with `reg·factor^stages`, …, `reg·factor`, each warm-starting
        /// the next through the potentials `reg·log u`, `reg·log v` (which do not depend on `reg`
        /// at the optimum's scale), then with `reg`. Iterations add up; the result is the last stage's.
        public var epsilonScaling: (stages: Int, factor: Double)?

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

    public static func solve(
        _ problem: TransportProblem, regularization reg: Double, options: Options = Options()
    ) throws -> Result {
        guard reg > 0 && reg.isFinite else {
            throw TransportError.invalidInput("regularization must be a positive number, got \(reg)")
        }
        guard options.maxIterations >= 1 else { throw TransportError.invalidInput("maxIterations must be >= 1") }
        switch options.method {
        case .knopp:
            guard options.epsilonScaling == nil else {
                throw TransportError.invalidInput("epsilon scaling needs the log method")
            }
            return knopp(problem, reg, options)
        case .log:
            guard let (stages, factor) = options.epsilonScaling else {
                return logDomain(problem, reg, options, warmStart: nil)
            }
            guard stages >= 1 && factor > 1 else {
                throw TransportError.invalidInput("epsilon scaling needs stages >= 1 and factor > 1")
            }
            var warm: (f: [Double], g: [Double])?, iterations = 0
            for stage in stride(from: stages, through: 1, by: -1) {
                let stageReg = reg * Foundation.pow(factor, Double(stage))
                let r = logDomain(problem, stageReg, options, warmStart: warm)
                iterations += r.iterations
                warm = (r.logU.map { $0 * stageReg }, r.logV.map { $0 * stageReg })
            }
            var last = logDomain(problem, reg, options, warmStart: warm)
            last.iterations += iterations
            return last
        }
    }

    static let grain = 16

    /// `exp(scale·x)` elementwise, in parallel.
    static func elementwiseExp(_ values: [Double], scale: Double) -> [Double] {
        [Double](unsafeUninitializedCapacity: values.count) { o, initialized in
            values.withUnsafeBufferPointer { v in
                Parallel.forEachRange(count: values.count, grain: 1 << 14) { range in
                    DoubleKernels.exp(
                        o.baseAddress! + range.lowerBound, v.baseAddress! + range.lowerBound, scale: scale, 0,
                        range.count)
                }
            }
            initialized = values.count
        }
    }

    /// Column sums of what `row(i, acc)` adds to `acc` for each row, summed per chunk of rows
    /// and the chunks combined in order (thread-count independent). With `maximum`, column maxima.
    static func columnSums(
        rows: Int, columns: Int, maximum: Bool = false, _ row: (Int, UnsafeMutablePointer<Double>) -> Void
    ) -> [Double] {
        columnRowBlockSums(rows: rows, columns: columns, maximum: maximum) { range, acc in
            for i in range { row(i, acc) }
        }
    }

    /// `columnSums` with each chunk's rows handed over as one range (for kernels that take rows
    /// in groups).
    static func columnRowBlockSums(
        rows: Int, columns: Int, maximum: Bool = false,
        _ block: (Range<Int>, UnsafeMutablePointer<Double>) -> Void
    ) -> [Double] {
        let chunks = (rows + grain - 1) / grain
        let start = maximum ? -Double.infinity : 0
        var partials = [Double](repeating: start, count: chunks * columns)
        partials.withUnsafeMutableBufferPointer { out in
            Parallel.forEachRange(count: rows, grain: grain) { range in
                block(range, out.baseAddress! + (range.lowerBound / grain) * columns)
            }
        }
        var sums = [Double](repeating: start, count: columns)
        for c in 0..<chunks {
            for j in 0..<columns {
                sums[j] = maximum ? Swift.max(sums[j], partials[c * columns + j]) : sums[j] + partials[c * columns + j]
            }
        }
        return sums
    }

    /// Sinkhorn–Knopp with one pass over the kernel per iteration: the row sweep that computes
    /// `u = a / (K v)` also accumulates `Kᵀu`, which the next column update and the error check
    /// (`colsum = v ⊙ Kᵀu`) both need. The iterates are POT's (`v ← b / Kᵀu`, then `u`).
    static func knopp(_ problem: TransportProblem, _ reg: Double, _ options: Options) -> Result {
        let n = problem.rows, m = problem.columns, a = problem.source, b = problem.target
        var kernel = elementwiseExp(problem.cost.scalars, scale: -1 / reg)
        var u = [Double](repeating: 1 / Double(n), count: n), v = [Double](repeating: 1 / Double(m), count: m)
        var errors: [Double] = [], converged = false, warning: String?, iteration = 0
        kernel.withUnsafeBufferPointer { k in
            var ktu = columnSums(rows: n, columns: m) { i, acc in
                DoubleKernels.axpy(acc, k.baseAddress! + i * m, u[i], m)
            }
            for ii in 0..<options.maxIterations {
                iteration = ii
                let previous = (u, v)
                v = zip(b, ktu).map { $0 / $1 }
                var next = [Double](repeating: 0, count: n)
                let nextKtu = next.withUnsafeMutableBufferPointer { out in
                    v.withUnsafeBufferPointer { vp in
                        a.withUnsafeBufferPointer { ap in
                            columnRowBlockSums(rows: n, columns: m) { range, acc in
                                var i = range.lowerBound
                                while i + 4 <= range.upperBound {
                                    DoubleKernels.scaleFourRows(
                                        k.baseAddress! + i * m, m, vp.baseAddress!, ap.baseAddress! + i,
                                        out.baseAddress! + i, acc)
                                    i += 4
                                }
                                while i < range.upperBound {
                                    let row = k.baseAddress! + i * m
                                    let ui = 1 / (DoubleKernels.dot(row, vp.baseAddress!, m) / ap[i])
                                    out[i] = ui
                                    DoubleKernels.axpy(acc, row, ui, m)
                                    i += 1
                                }
                            }
                        }
                    }
                }
                u = next
                if ktu.contains(0) || !u.allSatisfy(\.isFinite) || !v.allSatisfy(\.isFinite) {
                    warning =
                        "numerical errors at iteration \(ii) (the kernel exp(-C/reg) underflows: use the log method or a larger reg); returning the previous iterate"
                    (u, v) = previous
                    break
                }
                ktu = nextKtu
                if ii % 10 == 0 {
                    let err = zip(zip(v, ktu), b).reduce(0) { sum, e in
                        let d = e.0.0 * e.0.1 - e.1
                        return sum + d * d
                    }.squareRoot()
                    errors.append(err)
                    if err < options.stopThreshold {
                        converged = true
                        break
                    }
                }
            }
        }
        // The plan overwrites the kernel: u_i K_ij v_j, no second n×m buffer.
        kernel.withUnsafeMutableBufferPointer { k in
            Parallel.forEachRange(count: n, grain: grain) { range in
                for i in range { for j in 0..<m { k[i * m + j] *= u[i] * v[j] } }
            }
        }
        let plan = Matrix64(rows: n, columns: m, scalars: kernel)
        if !converged && warning == nil {
            warning =
                "did not converge in \(options.maxIterations) iterations (last error \(errors.last ?? .nan) >= \(options.stopThreshold)); returning the last iterate"
        }
        return finish(
            problem, plan: plan, logU: u.map { Foundation.log($0) }, logV: v.map { Foundation.log($0) },
            iterations: iteration + 1,
            errors: errors, converged: converged, warning: warning)
    }

    static func logDomain(
        _ problem: TransportProblem, _ reg: Double, _ options: Options, warmStart: (f: [Double], g: [Double])?
    ) -> Result {
        let n = problem.rows, m = problem.columns
        let logA = problem.source.map { Foundation.log($0) }, logB = problem.target.map { Foundation.log($0) }
        var scaled = [Double](repeating: 0, count: n * m)
        for k in 0..<(n * m) { scaled[k] = -problem.cost.scalars[k] / reg }
        var u = warmStart.map { $0.f.map { $0 / reg } } ?? [Double](repeating: 0, count: n)
        var v = warmStart.map { $0.g.map { $0 / reg } } ?? [Double](repeating: 0, count: m)
        var errors: [Double] = [], converged = false, iteration = 0
        scaled.withUnsafeBufferPointer { mr in
            for ii in 0..<options.maxIterations {
                iteration = ii
                // v = log b − LSE_i(Mr_ij + u_i): column maxima, then column sums of exp(· − max).
                let columnMax = columnSums(rows: n, columns: m, maximum: true) { i, acc in
                    DoubleKernels.maxInto(acc, mr.baseAddress! + i * m, u[i], m)
                }
                let sums = columnMax.withUnsafeBufferPointer { cm in
                    columnSums(rows: n, columns: m) { i, acc in
                        DoubleKernels.accumulateExp(acc, mr.baseAddress! + i * m, u[i], cm.baseAddress!, m)
                    }
                }
                for j in 0..<m { v[j] = logB[j] - (Foundation.log(sums[j]) + columnMax[j]) }
                // u = log a − LSE_j(Mr_ij + v_j).
                u.withUnsafeMutableBufferPointer { up in
                    v.withUnsafeBufferPointer { vp in
                        Parallel.forEachRange(count: n, grain: grain) { range in
                            for i in range {
                                let row = mr.baseAddress! + i * m
                                let largest = DoubleKernels.maxOfSum(row, vp.baseAddress!, m)
                                up[i] =
                                    logA[i]
                                    - (Foundation.log(DoubleKernels.sumExp(row, vp.baseAddress!, -largest, m)) + largest)
                            }
                        }
                    }
                }
                if ii % 10 == 0 {
                    // exp(Mr_ij + u_i + v_j) = exp(Mr_ij + u_i − (−v_j)).
                    let negatedV = v.map { -$0 }
                    let column = negatedV.withUnsafeBufferPointer { nv in
                        columnSums(rows: n, columns: m) { i, acc in
                            DoubleKernels.accumulateExp(acc, mr.baseAddress! + i * m, u[i], nv.baseAddress!, m)
                        }
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
        let plan = scaled.withUnsafeBufferPointer { mr in
            var plan = Matrix64(rows: n, columns: m)
            plan.scalars.withUnsafeMutableBufferPointer { out in
                v.withUnsafeBufferPointer { vp in
                    Parallel.forEachRange(count: n, grain: grain) { range in
                        for i in range {
                            DoubleKernels.exp(
                                out.baseAddress! + i * m, mr.baseAddress! + i * m, plus: vp.baseAddress!, u[i], m)
                        }
                    }
                }
            }
            return plan
        }
        let warning =
            converged
            ? nil
            : "did not converge in \(options.maxIterations) iterations (last error \(errors.last ?? .nan) >= \(options.stopThreshold)); returning the last iterate"
        return finish(
            problem, plan: plan, logU: u, logV: v, iterations: iteration + 1, errors: errors, converged: converged,
            warning: warning)
    }

    static func finish(
        _ problem: TransportProblem, plan: Matrix64, logU: [Double], logV: [Double], iterations: Int, errors: [Double],
        converged: Bool, warning: String?
    ) -> Result {
        Result(
            plan: plan, logU: logU, logV: logV, iterations: iterations, errors: errors, converged: converged,
            warning: warning,
            transportCost: transportCost(plan, problem.cost), marginalError: marginalError(plan, problem))
    }

    /// `⟨P, C⟩`.
    public static func transportCost(_ plan: Matrix64, _ cost: Matrix64) -> Double {
        plan.scalars.withUnsafeBufferPointer { p in
            cost.scalars.withUnsafeBufferPointer { c in
                columnSums(rows: plan.rows, columns: 1) { i, acc in
                    acc[0] += DoubleKernels.dot(
                        p.baseAddress! + i * plan.columns, c.baseAddress! + i * plan.columns, plan.columns)
                }[0]
            }
        }
    }

    /// `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁`.
    public static func marginalError(_ plan: Matrix64, _ problem: TransportProblem) -> Double {
        marginalError(
            plan.scalars, rows: plan.rows, columns: plan.columns, source: problem.source, target: problem.target)
    }

    /// `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁` of a row-major `rows × columns` plan.
    static func marginalError(
        _ plan: [Double], rows n: Int, columns m: Int, source: [Double], target: [Double]
    ) -> Double {
        var rows = [Double](repeating: 0, count: n)
        let columns = rows.withUnsafeMutableBufferPointer { r in
            plan.withUnsafeBufferPointer { p in
                columnSums(rows: n, columns: m) { i, acc in
                    let row = p.baseAddress! + i * m
                    var s = 0.0
                    for j in 0..<m { s += row[j] }
                    r[i] = s
                    DoubleKernels.axpy(acc, row, 1, m)
                }
            }
        }
        return zip(rows, source).reduce(0) { $0 + Swift.abs($1.0 - $1.1) }
            + zip(columns, target).reduce(0) { $0 + Swift.abs($1.0 - $1.1) }
    }
}
