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
// calls, whose per-call cost would exceed the copy. When the rows are consecutive input rows of the
// output's width (stride 1, "same" width), the valid rows are one shifted block: one long copy (or
// add), then the columns that fall outside the input are fixed up.
__attribute__((no_builtin("memset", "memcpy", "memmove"))) static void gather_patch_row_f32(
    const float *plane, long height, long width, long output_height, long output_width, long row_start,
    long row_step, long column_offset, long column_step, long lo, long hi, float *dst) {
    if (row_step == 1 && column_step == 1 && output_width == width && lo <= hi) {
        long y0 = row_start < 0 ? (-row_start < output_height ? -row_start : output_height) : 0;
        long y1 = height - row_start < output_height ? height - row_start : output_height;
        for (long i = 0; i < y0 * output_width; i++) dst[i] = 0;
        if (y1 > y0) {
            // Outputs (y0, lo) ... (y1 - 1, hi) read inside the plane; the ones in between that
            // wrap to a neighbouring row are the out-of-range columns, zeroed below.
            const float *source = plane + (row_start + y0) * width + column_offset;
            float *line = dst + y0 * output_width;
            long first = lo, last = (y1 - y0 - 1) * output_width + hi;
            for (long x = 0; x < first; x++) line[x] = 0;
            for (long x = first; x <= last; x++) line[x] = source[x];
            for (long y = 0; y < y1 - y0; y++) {
                float *row = line + y * output_width;
                for (long x = 0; x < lo; x++) row[x] = 0;
                for (long x = hi + 1; x < output_width; x++) row[x] = 0;
            }
        }
        long from = (y1 > y0 ? y1 : y0) * output_width;
        for (long i = from; i < output_height * output_width; i++) dst[i] = 0;
        return;
    }
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

static void scatter_patch_row_f32(float *src, long height, long width, long output_height, long output_width,
                                  long row_start, long row_step, long column_offset, long column_step, long lo,
                                  long hi, float *plane) {
    if (lo > hi) return;
    if (row_step == 1 && column_step == 1 && output_width == width) {
        long y0 = row_start < 0 ? -row_start : 0;
        long y1 = height - row_start < output_height ? height - row_start : output_height;
        if (y1 <= y0) return;
        float *line = src + y0 * output_width;
        // The entries that read padding are dropped: zero them, then add the block in one pass.
        for (long y = 0; y < y1 - y0; y++) {
            float *row = line + y * output_width;
            for (long x = 0; x < lo; x++) row[x] = 0;
            for (long x = hi + 1; x < output_width; x++) row[x] = 0;
        }
        float *target = plane + (row_start + y0) * width + column_offset;
        long last = (y1 - y0 - 1) * output_width + hi;
        for (long x = lo; x <= last; x++) target[x] += line[x];
        return;
    }
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
