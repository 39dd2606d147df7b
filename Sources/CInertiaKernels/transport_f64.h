// The Float64 kernels of the transport solvers (InertiaTransport: Sinkhorn, Sinkhorn-Newton-Sparse),
// bound in Swift by InertiaTransport/DoubleKernels.swift. Part of the kernel template: compiled
// once per instruction set; `vexpd` is the template's vector exp.

static double hsumd(vd v) {
    double s = 0;
    for (int k = 0; k < DLEN; k++) s += v[k];
    return s;
}

static double dot_f64(const double *x, const double *y, long n) {
    vd a0 = splatd(0), a1 = splatd(0), a2 = splatd(0), a3 = splatd(0);
    long j = 0;
    for (; j + 4 * DLEN <= n; j += 4 * DLEN) {
        a0 = loadd(x + j) * loadd(y + j) + a0;
        a1 = loadd(x + j + DLEN) * loadd(y + j + DLEN) + a1;
        a2 = loadd(x + j + 2 * DLEN) * loadd(y + j + 2 * DLEN) + a2;
        a3 = loadd(x + j + 3 * DLEN) * loadd(y + j + 3 * DLEN) + a3;
    }
    for (; j + DLEN <= n; j += DLEN) a0 = loadd(x + j) * loadd(y + j) + a0;
    double s = hsumd((a0 + a1) + (a2 + a3));
    for (; j < n; j++) s = x[j] * y[j] + s;
    return s;
}

static void axpy_f64(double *acc, const double *x, double s, long n) {
    const vd sv = splatd(s);
    long j = 0;
    for (; j + DLEN <= n; j += DLEN) stored(sv * loadd(x + j) + loadd(acc + j), acc + j);
    for (; j < n; j++) acc[j] = s * x[j] + acc[j];
}

static void sinkhorn_four_rows_f64(const double *k, long m, const double *v, const double *a, double *u, double *acc) {
    const double *k0 = k, *k1 = k + m, *k2 = k + 2 * m, *k3 = k + 3 * m;
    vd s0 = splatd(0), s1 = splatd(0), s2 = splatd(0), s3 = splatd(0);
    long j = 0;
    for (; j + DLEN <= m; j += DLEN) {
        vd vv = loadd(v + j);
        s0 = loadd(k0 + j) * vv + s0;
        s1 = loadd(k1 + j) * vv + s1;
        s2 = loadd(k2 + j) * vv + s2;
        s3 = loadd(k3 + j) * vv + s3;
    }
    double d0 = hsumd(s0), d1 = hsumd(s1), d2 = hsumd(s2), d3 = hsumd(s3);
    for (long t = j; t < m; t++) {
        d0 = k0[t] * v[t] + d0;
        d1 = k1[t] * v[t] + d1;
        d2 = k2[t] * v[t] + d2;
        d3 = k3[t] * v[t] + d3;
    }
    u[0] = 1 / (d0 / a[0]);
    u[1] = 1 / (d1 / a[1]);
    u[2] = 1 / (d2 / a[2]);
    u[3] = 1 / (d3 / a[3]);
    const vd w0 = splatd(u[0]), w1 = splatd(u[1]), w2 = splatd(u[2]), w3 = splatd(u[3]);
    for (j = 0; j + DLEN <= m; j += DLEN) {
        vd sum = w0 * loadd(k0 + j) + loadd(acc + j);
        sum = w1 * loadd(k1 + j) + sum;
        sum = w2 * loadd(k2 + j) + sum;
        stored(w3 * loadd(k3 + j) + sum, acc + j);
    }
    for (; j < m; j++) {
        double sum = u[0] * k0[j] + acc[j];
        sum = u[1] * k1[j] + sum;
        sum = u[2] * k2[j] + sum;
        acc[j] = u[3] * k3[j] + sum;
    }
}

static double max_of_sum_f64(const double *x, const double *y, long n) {
    vd best = splatd(-INFINITY);
    long j = 0;
    for (; j + DLEN <= n; j += DLEN) {
        vd s = loadd(x + j) + loadd(y + j);
        best = selectd(s > best, s, best);
    }
    double result = -INFINITY;
    for (int k = 0; k < DLEN; k++) result = best[k] > result ? best[k] : result;
    for (; j < n; j++) result = x[j] + y[j] > result ? x[j] + y[j] : result;
    return result;
}

static void max_into_f64(double *out, const double *x, double c, long n) {
    const vd cv = splatd(c);
    long j = 0;
    for (; j + DLEN <= n; j += DLEN) {
        vd s = loadd(x + j) + cv, o = loadd(out + j);
        stored(selectd(s > o, s, o), out + j);
    }
    for (; j < n; j++) out[j] = x[j] + c > out[j] ? x[j] + c : out[j];
}

static double sum_exp_f64(const double *x, const double *y, double c, long n) {
    vd a0 = splatd(0), a1 = splatd(0);
    long j = 0;
    for (; j + 2 * DLEN <= n; j += 2 * DLEN) {
        a0 += vexpd(loadd(x + j) + loadd(y + j) + c);
        a1 += vexpd(loadd(x + j + DLEN) + loadd(y + j + DLEN) + c);
    }
    for (; j + DLEN <= n; j += DLEN) a0 += vexpd(loadd(x + j) + loadd(y + j) + c);
    if (j < n) {
        vd tail = splatd(-INFINITY);
        for (long t = 0; t < n - j; t++) tail[t] = x[j + t] + y[j + t] + c;
        a1 += vexpd(tail);
    }
    return hsumd(a0 + a1);
}

static void accumulate_exp_f64(double *acc, const double *x, double c, const double *z, long n) {
    long j = 0;
    for (; j + DLEN <= n; j += DLEN) stored(loadd(acc + j) + vexpd(loadd(x + j) + c - loadd(z + j)), acc + j);
    if (j < n) {
        vd tail = splatd(-INFINITY);
        for (long t = 0; t < n - j; t++) tail[t] = x[j + t] + c - z[j + t];
        vd e = vexpd(tail);
        for (long t = 0; t < n - j; t++) acc[j + t] += e[t];
    }
}

static void exp_affine_f64(double *out, const double *x, double s, const double *y, double c, long n) {
    const vd sv = splatd(s), cv = splatd(c);
    long j = 0;
    for (; j + DLEN <= n; j += DLEN) {
        vd e = loadd(x + j) * sv + cv;
        if (y) e += loadd(y + j);
        stored(vexpd(e), out + j);
    }
    if (j < n) {
        vd tail = splatd(0);
        for (long t = 0; t < n - j; t++) tail[t] = x[j + t] * s + c + (y ? y[j + t] : 0);
        vd e = vexpd(tail);
        for (long t = 0; t < n - j; t++) out[j + t] = e[t];
    }
}

static double weighted_phi_f64(const double *p, double a, const double *b, long n) {
    const vd av = splatd(a), one = splatd(1), small = splatd(1e-3);
    vd acc = splatd(0);
    long j = 0;
    for (; j + DLEN <= n; j += DLEN) {
        vd u = av + loadd(b + j);
        vd series = u * u * (0.5 + u * (1.0 / 6 + u * (1.0 / 24)));
        vd direct = vexpd(u) - one - u;
        vd magnitude = selectd(u < splatd(0), -u, u);
        acc = loadd(p + j) * selectd(magnitude < small, series, direct) + acc;
    }
    double s = hsumd(acc);
    for (; j < n; j++) {
        double u = a + b[j];
        s += p[j] * (fabs(u) < 1e-3 ? u * u * (0.5 + u * (1.0 / 6 + u / 24)) : expm1(u) - u);
    }
    return s;
}
