/// Single-precision matrix multiply: `C = alpha * op(A) * op(B) + beta * C`, row-major, with
/// optional transposed operands.
///
/// The structure is the one of GotoBLAS / BLIS: `B` is packed into `kc x nr` column panels, `A`
/// into `mr x kc` row panels, and a register-tiled micro-kernel multiplies one pair of panels. The
/// micro-kernel, its `mr x nr` tile and `kc` come from the active instruction set's kernel table
/// (`Kernels`: 12x32 on AVX-512, 6x16 on AVX2, 4x8 on the baseline, all with kc = 256); the
/// blocking and packing here are shared. Work is split into chunks of (row block, column group)
/// whose boundaries depend only on the sizes, and every element of C sums its products in the same
/// order whatever thread runs it, so results do not depend on the thread count.
public enum GEMMKernel {
    /// Rows of one block of work (a multiple of every tile's rows).
    public static let mc = 96
    public static let nc = 4096
    /// Columns of one chunk of work (a multiple of every tile's columns).
    public static let columnGroup = 128
    /// Elements of a `B` block packed without a parallel region.
    static let smallPack = 16 * 1024

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
        let kernels = Kernels.gemmTable
        let mr = kernels.pointee.sgemm_mr, nr = kernels.pointee.sgemm_nr, kc = kernels.pointee.sgemm_kc
        let tile = kernels.pointee.sgemm_tile!
        let serial = m * n * k < 48 * 48 * 48
        func run(_ chunks: Int, _ body: (Int) -> Void) {
            if serial {
                for i in 0..<chunks { body(i) }
            } else {
                Parallel.forEach(chunks: chunks, body)
            }
        }
        // Cache-line aligned, so no vector load of a panel straddles two lines.
        let packedB = allocateAligned(kc * min(nc, roundUp(n, nr)))
        defer { packedB.deallocate() }
        let packedA = allocateAligned(roundUp(m, mr) * min(kc, k))
        defer { packedA.deallocate() }
        let rowPanels = (m + mr - 1) / mr
        let rowBlocks = (m + mc - 1) / mc
        for jc in stride(from: 0, to: n, by: nc) {
            let ncb = min(nc, n - jc)
            let columnPanels = (ncb + nr - 1) / nr
            let groups = (ncb + columnGroup - 1) / columnGroup
            for pc in stride(from: 0, to: k, by: kc) {
                let kcb = min(kc, k - pc)
                let packB = { (panel: Int) in
                    packPanelB(
                        transposeB, using: kernels, b, ldb, row: pc, column: jc + panel * nr, depth: kcb,
                        width: min(nr, ncb - panel * nr), panelWidth: nr, into: packedB + panel * nr * kcb)
                }
                // A small B is packed by the caller: a parallel region costs more than the copy.
                if ncb * kcb <= smallPack {
                    for panel in 0..<columnPanels { packB(panel) }
                } else {
                    run(columnPanels, packB)
                }
                let packA = { (panel: Int) in
                    packPanelA(
                        transposeA, using: kernels, a, lda, row: panel * mr, column: pc, depth: kcb,
                        height: min(mr, m - panel * mr), panelHeight: mr, into: packedA + panel * mr * kcb)
                }
                // With one column group a row block's panels are used by one chunk only, which packs
                // them itself: one parallel region instead of two.
                if groups > 1 { run(rowPanels, packA) }
                let betaBlock = pc == 0 ? beta : 1
                run(rowBlocks * groups) { index in
                    let ic = (index / groups) * mc
                    let mcb = min(mc, m - ic)
                    if groups == 1 {
                        for panel in stride(from: ic / mr, to: (ic + mcb + mr - 1) / mr, by: 1) { packA(panel) }
                    }
                    let firstColumn = (index % groups) * columnGroup
                    let lastColumn = min(ncb, firstColumn + columnGroup)
                    for jr in stride(from: firstColumn, to: lastColumn, by: nr) {
                        for ir in stride(from: 0, to: mcb, by: mr) {
                            tile(
                                kcb, packedA + (ic + ir) * kcb, packedB + (jr / nr) * nr * kcb,
                                c + (ic + ir) * ldc + jc + jr, ldc,
                                min(mr, mcb - ir), min(nr, ncb - jr), alpha, betaBlock)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func allocateAligned(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    @inline(__always)
    static func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }

    /// Packs `op(B)[row..<row+depth, column..<column+width]` as `depth` rows of `panelWidth`
    /// (a multiple of 8; zero padded).
    @inline(__always)
    static func packPanelB(
        _ transposed: Bool, using kernels: UnsafePointer<inertia_kernel_table>, _ b: UnsafePointer<Float>, _ ldb: Int,
        row: Int, column: Int, depth: Int, width: Int, panelWidth nr: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        if !transposed && width == nr {
            for p in 0..<depth {
                let src = b + (row + p) * ldb + column
                for j in stride(from: 0, to: nr, by: 8) {
                    Lanes.store(Lanes.load(src + j), dst + p * nr + j)
                }
            }
            return
        }
        if !transposed {
            for p in 0..<depth {
                let src = b + (row + p) * ldb + column, out = dst + p * nr
                for j in 0..<width { out[j] = src[j] }
                for j in width..<nr { out[j] = 0 }
            }
            return
        }
        // op(B) rows are B's columns: a blocked transpose, then the zero padding.
        kernels.pointee.transpose_f32(b + column * ldb + row, ldb, width, depth, dst, nr)
        if width < nr {
            for p in 0..<depth { (dst + p * nr + width).update(repeating: 0, count: nr - width) }
        }
    }

    /// Packs `op(A)[row..<row+height, column..<column+depth]` as `depth` columns of `panelHeight`
    /// (zero padded).
    @inline(__always)
    static func packPanelA(
        _ transposed: Bool, using kernels: UnsafePointer<inertia_kernel_table>, _ a: UnsafePointer<Float>, _ lda: Int,
        row: Int, column: Int, depth: Int, height: Int, panelHeight mr: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        if transposed {
            for p in 0..<depth {
                let src = a + (column + p) * lda + row, out = dst + p * mr
                for i in 0..<height { out[i] = src[i] }
                for i in height..<mr { out[i] = 0 }
            }
            return
        }
        // The panel holds A's rows as columns: a blocked transpose, then the zero padding.
        kernels.pointee.transpose_f32(a + row * lda + column, lda, height, depth, dst, mr)
        if height < mr {
            for p in 0..<depth { (dst + p * mr + height).update(repeating: 0, count: mr - height) }
        }
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
