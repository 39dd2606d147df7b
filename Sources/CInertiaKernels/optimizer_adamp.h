// AdamP's moment pass (Heo et al., "AdamP: Slowing Down the Slowdown for Momentum Optimizers on
// Scale-invariant Weights", ICLR 2021): the moments and the Adam direction, before the radial
// projection and the step (both in InertiaOptim/AdamP.swift). Part of the kernel template;
// contraction off and an exact square root, so every instruction set gives the same bits.

static inline __attribute__((always_inline)) void adamp_body(const float *restrict g, float *restrict m, float *restrict v,
                                                             float *restrict d, long n, float b1, float b2, float root2,
                                                             float eps, const int nesterov) {
#pragma clang fp contract(off)
    for (long i = 0; i < n; i++) {
        float mi = m[i] * b1 + (1 - b1) * g[i];
        float vi = v[i] * b2 + (1 - b2) * (g[i] * g[i]);
        m[i] = mi;
        v[i] = vi;
        float denominator = __builtin_elementwise_sqrt(vi) / root2 + eps;
        d[i] = (nesterov ? b1 * mi + (1 - b1) * g[i] : mi) / denominator;
    }
}

/// `m <- b1 m + (1 - b1) g`, `v <- b2 v + (1 - b2) g^2`, `d = m' / (sqrt(v) / root2 + eps)` with
/// `m'` the Nesterov blend `b1 m + (1 - b1) g` or `m`.
static void adamp_direction(const float *restrict g, float *restrict m, float *restrict v, float *restrict d, long n, float b1,
                            float b2, float root2, float eps, int nesterov) {
    if (nesterov) adamp_body(g, m, v, d, n, b1, b2, root2, eps, 1);
    else adamp_body(g, m, v, d, n, b1, b2, root2, eps, 0);
}
