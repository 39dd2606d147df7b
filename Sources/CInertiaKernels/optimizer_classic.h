// The fused passes of torch.optim's NAdam, RAdam, Adagrad and RMSprop (the Swift sides are
// InertiaOptim/NAdam.swift, RAdam.swift, Adagrad.swift, RMSprop.swift, which prepare the
// scalars). Written as the scalar recurrences, in the Swift code's operation order, and left to
// the vectorizer; contraction off and the square root exact, so every instruction set gives the
// same bits. Part of the kernel template.

#define SQRT(x) __builtin_elementwise_sqrt(x)

/// The part of an Adam-style step that NAdam and RAdam share: the weight decay (decoupled, on the
/// parameter, or coupled, into the gradient), then `m <- m + (1 - b1)(g - m)` and
/// `v <- b2 v + (1 - b2) g^2`. Returns the gradient used; `*pi`, `*mi`, `*vi` get the new values.
static inline __attribute__((always_inline)) float adam_moments(float *pi, float *mi, float *vi, float gi, float wd, float decay,
                                                                float b1, float b2, const int decoupled) {
#pragma clang fp contract(off)
    if (decoupled) *pi *= decay;
    else gi += wd * *pi;
    *mi = *mi + (1 - b1) * (gi - *mi);
    *vi = *vi * b2 + (1 - b2) * (gi * gi);
    return gi;
}

static inline __attribute__((always_inline)) void nadam_body(float *restrict p, const float *restrict g, float *restrict m,
                                                             float *restrict v, long n, const inertia_nadam_scalars *h,
                                                             const int decoupled) {
#pragma clang fp contract(off)
    const float sign = h->sign, wd = h->weight_decay, decay = h->decay, b1 = h->beta1, b2 = h->beta2;
    const float bc2 = h->bias_correction2, eps = h->epsilon, gradient_step = h->gradient_step, momentum_step = h->momentum_step;
    for (long i = 0; i < n; i++) {
        float pi = p[i], mi = m[i], vi = v[i];
        float gi = adam_moments(&pi, &mi, &vi, sign * g[i], wd, decay, b1, b2, decoupled);
        m[i] = mi;
        v[i] = vi;
        float denominator = SQRT(vi / bc2) + eps;
        pi -= gradient_step * (gi / denominator);
        p[i] = pi - momentum_step * (mi / denominator);
    }
}

static void nadam_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                       const inertia_nadam_scalars *h) {
    if (h->decoupled) nadam_body(p, g, m, v, n, h, 1);
    else nadam_body(p, g, m, v, n, h, 0);
}

/// One specialization per (decoupled, rectified): loop-invariant branches left in the loop become
/// masked loads and stores, which AMD CPUs microcode (10x slower).
static inline __attribute__((always_inline)) void radam_body(float *restrict p, const float *restrict g, float *restrict m,
                                                             float *restrict v, long n, const inertia_radam_scalars *h,
                                                             const int decoupled, const int rectified) {
#pragma clang fp contract(off)
    const float sign = h->sign, wd = h->weight_decay, decay = h->decay, b1 = h->beta1, b2 = h->beta2;
    const float bc1 = h->bias_correction1, root2 = h->root2, eps = h->epsilon, lr = h->learning_rate;
    const float rect = h->rectification;
    for (long i = 0; i < n; i++) {
        float pi = p[i], mi = m[i], vi = v[i];
        adam_moments(&pi, &mi, &vi, sign * g[i], wd, decay, b1, b2, decoupled);
        m[i] = mi;
        v[i] = vi;
        float corrected = mi / bc1;
        if (rectified) {
            float adaptive = root2 / (SQRT(vi) + eps);
            p[i] = pi + corrected * lr * adaptive * rect * -1;
        } else {
            p[i] = pi + corrected * lr * -1;
        }
    }
}

static void radam_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                       const inertia_radam_scalars *h) {
    if (h->decoupled) {
        if (h->rectified) radam_body(p, g, m, v, n, h, 1, 1);
        else radam_body(p, g, m, v, n, h, 1, 0);
    } else {
        if (h->rectified) radam_body(p, g, m, v, n, h, 0, 1);
        else radam_body(p, g, m, v, n, h, 0, 0);
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

/// One specialization per (centered, momentum), for the reason given at RAdam.
static inline __attribute__((always_inline)) void rmsprop_body(float *restrict p, const float *restrict g, float *restrict v,
                                                               float *restrict buffer, float *restrict mean, long n,
                                                               const inertia_rmsprop_scalars *h, const int centered,
                                                               const int momentum) {
#pragma clang fp contract(off)
    const float sign = h->sign, wd = h->weight_decay, lr = h->learning_rate, a = h->alpha, eps = h->epsilon, mu = h->momentum;
    for (long i = 0; i < n; i++) {
        float gi = sign * g[i] + wd * p[i];
        float vi = v[i] * a + (1 - a) * (gi * gi);
        v[i] = vi;
        float average;
        if (centered) {
            float mean_i = mean[i] + (1 - a) * (gi - mean[i]);
            mean[i] = mean_i;
            average = SQRT(vi - mean_i * mean_i);
        } else {
            average = SQRT(vi);
        }
        average += eps;
        if (momentum) {
            float b = buffer[i] * mu + gi / average;
            buffer[i] = b;
            p[i] -= lr * b;
        } else {
            p[i] -= lr * (gi / average);
        }
    }
}

static void rmsprop_step(float *restrict p, const float *restrict g, float *restrict v, float *restrict buffer,
                         float *restrict mean, long n, const inertia_rmsprop_scalars *h) {
    if (mean) {
        if (buffer) rmsprop_body(p, g, v, buffer, mean, n, h, 1, 1);
        else rmsprop_body(p, g, v, buffer, mean, n, h, 1, 0);
    } else {
        if (buffer) rmsprop_body(p, g, v, buffer, mean, n, h, 0, 1);
        else rmsprop_body(p, g, v, buffer, mean, n, h, 0, 0);
    }
}

#undef SQRT
