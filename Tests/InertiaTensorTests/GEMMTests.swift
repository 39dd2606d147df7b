import XCTest

@testable import InertiaTensor

final class GEMMTests: XCTestCase {
    /// Runs one GEMM against the Double reference, with padded leading dimensions.
    func check(
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float,
        pad: Int, backend: GEMM.Backend, seed: UInt64
    ) {
        var rng = PhiloxGenerator(seed: seed)
        let lda = (transposeA ? m : k) + pad, ldb = (transposeB ? k : n) + pad, ldc = n + pad
        let a = (0..<((transposeA ? k : m) * lda)).map { _ in rng.nextFloat() * 2 - 1 }
        let b = (0..<((transposeB ? n : k) * ldb)).map { _ in rng.nextFloat() * 2 - 1 }
        let c0 = (0..<(m * ldc)).map { _ in rng.nextFloat() * 2 - 1 }
        var expected = c0
        GEMMKernel.reference(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &expected, ldc: ldc)
        var c = c0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    GEMM.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                        a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: beta,
                        c: pc.baseAddress!, ldc: ldc, backend: backend)
                }
            }
        }
        let tolerance = 1e-5 * Float(Swift.max(k, 1)).squareRoot() * 4
        for i in 0..<m {
            for j in 0..<ldc {
                let got = c[i * ldc + j], want = j < n ? expected[i * ldc + j] : c0[i * ldc + j]
                if Swift.abs(got - want) > tolerance {
                    XCTFail(
                        "\(backend) m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB) pad=\(pad) at (\(i),\(j)): \(got) vs \(want)"
                    )
                    return
                }
            }
        }
    }

    func testEverySizeFrom1To67WithTransposes() {
        var seed: UInt64 = 0
        for size in 1...67 {
            for (tA, tB) in [(false, false), (true, false), (false, true), (true, true)] {
                seed += 1
                check(
                    m: size, n: size, k: size, transposeA: tA, transposeB: tB, alpha: 1, beta: 0, pad: 0,
                    backend: .swift, seed: seed)
            }
        }
    }

    func testRectangularShapesStridesAlphaBeta() {
        var seed: UInt64 = 1000
        for (m, n, k) in [(1, 67, 3), (67, 1, 5), (13, 17, 300), (7, 33, 1), (100, 40, 520), (5, 300, 9)] {
            for (tA, tB) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(1, 0), (0.5, 1), (-2, 0.25)] as [(Float, Float)] {
                    seed += 1
                    check(
                        m: m, n: n, k: k, transposeA: tA, transposeB: tB, alpha: alpha, beta: beta, pad: 3,
                        backend: .swift, seed: seed)
                }
            }
        }
    }

    func testLargeParallelProductIsIndependentOfThreadCount() {
        let a = randomTensor([300, 280], seed: 1), b = randomTensor([280, 310], seed: 2)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        let previous = GEMM.backend
        defer { GEMM.backend = previous }
        GEMM.backend = .swift
        Parallel.threadCount = 1
        let one = a.matmul(b).scalars
        Parallel.threadCount = 2
        let two = a.matmul(b).scalars
        XCTAssertEqual(one, two)
        check(
            m: 300, n: 310, k: 280, transposeA: false, transposeB: false, alpha: 1, beta: 0, pad: 0,
            backend: .swift, seed: 7)
    }

    func testBetaZeroIgnoresNaNInOutput() {
        var c = [Float](repeating: .nan, count: 4)
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [1, 0, 0, 1]
        GEMMKernel.sgemm(
            transposeA: false, transposeB: false, m: 2, n: 2, k: 2, alpha: 1, a: a, lda: 2,
            b: b, ldb: 2, beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [1, 2, 3, 4])
    }

    func testOpenBLASBackendAgreesWhenInstalled() throws {
        try XCTSkipUnless(GEMM.isOpenBLASAvailable, "libopenblas.so.0 is not installed")
        var seed: UInt64 = 5000
        for (m, n, k) in [(1, 1, 1), (17, 33, 65), (64, 64, 64), (100, 3, 250)] {
            for (tA, tB) in [(false, false), (true, false), (false, true), (true, true)] {
                seed += 1
                check(
                    m: m, n: n, k: k, transposeA: tA, transposeB: tB, alpha: 1.5, beta: 0.5, pad: 2,
                    backend: .openBLAS, seed: seed)
            }
        }
    }

    func testBatchedMatmulBroadcastsLeadingDimensions() {
        let a = randomTensor([2, 1, 3, 4], seed: 3), b = randomTensor([3, 4, 5], seed: 4)
        let c = a.matmul(b)
        XCTAssertEqual(c.shape, [2, 3, 3, 5])
        for i in 0..<2 {
            for j in 0..<3 {
                let ai = a.slice(alongAxis: 0, i..<(i + 1)).reshaped(to: [3, 4])
                let bj = b.slice(alongAxis: 0, j..<(j + 1)).reshaped(to: [4, 5])
                let cij = c.slice(alongAxis: 0, i..<(i + 1)).slice(alongAxis: 1, j..<(j + 1)).reshaped(to: [3, 5])
                var expected = [Float](repeating: 0, count: 15)
                GEMMKernel.reference(
                    transposeA: false, transposeB: false, m: 3, n: 5, k: 4, alpha: 1, a: ai.scalars,
                    lda: 4, b: bj.scalars, ldb: 5, beta: 0, c: &expected, ldc: 5)
                assertClose(cij.scalars, expected, tolerance: 1e-5)
            }
        }
    }
}
