import Foundation

/// Portable vector `exp` and `log` for `SIMD8<Float>` (and `exp`, `cos` for `SIMD4<Double>`), for
/// Swift loops that fuse them with other arithmetic; whole-buffer maps go through the C kernel
/// layer (`Kernels.map`), which computes the same functions per instruction set.
/// Range reduction plus Cephes' minimax
/// polynomials, all in lane-wise arithmetic and integer bit operations, so a loop over them stays
/// in vector registers (libm's `expf` / `logf` are scalar calls that block vectorization).
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

    /// `a * b + c` lane-wise in Float64, a multiply and an add (see the Float32 form).
    @inlinable @inline(__always)
    public static func fma(_ a: SIMD4<Double>, _ b: SIMD4<Double>, _ c: SIMD4<Double>) -> SIMD4<Double> {
        a * b + c
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

    /// `e^x` lane-wise in Float64, for the transport solvers: Cody–Waite reduction `x = n·ln2 + r`
    /// (`|r| <= ln2/2`), the Taylor polynomial of `e^r` to degree 13 (truncation below 2e-17
    /// relative), then `2^n` split as `2^(n/2)·2^(n − n/2)` so results down to the subnormal range
    /// round once. At most 2 ulp against libm over [-745, 709] (`FastMathTests`); overflow gives
    /// +inf, underflow 0, NaN stays NaN.
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let magic = SIMD4<Double>(repeating: 6_755_399_441_055_744)  // 1.5 * 2^52: adding it rounds to an integer
        var clamped = x.replacing(with: -746, where: x .< -746)
        clamped = clamped.replacing(with: 710, where: clamped .> 710)
        let t = fma(clamped, SIMD4(repeating: 1.442_695_040_888_963_4), magic)
        let n = t - magic
        var r = fma(n, SIMD4(repeating: -0.693_147_180_369_123_816_49), clamped)
        r = fma(n, SIMD4(repeating: -1.908_214_929_270_587_700_02e-10), r)
        // Horner on 1/k!, k = 13 ... 2 (unrolled: no array in the hot path).
        var p = SIMD4<Double>(repeating: 1.0 / 6_227_020_800)
        p = fma(p, r, SIMD4(repeating: 1.0 / 479_001_600))
        p = fma(p, r, SIMD4(repeating: 1.0 / 39_916_800))
        p = fma(p, r, SIMD4(repeating: 1.0 / 3_628_800))
        p = fma(p, r, SIMD4(repeating: 1.0 / 362_880))
        p = fma(p, r, SIMD4(repeating: 1.0 / 40_320))
        p = fma(p, r, SIMD4(repeating: 1.0 / 5_040))
        p = fma(p, r, SIMD4(repeating: 1.0 / 720))
        p = fma(p, r, SIMD4(repeating: 1.0 / 120))
        p = fma(p, r, SIMD4(repeating: 1.0 / 24))
        p = fma(p, r, SIMD4(repeating: 1.0 / 6))
        p = fma(p, r, SIMD4(repeating: 0.5))
        p = fma(p, r * r, r) + 1
        let ni = unsafeBitCast(t, to: SIMD4<Int64>.self) &- 0x4338_0000_0000_0000
        let n1 = ni &>> 1
        let n2 = ni &- n1
        let scale1 = unsafeBitCast((n1 &+ 1023) &<< 52, to: SIMD4<Double>.self)
        let scale2 = unsafeBitCast((n2 &+ 1023) &<< 52, to: SIMD4<Double>.self)
        let result = p * scale1 * scale2
        return result.replacing(with: x, where: x .!= x)
    }

    /// `cos x` lane-wise in Float64: reduction by π/2 in four Cody–Waite parts (fdlibm's split of
    /// π/2 and its last tail, 33-bit parts whose products with the quotient are exact, so even
    /// results near the zeros of cos keep their relative accuracy), then fdlibm's sine and cosine kernel
    /// polynomials on `[−π/4, π/4]` chosen by quadrant. At most 2 ulp against libm for
    /// `|x| ≤ 1e5` (`FastMathTests`); a vector with any lane beyond that, infinite or NaN goes to
    /// libm lane by lane.
    @inlinable @inline(__always)
    public static func cos(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let magnitude = x.replacing(with: -x, where: x .< 0)
        guard all(magnitude .<= SIMD4(repeating: 1e5)) else {
            return SIMD4(Foundation.cos(x[0]), Foundation.cos(x[1]), Foundation.cos(x[2]), Foundation.cos(x[3]))
        }
        let magic = SIMD4<Double>(repeating: 6_755_399_441_055_744)  // 1.5 * 2^52: adding it rounds to an integer
        let t = fma(x, SIMD4(repeating: 0.636_619_772_367_581_382_43), magic)
        let n = t - magic
        var r = fma(n, SIMD4(repeating: -1.570_796_326_734_125_614_17), x)
        r = fma(n, SIMD4(repeating: -6.077_100_506_303_965_976_60e-11), r)
        r = fma(n, SIMD4(repeating: -2.022_266_248_711_166_455_80e-21), r)
        r = fma(n, SIMD4(repeating: -8.478_427_660_368_899_569_97e-32), r)
        let quadrant = (unsafeBitCast(t, to: SIMD4<Int64>.self) &- 0x4338_0000_0000_0000) & 3
        let z = r * r
        var sine = SIMD4<Double>(repeating: 1.589_690_995_211_550_102_21e-10)
        sine = fma(sine, z, SIMD4(repeating: -2.505_076_025_340_686_341_95e-08))
        sine = fma(sine, z, SIMD4(repeating: 2.755_731_370_707_006_767_89e-06))
        sine = fma(sine, z, SIMD4(repeating: -1.984_126_982_985_794_931_34e-04))
        sine = fma(sine, z, SIMD4(repeating: 8.333_333_333_322_489_461_24e-03))
        sine = fma(sine, z, SIMD4(repeating: -1.666_666_666_666_663_243_48e-01))
        sine = fma(r * z, sine, r)
        var cosine = SIMD4<Double>(repeating: -1.135_964_755_778_819_482_65e-11)
        cosine = fma(cosine, z, SIMD4(repeating: 2.087_572_321_298_174_827_90e-09))
        cosine = fma(cosine, z, SIMD4(repeating: -2.755_731_435_139_066_330_35e-07))
        cosine = fma(cosine, z, SIMD4(repeating: 2.480_158_728_947_672_941_78e-05))
        cosine = fma(cosine, z, SIMD4(repeating: -1.388_888_888_887_410_957_49e-03))
        cosine = fma(cosine, z, SIMD4(repeating: 4.166_666_666_666_660_190_37e-02))
        let half = 0.5 * z, w = 1 - half
        cosine = w + (((1 - w) - half) + z * z * cosine)
        let base = cosine.replacing(with: sine, where: (quadrant & 1) .== 1)
        return base.replacing(with: -base, where: ((quadrant &+ 1) & 2) .!= 0)
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

    /// Applies `f` to one scalar through lane 0 of a vector, so scalar tails give exactly the
    /// results of the vector body.
    @inlinable @inline(__always)
    public static func scalar(_ x: Float, _ f: (SIMD8<Float>) -> SIMD8<Float>) -> Float {
        f(SIMD8(repeating: x))[0]
    }
}
