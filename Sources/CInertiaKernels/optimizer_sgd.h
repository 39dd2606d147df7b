// SGD with heavy-ball or Nesterov momentum, dampening and coupled weight decay, as torch.optim.SGD
// (the Swift side is InertiaOptim/SGD.swift). Part of the kernel template; contraction off, so
// every instruction set gives the same bits.

static void sgd_step(float *p, const float *g, float *b, long n, const inertia_sgd_scalars *h) {
#pragma clang fp contract(off)
    const vf lr = splatf(h->learning_rate), wd = splatf(h->weight_decay), sign = splatf(h->sign);
    const vf mu = splatf(h->momentum), keep = splatf(h->keep);
    const int first = h->first_step, nesterov = h->nesterov;
    long i = 0;
    if (!b) {
        for (; i + VLEN <= n; i += VLEN) {
            vf pv = loadf(p + i);
            vf gv = loadf(g + i) * sign + wd * pv;
            storef(pv - lr * gv, p + i);
        }
        for (; i < n; i++) {
            float gv = g[i] * h->sign + h->weight_decay * p[i];
            p[i] = p[i] - h->learning_rate * gv;
        }
        return;
    }
    for (; i + VLEN <= n; i += VLEN) {
        vf pv = loadf(p + i);
        vf gv = loadf(g + i) * sign + wd * pv;
        vf bv = first ? gv : mu * loadf(b + i) + keep * gv;
        storef(bv, b + i);
        storef(pv - lr * (nesterov ? gv + mu * bv : bv), p + i);
    }
    for (; i < n; i++) {
        float pv = p[i];
        float gv = g[i] * h->sign + h->weight_decay * pv;
        float bv = first ? gv : h->momentum * b[i] + h->keep * gv;
        b[i] = bv;
        p[i] = pv - h->learning_rate * (nesterov ? gv + h->momentum * bv : bv);
    }
}
