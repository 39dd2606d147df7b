import Foundation

#if arch(x86_64)
    import _Builtin_intrinsics.intel
#endif

/// Portable vector `exp` and `log` for `SIMD8<Float>`, for Swift loops that fuse them with other
/// arithmetic; whole-buffer maps go through the kernel layer (`Kernels.map`), which computes the
/// same functions per instruction set. Range reduction plus Cephes' minimax polynomials, all in
/// lane-wise arithmetic and integer bit operations, so a loop over them stays in vector registers
/// (libm's `expf` / `logf` are scalar calls that block vectorization).
///
/// Accuracy, measured against the correctly rounded Double result over a dense sweep of every
/// 61st bit pattern of the domain (see `FastMathTests`): at most 2 ulp for `fastExp` on
/// [-87, 88] and for `fastLog` on normal and subnormal positive floats. Overflow gives +inf,
/// underflow gives 0 (through subnormals), NaN stays NaN, log of 0 is -inf and of a negative is NaN.
public enum FastMath {
    /// `a * b + c` lane-wise as a multiply and an add. Swift code is compiled for the baseline
    /// instruction set, where `addingProduct` would be a libm `fmaf` call per lane; the kernels
    /// that gain from fused multiply-adds live in the C kernel layer (`Kernels`).
    @inlinable @inline(__always)
    public static func fma(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
        a * b + c
    }

    /// The square root lane-wise. Swift's `squareRoot()` keeps C's `errno` semantics (a `sqrtss`
    /// per lane with a libm call for negatives), which blocks vectorization in a build without
    /// flags; on x86-64 this is SSE's `sqrtps` (part of the x86-64 baseline) on each half.
    @inlinable @inline(__always)
    public static func squareRoot(_ x: SIMD8<Float>) -> SIMD8<Float> {
        #if arch(x86_64)
            return SIMD8(lowHalf: _mm_sqrt_ps(x.lowHalf), highHalf: _mm_sqrt_ps(x.highHalf))
        #else
            return x.squareRoot()
        #endif
    }

    @inlinable @inline(__always)
    static func bits(_ x: SIMD8<Float>) -> SIMD8<Int32> { unsafeBitCast(x, to: SIMD8<Int32>.self) }

    @inlinable @inline(__always)
    static func float(_ x: SIMD8<Int32>) -> SIMD8<Float> { unsafeBitCast(x, to: SIMD8<Float>.self) }

    /// `e^x` lane-wise.
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let magic = SIMD8<Float>(repeating: 12_582_912)  // 1.5 * 2^23: adding it rounds to an integer
        // Selects, not `clamped`: the generic pointwise min / max are not inlined.
        var clamped = x.replacing(with: -104, where: x .< -104)
        clamped = clamped.replacing(with: 89, where: clamped .> 89)
        let t = fma(clamped, SIMD8(repeating: 1.442_695_04), magic)
        let n = t - magic
        var r = fma(n, SIMD8(repeating: -0.693_359_375), clamped)
        r = fma(n, SIMD8(repeating: 2.121_944_4e-4), r)
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = fma(p, r, SIMD8(repeating: 1.398_199_95e-3))
        p = fma(p, r, SIMD8(repeating: 8.333_451_9e-3))
        p = fma(p, r, SIMD8(repeating: 4.166_579_59e-2))
        p = fma(p, r, SIMD8(repeating: 1.666_666_55e-1))
        p = fma(p, r, SIMD8(repeating: 5.000_000_1e-1))
        p = fma(p, r * r, r) + 1
        // 2^n as 2^(n/2) * 2^(n - n/2), so n in [-150, 129] never leaves the exponent range and
        // overflow / underflow happen in the final, correctly rounded multiplications.
        let ni = bits(t) &- 0x4B40_0000
        let n1 = ni &>> 1
        let n2 = ni &- n1
        let result = p * float((n1 &+ 127) &<< 23) * float((n2 &+ 127) &<< 23)
        return result.replacing(with: x, where: x .!= x)
    }

    /// Natural logarithm lane-wise.
    @inlinable @inline(__always)
    public static func log(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // Subnormals: scale by 2^23 first.
        let tiny = x .< SIMD8(repeating: Float.leastNormalMagnitude)
        let scaled = x.replacing(with: x * 8_388_608, where: tiny)
        let xb = bits(scaled)
        var e = SIMD8<Float>((xb &>> 23) &- 126)
        e = e.replacing(with: e - 23, where: tiny)
        // mantissa in [0.5, 1)
        var m = float((xb & 0x007F_FFFF) | 0x3F00_0000)
        let small = m .< SIMD8(repeating: 0.707_106_781)
        e = e.replacing(with: e - 1, where: small)
        m = m.replacing(with: m + m, where: small) - 1
        let z = m * m
        var p = SIMD8<Float>(repeating: 7.037_683_629_2e-2)
        p = fma(p, m, SIMD8(repeating: -1.151_461_031_0e-1))
        p = fma(p, m, SIMD8(repeating: 1.167_699_874_0e-1))
        p = fma(p, m, SIMD8(repeating: -1.242_014_084_6e-1))
        p = fma(p, m, SIMD8(repeating: 1.424_932_278_7e-1))
        p = fma(p, m, SIMD8(repeating: -1.666_805_766_5e-1))
        p = fma(p, m, SIMD8(repeating: 2.000_071_476_5e-1))
        p = fma(p, m, SIMD8(repeating: -2.499_999_399_3e-1))
        p = fma(p, m, SIMD8(repeating: 3.333_333_117_4e-1))
        var y = p * m * z
        y = fma(e, SIMD8(repeating: -2.121_944_40e-4), y)
        y = fma(z, SIMD8(repeating: -0.5), y)
        var result = fma(e, SIMD8(repeating: 0.693_359_375), m + y)
        result = result.replacing(with: -.infinity, where: x .== 0)
        result = result.replacing(with: .infinity, where: x .== .infinity)
        result = result.replacing(with: .nan, where: (x .< 0) .| (x .!= x))
        return result
    }

    /// `1 / (1 + e^-x)` lane-wise.
    @inlinable @inline(__always)
    public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 / (1 + exp(-x))
    }

    /// The standard normal CDF `Φ(x)` lane-wise, from `erfc` by Numerical Recipes' Chebyshev fit
    /// (`erfcc`, §6.2: relative error below 1.2e-7 for every argument): `Φ(x) = erfc(−x/√2)/2`
    /// for `x ≤ 0` and `1 − erfc(x/√2)/2` above, so both tails keep their relative accuracy (the
    /// left tail's tiny values too, which `(1 + erf)/2` would cancel away). Within 8 ulp of the
    /// correctly rounded value on [-13, 9] (`FastMathTests`).
    @inlinable @inline(__always)
    public static func normalCDF(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + SIMD8<Float>(repeating: Float(0.5 / 2.0.squareRoot())) * a)
        var p = fma(SIMD8(repeating: 0.17087277), t, SIMD8(repeating: -0.82215223))
        p = fma(p, t, SIMD8(repeating: 1.48851587))
        p = fma(p, t, SIMD8(repeating: -1.13520398))
        p = fma(p, t, SIMD8(repeating: 0.27886807))
        p = fma(p, t, SIMD8(repeating: -0.18628806))
        p = fma(p, t, SIMD8(repeating: 0.09678418))
        p = fma(p, t, SIMD8(repeating: 0.37409196))
        p = fma(p, t, SIMD8(repeating: 1.00002368))
        // e^{−x²/2} as e^{−h²/2}·e^{−(|x|−h)(|x|+h)/2} with h = |x| cut to 12 significant bits, so
        // h² is exact: the rounding of x²/2 itself (|x²/2|·2⁻²⁴, 80 ulp of the result at x = −13)
        // never enters the exponential. The C kernel layer's `vnormalcdff` computes the same.
        let h = float(bits(a) & SIMD8(repeating: -4096))
        let gauss = exp(-0.5 * (h * h)) * exp(-0.5 * (a - h) * (a + h))
        let half = 0.5 * t * gauss * exp(fma(p, t, SIMD8(repeating: -1.26551223)))
        return half.replacing(with: 1 - half, where: x .> 0)
    }

    /// The standard normal density `φ(x) = e^{−x²/2}/√(2π)` lane-wise.
    @inlinable @inline(__always)
    public static func normalDensity(_ x: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(repeating: Float(1 / (2 * Double.pi).squareRoot())) * exp(-0.5 * x * x)
    }

    /// Applies `f` to one scalar through lane 0 of a vector, so scalar tails give exactly the
    /// results of the vector body.
    @inlinable @inline(__always)
    public static func scalar(_ x: Float, _ f: (SIMD8<Float>) -> SIMD8<Float>) -> Float {
        f(SIMD8(repeating: x))[0]
    }
}
