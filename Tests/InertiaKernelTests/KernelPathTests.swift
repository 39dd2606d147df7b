import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor
import InertiaTransport
import XCTest

/// Every kernel of the C kernel layer on every instruction set this CPU supports, each against an
/// exact reference and against the baseline path; and whole computations that go through the
/// table (a training step, log-domain Sinkhorn) on each path against the baseline.
final class KernelPathTests: XCTestCase {
    let paths = InstructionSet.supported

    func testEveryPathIsListedAndBaselineAlwaysRuns() {
        XCTAssertEqual(paths.first, .baseline)
        XCTAssertTrue(InstructionSet.baseline.isSupported)
        for isa in InstructionSet.allCases where !isa.isSupported {
            XCTAssertThrowsError(try Kernels.use(isa), "\(isa) is not supported here and must be refused")
        }
    }

    // MARK: GEMM

    func gemm(
        _ m: Int, _ n: Int, _ k: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float, seed: UInt64
    )
        -> (got: [Float], want: [Float])
    {
        var rng = PhiloxGenerator(seed: seed)
        let pad = 3
        let lda = (transposeA ? m : k) + pad, ldb = (transposeB ? k : n) + pad, ldc = n + pad
        let a = (0..<((transposeA ? k : m) * lda)).map { _ in rng.nextFloat() * 2 - 1 }
        let b = (0..<((transposeB ? n : k) * ldb)).map { _ in rng.nextFloat() * 2 - 1 }
        var c = (0..<(m * ldc)).map { _ in rng.nextFloat() * 2 - 1 }
        var want = c
        GEMMKernel.reference(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &want, ldc: ldc)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    GEMMKernel.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                        a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: beta,
                        c: pc.baseAddress!, ldc: ldc)
                }
            }
        }
        return (c, want)
    }

    func testGEMMOnEveryPathMatchesTheReferenceAndTheBaseline() throws {
        // Sizes around every tile (4, 6, 8, 12, 16, 32) and block (96, 128, 256) edge.
        let shapes = [(1, 1, 1), (5, 7, 3), (13, 33, 17), (12, 32, 256), (25, 65, 257), (97, 129, 300), (200, 40, 513)]
        var seed: UInt64 = 0
        for (m, n, k) in shapes {
            for (tA, tB) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(1, 0), (-0.5, 0.75)] as [(Float, Float)] {
                    seed += 1
                    var baseline: [Float] = []
                    for isa in paths {
                        let (got, want) = try Kernels.with(isa) {
                            gemm(m, n, k, transposeA: tA, transposeB: tB, alpha: alpha, beta: beta, seed: seed)
                        }
                        // Float32 rounding of k products of magnitude <= 1: a few ulp per sqrt(k).
                        let tolerance = 4e-6 * Float(k).squareRoot() * 4
                        let worst = zip(got, want).map { Swift.abs($0 - $1) }.max()!
                        XCTAssertLessThanOrEqual(worst, tolerance, "\(isa) \(m)x\(n)x\(k) tA=\(tA) tB=\(tB)")
                        if isa == .baseline {
                            baseline = got
                        } else {
                            let apart = zip(got, baseline).map { Swift.abs($0 - $1) }.max()!
                            XCTAssertLessThanOrEqual(apart, 2 * tolerance, "\(isa) vs baseline \(m)x\(n)x\(k)")
                        }
                    }
                }
            }
        }
    }

    func testGEMMIsThreadCountIndependentOnEveryPath() throws {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for isa in paths {
            try Kernels.with(isa) {
                Parallel.threadCount = 1
                let one = gemm(300, 260, 270, transposeA: false, transposeB: true, alpha: 1, beta: 0.5, seed: 7).got
                Parallel.threadCount = 2
                let two = gemm(300, 260, 270, transposeA: false, transposeB: true, alpha: 1, beta: 0.5, seed: 7).got
                XCTAssertEqual(one, two, "\(isa): 1 and 2 threads must agree bit for bit")
            }
        }
    }

    // MARK: Float32 vector math

    /// Every 97th bit pattern of [lo, hi] (positive), plus the negatives for functions of any sign.
    func sweep(from lo: Float, to hi: Float, negatives: Bool) -> [Float] {
        var values: [Float] = []
        var bits = lo.bitPattern
        while bits <= hi.bitPattern {
            values.append(Float(bitPattern: bits))
            if negatives { values.append(-Float(bitPattern: bits)) }
            bits += 97
        }
        return values
    }

    func ulps(_ got: Float, _ want: Double) -> Double {
        if got.isNaN || want.isNaN { return got.isNaN == want.isNaN ? 0 : .infinity }
        let rounded = Float(want)
        if got.isInfinite || rounded.isInfinite { return got == rounded ? 0 : .infinity }
        if rounded == 0 || rounded.isSubnormal {
            return Swift.abs(Double(got) - want) / Double(Float.leastNonzeroMagnitude)
        }
        return Swift.abs(Double(got) - want) / Double(rounded.ulp)
    }

    func map(_ function: VectorMathFunction, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                Kernels.map(function, px.baseAddress!, py.baseAddress!, count: x.count)
            }
        }
        return y
    }

    func testExpAndLogWithinTwoUlpOnEveryPath() throws {
        let expInputs =
            sweep(from: 1e-30, to: 87, negatives: true) + [0, 88, -103, 89, -105, .infinity, -.infinity, .nan]
        let logInputs =
            sweep(from: Float.leastNonzeroMagnitude, to: Float.greatestFiniteMagnitude, negatives: false)
            + [0, -1, .infinity, .nan]
        for isa in paths {
            try Kernels.with(isa) {
                let e = map(.exp, expInputs)
                let worstExp = zip(e, expInputs).map { ulps($0, Foundation.exp(Double($1))) }.max()!
                XCTAssertLessThanOrEqual(worstExp, 2, "\(isa) exp")
                let l = map(.log, logInputs)
                let worstLog = zip(l, logInputs).map { ulps($0, Foundation.log(Double($1))) }.max()!
                XCTAssertLessThanOrEqual(worstLog, 2, "\(isa) log")
            }
        }
    }

    func testSigmoidAndSiluMatchDoubleOnEveryPathAndTailsMatchTheBody() throws {
        let x = (0..<1003).map { Float($0 - 501) * 0.07 }
        var baseline: [[Float]] = []
        for isa in paths {
            try Kernels.with(isa) {
                let s = map(.sigmoid, x), u = map(.silu, x)
                for (i, v) in x.enumerated() {
                    let sigmoid = 1 / (1 + Foundation.exp(-Double(v)))
                    XCTAssertEqual(
                        Double(s[i]), sigmoid, accuracy: 4 * Double(Float(sigmoid).ulp), "\(isa) sigmoid(\(v))")
                    XCTAssertEqual(
                        Double(u[i]), Double(v) * sigmoid,
                        accuracy: 4 * Double(Float(Swift.abs(Double(v) * sigmoid)).ulp) + 1e-30, "\(isa) silu(\(v))")
                }
                // The last three elements go through the padded tail: the same values as in a full vector.
                let tail = Array(x.suffix(3))
                XCTAssertEqual(map(.sigmoid, tail), Array(s.suffix(3)), "\(isa)")
                if isa == .baseline {
                    baseline = [s, u]
                } else {
                    for (a, b) in zip(s + u, baseline[0] + baseline[1]) {
                        XCTAssertEqual(a, b, accuracy: 4 * Swift.max(a.magnitude, 1e-30).ulp, "\(isa) vs baseline")
                    }
                }
            }
        }
    }

    // MARK: Float64 vector math

    func ulps(_ got: Double, _ want: Double) -> Double {
        if got.isNaN || want.isNaN { return got.isNaN == want.isNaN ? 0 : .infinity }
        if got.isInfinite || want.isInfinite { return got == want ? 0 : .infinity }
        if want == 0 || want.isSubnormal { return Swift.abs(got - want) / Double.leastNonzeroMagnitude }
        return Swift.abs(got - want) / want.ulp
    }

    /// The Float64 exp against libm (itself within 1 ulp) on a dense pseudo-random sweep of
    /// [-745, 709] plus the edges: at most 2 ulp apart where the result is normal; subnormal results
    /// within 1 ulp of the smallest subnormal; overflow, underflow and NaN as libm.
    func testFloat64ExpWithin2UlpOfLibmOnEveryPath() throws {
        var rng = SplitMix64(seed: 17)
        var inputs = (0..<400_000).map { _ in -745 + 1454 * Double(rng.next() >> 11) * 0x1p-53 }
        inputs += [
            0, -0.0, 1e-300, -1e-300, 0.5 * Double.ulpOfOne, 709.78, -708.39, -744.4, 1, -1, 0.34657359, -0.34657359,
        ]
        inputs += [800, -800, .nan, -.infinity, .infinity]
        for isa in paths {
            try Kernels.with(isa) {
                var y = [Double](repeating: 0, count: inputs.count)
                Kernels.exp(inputs, &y, count: inputs.count)
                var worst = 0.0
                for (x, got) in zip(inputs, y) {
                    let exact = Foundation.exp(x)
                    if x.isNaN {
                        XCTAssertTrue(got.isNaN, "\(isa)")
                    } else if exact.isInfinite || exact == 0 {
                        XCTAssertEqual(got, exact, "\(isa) x = \(x)")
                    } else if exact >= Double.leastNormalMagnitude {
                        worst = Swift.max(worst, Swift.abs(got - exact) / exact.ulp)
                    } else {
                        XCTAssertLessThanOrEqual(
                            Swift.abs(got - exact), Double.leastNonzeroMagnitude, "\(isa) x = \(x)")
                    }
                }
                XCTAssertLessThanOrEqual(worst, 2, "\(isa): worst Float64 exp error \(worst) ulp")
            }
        }
    }

    /// The Float64 cos against libm on a dense pseudo-random sweep of [-1e5, 1e5], near multiples of
    /// π/2 (where the result is tiny and the reduction matters) and tiny arguments: at most 2 ulp of
    /// the result; arguments beyond 1e5, infinities and NaN as libm.
    func testFloat64CosWithin2UlpOfLibmOnEveryPath() throws {
        var rng = SplitMix64(seed: 23)
        var inputs = (0..<200_000).map { _ in -1e5 + 2e5 * Double(rng.next() >> 11) * 0x1p-53 }
        inputs += (0..<100_000).map { _ in -10 + 20 * Double(rng.next() >> 11) * 0x1p-53 }
        for k in 1...4000 {
            let multiple: Double = Double(k) * Double.pi / 2
            inputs += [multiple, multiple + 1e-9, -multiple]
        }
        inputs += [0, -0.0, 1e-300, 1e-8, Double.pi / 4, -Double.pi / 4, 1e5, -1e5]
        let special: [Double] = [.infinity, .nan, 1e300, 2e5]
        for isa in paths {
            try Kernels.with(isa) {
                var y = [Double](repeating: 0, count: inputs.count)
                Kernels.cos(inputs, &y, count: inputs.count)
                var worst = 0.0
                for (x, got) in zip(inputs, y) {
                    let exact = Foundation.cos(x)
                    worst = Swift.max(
                        worst, Swift.abs(got - exact) / Swift.max(Swift.abs(exact), Double.leastNormalMagnitude).ulp)
                }
                XCTAssertLessThanOrEqual(worst, 2, "\(isa): worst Float64 cos error \(worst) ulp")
                var s = [Double](repeating: 0, count: special.count)
                Kernels.cos(special, &s, count: special.count)
                XCTAssertTrue(s[0].isNaN && s[1].isNaN, "\(isa)")
                XCTAssertEqual(s[2], Foundation.cos(1e300), "\(isa)")
                XCTAssertEqual(s[3], Foundation.cos(2e5), "\(isa)")
            }
        }
    }

    func testFloat64SumsOfExponentialsOnEveryPath() throws {
        var rng = PhiloxGenerator(seed: 3)
        let y = (0..<1001).map { _ in Double(rng.nextFloat()) * 4 - 2 }
        let x = (0..<1001).map { _ in Double(rng.nextFloat()) * 4 - 2 }
        for isa in paths {
            try Kernels.with(isa) {
                let sum = Kernels.table.pointee.sum_exp_f64(x, y, -0.5, x.count)
                let exact = zip(x, y).map { Foundation.exp($0 + $1 - 0.5) }.reduce(0, +)
                XCTAssertEqual(sum, exact, accuracy: 1e-13 * exact, "\(isa) sumExp")
                var acc = [Double](repeating: 1, count: x.count)
                Kernels.table.pointee.accumulate_exp_f64(&acc, x, 0.25, y, x.count)
                for j in 0..<x.count {
                    XCTAssertEqual(
                        acc[j], 1 + Foundation.exp(x[j] + 0.25 - y[j]), accuracy: 4 * acc[j].ulp, "\(isa) accumulateExp"
                    )
                }
            }
        }
    }

    /// Philox blocks from the kernel layer (`fill`) are the words the scalar generator gives, on
    /// every path, for fills that start mid-block and end with a partial block.
    func testPhiloxFillMatchesTheScalarStreamOnEveryPath() throws {
        for isa in paths {
            try Kernels.with(isa) {
                for (skip, count) in [(0, 64), (1, 4), (3, 101), (2, 1000)] {
                    var scalar = PhiloxGenerator(seed: 0xDEAD_BEEF_1234)
                    var bulk = scalar
                    for _ in 0..<skip {
                        _ = scalar.nextUInt32()
                        _ = bulk.nextUInt32()
                    }
                    let expected = (0..<count).map { _ in scalar.nextUInt32() }
                    var words = [UInt32](repeating: 0, count: count)
                    words.withUnsafeMutableBufferPointer { bulk.fill($0) }
                    XCTAssertEqual(words, expected, "\(isa) skip \(skip) count \(count)")
                    XCTAssertEqual(bulk.nextUInt32(), scalar.nextUInt32(), "\(isa): the state after the fill")
                }
            }
        }
    }

    /// The optimizers' fused passes give the same bits on every path (no contraction; lane-wise);
    /// those with reductions (AuON's brake, AM-AdamW's β) agree to Float32 rounding.
    func testOptimizerPassesAgreeOnEveryPath() throws {
        func run(_ makeOptimizer: () throws -> Optimizer) throws -> [Float] {
            var rng = PhiloxGenerator(seed: 21)
            let p = Parameter(Tensor.normal([37, 29], standardDeviation: 1, using: &rng))
            let optimizer = try makeOptimizer()
            for _ in 0..<4 {
                p.value.grad = Tensor.normal([37, 29], standardDeviation: 1, using: &rng)
                optimizer.step([("p", p)])
            }
            return p.value.scalars
        }
        let optimizers: [(String, () throws -> Optimizer)] = [
            ("adamw", { try AdamW(learningRate: 1e-2) }),
            ("amsgrad", { try Adam(learningRate: 1e-2, weightDecay: 0.1, amsgrad: true) }),
            ("lion", { try Lion(learningRate: 1e-3, weightDecay: 0.1) }),
            ("sgd-nesterov", { try SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true) }),
            ("sgd", { try SGD(learningRate: 0.1) }),
            ("nadam", { try NAdam(learningRate: 1e-2, weightDecay: 0.1) }),
            ("radam", { try RAdam(learningRate: 1e-2) }),
            ("adagrad", { try Adagrad(learningRate: 1e-2, weightDecay: 0.1) }),
            ("rmsprop-centered-momentum", { try RMSprop(learningRate: 1e-2, momentum: 0.9, centered: true) }),
            ("adamp-nesterov", { try AdamP(learningRate: 1e-2, weightDecay: 0.1, nesterov: true) }),
            ("lion-k", { try LionK(learningRate: 1e-3, weightDecay: 0.1) }),
        ]
        for (name, make) in optimizers {
            let baseline = try Kernels.with(.baseline) { try run(make) }
            for isa in paths where isa != .baseline {
                XCTAssertEqual(try Kernels.with(isa) { try run(make) }, baseline, "\(name) on \(isa)")
            }
        }
        let reducing: [(String, () throws -> Optimizer)] = [
            ("auon", { try AuON(learningRate: 0.05) }),
            ("am-adamw", { try AMAdamW(learningRate: 1e-2) }),
        ]
        for (name, make) in reducing {
            let baseline = try Kernels.with(.baseline) { try run(make) }
            for isa in paths where isa != .baseline {
                let got = try Kernels.with(isa) { try run(make) }
                let worst = zip(got, baseline).map { Swift.abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, 1e-5, "\(name) on \(isa)")
                var rng = PhiloxGenerator(seed: 21)
                let start = Tensor.normal([37, 29], standardDeviation: 1, using: &rng).scalars
                let moved = zip(got, start).map { Swift.abs($0 - $1) }.max()!
                XCTAssertGreaterThan(
                    moved, 100 * worst,
                    "\(name) on \(isa): the steps move the parameters far more than the paths differ")
            }
        }
    }

    // MARK: Whole computations on each path

    /// Five AdamW steps of a small network whose forward pass uses GEMM, sigmoid, SiLU and
    /// log-softmax (so the table's kernels) on each path, against the baseline path.
    func testTrainingStepsAgreeAcrossPaths() throws {
        func run() throws -> [Float] {
            var rng = PhiloxGenerator(seed: 11)
            let w1 = Parameter(Tensor.normal([20, 48], standardDeviation: 0.3, using: &rng))
            let w2 = Parameter(Tensor.normal([48, 10], standardDeviation: 0.3, using: &rng))
            let x = Tensor.normal([64, 20], standardDeviation: 1, using: &rng)
            let labels = IndexTensor(shape: [64, 1], indices: (0..<64).map { $0 % 10 })
            let optimizer = try AdamW(learningRate: 1e-2)
            for _ in 0..<5 {
                w1.zeroGrad()
                w2.zeroGrad()
                let hidden = x.matmul(w1.value).sigmoid() * x.matmul(w1.value).silu()
                let loss = -hidden.matmul(w2.value).logSoftmax(alongAxis: 1).gather(alongAxis: 1, indices: labels)
                    .mean()
                loss.backward()
                optimizer.step([("w1", w1), ("w2", w2)])
            }
            return w1.value.scalars + w2.value.scalars
        }
        let baseline = try Kernels.with(.baseline) { try run() }
        for isa in paths where isa != .baseline {
            let got = try Kernels.with(isa) { try run() }
            let worst = zip(got, baseline).map { Swift.abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-5, "\(isa): parameters after five AdamW steps vs the baseline path")
        }
    }

    func testConvolutionAndPoolingAgreeAcrossPaths() throws {
        // The im2col gather / scatter, the panel transposes and max pooling move values only; the
        // GEMM tile differs by rounding.
        func run() -> [Float] {
            var rng = PhiloxGenerator(seed: 5)
            let x = Tensor.normal([9, 3, 13, 11], standardDeviation: 1, using: &rng).requiringGrad()
            let w = Tensor.normal([10, 3, 3, 3], standardDeviation: 0.3, using: &rng).requiringGrad()
            let y = Tensor.convolution2D(
                x, weight: w, window: Window2D(kernel: (3, 3), stride: (1, 2), padding: (1, 1))
            ).relu().maxPooled2D(Window2D(kernel: (3, 2), stride: (2, 2), padding: (1, 0)))
            (y * y).sum().backward()
            return y.scalars + x.grad!.scalars + w.grad!.scalars
        }
        let baseline = try Kernels.with(.baseline) { run() }
        for isa in paths where isa != .baseline {
            let got = try Kernels.with(isa) { run() }
            let worst = zip(got, baseline).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max()!
            XCTAssertLessThan(worst, 1e-5, "\(isa): convolution and pooling values and gradients vs the baseline path")
        }
    }

    func testLogSinkhornAgreesAcrossPaths() throws {
        var rng = PhiloxGenerator(seed: 5)
        let n = 37, m = 45
        let xs = (0..<n).map { _ in Double(rng.nextFloat()) }, ys = (0..<m).map { _ in Double(rng.nextFloat()) }
        let cost = Matrix64(rows: n, columns: m, scalars: xs.flatMap { x in ys.map { y in (x - y) * (x - y) } })
        let problem = try TransportProblem(
            source: [Double](repeating: 1.0 / Double(n), count: n),
            target: [Double](repeating: 1.0 / Double(m), count: m), cost: cost)
        let solve = {
            try Sinkhorn.solve(problem, regularization: 0.01, options: .init(method: .log, maxIterations: 2000))
        }
        let baseline = try Kernels.with(.baseline) { try solve() }
        XCTAssertTrue(baseline.converged)
        for isa in paths where isa != .baseline {
            let got = try Kernels.with(isa) { try solve() }
            XCTAssertEqual(got.iterations, baseline.iterations, "\(isa)")
            XCTAssertEqual(got.transportCost, baseline.transportCost, accuracy: 1e-12, "\(isa)")
            XCTAssertLessThan(
                zip(got.plan.scalars, baseline.plan.scalars).map { Swift.abs($0 - $1) }.max()!, 1e-12, "\(isa)")
        }
    }
}
