// Lion-K's two elementwise passes (Chen, Liu, Liang & Liu, "Lion Secretly Solves Constrained
// Optimization: As Lyapunov Predicts", ICLR 2024); the kernel's gradient between them, and the
// bound monitor, are in InertiaOptim/LionK.swift. Part of the kernel template; contraction off,
// so every instruction set gives the same bits.

/// `c = b1 m + (1 - b1)(sign g)`.
static void lionk_direction(const float *restrict g, const float *restrict m, float *restrict c, long n, float b1, float sign) {
#pragma clang fp contract(off)
    for (long i = 0; i < n; i++) c[i] = b1 * m[i] + (1 - b1) * (sign * g[i]);
}

/// Lion's kernel gradient in place: `c <- sign(c)` (0 for 0 and NaN).
static void lionk_sign(float *c, long n) {
    for (long i = 0; i < n; i++) c[i] = c[i] > 0 ? 1.0f : (c[i] < 0 ? -1.0f : 0.0f);
}

/// `p <- p decay - lr d`, `m <- b2 m + (1 - b2)(sign g)`.
static void lionk_step(float *restrict p, const float *restrict g, float *restrict m, const float *restrict d, long n, float lr,
                       float decay, float b2, float sign) {
#pragma clang fp contract(off)
    for (long i = 0; i < n; i++) {
        p[i] = p[i] * decay - lr * d[i];
        m[i] = b2 * m[i] + (1 - b2) * (sign * g[i]);
    }
}
