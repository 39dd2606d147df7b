/// The vector helpers of the portable Swift kernels (elementwise maps, reductions, GEMM packing,
/// softmax, the optimizers' passes that are not in the C kernel layer): 8-lane loads and stores,
/// whole or partial, and the 8-lane walk over a range. Kernels whose speed depends on the
/// instruction set are in the C kernel layer instead (`Kernels`).
public enum Lanes {
    /// Eight floats from `p` (no alignment needed).
    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inlinable @inline(__always)
    public static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// `n <= 8` floats from `p + i` in the low lanes (the rest zero).
    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> SIMD8<Float> {
        if n == 8 { return load(p + i) }
        var v = SIMD8<Float>()
        for k in 0..<n { v[k] = p[i + k] }
        return v
    }

    /// The low `n <= 8` lanes of `v` to `p + i`.
    @inlinable @inline(__always)
    public static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
        if n == 8 {
            store(v, p + i)
            return
        }
        for k in 0..<n { p[i + k] = v[k] }
    }

    /// Calls `body(start, lanes)` for 8-lane steps over `range` and one partial step at the end.
    @inlinable @inline(__always)
    public static func forEach(_ range: Range<Int>, _ body: (Int, Int) -> Void) {
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            body(i, 8)
            i += 8
        }
        if i < range.upperBound { body(i, range.upperBound - i) }
    }
}
