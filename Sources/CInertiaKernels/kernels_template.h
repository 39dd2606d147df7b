// The body of every kernel, written once. Each kernels_<isa>.c file defines the vector widths and
// the GEMM tile, wraps this file in a `target` attribute for its instruction set and includes it,
// so the compiler emits one copy per instruction set from the same source. Nothing here may
// depend on the instruction set except through VLEN, DLEN, GEMM_MR and GEMM_NV.
//
// Expects: VLEN (floats per vector), DLEN (doubles per vector), GEMM_MR (tile rows), GEMM_NV
// (vectors per tile row), KERNEL_ISA (the inertia_isa value), KERNEL_TABLE (the table's name).

#include <math.h>
#include <string.h>

#include "CInertiaKernels.h"

typedef float vf __attribute__((vector_size(VLEN * 4)));
typedef float vf_unaligned __attribute__((vector_size(VLEN * 4), aligned(4)));
typedef int vi __attribute__((vector_size(VLEN * 4)));
typedef double vd __attribute__((vector_size(DLEN * 8)));
typedef double vd_unaligned __attribute__((vector_size(DLEN * 8), aligned(8)));
typedef long long vl __attribute__((vector_size(DLEN * 8)));

#define GEMM_NR (GEMM_NV * VLEN)

static inline __attribute__((always_inline)) vf loadf(const float *p) { return *(const vf_unaligned *)p; }
static inline __attribute__((always_inline)) void storef(vf v, float *p) { *(vf_unaligned *)p = v; }
static inline __attribute__((always_inline)) vd loadd(const double *p) { return *(const vd_unaligned *)p; }
static inline __attribute__((always_inline)) void stored(vd v, double *p) { *(vd_unaligned *)p = v; }
static inline __attribute__((always_inline)) vf splatf(float s) {
    vf v;
    for (int k = 0; k < VLEN; k++) v[k] = s;
    return v;
}
static inline __attribute__((always_inline)) vd splatd(double s) {
    vd v;
    for (int k = 0; k < DLEN; k++) v[k] = s;
    return v;
}
/// Lane-wise `mask ? a : b` for the all-ones / all-zeros masks that comparisons give.
static inline __attribute__((always_inline)) vf selectf(vi mask, vf a, vf b) {
    return (vf)((mask & (vi)a) | (~mask & (vi)b));
}
static inline __attribute__((always_inline)) vd selectd(vl mask, vd a, vd b) {
    return (vd)((mask & (vl)a) | (~mask & (vl)b));
}

// MARK: GEMM

static void sgemm_tile(long depth, const float *a, const float *b, float *c, long ldc, long rows, long columns,
                       float alpha, float beta) {
    vf acc[GEMM_MR][GEMM_NV];
#pragma clang loop unroll(full)
    for (int i = 0; i < GEMM_MR; i++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < GEMM_NV; j++) acc[i][j] = splatf(0);
    }
    for (long p = 0; p < depth; p++) {
        vf bv[GEMM_NV];
#pragma clang loop unroll(full)
        for (int j = 0; j < GEMM_NV; j++) bv[j] = loadf(b + j * VLEN);
#if VLEN == 4 && GEMM_MR == 4
        // 128-bit vectors: one load of the four A values and a shuffle per row (on SSE2 a
        // broadcast from memory is itself a load and a shuffle; NEON fuses lane-indexed FMAs).
        vf av = loadf(a);
        vf s0 = __builtin_shufflevector(av, av, 0, 0, 0, 0);
        vf s1 = __builtin_shufflevector(av, av, 1, 1, 1, 1);
        vf s2 = __builtin_shufflevector(av, av, 2, 2, 2, 2);
        vf s3 = __builtin_shufflevector(av, av, 3, 3, 3, 3);
#pragma clang loop unroll(full)
        for (int j = 0; j < GEMM_NV; j++) {
            acc[0][j] = s0 * bv[j] + acc[0][j];
            acc[1][j] = s1 * bv[j] + acc[1][j];
            acc[2][j] = s2 * bv[j] + acc[2][j];
            acc[3][j] = s3 * bv[j] + acc[3][j];
        }
#else
#pragma clang loop unroll(full)
        for (int i = 0; i < GEMM_MR; i++) {
            vf s = splatf(a[i]);
#pragma clang loop unroll(full)
            for (int j = 0; j < GEMM_NV; j++) acc[i][j] = s * bv[j] + acc[i][j];
        }
#endif
        a += GEMM_MR;
        b += GEMM_NR;
    }
    vf va = splatf(alpha), vb = splatf(beta);
    if (rows == GEMM_MR && columns == GEMM_NR) {
#pragma clang loop unroll(full)
        for (int i = 0; i < GEMM_MR; i++) {
            float *row = c + i * ldc;
#pragma clang loop unroll(full)
            for (int j = 0; j < GEMM_NV; j++) {
                vf v = acc[i][j] * va;
                if (beta != 0) v = loadf(row + j * VLEN) * vb + v;
                storef(v, row + j * VLEN);
            }
        }
        return;
    }
    float tile[GEMM_MR][GEMM_NR];
#pragma clang loop unroll(full)
    for (int i = 0; i < GEMM_MR; i++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < GEMM_NV; j++) storef(acc[i][j] * va, &tile[i][j * VLEN]);
    }
    for (long i = 0; i < rows; i++) {
        float *row = c + i * ldc;
        for (long j = 0; j < columns; j++) row[j] = beta == 0 ? tile[i][j] : row[j] * beta + tile[i][j];
    }
}

// MARK: Float32 vector math (Cephes' minimax polynomials with exact range reduction)

static inline __attribute__((always_inline)) vf vexpf(vf x) {
    const vf magic = splatf(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
    vf clamped = selectf(x < splatf(-104.0f), splatf(-104.0f), x);
    clamped = selectf(clamped > splatf(89.0f), splatf(89.0f), clamped);
    vf t = clamped * 1.44269504f + magic;
    vf n = t - magic;
    vf r = n * -0.693359375f + clamped;
    r = n * 2.1219444e-4f + r;
    vf p = splatf(1.98756915e-4f);
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.0000001e-1f;
    p = p * (r * r) + r;
    p = p + 1.0f;
    // 2^n as 2^(n/2) * 2^(n - n/2): n in [-150, 129] never leaves the exponent range, and overflow
    // and underflow happen in the last, correctly rounded multiplications.
    vi ni = (vi)t - 0x4B400000;
    vi n1 = ni >> 1;
    vi n2 = ni - n1;
    vf result = p * (vf)((n1 + 127) << 23) * (vf)((n2 + 127) << 23);
    return selectf(x != x, x, result);
}

static inline __attribute__((always_inline)) vf vlogf(vf x) {
    vi tiny = x < splatf(1.17549435e-38f);
    vf scaled = selectf(tiny, x * 8388608.0f, x);
    vi bits = (vi)scaled;
    vf e = __builtin_convertvector((bits >> 23) - 126, vf);
    e = selectf(tiny, e - 23.0f, e);
    vf m = (vf)((bits & 0x007FFFFF) | 0x3F000000);  // mantissa in [0.5, 1)
    vi small = m < splatf(0.707106781f);
    e = selectf(small, e - 1.0f, e);
    m = selectf(small, m + m, m) - 1.0f;
    vf z = m * m;
    vf p = splatf(7.0376836292e-2f);
    p = p * m + -1.1514610310e-1f;
    p = p * m + 1.1676998740e-1f;
    p = p * m + -1.2420140846e-1f;
    p = p * m + 1.4249322787e-1f;
    p = p * m + -1.6668057665e-1f;
    p = p * m + 2.0000714765e-1f;
    p = p * m + -2.4999993993e-1f;
    p = p * m + 3.3333331174e-1f;
    vf y = p * m * z;
    y = e * -2.12194440e-4f + y;
    y = z * -0.5f + y;
    vf result = e * 0.693359375f + (m + y);
    result = selectf(x == splatf(0.0f), splatf(-INFINITY), result);
    result = selectf(x == splatf(INFINITY), splatf(INFINITY), result);
    result = selectf((x < splatf(0.0f)) | (x != x), splatf(NAN), result);
    return result;
}

static inline __attribute__((always_inline)) vf vsigmoidf(vf x) { return 1.0f / (1.0f + vexpf(-x)); }
static inline __attribute__((always_inline)) vf vsiluf(vf x) { return x / (1.0f + vexpf(-x)); }

/// The standard normal CDF Φ(x), and the density φ(x) in `*density`: Numerical Recipes' `erfcc`
/// Chebyshev fit (relative error below 1.2e-7) on |x|/√2, Φ = erfc/2 on the left and 1 − erfc/2
/// on the right, with e^{−x²/2} = e^{−h²/2}·e^{−(|x|−h)(|x|+h)/2} for h = |x| cut to 12
/// significant bits (h² exact), so the rounding of x²/2 never reaches the exponential
/// (`FastMath.normalCDF` is the same computation in Swift).
static inline __attribute__((always_inline)) vf vnormalcdff(vf x, vf *density) {
    vf a = selectf(x < splatf(0.0f), -x, x);
    vf t = 1.0f / (1.0f + a * 0.35355339059327373f);
    vf p = splatf(0.17087277f);
    p = p * t + -0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t + -1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t + -0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    vf h = (vf)((vi)a & -4096);
    vf gauss = vexpf(-0.5f * (h * h)) * vexpf(-0.5f * (a - h) * (a + h));
    vf half = 0.5f * t * gauss * vexpf(p * t + -1.26551223f);
    *density = gauss * 0.3989422804014327f;
    return selectf(x > splatf(0.0f), 1.0f - half, half);
}

/// GELU (erf form) `x Φ(x)` and its first two derivatives `Φ + x φ`, `φ (2 − x²)`.
static inline __attribute__((always_inline)) vf vgeluf(vf x) {
    vf density;
    return x * vnormalcdff(x, &density);
}
static inline __attribute__((always_inline)) vf vgelu_derivativef(vf x) {
    vf density;
    vf cdf = vnormalcdff(x, &density);
    return cdf + x * density;
}
static inline __attribute__((always_inline)) vf vgelu_second_derivativef(vf x) {
    vf density;
    (void)vnormalcdff(x, &density);
    return density * (2.0f - x * x);
}

/// SiLU's derivatives `s (1 + x (1 − s))` and `s (1 − s)(2 + x (1 − 2s))`, `s = σ(x)`.
static inline __attribute__((always_inline)) vf vsilu_derivativef(vf x) {
    vf s = vsigmoidf(x);
    return s * (1.0f + x * (1.0f - s));
}
static inline __attribute__((always_inline)) vf vsilu_second_derivativef(vf x) {
    vf s = vsigmoidf(x);
    return s * (1.0f - s) * (2.0f + x * (1.0f - 2.0f * s));
}

/// Applies `F` over `n` floats; the tail goes through one zero-padded vector, so every element
/// gets exactly the vector body's result.
#define MAP_F32(name, F)                                                            \
    static void name(const float *x, float *y, long n) {                             \
        long i = 0;                                                                 \
        for (; i + VLEN <= n; i += VLEN) storef(F(loadf(x + i)), y + i);            \
        if (i < n) {                                                                \
            float buffer[VLEN] = {0};                                               \
            memcpy(buffer, x + i, (size_t)(n - i) * sizeof(float));                 \
            storef(F(loadf(buffer)), buffer);                                       \
            memcpy(y + i, buffer, (size_t)(n - i) * sizeof(float));                 \
        }                                                                           \
    }

MAP_F32(exp_f32, vexpf)
MAP_F32(log_f32, vlogf)
MAP_F32(sigmoid_f32, vsigmoidf)
MAP_F32(silu_f32, vsiluf)
MAP_F32(gelu_f32, vgeluf)
MAP_F32(gelu_derivative_f32, vgelu_derivativef)
MAP_F32(gelu_second_derivative_f32, vgelu_second_derivativef)
MAP_F32(silu_derivative_f32, vsilu_derivativef)
MAP_F32(silu_second_derivative_f32, vsilu_second_derivativef)

// MARK: Float64 vector math

/// `e^x`: Cody-Waite reduction `x = n ln2 + r` with a 32-bit `ln2` head (so `n ln2_hi` is exact
/// without a fused multiply-add), Taylor polynomial of `e^r` to degree 13, and `2^n` split in two
/// factors so results down to the subnormal range round once.
static inline __attribute__((always_inline)) vd vexpd(vd x) {
    const vd magic = splatd(6755399441055744.0);  // 1.5 * 2^52
    vd clamped = selectd(x < splatd(-746.0), splatd(-746.0), x);
    clamped = selectd(clamped > splatd(710.0), splatd(710.0), clamped);
    vd t = clamped * 1.4426950408889634 + magic;
    vd n = t - magic;
    vd r = n * -0.69314718036912381649 + clamped;
    r = n * -1.90821492927058770002e-10 + r;
    vd p = splatd(1.0 / 6227020800.0);
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * (r * r) + r;
    p = p + 1.0;
    vl ni = (vl)t - 0x4338000000000000LL;
    vl n1 = ni >> 1;
    vl n2 = ni - n1;
    vd result = p * (vd)((n1 + 1023) << 52) * (vd)((n2 + 1023) << 52);
    return selectd(x != x, x, result);
}

/// `cos x` for |x| <= 1e5: reduction by pi/2 in four 33-bit parts (fdlibm's split; each product
/// `n * part` is exact for these n, so no fused multiply-add is needed), then fdlibm's sine and
/// cosine kernels on [-pi/4, pi/4] chosen by quadrant.
static inline __attribute__((always_inline)) vd vcosd_reduced(vd x) {
    const vd magic = splatd(6755399441055744.0);
    vd t = x * 0.63661977236758138243 + magic;
    vd n = t - magic;
    vd r = n * -1.57079632673412561417 + x;
    r = n * -6.07710050630396597660e-11 + r;
    r = n * -2.02226624871116645580e-21 + r;
    r = n * -8.47842766036889956997e-32 + r;
    vl quadrant = ((vl)t - 0x4338000000000000LL) & 3;
    vd z = r * r;
    vd sine = splatd(1.58969099521155010221e-10);
    sine = sine * z + -2.50507602534068634195e-08;
    sine = sine * z + 2.75573137070700676789e-06;
    sine = sine * z + -1.98412698298579493134e-04;
    sine = sine * z + 8.33333333332248946124e-03;
    sine = sine * z + -1.66666666666666324348e-01;
    sine = (r * z) * sine + r;
    vd cosine = splatd(-1.13596475577881948265e-11);
    cosine = cosine * z + 2.08757232129817482790e-09;
    cosine = cosine * z + -2.75573143513906633035e-07;
    cosine = cosine * z + 2.48015872894767294178e-05;
    cosine = cosine * z + -1.38888888888741095749e-03;
    cosine = cosine * z + 4.16666666666666019037e-02;
    vd half = z * 0.5;
    vd w = 1.0 - half;
    cosine = w + (((1.0 - w) - half) + (z * z) * cosine);
    vd base = selectd((quadrant & 1) == 1, sine, cosine);
    return selectd(((quadrant + 1) & 2) != 0, -base, base);
}

static void exp_f64(const double *x, double *y, long n) {
    long i = 0;
    for (; i + DLEN <= n; i += DLEN) stored(vexpd(loadd(x + i)), y + i);
    if (i < n) {
        double buffer[DLEN] = {0};
        memcpy(buffer, x + i, (size_t)(n - i) * sizeof(double));
        stored(vexpd(loadd(buffer)), buffer);
        memcpy(y + i, buffer, (size_t)(n - i) * sizeof(double));
    }
}

static inline __attribute__((always_inline)) vd vcosd(const double *x) {
    vd v = loadd(x);
    vd magnitude = selectd(v < splatd(0.0), -v, v);
    vl inRange = magnitude <= splatd(1e5);
    int all = 1;
    for (int k = 0; k < DLEN; k++) all &= inRange[k] != 0;
    if (all) return vcosd_reduced(v);
    vd out;
    for (int k = 0; k < DLEN; k++) out[k] = cos(x[k]);
    return out;
}

static void cos_f64(const double *x, double *y, long n) {
    long i = 0;
    for (; i + DLEN <= n; i += DLEN) stored(vcosd(x + i), y + i);
    if (i < n) {
        double buffer[DLEN] = {0};
        memcpy(buffer, x + i, (size_t)(n - i) * sizeof(double));
        stored(vcosd(buffer), buffer);
        memcpy(y + i, buffer, (size_t)(n - i) * sizeof(double));
    }
}

// MARK: Layout

#include "layout_f32.h"

// MARK: Transport

#include "transport_f64.h"

// MARK: Particles and random numbers

#include "particles_f64.h"
#include "random_philox.h"

// MARK: Optimizers' fused passes

#include "optimizer_adam.h"
#include "optimizer_lion.h"
#include "optimizer_sgd.h"
#include "optimizer_classic.h"
#include "optimizer_auon.h"
#include "optimizer_am.h"
#include "optimizer_adamp.h"
#include "optimizer_lionk.h"

const inertia_kernel_table KERNEL_TABLE = {
    .table_size = sizeof(inertia_kernel_table),
    .isa = KERNEL_ISA,
    .sgemm_mr = GEMM_MR,
    .sgemm_nr = GEMM_NR,
    .sgemm_kc = 256,
    .sgemm_tile = sgemm_tile,
    .exp_f32 = exp_f32,
    .log_f32 = log_f32,
    .sigmoid_f32 = sigmoid_f32,
    .silu_f32 = silu_f32,
    .gelu_f32 = gelu_f32,
    .gelu_derivative_f32 = gelu_derivative_f32,
    .gelu_second_derivative_f32 = gelu_second_derivative_f32,
    .silu_derivative_f32 = silu_derivative_f32,
    .silu_second_derivative_f32 = silu_second_derivative_f32,
    .exp_f64 = exp_f64,
    .cos_f64 = cos_f64,
    .sum_exp_f64 = sum_exp_f64,
    .accumulate_exp_f64 = accumulate_exp_f64,
    .dot_f64 = dot_f64,
    .axpy_f64 = axpy_f64,
    .sinkhorn_four_rows_f64 = sinkhorn_four_rows_f64,
    .max_of_sum_f64 = max_of_sum_f64,
    .max_into_f64 = max_into_f64,
    .exp_affine_f64 = exp_affine_f64,
    .weighted_phi_f64 = weighted_phi_f64,
    .squares_and_cos_two_pi_f64 = squares_and_cos_two_pi_f64,
    .philox_blocks = philox_blocks,
    .adam_step = adam_step,
    .lion_step = lion_step,
    .sgd_step = sgd_step,
    .nadam_step = nadam_step,
    .radam_step = radam_step,
    .adagrad_step = adagrad_step,
    .rmsprop_step = rmsprop_step,
    .auon_momentum_powers = auon_momentum_powers,
    .auon_step = auon_step,
    .am_adamw_sums = am_adamw_sums,
    .am_adamw_step = am_adamw_step,
    .adamp_direction = adamp_direction,
    .lionk_direction = lionk_direction,
    .lionk_sign = lionk_sign,
    .lionk_step = lionk_step,
    .transpose_f32 = transpose_f32,
    .max_pool_taps_f32 = max_pool_taps_f32,
    .gather_patch_row_f32 = gather_patch_row_f32,
    .scatter_patch_row_f32 = scatter_patch_row_f32,
};
