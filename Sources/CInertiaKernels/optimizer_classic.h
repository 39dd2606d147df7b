// The fused passes of torch.optim's NAdam, RAdam, Adagrad and RMSprop (the Swift sides are
// InertiaOptim/NAdam.swift, RAdam.swift, Adagrad.swift, RMSprop.swift, which prepare the
// scalars). Written as the scalar recurrences, in the Swift code's operation order, and left to
// the vectorizer; contraction off and the square root exact, so every instruction set gives the
// same bits. Part of the kernel template.

#define SQRT(x) __builtin_elementwise_sqrt(x)

static void nadam_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                       const inertia_nadam_scalars *h) {
#pragma clang fp contract(off)
    const float sign = h->sign, wd = h->weight_decay, decay = h->decay, b1 = h->beta1, b2 = h->beta2;
    const float bc2 = h->bias_correction2, eps = h->epsilon, gradient_step = h->gradient_step, momentum_step = h->momentum_step;
    const int decoupled = h->decoupled;
    for (long i = 0; i < n; i++) {
        float gi = sign * g[i];
        if (decoupled) p[i] *= decay;
        else gi += wd * p[i];
        m[i] += (1 - b1) * (gi - m[i]);
        v[i] = v[i] * b2 + (1 - b2) * (gi * gi);
        float denominator = SQRT(v[i] / bc2) + eps;
        p[i] -= gradient_step * (gi / denominator);
        p[i] -= momentum_step * (m[i] / denominator);
    }
}

static void radam_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                       const inertia_radam_scalars *h) {
#pragma clang fp contract(off)
    const float sign = h->sign, wd = h->weight_decay, decay = h->decay, b1 = h->beta1, b2 = h->beta2;
    const float bc1 = h->bias_correction1, root2 = h->root2, eps = h->epsilon, lr = h->learning_rate;
    const float rect = h->rectification;
    const int decoupled = h->decoupled, rectified = h->rectified;
    for (long i = 0; i < n; i++) {
        float gi = sign * g[i];
        if (decoupled) p[i] *= decay;
        else gi += wd * p[i];
        m[i] += (1 - b1) * (gi - m[i]);
        v[i] = v[i] * b2 + (1 - b2) * (gi * gi);
        float corrected = m[i] / bc1;
        if (rectified) {
            float adaptive = root2 / (SQRT(v[i]) + eps);
            p[i] += corrected * lr * adaptive * rect * -1;
        } else {
            p[i] += corrected * lr * -1;
        }
    }
}

static void adagrad_step(float *restrict p, const float *restrict g, float *restrict s, long n, const inertia_adagrad_scalars *h) {
#pragma clang fp contract(off)
    const float sign = h->sign, wd = h->weight_decay, clr = h->learning_rate, eps = h->epsilon;
    for (long i = 0; i < n; i++) {
        float gi = sign * g[i] + wd * p[i];
        s[i] += gi * gi;
        p[i] -= clr * (gi / (SQRT(s[i]) + eps));
    }
}

static void rmsprop_step(float *restrict p, const float *restrict g, float *restrict v, float *restrict buffer,
                         float *restrict mean, long n, const inertia_rmsprop_scalars *h) {
#pragma clang fp contract(off)
    const float sign = h->sign, wd = h->weight_decay, lr = h->learning_rate, a = h->alpha, eps = h->epsilon, mu = h->momentum;
    for (long i = 0; i < n; i++) {
        float gi = sign * g[i] + wd * p[i];
        v[i] = v[i] * a + (1 - a) * (gi * gi);
        float average;
        if (mean) {
            mean[i] += (1 - a) * (gi - mean[i]);
            average = SQRT(v[i] - mean[i] * mean[i]);
        } else {
            average = SQRT(v[i]);
        }
        average += eps;
        if (buffer) {
            buffer[i] = buffer[i] * mu + gi / average;
            p[i] -= lr * buffer[i];
        } else {
            p[i] -= lr * (gi / average);
        }
    }
}

#undef SQRT
