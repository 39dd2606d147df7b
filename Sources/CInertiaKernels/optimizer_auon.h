// AuON's two linear-time passes (Maity, "AuON: A Linear-time Alternative to Semi-Orthogonal
// Momentum Updates", 2025; the Swift side, with the brake's series, is InertiaOptim/AuON.swift).
// Part of the kernel template. The step pass has contraction off (the same bits on every path);
// the power sums keep VLEN Float accumulators, so they differ between paths by rounding only.

/// `M <- beta M + rest g` in place, and of `d = rest g + beta M`: `out = (sum d^2, sum d^4,
/// sum d^6, sum d^8, max |d|)`.
static void auon_momentum_powers(const float *restrict g, float *restrict m, long n, float beta, float rest, double *out) {
#pragma clang fp contract(off)
    const vf vb = splatf(beta), vr = splatf(rest);
    vf s2 = splatf(0), s4 = splatf(0), s6 = splatf(0), s8 = splatf(0), largest = splatf(0);
    long i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        vf gv = loadf(g + i);
        vf mv = vb * loadf(m + i) + vr * gv;
        storef(mv, m + i);
        vf dv = vr * gv + vb * mv;
        vf d2 = dv * dv;
        largest = selectf(d2 > largest, d2, largest);
        vf d4 = d2 * d2;
        s2 += d2;
        s4 += d4;
        s6 += d4 * d2;
        s8 += d4 * d4;
    }
    float t2 = 0, t4 = 0, t6 = 0, t8 = 0, top = 0;
    for (int k = 0; k < VLEN; k++) {
        t2 += s2[k];
        t4 += s4[k];
        t6 += s6[k];
        t8 += s8[k];
        top = largest[k] > top ? largest[k] : top;
    }
    for (; i < n; i++) {
        float mv = beta * m[i] + rest * g[i];
        m[i] = mv;
        float dv = rest * g[i] + beta * mv;
        float d2 = dv * dv, d4 = d2 * d2;
        top = d2 > top ? d2 : top;
        t2 += d2;
        t4 += d4;
        t6 += d4 * d2;
        t8 += d4 * d4;
    }
    out[0] = t2;
    out[1] = t4;
    out[2] = t6;
    out[3] = t8;
    out[4] = sqrt((double)top);
}

/// `p <- p - step (rest g + beta M)`.
static void auon_step(float *restrict p, const float *restrict g, const float *restrict m, long n, float beta, float rest,
                      float step) {
#pragma clang fp contract(off)
    for (long i = 0; i < n; i++) p[i] = p[i] - step * (rest * g[i] + beta * m[i]);
}
