// Philox4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC 2011) in
// vector lanes: DLEN blocks at a time, each lane a 64-bit integer holding one 32-bit word, so the
// 32x32 -> 64-bit multiplies are single lane-wise multiplies. The Swift side is PhiloxGenerator
// (InertiaTensor/Random.swift), whose scalar path gives the same words. Part of the kernel template.

typedef unsigned long long vu __attribute__((vector_size(DLEN * 8)));

static inline __attribute__((always_inline)) void philox_rounds(vu *c0, vu *c1, vu *c2, vu *c3, unsigned long long key0,
                                                               unsigned long long key1) {
    const vu low = (vu){0} + 0xFFFFFFFFull;
    unsigned long long k0 = key0, k1 = key1;
    for (int round = 0; round < 10; round++) {
        // Masking the factors lets the compiler use the 32x32 -> 64-bit lane multiply.
        vu p0 = (*c0 & low) * 0xD2511F53ull, p1 = (*c2 & low) * 0xCD9E8D57ull;
        vu n0 = (p1 >> 32) ^ *c1 ^ k0, n1 = p1 & low, n2 = (p0 >> 32) ^ *c3 ^ k1, n3 = p0 & low;
        *c0 = n0;
        *c1 = n1;
        *c2 = n2;
        *c3 = n3;
        k0 = (k0 + 0x9E3779B9ull) & 0xFFFFFFFFull;
        k1 = (k1 + 0xBB67AE85ull) & 0xFFFFFFFFull;
    }
}

/// Writes the `blocks` blocks for counters `counter, counter + 1, ...` (the counter's low and high
/// words in the first two counter words, zeros in the others) under the key `(key0, key1)`, four
/// words per block, to `out`.
static void philox_blocks(unsigned *out, long blocks, unsigned long long counter, unsigned key0, unsigned key1) {
    long b = 0;
    while (b < blocks) {
        vu counters;
        for (int k = 0; k < DLEN; k++) counters[k] = counter + (unsigned long long)(b + k);
        vu c0 = counters & 0xFFFFFFFFull, c1 = counters >> 32, c2 = (vu){0}, c3 = (vu){0};
        philox_rounds(&c0, &c1, &c2, &c3, key0, key1);
        long lanes = blocks - b < DLEN ? blocks - b : DLEN;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (lanes == DLEN) {
            // Block k is the 64-bit words (c0 | c1 << 32, c2 | c3 << 32): interleave the two
            // vectors of them and store whole vectors instead of 4 * DLEN lane extracts.
            vu w01 = c0 | (c1 << 32), w23 = c2 | (c3 << 32);
#if DLEN == 2
            vu first = __builtin_shufflevector(w01, w23, 0, 2), second = __builtin_shufflevector(w01, w23, 1, 3);
#elif DLEN == 4
            vu first = __builtin_shufflevector(w01, w23, 0, 4, 1, 5);
            vu second = __builtin_shufflevector(w01, w23, 2, 6, 3, 7);
#else
            vu first = __builtin_shufflevector(w01, w23, 0, 8, 1, 9, 2, 10, 3, 11);
            vu second = __builtin_shufflevector(w01, w23, 4, 12, 5, 13, 6, 14, 7, 15);
#endif
            memcpy(out + 4 * b, &first, sizeof first);
            memcpy(out + 4 * b + 2 * DLEN, &second, sizeof second);
            b += DLEN;
            continue;
        }
#endif
        for (long k = 0; k < lanes; k++) {
            out[4 * (b + k)] = (unsigned)c0[k];
            out[4 * (b + k) + 1] = (unsigned)c1[k];
            out[4 * (b + k) + 2] = (unsigned)c2[k];
            out[4 * (b + k) + 3] = (unsigned)c3[k];
        }
        b += lanes;
    }
}
