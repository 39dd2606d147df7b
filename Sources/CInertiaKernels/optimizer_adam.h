// Adam / AdamW / AMSGrad's fused pass (Kingma & Ba, ICLR 2015; Loshchilov & Hutter, ICLR 2019),
// as torch.optim computes it; the Swift side (InertiaOptim/Adam.swift) prepares the scalars.
// Part of the kernel template: compiled once per instruction set. Contraction is off, so every
// instruction set gives the same bits (the pass is memory bound; fused multiply-adds buy nothing).

static void adam_step(float *p, const float *g, float *m, float *v, float *v_max, long n, const inertia_adam_scalars *h) {
#pragma clang fp contract(off)
    const vf step_size = splatf(h->step_size), inverse_root2 = splatf(h->inverse_root2), eps = splatf(h->epsilon);
    const vf wd = splatf(h->weight_decay), decay = splatf(h->decay), sign = splatf(h->sign);
    const vf weight1 = splatf(h->weight1), rest1 = splatf(h->rest1);
    const vf b2 = splatf(h->beta2), ob2 = splatf(h->one_minus_beta2);
    const int lerp_low = h->weight1 < 0.5f, decoupled = h->decoupled, coupled = !h->decoupled && h->weight_decay != 0;
    const int amsgrad = v_max != 0;
    long i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        vf pv = loadf(p + i);
        vf gv = loadf(g + i) * sign;
        if (decoupled) pv = pv * decay;
        else if (coupled) gv = gv + wd * pv;
        vf m_old = loadf(m + i);
        // torch.lerp: start + w (end - start) for w < 0.5, else end - (end - start)(1 - w).
        vf mv = lerp_low ? m_old + weight1 * (gv - m_old) : gv - (gv - m_old) * rest1;
        vf vv = loadf(v + i) * b2 + ob2 * (gv * gv);
        storef(mv, m + i);
        storef(vv, v + i);
        vf second = vv;
        if (amsgrad) {
            vf old = loadf(v_max + i);
            second = selectf(vv > old, vv, old);
            storef(second, v_max + i);
        }
        // torch divides by sqrt(1 - beta2^t); multiplying by its inverse saves a division.
        vf denominator = __builtin_elementwise_sqrt(second) * inverse_root2 + eps;
        storef(pv - step_size * (mv / denominator), p + i);
    }
    for (; i < n; i++) {
        float pv = p[i], gv = g[i] * h->sign;
        if (decoupled) pv = pv * h->decay;
        else if (coupled) gv = gv + h->weight_decay * pv;
        float m_old = m[i];
        float mv = lerp_low ? m_old + h->weight1 * (gv - m_old) : gv - (gv - m_old) * h->rest1;
        float vv = v[i] * h->beta2 + h->one_minus_beta2 * (gv * gv);
        m[i] = mv;
        v[i] = vv;
        float second = vv;
        if (amsgrad) {
            second = vv > v_max[i] ? vv : v_max[i];
            v_max[i] = second;
        }
        float denominator = __builtin_sqrtf(second) * h->inverse_root2 + h->epsilon;
        p[i] = pv - h->step_size * (mv / denominator);
    }
}
