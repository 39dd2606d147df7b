/// Single-precision matrix multiply in pure Swift: `C = alpha * op(A) * op(B) + beta * C`,
/// row-major, with optional transposed operands.
///
/// The structure is the one of GotoBLAS / BLIS: `B` is packed into `kc x 16` column panels,
/// `A` into `6 x kc` row panels, and a 6x16 register-blocked micro-kernel (12 vector
/// accumulators of 8 lanes) multiplies one pair of panels. Work is split into chunks of
/// (row block, column group) whose boundaries depend only on the sizes, and every element of C
/// sums its products in the same order whatever thread runs it, so results do not depend on the
/// thread count.
public enum GEMMKernel {
    public static let mr = 6
    public static let nr = 16
    public static let kc = 256
    public static let mc = 96
    public static let nc = 4096
    /// Columns of one chunk of work.
    public static let columnGroup = 128

    /// `C[m x n] = alpha * op(A) * op(B) + beta * C`. `op(A)` is `m x k`: `A` is stored `m x k`
    /// (leading dimension `lda`) or, with `transposeA`, `k x m`; likewise `B`. With `beta == 0`,
    /// `C` is not read (NaN in it does not propagate).
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 || alpha == 0 {
            for i in 0..<m {
                for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] }
            }
            return
        }
        let serial = m * n * k < 48 * 48 * 48
        func run(_ chunks: Int, _ body: (Int) -> Void) {
            if serial {
                for i in 0..<chunks { body(i) }
            } else {
                Parallel.forEach(chunks: chunks, body)
            }
        }
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: kc * min(nc, roundUp(n, nr)))
        defer { packedB.deallocate() }
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: roundUp(m, mr) * min(kc, k))
        defer { packedA.deallocate() }
        let rowPanels = (m + mr - 1) / mr
        let rowBlocks = (m + mc - 1) / mc
        for jc in stride(from: 0, to: n, by: nc) {
            let ncb = min(nc, n - jc)
            let columnPanels = (ncb + nr - 1) / nr
            let groups = (ncb + columnGroup - 1) / columnGroup
            for pc in stride(from: 0, to: k, by: kc) {
                let kcb = min(kc, k - pc)
                run(columnPanels) { panel in
                    packPanelB(
                        transposeB, b, ldb, row: pc, column: jc + panel * nr, depth: kcb,
                        width: min(nr, ncb - panel * nr), into: packedB + panel * nr * kcb)
                }
                run(rowPanels) { panel in
                    packPanelA(
                        transposeA, a, lda, row: panel * mr, column: pc, depth: kcb,
                        height: min(mr, m - panel * mr), into: packedA + panel * mr * kcb)
                }
                let betaBlock = pc == 0 ? beta : 1
                run(rowBlocks * groups) { index in
                    let ic = (index / groups) * mc
                    let mcb = min(mc, m - ic)
                    let firstColumn = (index % groups) * columnGroup
                    let lastColumn = min(ncb, firstColumn + columnGroup)
                    for jr in stride(from: firstColumn, to: lastColumn, by: nr) {
                        for ir in stride(from: 0, to: mcb, by: mr) {
                            microKernel(
                                depth: kcb, a: packedA + (ic + ir) * kcb, b: packedB + (jr / nr) * nr * kcb,
                                c: c + (ic + ir) * ldc + jc + jr, ldc: ldc,
                                rows: min(mr, mcb - ir), columns: min(nr, ncb - jr), alpha: alpha, beta: betaBlock)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }

    /// Packs `op(B)[row..<row+depth, column..<column+width]` as `depth` rows of 16 (zero padded).
    @inline(__always)
    static func packPanelB(
        _ transposed: Bool, _ b: UnsafePointer<Float>, _ ldb: Int, row: Int, column: Int, depth: Int, width: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        if !transposed && width == nr {
            for p in 0..<depth {
                let src = b + (row + p) * ldb + column
                ElementwiseKernels.store(ElementwiseKernels.load(src), dst + p * nr)
                ElementwiseKernels.store(ElementwiseKernels.load(src + 8), dst + p * nr + 8)
            }
            return
        }
        if !transposed {
            for p in 0..<depth {
                let src = b + (row + p) * ldb + column
                for j in 0..<nr { dst[p * nr + j] = j < width ? src[j] : 0 }
            }
            return
        }
        for j in 0..<nr {
            if j < width {
                let src = b + (column + j) * ldb + row
                for p in 0..<depth { dst[p * nr + j] = src[p] }
            } else {
                for p in 0..<depth { dst[p * nr + j] = 0 }
            }
        }
    }

    /// Packs `op(A)[row..<row+height, column..<column+depth]` as `depth` columns of 6 (zero padded).
    @inline(__always)
    static func packPanelA(
        _ transposed: Bool, _ a: UnsafePointer<Float>, _ lda: Int, row: Int, column: Int, depth: Int, height: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        if transposed {
            for p in 0..<depth {
                let src = a + (column + p) * lda + row
                for i in 0..<mr { dst[p * mr + i] = i < height ? src[i] : 0 }
            }
            return
        }
        if height == mr {
            // Six row streams read in step, the panel written contiguously.
            let r0 = a + row * lda + column, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda
            var out = dst
            for p in 0..<depth {
                out[0] = r0[p]
                out[1] = r1[p]
                out[2] = r2[p]
                out[3] = r3[p]
                out[4] = r4[p]
                out[5] = r5[p]
                out += mr
            }
            return
        }
        for i in 0..<mr {
            if i < height {
                let src = a + (row + i) * lda + column
                for p in 0..<depth { dst[p * mr + i] = src[p] }
            } else {
                for p in 0..<depth { dst[p * mr + i] = 0 }
            }
        }
    }

    /// `C[rows x columns] = alpha * Apanel * Bpanel + beta * C` for one 6x16 tile.
    @inline(__always)
    static func microKernel(
        depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
        rows: Int, columns: Int, alpha: Float, beta: Float
    ) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var pa = a
        var pb = b
        for _ in 0..<depth {
            let b0 = ElementwiseKernels.load(pb)
            let b1 = ElementwiseKernels.load(pb + 8)
            var s = V(repeating: pa[0])
            c00 = FastMath.fma(s, b0, c00); c01 = FastMath.fma(s, b1, c01)
            s = V(repeating: pa[1])
            c10 = FastMath.fma(s, b0, c10); c11 = FastMath.fma(s, b1, c11)
            s = V(repeating: pa[2])
            c20 = FastMath.fma(s, b0, c20); c21 = FastMath.fma(s, b1, c21)
            s = V(repeating: pa[3])
            c30 = FastMath.fma(s, b0, c30); c31 = FastMath.fma(s, b1, c31)
            s = V(repeating: pa[4])
            c40 = FastMath.fma(s, b0, c40); c41 = FastMath.fma(s, b1, c41)
            s = V(repeating: pa[5])
            c50 = FastMath.fma(s, b0, c50); c51 = FastMath.fma(s, b1, c51)
            pa += mr
            pb += nr
        }
        let va = V(repeating: alpha)
        let vb = V(repeating: beta)
        let full = columns == nr
        @inline(__always) func write(_ r: Int, _ lo: V, _ hi: V) {
            guard r < rows else { return }
            let row = c + r * ldc
            var lo = lo * va
            var hi = hi * va
            if full {
                if beta != 0 {
                    lo = FastMath.fma(ElementwiseKernels.load(row), vb, lo)
                    hi = FastMath.fma(ElementwiseKernels.load(row + 8), vb, hi)
                }
                ElementwiseKernels.store(lo, row)
                ElementwiseKernels.store(hi, row + 8)
                return
            }
            for j in 0..<columns {
                let v = j < 8 ? lo[j] : hi[j - 8]
                row[j] = beta == 0 ? v : FastMath.fma(SIMD8(repeating: row[j]), vb, SIMD8(repeating: v))[0]
            }
        }
        write(0, c00, c01)
        write(1, c10, c11)
        write(2, c20, c21)
        write(3, c30, c31)
        write(4, c40, c41)
        write(5, c50, c51)
    }

    /// The textbook triple loop in Double, for tests.
    public static func reference(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: inout [Float], ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(x) * Double(y)
                }
                let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * s + prior)
            }
        }
    }
}
