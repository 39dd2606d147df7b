// AM-AdamW's two passes (Topollai & Choromanska, "Adaptive Memory Momentum via a Model-Based
// Framework for Deep Learning Optimization", AISTATS 2026; the Swift side, with beta's closed
// form, is InertiaOptim/AdaptiveMemory.swift). Part of the kernel template. The sums keep VLEN
// Float accumulators (they differ between paths by rounding only); the step has contraction off.
// The sums only read: they see the updated second moment `v' = b2 v + (1 - b2) g^2` without
// storing it, and the step recomputes it in the same arithmetic and stores it, which saves the
// first pass a 4-byte write per parameter (1.92x -> 1.85x AdamW's step at 1e7 parameters).

/// Returns, with `w = 1 / (sqrt(v' / (1 - b2^t)) + eps)` and `e = g - m`:
/// `out = (sum w (g + lambda m) e, sum w e^2, sum w (g^2 + m^2))`.
static void am_adamw_sums(const float *restrict g, const float *restrict m, const float *restrict v, long n,
                          const inertia_am_adamw_scalars *h, double *out) {
#pragma clang fp contract(off)
    const vf b2 = splatf(h->beta2), ob2 = splatf(h->one_minus_beta2), ic = splatf(h->inverse_correction);
    const vf eps = splatf(h->epsilon), lam = splatf(h->lambda), one = splatf(1);
    vf a = splatf(0), b = splatf(0), c = splatf(0);
    long i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        vf gv = loadf(g + i), mv = loadf(m + i);
        vf vv = loadf(v + i) * b2 + ob2 * (gv * gv);
        vf weight = one / (__builtin_elementwise_sqrt(vv * ic) + eps);
        vf difference = gv - mv;
        a += weight * (gv + lam * mv) * difference;
        b += weight * difference * difference;
        c += weight * (gv * gv + mv * mv);
    }
    float ta = 0, tb = 0, tc = 0;
    for (int k = 0; k < VLEN; k++) {
        ta += a[k];
        tb += b[k];
        tc += c[k];
    }
    for (; i < n; i++) {
        float gv = g[i], mv = m[i];
        float vv = v[i] * h->beta2 + h->one_minus_beta2 * (gv * gv);
        float weight = 1 / (__builtin_elementwise_sqrt(vv * h->inverse_correction) + h->epsilon);
        float difference = gv - mv;
        ta += weight * (gv + h->lambda * mv) * difference;
        tb += weight * difference * difference;
        tc += weight * (gv * gv + mv * mv);
    }
    out[0] = ta;
    out[1] = tb;
    out[2] = tc;
}

/// `v <- b2 v + (1 - b2) g^2` (the value the sums saw, recomputed in the same arithmetic),
/// `m <- w m + (1 - w) g`, `p <- p decay - lr m / (sqrt(v) / root2 + eps)`.
static void am_adamw_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                          const inertia_am_adamw_scalars *h) {
#pragma clang fp contract(off)
    const float w = h->step_weight, lr = h->learning_rate, decay = h->decay, b2 = h->beta2, ob2 = h->one_minus_beta2;
    const float eps = h->epsilon, root2 = h->root2;
    for (long i = 0; i < n; i++) {
        float gv = g[i];
        float vv = v[i] * b2 + ob2 * (gv * gv);
        v[i] = vv;
        float mv = w * m[i] + (1 - w) * gv;
        m[i] = mv;
        p[i] = p[i] * decay - lr * mv / (__builtin_elementwise_sqrt(vv) / root2 + eps);
    }
}
