// Checks the C kernel tables without Swift, so the kernels can be cross-compiled and run under
// emulation on an architecture this machine lacks (Scripts/check-kernels-c.sh runs it natively
// for every supported instruction set and under qemu-aarch64 for arm64). Each table is checked
// against plain scalar references (libm, a triple loop in double); prints one line per failure
// and a closing "N passed, M failed" line; exits 1 on any failure.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CInertiaKernels.h"

static int passed, failed;

static void check(int ok, const char *isa, const char *what, double detail) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s: %s (%g)\n", isa, what, detail);
    }
}

static uint64_t state = 0x9E3779B97F4A7C15ull;
static double uniform(void) {  // SplitMix64 in [0, 1)
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1p-53;
}

static double ulps_f(float got, double want) {
    if (isnan(got) || isnan(want)) return isnan(got) == isnan(want) ? 0 : INFINITY;
    float rounded = (float)want;
    if (isinf(got) || isinf(rounded)) return got == rounded ? 0 : INFINITY;
    double ulp = rounded == 0 || fabsf(rounded) < 0x1p-126f ? 0x1p-149 : nextafterf(fabsf(rounded), INFINITY) - fabsf(rounded);
    return fabs((double)got - want) / ulp;
}

static double ulps_d(double got, double want) {
    if (isnan(got) || isnan(want)) return isnan(got) == isnan(want) ? 0 : INFINITY;
    if (isinf(got) || isinf(want)) return got == want ? 0 : INFINITY;
    double ulp = want == 0 || fabs(want) < 0x1p-1022 ? 0x1p-1074 : nextafter(fabs(want), INFINITY) - fabs(want);
    return fabs(got - want) / ulp;
}

static void check_gemm(const inertia_kernel_table *t, const char *isa) {
    long mr = t->sgemm_mr, nr = t->sgemm_nr, depth = 37;
    float *a = malloc(sizeof(float) * mr * depth), *b = malloc(sizeof(float) * nr * depth);
    long ldc = nr + 5;
    float *c = malloc(sizeof(float) * mr * ldc), *c0 = malloc(sizeof(float) * mr * ldc);
    for (long i = 0; i < mr * depth; i++) a[i] = (float)(uniform() * 2 - 1);
    for (long i = 0; i < nr * depth; i++) b[i] = (float)(uniform() * 2 - 1);
    for (long i = 0; i < mr * ldc; i++) c0[i] = (float)(uniform() * 2 - 1);
    long shapes[3][2] = {{mr, nr}, {mr - 1, nr - 3}, {1, 1}};
    float betas[2] = {0, 0.5f};
    for (int s = 0; s < 3; s++) {
        for (int bi = 0; bi < 2; bi++) {
            long rows = shapes[s][0], columns = shapes[s][1];
            memcpy(c, c0, sizeof(float) * mr * ldc);
            t->sgemm_tile(depth, a, b, c, ldc, rows, columns, 1.5f, betas[bi]);
            double worst = 0;
            for (long i = 0; i < mr; i++) {
                for (long j = 0; j < ldc; j++) {
                    double want = c0[i * ldc + j];
                    if (i < rows && j < columns) {
                        double sum = 0;
                        for (long p = 0; p < depth; p++) sum += (double)a[p * mr + i] * b[p * nr + j];
                        want = 1.5 * sum + (betas[bi] == 0 ? 0 : betas[bi] * want);
                    }
                    worst = fmax(worst, fabs(c[i * ldc + j] - want));
                }
            }
            check(worst < 1e-4, isa, "sgemm tile vs double triple loop (untouched outside the tile)", worst);
        }
    }
    free(a);
    free(b);
    free(c);
    free(c0);
}

static void check_math(const inertia_kernel_table *t, const char *isa) {
    enum { N = 20003 };
    static float x[N], y[N];
    double worst = 0;
    for (int i = 0; i < N; i++) x[i] = (float)(uniform() * 190 - 100);
    x[0] = 0; x[1] = 89; x[2] = -105; x[3] = NAN; x[4] = INFINITY; x[5] = -INFINITY;
    t->exp_f32(x, y, N);
    for (int i = 0; i < N; i++) worst = fmax(worst, ulps_f(y[i], exp((double)x[i])));
    check(worst <= 2, isa, "exp_f32 within 2 ulp", worst);

    worst = 0;
    for (int i = 0; i < N; i++) x[i] = (float)exp(uniform() * 170 - 100);
    x[0] = 0; x[1] = -1; x[2] = 1e-42f; x[3] = INFINITY; x[4] = NAN;
    t->log_f32(x, y, N);
    for (int i = 0; i < N; i++) worst = fmax(worst, ulps_f(y[i], log((double)x[i])));
    check(worst <= 2, isa, "log_f32 within 2 ulp", worst);

    worst = 0;
    for (int i = 0; i < N; i++) x[i] = (float)(uniform() * 40 - 20);
    t->sigmoid_f32(x, y, N);
    for (int i = 0; i < N; i++) worst = fmax(worst, ulps_f(y[i], 1 / (1 + exp(-(double)x[i]))));
    check(worst <= 4, isa, "sigmoid_f32 within 4 ulp", worst);
    worst = 0;
    t->silu_f32(x, y, N);
    for (int i = 0; i < N; i++) worst = fmax(worst, ulps_f(y[i], (double)x[i] / (1 + exp(-(double)x[i]))));
    check(worst <= 4, isa, "silu_f32 within 4 ulp", worst);

    static double xd[N], yd[N], zd[N];
    worst = 0;
    for (int i = 0; i < N; i++) xd[i] = uniform() * 1454 - 745;
    xd[0] = 0; xd[1] = NAN; xd[2] = INFINITY; xd[3] = -INFINITY;
    t->exp_f64(xd, yd, N);
    for (int i = 0; i < N; i++) worst = fmax(worst, ulps_d(yd[i], exp(xd[i])));
    check(worst <= 2, isa, "exp_f64 within 2 ulp", worst);

    worst = 0;
    for (int i = 0; i < N; i++) xd[i] = (uniform() * 2 - 1) * 1e5;
    xd[0] = 1e7; xd[1] = NAN;
    t->cos_f64(xd, yd, N);
    for (int i = 0; i < N; i++) worst = fmax(worst, ulps_d(yd[i], cos(xd[i])));
    check(worst <= 2, isa, "cos_f64 within 2 ulp", worst);

    for (int i = 0; i < N; i++) { xd[i] = uniform() * 4 - 2; zd[i] = uniform() * 4 - 2; yd[i] = 1; }
    double sum = t->sum_exp_f64(xd, zd, -0.5, N - 3), exact = 0;
    for (int i = 0; i < N - 3; i++) exact += exp(xd[i] + zd[i] - 0.5);
    check(fabs(sum - exact) <= 1e-13 * exact, isa, "sum_exp_f64", fabs(sum - exact) / exact);
    t->accumulate_exp_f64(yd, xd, 0.25, zd, N - 1);
    worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, ulps_d(yd[i], i < N - 1 ? 1 + exp(xd[i] + 0.25 - zd[i]) : 1));
    check(worst <= 4, isa, "accumulate_exp_f64 within 4 ulp", worst);
}

/// The layout kernels move values only: each must match its scalar definition exactly.
static void check_layout(const inertia_kernel_table *t, const char *isa) {
    enum { R = 21, C = 19, LDS = 23, LDD = 25 };
    float src[R * LDS], dst[C * LDD];
    for (int i = 0; i < R * LDS; i++) src[i] = (float)uniform();
    int exact = 1;
    for (int rows = 1; rows <= R; rows += 4) {
        for (int columns = 1; columns <= C; columns += 3) {
            for (int i = 0; i < C * LDD; i++) dst[i] = -1;
            t->transpose_f32(src, LDS, rows, columns, dst, LDD);
            for (int r = 0; r < R; r++) {
                for (int c = 0; c < C; c++) {
                    float want = (r < rows && c < columns) ? src[r * LDS + c] : -1;
                    if (r < LDD && dst[c * LDD + r] != want) exact = 0;
                }
            }
        }
    }
    check(exact, isa, "transpose_f32 exact, untouched outside", 0);

    // Max pooling: two taps over 3 rows of 5 outputs, with a NaN and a -inf value.
    enum { W = 11 };
    float plane[4 * W], best[3 * 5];
    int place[3 * 5];
    for (int i = 0; i < 4 * W; i++) plane[i] = (float)(i % 7) - 3;
    plane[W + 4] = NAN;
    plane[2 * W] = -INFINITY;
    for (int i = 0; i < 15; i++) {
        best[i] = -INFINITY;
        place[i] = -1;
    }
    for (int tap = 0; tap < 2; tap++) t->max_pool_taps_f32(plane + tap, W, 3, 2, 5, tap, best, place, 5);
    exact = 1;
    for (int y = 0; y < 3; y++) {
        for (int x = 0; x < 5; x++) {
            int a = y * W + 2 * x, b = a + 1;
            float va = plane[a], vb = plane[b];
            int want = (vb > va || isnan(vb)) ? b : a;
            float got = best[y * 5 + x];
            if (place[y * 5 + x] != want) exact = 0;
            if (!(got == plane[want] || (isnan(got) && isnan(plane[want])))) exact = 0;
        }
    }
    check(exact, isa, "max_pool_taps_f32 exact (NaN wins, -inf)", 0);

    // im2col rows against their definition: strided rows and columns with padding, and the
    // stride-1 "same width" block path with every kernel offset (rows above, below, beside).
    enum { H = 5, PW = 6 };
    long setups[][7] = {
        // output height, output width, row start, row step, column offset, column step
        {4, 4, -1, 2, -1, 2}, {5, 6, -1, 1, -1, 1}, {5, 6, 1, 1, 1, 1}, {5, 6, 0, 1, 0, 1},
        {5, 6, -2, 1, 2, 1},  {5, 6, 4, 1, -5, 1},  {3, 6, -7, 1, 0, 1}, {5, 6, 9, 1, 0, 1},
    };
    float image[H * PW], patch[8 * 8], back[H * PW], scratch[8 * 8];
    for (int i = 0; i < H * PW; i++) image[i] = (float)i + 1;
    exact = 1;
    for (unsigned k = 0; k < sizeof setups / sizeof setups[0]; k++) {
        long oh = setups[k][0], ow = setups[k][1], rs = setups[k][2], rstep = setups[k][3];
        long co = setups[k][4], cstep = setups[k][5];
        long lo = 0, hi = -1;  // output columns whose input column co + x * cstep is inside
        for (long x = ow - 1; x >= 0; x--) {
            if (co + x * cstep >= 0 && co + x * cstep < PW) lo = x;
        }
        for (long x = 0; x < ow; x++) {
            if (co + x * cstep >= 0 && co + x * cstep < PW) hi = x;
        }
        t->gather_patch_row_f32(image, H, PW, oh, ow, rs, rstep, co, cstep, lo, hi, patch);
        for (int i = 0; i < H * PW; i++) back[i] = 0;
        for (long i = 0; i < oh * ow; i++) scratch[i] = (float)(i + 1) * 0.5f;
        t->scatter_patch_row_f32(scratch, H, PW, oh, ow, rs, rstep, co, cstep, lo, hi, back);
        float want_back[H * PW] = {0};
        for (long y = 0; y < oh; y++) {
            for (long x = 0; x < ow; x++) {
                long iy = rs + y * rstep, ix = co + x * cstep;
                int inside = iy >= 0 && iy < H && ix >= 0 && ix < PW;
                if (patch[y * ow + x] != (inside ? image[iy * PW + ix] : 0)) exact = 0;
                if (inside) want_back[iy * PW + ix] += (float)(y * ow + x + 1) * 0.5f;
            }
        }
        for (int i = 0; i < H * PW; i++) {
            if (back[i] != want_back[i]) exact = 0;
        }
    }
    check(exact, isa, "gather / scatter_patch_row_f32 exact (strides, padding, the same-width block path)", 0);
}

int main(void) {
    const char *names[] = {"baseline", "avx2", "avx512"};
    for (int isa = INERTIA_ISA_BASELINE; isa <= INERTIA_ISA_AVX512; isa++) {
        const inertia_kernel_table *t = inertia_kernels((inertia_isa)isa);
        if (!t) {
            printf("%s: not supported here, skipped\n", names[isa]);
            continue;
        }
        printf("%s (baseline = %s): gemm tile %ldx%ld\n", names[isa], inertia_baseline_description(), t->sgemm_mr, t->sgemm_nr);
        check_gemm(t, names[isa]);
        check_math(t, names[isa]);
        check_layout(t, names[isa]);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
