// Data-layout kernels: the transpose behind the GEMM's transposing panel packs, and the
// compare-and-select pass of max pooling. Part of the kernel template. Both move values without
// arithmetic, so every instruction set gives the same bits.

typedef float v8f __attribute__((vector_size(32), aligned(4)));
typedef float v4f __attribute__((vector_size(16), aligned(4)));

/// Transposes eight rows of eight floats in registers (the unpack / shuffle / lane-swap sequence).
static inline __attribute__((always_inline)) void transpose_8x8(const float *src, long lds, float *dst, long ldd) {
    v8f r0 = *(const v8f *)(src + 0 * lds), r1 = *(const v8f *)(src + 1 * lds);
    v8f r2 = *(const v8f *)(src + 2 * lds), r3 = *(const v8f *)(src + 3 * lds);
    v8f r4 = *(const v8f *)(src + 4 * lds), r5 = *(const v8f *)(src + 5 * lds);
    v8f r6 = *(const v8f *)(src + 6 * lds), r7 = *(const v8f *)(src + 7 * lds);
    v8f t0 = __builtin_shufflevector(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13);
    v8f t1 = __builtin_shufflevector(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15);
    v8f t2 = __builtin_shufflevector(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13);
    v8f t3 = __builtin_shufflevector(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15);
    v8f t4 = __builtin_shufflevector(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13);
    v8f t5 = __builtin_shufflevector(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15);
    v8f t6 = __builtin_shufflevector(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13);
    v8f t7 = __builtin_shufflevector(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);
    v8f u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    v8f u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    v8f u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    v8f u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
    v8f u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
    v8f u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
    v8f u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
    v8f u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
    *(v8f *)(dst + 0 * ldd) = __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);
    *(v8f *)(dst + 1 * ldd) = __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);
    *(v8f *)(dst + 2 * ldd) = __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);
    *(v8f *)(dst + 3 * ldd) = __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);
    *(v8f *)(dst + 4 * ldd) = __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);
    *(v8f *)(dst + 5 * ldd) = __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);
    *(v8f *)(dst + 6 * ldd) = __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);
    *(v8f *)(dst + 7 * ldd) = __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);
}

/// Transposes four rows of four floats in registers.
static inline __attribute__((always_inline)) void transpose_4x4(const float *src, long lds, float *dst, long ldd) {
    v4f r0 = *(const v4f *)(src + 0 * lds), r1 = *(const v4f *)(src + 1 * lds);
    v4f r2 = *(const v4f *)(src + 2 * lds), r3 = *(const v4f *)(src + 3 * lds);
    v4f t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5);
    v4f t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
    v4f t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
    v4f t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
    *(v4f *)(dst + 0 * ldd) = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    *(v4f *)(dst + 1 * ldd) = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    *(v4f *)(dst + 2 * ldd) = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    *(v4f *)(dst + 3 * ldd) = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

static void transpose_f32(const float *src, long lds, long rows, long columns, float *dst, long ldd) {
    long r = 0;
    for (; r + 8 <= rows; r += 8) {
        long c = 0;
        for (; c + 8 <= columns; c += 8) transpose_8x8(src + r * lds + c, lds, dst + c * ldd + r, ldd);
        for (; c < columns; c++) {
            for (long i = 0; i < 8; i++) dst[c * ldd + r + i] = src[(r + i) * lds + c];
        }
    }
    for (; r + 4 <= rows; r += 4) {
        long c = 0;
        for (; c + 4 <= columns; c += 4) transpose_4x4(src + r * lds + c, lds, dst + c * ldd + r, ldd);
        for (; c < columns; c++) {
            for (long i = 0; i < 4; i++) dst[c * ldd + r + i] = src[(r + i) * lds + c];
        }
    }
    for (; r < rows; r++) {
        for (long c = 0; c < columns; c++) dst[c * ldd + r] = src[r * lds + c];
    }
}

/// Output rows `y < rows` of one max-pooling tap: `source` is the tap's first input, `row_step`
/// apart from one output row to the next; `best`/`place` rows are `output_width` apart.
static void max_pool_taps_f32(const float *source, long row_step, long rows, long stride, long count, int first_place,
                              float *best, int *place, long output_width) {
    for (long y = 0; y < rows; y++) {
        const float *s = source + y * row_step;
        float *b = best + y * output_width;
        int *at = place + y * output_width;
        int base = first_place + (int)(y * row_step);
        if (stride == 2) {
            for (long x = 0; x < count; x++) {
                float v = s[2 * x], current = b[x];
                int take = (v > current) | (v != v) | (at[x] < 0);
                b[x] = take ? v : current;
                at[x] = take ? base + 2 * (int)x : at[x];
            }
        } else {
            for (long x = 0; x < count; x++) {
                float v = s[x * stride], current = b[x];
                int take = (v > current) | (v != v) | (at[x] < 0);
                b[x] = take ? v : current;
                at[x] = take ? base + (int)(x * stride) : at[x];
            }
        }
    }
}

// Rows here are short (a feature map's width): plain loops, kept from becoming memset / memcpy
// calls, whose per-call cost would exceed the copy.
__attribute__((no_builtin("memset", "memcpy", "memmove"))) static void gather_patch_row_f32(
    const float *plane, long height, long width, long output_height, long output_width, long row_start,
    long row_step, long column_offset, long column_step, long lo, long hi, float *dst) {
    for (long y = 0; y < output_height; y++) {
        long iy = row_start + y * row_step;
        float *line = dst + y * output_width;
        if (iy < 0 || iy >= height || lo > hi) {
            for (long x = 0; x < output_width; x++) line[x] = 0;
            continue;
        }
        const float *row = plane + iy * width + column_offset;
        for (long x = 0; x < lo; x++) line[x] = 0;
        if (column_step == 1) {
            for (long x = lo; x <= hi; x++) line[x] = row[x];
        } else {
            for (long x = lo; x <= hi; x++) line[x] = row[x * column_step];
        }
        for (long x = hi + 1; x < output_width; x++) line[x] = 0;
    }
}

static void scatter_patch_row_f32(const float *src, long height, long width, long output_height, long output_width,
                                  long row_start, long row_step, long column_offset, long column_step, long lo,
                                  long hi, float *plane) {
    if (lo > hi) return;
    for (long y = 0; y < output_height; y++) {
        long iy = row_start + y * row_step;
        if (iy < 0 || iy >= height) continue;
        const float *line = src + y * output_width;
        float *row = plane + iy * width + column_offset;
        if (column_step == 1) {
            for (long x = lo; x <= hi; x++) row[x] += line[x];
        } else {
            for (long x = lo; x <= hi; x++) row[x * column_step] += line[x];
        }
    }
}
