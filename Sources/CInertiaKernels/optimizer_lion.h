// Lion's fused pass (Chen et al., "Symbolic Discovery of Optimization Algorithms", 2023), as
// lion-pytorch computes it; the Swift side is InertiaOptim/Lion.swift. Part of the kernel
// template; contraction off, so every instruction set gives the same bits.

static void lion_step(float *p, const float *g, float *m, long n, const inertia_lion_scalars *h) {
#pragma clang fp contract(off)
    const vf lr = splatf(h->learning_rate), decay = splatf(h->decay), sign = splatf(h->sign);
    const vf b1 = splatf(h->beta1), ob1 = splatf(h->one_minus_beta1);
    const vf b2 = splatf(h->beta2), ob2 = splatf(h->one_minus_beta2);
    const vf zero = splatf(0), one = splatf(1);
    long i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        vf gv = loadf(g + i) * sign;
        vf mv = loadf(m + i);
        vf c = b1 * mv + ob1 * gv;
        vf s = selectf(c < zero, -one, selectf(c > zero, one, zero));
        storef(loadf(p + i) * decay - lr * s, p + i);
        storef(b2 * mv + ob2 * gv, m + i);
    }
    for (; i < n; i++) {
        float gv = g[i] * h->sign, mv = m[i];
        float c = h->beta1 * mv + h->one_minus_beta1 * gv;
        float s = c < 0 ? -1.0f : (c > 0 ? 1.0f : 0.0f);
        p[i] = p[i] * h->decay - h->learning_rate * s;
        m[i] = h->beta2 * mv + h->one_minus_beta2 * gv;
    }
}
