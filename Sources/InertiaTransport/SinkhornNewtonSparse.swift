import Foundation
import InertiaTensor

/// Sinkhorn-Newton-Sparse (X. Tang et al., "Accelerating Sinkhorn Algorithm with Sparse Newton
/// Iterations", ICLR 2024; `shared/papers/sinkhorn-newton-sparse.md` 2.2–2.4): a Sinkhorn warm
/// start, then Newton steps on the concave dual ("Lyapunov") potential
///
///     f(x, y) = −(1/η)·Σ P_ij + ⟨r, x⟩ + ⟨c, y⟩,   P_ij = exp(η(−C_ij + x_i + y_j) − 1)
///
/// whose Hessian keeps only the largest entries of the plan (plus every row and column sum on
/// the diagonal), solved by conjugate gradient, with an Armijo line search whose increment is
/// computed directly (not as a difference of two `f`), a per-row floor and a stall guard. Stops
/// on the L1 marginal error `‖P1 − r‖₁ + ‖Pᵀ1 − c‖₁`. Float64 throughout; zero-mass rows and
/// columns are dropped and re-inserted as zeros.
public enum SinkhornNewtonSparse {
    /// Iteration limits, tolerance and the sparsification of the Hessian.
    public struct Options: Sendable {
        /// Sinkhorn iterations before Newton (`N1`; the paper's 20, or 700 for W1 costs).
        public var warmStartIterations = 20
        /// At most this many Newton steps (`N2`).
        public var maxNewtonIterations = 500
        /// Kept fraction of the plan's entries, `λ_P`; `nil`: `3/n` (the paper's `2/n` on the Hessian).
        public var density: Double?
        /// Keep at least `max(3, ⌈λ_P·m⌉)` entries in every row.
        public var rowFloor = true
        /// Double `λ_P` (up to 1) when the error has not fallen tenfold over 10 Newton steps.
        public var stallGuard = true
        /// Stop when the L1 marginal error is below this.
        public var tolerance = 1e-9
        public var conjugateGradientTolerance = 1e-8
        public var conjugateGradientIterations = 1000

        public init(
            warmStartIterations: Int = 20, maxNewtonIterations: Int = 500, density: Double? = nil,
            tolerance: Double = 1e-9
        ) {
            self.warmStartIterations = warmStartIterations
            self.maxNewtonIterations = maxNewtonIterations
            self.density = density
            self.tolerance = tolerance
        }
    }

    /// The plan, its cost, the Sinkhorn and Newton iterations taken, convergence and the final Hessian
    /// density.
    public struct Result: Sendable {
        public var plan: Matrix64
        /// Dual potentials `x` (rows) and `y` (columns); zero-mass entries are 0.
        public var x: [Double], y: [Double]
        public var sinkhornIterations: Int
        public var newtonIterations: Int
        /// The L1 marginal error after each iteration, Sinkhorn stage then Newton stage.
        public var errorHistory: [Double]
        /// Seconds since the iterations began at each entry of `errorHistory`.
        public var secondsHistory: [Double]
        public var converged: Bool
        /// `λ_P` at the end (the stall guard may have raised it).
        public var finalDensity: Double
        public var conjugateGradientIterations: Int
        /// `f` at the returned potentials.
        public var potential: Double
        /// `⟨C, P⟩`.
        public var transportCost: Double
        public var warning: String?
    }

    public static func solve(_ problem: TransportProblem, eta: Double, options: Options = Options()) throws -> Result {
        guard eta > 0 && eta.isFinite else {
            throw TransportError.invalidInput("eta (1/reg) must be a positive number, got \(eta)")
        }
        guard options.warmStartIterations >= 0, options.maxNewtonIterations >= 0 else {
            throw TransportError.invalidInput("iteration counts must be >= 0")
        }
        if let d = options.density, !(d > 0 && d <= 1) {
            throw TransportError.invalidInput("density must lie in (0, 1], got \(d)")
        }
        let rowsKept = problem.source.indices.filter { problem.source[$0] > 0 }
        let columnsKept = problem.target.indices.filter { problem.target[$0] > 0 }
        var reduced = Matrix64(rows: rowsKept.count, columns: columnsKept.count)
        for (i, row) in rowsKept.enumerated() {
            for (j, column) in columnsKept.enumerated() { reduced[i, j] = problem.cost[row, column] }
        }
        var dual = Dual(
            cost: reduced, r: rowsKept.map { problem.source[$0] }, c: columnsKept.map { problem.target[$0] }, eta: eta)
        var result = dual.run(options)
        // Re-insert the zero-mass rows and columns.
        var plan = Matrix64(rows: problem.rows, columns: problem.columns)
        var x = [Double](repeating: 0, count: problem.rows), y = [Double](repeating: 0, count: problem.columns)
        for (i, row) in rowsKept.enumerated() {
            x[row] = dual.x[i]
            for (j, column) in columnsKept.enumerated() { plan[row, column] = result.plan[i, j] }
        }
        for (j, column) in columnsKept.enumerated() { y[column] = dual.y[j] }
        result.plan = plan
        result.x = x
        result.y = y
        result.transportCost = zip(plan.scalars, problem.cost.scalars).reduce(0) { $0 + $1.0 * $1.1 }
        return result
    }

    /// The baseline of the spec's experiments: log-domain Sinkhorn in the order of 2.2 (x, then
    /// y), stopped on the L1 marginal error like SNS. Returns the iterations, the final error and,
    /// per iteration, the error and the seconds since the start.
    public static func sinkhorn(
        _ problem: TransportProblem, eta: Double, tolerance: Double, maxIterations: Int
    ) throws
        -> (iterations: Int, marginalError: Double, errorHistory: [Double], secondsHistory: [Double])
    {
        guard eta > 0 && eta.isFinite else {
            throw TransportError.invalidInput("eta (1/reg) must be a positive number, got \(eta)")
        }
        guard problem.source.allSatisfy({ $0 > 0 }) && problem.target.allSatisfy({ $0 > 0 }) else {
            throw TransportError.invalidInput("this Sinkhorn needs positive weights")
        }
        var dual = Dual(cost: problem.cost, r: problem.source, c: problem.target, eta: eta)
        let started = DispatchTime.now().uptimeNanoseconds
        var count = 0, error = dual.marginalError(dual.plan())
        var errors: [Double] = [], seconds: [Double] = []
        while count < maxIterations && error >= tolerance {
            dual.sinkhornIteration()
            count += 1
            error = dual.marginalError(dual.plan())
            errors.append(error)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9)
        }
        return (count, error, errors, seconds)
    }

    /// The dual problem on positive marginals.
    struct Dual {
        let cost: Matrix64
        /// `−η·C`, the exponent's fixed part.
        let scaled: [Double]
        let r: [Double], c: [Double]
        let eta: Double
        var x: [Double], y: [Double]

        init(cost: Matrix64, r: [Double], c: [Double], eta: Double) {
            self.cost = cost
            self.scaled = cost.scalars.map { -eta * $0 }
            self.r = r
            self.c = c
            self.eta = eta
            x = [Double](repeating: 0, count: r.count)
            y = [Double](repeating: 0, count: c.count)
        }

        var n: Int { r.count }
        var m: Int { c.count }

        /// `P(x, y) = exp(−ηC_ij + (ηx_i − 1) + ηy_j)`.
        func plan() -> [Double] {
            let (n, m) = (self.n, self.m)
            let etaY = y.map { eta * $0 }
            return [Double](unsafeUninitializedCapacity: n * m) { out, initialized in
                scaled.withUnsafeBufferPointer { sp in
                    etaY.withUnsafeBufferPointer { ey in
                        Parallel.forEachRange(count: n, grain: 16) { range in
                            for i in range {
                                DoubleKernels.exp(
                                    out.baseAddress! + i * m, sp.baseAddress! + i * m, plus: ey.baseAddress!,
                                    eta * x[i] - 1, m)
                            }
                        }
                    }
                }
                initialized = n * m
            }
        }

        func sums(_ p: [Double]) -> (rows: [Double], columns: [Double]) {
            var rows = [Double](repeating: 0, count: n), columns = [Double](repeating: 0, count: m)
            for i in 0..<n {
                var s = 0.0
                for j in 0..<m {
                    s += p[i * m + j]
                    columns[j] += p[i * m + j]
                }
                rows[i] = s
            }
            return (rows, columns)
        }

        func potential(_ p: [Double]) -> Double {
            -p.reduce(0, +) / eta + zip(r, x).reduce(0) { $0 + $1.0 * $1.1 } + zip(c, y).reduce(0) { $0 + $1.0 * $1.1 }
        }

        func marginalError(_ p: [Double]) -> Double {
            Sinkhorn.marginalError(p, rows: n, columns: m, source: r, target: c)
        }

        /// One Sinkhorn iteration (2.2): the x-update (exact row sums), then the y-update with the new x:
        /// `x_i = (log r_i − LSE_j(ηy_j − ηC_ij) + 1)/η`, and the same for `y` over columns.
        mutating func sinkhornIteration() {
            let (n, m, eta) = (self.n, self.m, self.eta)
            let etaY = y.map { eta * $0 }
            var newX = x
            newX.withUnsafeMutableBufferPointer { out in
                scaled.withUnsafeBufferPointer { sp in
                    etaY.withUnsafeBufferPointer { ey in
                        Parallel.forEachRange(count: n, grain: 16) { range in
                            for i in range {
                                let row = sp.baseAddress! + i * m
                                let largest = DoubleKernels.maxOfSum(row, ey.baseAddress!, m)
                                let s = DoubleKernels.sumExp(row, ey.baseAddress!, -largest, m)
                                out[i] = (Foundation.log(r[i]) - Foundation.log(s) - largest + 1) / eta
                            }
                        }
                    }
                }
            }
            x = newX
            let etaX = x.map { eta * $0 }
            scaled.withUnsafeBufferPointer { sp in
                let largest = Sinkhorn.columnSums(rows: n, columns: m, maximum: true) { i, acc in
                    DoubleKernels.maxInto(acc, sp.baseAddress! + i * m, etaX[i], m)
                }
                let sums = largest.withUnsafeBufferPointer { lp in
                    Sinkhorn.columnSums(rows: n, columns: m) { i, acc in
                        DoubleKernels.accumulateExp(acc, sp.baseAddress! + i * m, etaX[i], lp.baseAddress!, m)
                    }
                }
                for j in 0..<m { y[j] = (Foundation.log(c[j]) - Foundation.log(sums[j]) - largest[j] + 1) / eta }
            }
        }

        mutating func run(_ options: Options) -> Result {
            var history: [Double] = [], seconds: [Double] = []
            let started = DispatchTime.now().uptimeNanoseconds
            func record(_ error: Double) {
                history.append(error)
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9)
            }
            for _ in 0..<options.warmStartIterations {
                sinkhornIteration()
                record(marginalError(plan()))
            }
            var density = options.density ?? Swift.min(1, 3 / Double(n))
            var newtonErrors: [Double] = [], lastRaise = 0, newtonSteps = 0, cgTotal = 0, converged = false
            var warning: String?
            var p = plan()
            for t in 1...Swift.max(options.maxNewtonIterations + 1, 1) {
                let (rowSums, columnSums) = sums(p)
                let g = zip(r, rowSums).map { $0 - $1 } + zip(c, columnSums).map { $0 - $1 }
                let err = g.reduce(0) { $0 + Swift.abs($1) }
                newtonErrors.append(err)
                if t > 1 { record(err) }
                if err < options.tolerance {
                    converged = true
                    break
                }
                if t > options.maxNewtonIterations { break }
                if options.stallGuard && t - lastRaise > 10 && newtonErrors.count >= 11
                    && err > newtonErrors[newtonErrors.count - 11] / 10 && density < 1
                {
                    density = Swift.min(1, 2 * density)
                    lastRaise = t
                }
                let kept = sparsified(p, density: density, rowFloor: options.rowFloor)
                let (dz, iterations) = conjugateGradient(kept, rowSums, columnSums, g, options)
                cgTotal += iterations
                guard let alpha = lineSearch(p, g, dz) else {
                    warning = "the line search found no ascent at Newton step \(t) (error \(err)); stopped"
                    break
                }
                for i in 0..<n { x[i] += alpha * dz[i] }
                for j in 0..<m { y[j] += alpha * dz[n + j] }
                newtonSteps += 1
                p = plan()
            }
            if !converged && warning == nil {
                warning =
                    "did not reach the tolerance \(options.tolerance) in \(options.maxNewtonIterations) Newton steps (error \(newtonErrors.last ?? .nan))"
            }
            return Result(
                plan: Matrix64(rows: n, columns: m, scalars: p), x: x, y: y,
                sinkhornIterations: options.warmStartIterations,
                newtonIterations: newtonSteps, errorHistory: history, secondsHistory: seconds, converged: converged,
                finalDensity: density,
                conjugateGradientIterations: cgTotal, potential: potential(p), transportCost: 0, warning: warning)
        }

        /// The kept entries of `P` in compressed rows: those `>=` the `⌈λ·n·m⌉`-th largest, and with
        /// the floor the `max(3, ⌈λ·m⌉)` largest of each row.
        func sparsified(
            _ p: [Double], density: Double, rowFloor: Bool
        ) -> (start: [Int], column: [Int], value: [Double]) {
            let k = Swift.min(n * m, Swift.max(1, Int((density * Double(n * m)).rounded(.up))))
            let perRow = Swift.min(m, Swift.max(3, Int((density * Double(m)).rounded(.up))))
            var start = [0], column: [Int] = [], value: [Double] = []
            p.withUnsafeBufferPointer { all in
                let threshold = kthLargest(all, k)
                for i in 0..<n {
                    let row = UnsafeBufferPointer(rebasing: all[(i * m)..<((i + 1) * m)])
                    let rowThreshold = rowFloor ? kthLargest(row, perRow) : .infinity
                    for j in 0..<m where row[j] >= threshold || row[j] >= rowThreshold {
                        column.append(j)
                        value.append(row[j])
                    }
                    start.append(column.count)
                }
            }
            return (start, column, value)
        }

        /// CG on `A dz = g`, `A = η[[diag(P1), P̃], [P̃ᵀ, diag(Pᵀ1)]]`, from `dz = 0`.
        func conjugateGradient(
            _ kept: (start: [Int], column: [Int], value: [Double]), _ rowSums: [Double], _ columnSums: [Double],
            _ g: [Double], _ options: Options
        ) -> ([Double], Int) {
            let size = n + m
            // A·v into `out`, over the kept entries in CSR order (the same order of additions as a
            // plain loop, on unchecked pointers and without a new array per product).
            func apply(_ v: [Double], into out: inout [Double]) {
                kept.start.withUnsafeBufferPointer { start in
                    kept.column.withUnsafeBufferPointer { column in
                        kept.value.withUnsafeBufferPointer { value in
                            rowSums.withUnsafeBufferPointer { rows in
                                columnSums.withUnsafeBufferPointer { columns in
                                    v.withUnsafeBufferPointer { v in
                                        out.withUnsafeMutableBufferPointer { out in
                                            out.update(repeating: 0)
                                            for i in 0..<n {
                                                let vi = v[i]
                                                var s = rows[i] * vi
                                                for e in start[i]..<start[i + 1] {
                                                    let j = n + column[e], w = value[e]
                                                    s += w * v[j]
                                                    out[j] += w * vi
                                                }
                                                out[i] = eta * s
                                            }
                                            for j in 0..<m { out[n + j] = eta * (out[n + j] + columns[j] * v[n + j]) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            func dot(_ a: [Double], _ b: [Double]) -> Double {
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        var total = 0.0
                        for k in 0..<a.count { total += a[k] * b[k] }
                        return total
                    }
                }
            }
            var ad = [Double](repeating: 0, count: size)
            var dz = [Double](repeating: 0, count: size), residual = g, direction = g
            var rs = dot(residual, residual)
            let target = options.conjugateGradientTolerance * rs.squareRoot()
            var iterations = 0
            while iterations < options.conjugateGradientIterations && rs.squareRoot() > target {
                apply(direction, into: &ad)
                let curvature = dot(direction, ad)
                guard curvature > 0 else { break }
                let step = rs / curvature
                for k in 0..<size {
                    dz[k] += step * direction[k]
                    residual[k] -= step * ad[k]
                }
                let next = dot(residual, residual)
                for k in 0..<size { direction[k] = residual[k] + next / rs * direction[k] }
                rs = next
                iterations += 1
            }
            return (dz, iterations)
        }

        /// Armijo backtracking for the maximisation, with the increment
        /// `Δf(α) = α·g·dz − (1/η)·Σ P_ij·φ(ηα(dz_x,i + dz_y,j))`, `φ(u) = expm1(u) − u`.
        func lineSearch(_ p: [Double], _ g: [Double], _ dz: [Double]) -> Double? {
            let slope = zip(g, dz).reduce(0) { $0 + $1.0 * $1.1 }
            guard slope > 0 else { return nil }
            var alpha = 1.0
            for _ in 0...60 {
                let scaledY = (0..<m).map { eta * alpha * dz[n + $0] }
                let penalty = p.withUnsafeBufferPointer { pp in
                    scaledY.withUnsafeBufferPointer { yp in
                        Sinkhorn.columnSums(rows: n, columns: 1) { i, acc in
                            acc[0] += DoubleKernels.weightedPhi(
                                pp.baseAddress! + i * m, eta * alpha * dz[i], yp.baseAddress!, m)
                        }[0]
                    }
                }
                if alpha * slope - penalty / eta >= 1e-4 * alpha * slope { return alpha }
                alpha /= 2
            }
            return nil
        }
    }

    /// The `k`-th largest value (1-based). Large inputs of non-negative numbers (plans) by a radix
    /// select on the bit patterns, which order like the values: one read-only pass histograms the
    /// top 16 bits, and the later 16-bit digits only look at the values that share the digits
    /// chosen so far. Otherwise quickselect on a copy, `O(count)` expected.
    static func kthLargest(_ values: UnsafeBufferPointer<Double>, _ k: Int) -> Double {
        precondition(k >= 1 && k <= values.count, "kthLargest: k = \(k) of \(values.count)")
        if values.count >= 1 << 16, values.allSatisfy({ $0 >= 0 }) {
            return radixSelect(values, k)
        }
        if k <= 64 && !values.contains(where: \.isNaN) {
            return topK(values, k)
        }
        var a = Array(values)
        return a.withUnsafeMutableBufferPointer { quickselect($0, k) }
    }

    static func kthLargest(_ values: [Double], _ k: Int) -> Double {
        values.withUnsafeBufferPointer { kthLargest($0, k) }
    }

    static func radixSelect(_ values: UnsafeBufferPointer<Double>, _ k: Int) -> Double {
        // +0.0 for −0.0, so every bit pattern has the sign bit clear.
        @inline(__always) func key(_ x: Double) -> UInt64 { (x + 0).bitPattern }
        var prefix: UInt64 = 0, remaining = k
        var counts = [Int](repeating: 0, count: 1 << 16)
        var candidates: [UInt64] = []
        for shift in stride(from: 48, through: 0, by: -16) {
            for b in counts.indices { counts[b] = 0 }
            if shift == 48 {
                for x in values { counts[Int(key(x) >> 48)] += 1 }
            } else {
                for bits in candidates { counts[Int((bits >> UInt64(shift)) & 0xFFFF)] += 1 }
            }
            var digit = (1 << 16) - 1
            while counts[digit] < remaining {
                remaining -= counts[digit]
                digit -= 1
            }
            prefix |= UInt64(digit) << UInt64(shift)
            let highMask: UInt64 = shift == 0 ? ~0 : ~((1 << UInt64(shift)) - 1)
            if shift == 48 {
                candidates = values.lazy.map(key).filter { $0 & highMask == prefix }
            } else {
                candidates = candidates.filter { $0 & highMask == prefix }
            }
        }
        return Double(bitPattern: prefix)
    }

    /// The `k`-th largest for small `k`: the `k` largest so far kept sorted, most values rejected
    /// by one comparison with the smallest of them.
    static func topK(_ values: UnsafeBufferPointer<Double>, _ k: Int) -> Double {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: k) { best in
            var count = 0
            for x in values {
                if count == k && x <= best[k - 1] { continue }
                var i = count == k ? k - 1 : count
                if count < k { count += 1 }
                while i > 0 && best[i - 1] < x {
                    best[i] = best[i - 1]
                    i -= 1
                }
                best[i] = x
            }
            return best[k - 1]
        }
    }

    /// Quickselect (Hoare partition) in place: the `k`-th largest.
    static func quickselect(_ a: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
        var low = 0, high = a.count - 1
        let target = k - 1  // index in descending order
        while low < high {
            let pivot = a[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while a[i] > pivot { i += 1 }
                while a[j] < pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j { high = j } else if target >= i { low = i } else { break }
        }
        return a[target]
    }
}
