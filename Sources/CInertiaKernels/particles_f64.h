// The Float64 kernel of the particle methods' test functions (InertiaParticles/BenchmarkFunctions:
// Rastrigin, Ackley). Part of the kernel template; `vcosd_reduced` is the template's cosine.

/// `cos(2 pi y)` lane-wise with the period taken out exactly: `2y = k + f`, `|f| <= 1/2`, so
/// `cos(2 pi y) = (-1)^k cos(pi f)`. `k` is rounded by adding 1.5 * 2^52, whose low mantissa bits
/// then hold its parity; lanes beyond 2^50 go through libm (and from 2^53 on, where every double
/// is an even integer, give 1 at once).
static inline __attribute__((always_inline)) vd vcos_two_pi(vd y) {
    vd u = y + y;
    vd magnitude = selectd(u < splatd(0), -u, u);
    int all = 1;
    for (int k = 0; k < DLEN; k++) all &= magnitude[k] < 0x1p50;
    if (!all) {
        vd out;
        for (int k = 0; k < DLEN; k++) {
            if (!(fabs(u[k]) < 0x1p53)) {
                // Every double from 2^53 on is an even integer; infinities and NaN give NaN.
                out[k] = isfinite(u[k]) ? 1.0 : NAN;
                continue;
            }
            double whole = nearbyint(u[k]);
            double c = cos(3.141592653589793 * (u[k] - whole));
            out[k] = ((long long)whole & 1) ? -c : c;
        }
        return out;
    }
    const vd magic = splatd(6755399441055744.0);
    vd t = u + magic;
    vd whole = t - magic;
    vl odd = ((vl)t & 1) != 0;
    vd c = vcosd_reduced((u - whole) * 3.141592653589793);
    return selectd(odd, -c, c);
}

/// `out[0] = sum y_i^2`, `out[1] = sum cos(2 pi y_i)` with `y = x - shift` (or `x` when `shift`
/// is NULL). The last partial vector is padded with zeros, whose cosine 1 is taken back out.
static void squares_and_cos_two_pi_f64(const double *x, const double *shift, long n, double *out) {
    vd squares = splatd(0), cosines = splatd(0);
    double padding = 0;
    for (long start = 0; start < n; start += DLEN) {
        vd y = splatd(0);
        long lanes = n - start < DLEN ? n - start : DLEN;
        for (long k = 0; k < lanes; k++) y[k] = shift ? x[start + k] - shift[start + k] : x[start + k];
        padding += (double)(DLEN - lanes);
        squares = y * y + squares;
        cosines += vcos_two_pi(y);
    }
    out[0] = hsumd(squares);
    out[1] = hsumd(cosines) - padding;
}
