#ifndef C_INERTIA_KERNELS_H
#define C_INERTIA_KERNELS_H

/// Inertia's kernel layer: the loops whose speed depends on the instruction set, compiled once per
/// instruction set without any compiler flag (each copy carries its own `target` attribute) and
/// chosen at run time by what the CPU supports. Swift code reaches them through the table of the
/// active instruction set (`Kernels` in InertiaTensor).

/// The instruction sets with a kernel table. `INERTIA_ISA_BASELINE` is the portable path: SSE2 on
/// x86-64, NEON on arm64 (plain C vector extensions, fused multiply-adds where the target has them).
typedef enum {
    INERTIA_ISA_BASELINE = 0,
    INERTIA_ISA_AVX2 = 1,
    INERTIA_ISA_AVX512 = 2,
} inertia_isa;

/// `C[rows x columns] = alpha * A * B + beta * C` for one register tile: `a` is a packed panel of
/// `depth` columns of `mr` values, `b` one of `depth` rows of `nr` values (zero padded), and
/// `rows <= mr`, `columns <= nr`. With `beta == 0`, `C` is not read.
typedef void (*inertia_sgemm_tile_fn)(long depth, const float *a, const float *b, float *c, long ldc,
                                      long rows, long columns, float alpha, float beta);

/// `y[i] = f(x[i])` for `i < n`; `x` and `y` may be the same buffer.
typedef void (*inertia_map_f32_fn)(const float *x, float *y, long n);

/// `y[i] = f(x[i])` in Float64.
typedef void (*inertia_map_f64_fn)(const double *x, double *y, long n);

/// `sum_j exp(x_j + y_j + c)`.
typedef double (*inertia_sum_exp_f64_fn)(const double *x, const double *y, double c, long n);

/// `acc_j += exp(x_j + c - z_j)`.
typedef void (*inertia_accumulate_exp_f64_fn)(double *acc, const double *x, double c, const double *z, long n);

/// The per-step scalars of Adam's pass (InertiaOptim/Adam.swift computes them).
typedef struct {
    float step_size;        // lr / (1 - beta1^t)
    float inverse_root2;    // 1 / sqrt(1 - beta2^t)
    float epsilon;
    float weight_decay;
    float decay;            // 1 - lr * weight_decay (decoupled decay)
    float weight1;          // 1 - beta1, the lerp weight
    float rest1;            // 1 - weight1
    float beta2;
    float one_minus_beta2;
    float sign;             // -1 when maximizing
    int decoupled;
} inertia_adam_scalars;

/// `p, m, v` (and `v_max` for AMSGrad, else NULL) updated in place from the gradient `g`.
typedef void (*inertia_adam_step_fn)(float *p, const float *g, float *m, float *v, float *v_max, long n,
                                     const inertia_adam_scalars *scalars);

/// The per-step scalars of Lion's pass.
typedef struct {
    float learning_rate;
    float decay;            // 1 - lr * weight_decay
    float beta1;
    float one_minus_beta1;
    float beta2;
    float one_minus_beta2;
    float sign;
} inertia_lion_scalars;

typedef void (*inertia_lion_step_fn)(float *p, const float *g, float *m, long n, const inertia_lion_scalars *scalars);

/// The per-step scalars of SGD's pass.
typedef struct {
    float learning_rate;
    float weight_decay;
    float sign;
    float momentum;
    float keep;             // 1 - dampening
    int first_step;
    int nesterov;
} inertia_sgd_scalars;

/// `b` is the momentum buffer, or NULL without momentum.
typedef void (*inertia_sgd_step_fn)(float *p, const float *g, float *b, long n, const inertia_sgd_scalars *scalars);

/// The per-step scalars of NAdam's pass (InertiaOptim/NAdam.swift).
typedef struct {
    float sign, weight_decay, decay, beta1, beta2, bias_correction2, epsilon, gradient_step, momentum_step;
    int decoupled;
} inertia_nadam_scalars;

/// The per-step scalars of RAdam's pass (InertiaOptim/RAdam.swift).
typedef struct {
    float sign, weight_decay, decay, beta1, beta2, bias_correction1, root2, epsilon, learning_rate, rectification;
    int decoupled, rectified;
} inertia_radam_scalars;

/// The per-step scalars of Adagrad's pass (InertiaOptim/Adagrad.swift).
typedef struct {
    float sign, weight_decay, learning_rate, epsilon;
} inertia_adagrad_scalars;

/// The per-step scalars of RMSprop's pass (InertiaOptim/RMSprop.swift).
typedef struct {
    float sign, weight_decay, learning_rate, alpha, epsilon, momentum;
} inertia_rmsprop_scalars;

/// The per-step scalars of AM-AdamW's passes (InertiaOptim/AdaptiveMemory.swift).
typedef struct {
    float beta2, one_minus_beta2, inverse_correction, epsilon, lambda;
    float step_weight, learning_rate, decay, root2;
} inertia_am_adamw_scalars;

/// One instruction set's kernels. Every table computes the same functions with the same error
/// bounds; results differ only by rounding (fused or separate multiply-adds, summation order
/// across lanes).
typedef struct {
    /// `sizeof(inertia_kernel_table)` as the C side compiled it: Swift checks it against its own
    /// view of this header, so a stale build (SwiftPM does not always recompile Swift modules
    /// when this header changes) stops with a message instead of calling the wrong kernel.
    long table_size;
    inertia_isa isa;
    /// The GEMM register tile (rows and columns) and the depth of a packed panel.
    long sgemm_mr;
    long sgemm_nr;
    long sgemm_kc;
    inertia_sgemm_tile_fn sgemm_tile;
    /// Cephes-style `exp` (at most 2 ulp on [-87, 88]; overflow +inf, underflow 0, NaN kept).
    inertia_map_f32_fn exp_f32;
    /// Natural logarithm (at most 2 ulp on positive normal and subnormal floats; log 0 = -inf,
    /// negative or NaN input gives NaN).
    inertia_map_f32_fn log_f32;
    /// `1 / (1 + exp(-x))`.
    inertia_map_f32_fn sigmoid_f32;
    /// `x / (1 + exp(-x))`.
    inertia_map_f32_fn silu_f32;
    /// GELU (erf form) `x Φ(x)`, Φ within 8 ulp (`FastMath.normalCDF`), and its first and second
    /// derivatives.
    inertia_map_f32_fn gelu_f32;
    inertia_map_f32_fn gelu_derivative_f32;
    inertia_map_f32_fn gelu_second_derivative_f32;
    /// SiLU's first and second derivatives.
    inertia_map_f32_fn silu_derivative_f32;
    inertia_map_f32_fn silu_second_derivative_f32;
    /// `exp` in Float64 (at most 2 ulp over [-745, 709]).
    inertia_map_f64_fn exp_f64;
    /// `cos` in Float64 (at most 2 ulp for |x| <= 1e5; larger, infinite or NaN lanes go to libm).
    inertia_map_f64_fn cos_f64;
    inertia_sum_exp_f64_fn sum_exp_f64;
    inertia_accumulate_exp_f64_fn accumulate_exp_f64;
    /// The transport solvers' Float64 kernels (see InertiaTransport/DoubleKernels.swift).
    double (*dot_f64)(const double *x, const double *y, long n);
    void (*axpy_f64)(double *acc, const double *x, double s, long n);
    void (*sinkhorn_four_rows_f64)(const double *k, long m, const double *v, const double *a, double *u, double *acc);
    double (*max_of_sum_f64)(const double *x, const double *y, long n);
    void (*max_into_f64)(double *out, const double *x, double c, long n);
    void (*exp_affine_f64)(double *out, const double *x, double s, const double *y, double c, long n);
    double (*weighted_phi_f64)(const double *p, double a, const double *b, long n);
    /// `out = (sum y_i^2, sum cos(2 pi y_i))` with `y = x - shift` (`shift` may be NULL), the cosine
    /// with its period removed exactly (InertiaParticles/BenchmarkFunctions).
    void (*squares_and_cos_two_pi_f64)(const double *x, const double *shift, long n, double *out);
    /// Philox4x32-10 blocks for consecutive counters (InertiaTensor/Random.swift).
    void (*philox_blocks)(unsigned *out, long blocks, unsigned long long counter, unsigned key0, unsigned key1);
    /// The optimizers' fused passes: the same bits on every instruction set (no contraction).
    inertia_adam_step_fn adam_step;
    inertia_lion_step_fn lion_step;
    inertia_sgd_step_fn sgd_step;
    void (*nadam_step)(float *p, const float *g, float *m, float *v, long n, const inertia_nadam_scalars *scalars);
    void (*radam_step)(float *p, const float *g, float *m, float *v, long n, const inertia_radam_scalars *scalars);
    void (*adagrad_step)(float *p, const float *g, float *sum, long n, const inertia_adagrad_scalars *scalars);
    /// `buffer` (momentum) and `mean` (centered) may be NULL.
    void (*rmsprop_step)(float *p, const float *g, float *v, float *buffer, float *mean, long n,
                         const inertia_rmsprop_scalars *scalars);
    /// AuON: momentum update with the power sums of the Nesterov direction (`out`: 5 values), and
    /// the step along that direction.
    void (*auon_momentum_powers)(const float *g, float *m, long n, float beta, float rest, double *out);
    void (*auon_step)(float *p, const float *g, const float *m, long n, float beta, float rest, float step);
    /// AM-AdamW: second moment and the three weighted sums (`out`: 3 values), then the step.
    void (*am_adamw_sums)(const float *g, const float *m, const float *v, long n, const inertia_am_adamw_scalars *scalars,
                          double *out);
    void (*am_adamw_step)(float *p, const float *g, float *m, float *v, long n, const inertia_am_adamw_scalars *scalars);
    /// AdamP: the moments and the Adam direction `d` (before the radial projection).
    void (*adamp_direction)(const float *g, float *m, float *v, float *d, long n, float beta1, float beta2, float root2,
                            float epsilon, int nesterov);
    /// Lion-K: the momentum blend `c`, then (after the kernel's gradient) the step.
    void (*lionk_direction)(const float *g, const float *m, float *c, long n, float beta1, float sign);
    /// Lion-K's sign kernel in place (0 for 0 and NaN).
    void (*lionk_sign)(float *c, long n);
    void (*lionk_step)(float *p, const float *g, float *m, const float *d, long n, float learning_rate, float decay,
                       float beta2, float sign);
    /// `dst[c * ldd + r] = src[r * lds + c]` for `r < rows`, `c < columns` (the GEMM's transposing
    /// panel packs; 8x8 and 4x4 blocks in registers).
    void (*transpose_f32)(const float *src, long lds, long rows, long columns, float *dst, long ldd);
    /// One tap of max pooling over `rows` output rows: for `x < count`, `v = source[y * row_step +
    /// x * stride]` replaces `best[y * output_width + x]` (and the place, `first_place + y * row_step
    /// + x * stride`) when it is larger, NaN, or the place is still -1.
    void (*max_pool_taps_f32)(const float *source, long row_step, long rows, long stride, long count, int first_place,
                              float *best, int *place, long output_width);
    /// One row of an im2col patch matrix, `output_height * output_width` values: input row
    /// `row_start + y * row_step` and column `column_offset + x * column_step` of `plane`
    /// (`height x width`), 0 outside the input; `lo...hi` are the output columns whose input column
    /// is inside. And its adjoint, adding such a row back onto `plane` (it may zero the entries of
    /// `src` that read padding, which the adjoint drops).
    void (*gather_patch_row_f32)(const float *plane, long height, long width, long output_height, long output_width,
                                 long row_start, long row_step, long column_offset, long column_step, long lo, long hi,
                                 float *dst);
    void (*scatter_patch_row_f32)(float *src, long height, long width, long output_height, long output_width,
                                  long row_start, long row_step, long column_offset, long column_step, long lo, long hi,
                                  float *plane);
} inertia_kernel_table;

/// 1 when this build has kernels for `isa` and the running CPU (and its operating system) supports
/// them, else 0.
int inertia_isa_supported(inertia_isa isa);

/// The most capable instruction set this CPU supports.
inertia_isa inertia_isa_best(void);

/// 1 when the CPU runs a 512-bit fused multiply-add as two 256-bit halves (AMD Zen 4), so the
/// AVX-512 GEMM tile gains nothing over the AVX2 one and loses on cache pressure.
int inertia_cpu_splits_512bit_fma(void);

/// The kernels of `isa`, or NULL where `inertia_isa_supported(isa)` is 0.
const inertia_kernel_table *inertia_kernels(inertia_isa isa);

/// What the baseline path compiles to on this architecture ("SSE2", "NEON" or "portable C").
const char *inertia_baseline_description(void);

/// Keeps freed blocks of up to 32 MiB in the heap instead of returning them to the kernel, so a
/// training loop that frees and reallocates the same large temporaries every step stops paying
/// page faults for them (glibc's mallopt; a no-op elsewhere).
void inertia_keep_freed_memory(void);

#endif
