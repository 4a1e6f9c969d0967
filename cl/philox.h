/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): the
 * one random generator of claug. This file is compiled both as OpenCL C (prepended to the
 * programs that draw random numbers) and as C11 by the host, so the host and every kernel
 * draw the same numbers from the same (key, counter).
 *
 * claug's convention: key = the 64-bit seed; counter = (stream, a, b, c) where `stream` names
 * the purpose (CLAUG_STREAM_*) and a, b, c index the draw within it. */
#ifndef CLAUG_PHILOX_H
#define CLAUG_PHILOX_H

#ifdef __OPENCL_C_VERSION__
typedef uint philox_u32;
typedef ulong philox_u64;
#define PHILOX_FN static inline
#else
#include <stdint.h>
typedef uint32_t philox_u32;
typedef uint64_t philox_u64;
#define PHILOX_FN static inline
#endif

enum {
    CLAUG_STREAM_INIT = 1,    /* (layer, element / 4, 0): weight initialisation */
    CLAUG_STREAM_SHUFFLE = 2, /* (epoch, step, 0): the epoch's permutation */
    CLAUG_STREAM_SUBSET = 3,  /* (class, step, 0): --train-size subset */
    CLAUG_STREAM_DROPOUT = 4, /* (step, layer, element / 4): dropout masks */
    CLAUG_STREAM_AUGMENT = 5  /* (epoch, image, 0): augmentation parameters */
};

typedef struct {
    philox_u32 v[4];
} philox4;

PHILOX_FN void philox_mulhilo(philox_u32 a, philox_u32 b, philox_u32 *hi, philox_u32 *lo) {
    philox_u64 p = (philox_u64)a * (philox_u64)b;
    *hi = (philox_u32)(p >> 32);
    *lo = (philox_u32)p;
}

/* Ten rounds over counter (c0..c3) with key (k0, k1). */
PHILOX_FN philox4 philox4x32(philox_u32 c0, philox_u32 c1, philox_u32 c2, philox_u32 c3, philox_u32 k0,
                             philox_u32 k1) {
    for (int r = 0; r < 10; r++) {
        philox_u32 hi0, lo0, hi1, lo1;
        philox_mulhilo(0xD2511F53u, c0, &hi0, &lo0);
        philox_mulhilo(0xCD9E8D57u, c2, &hi1, &lo1);
        philox_u32 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    philox4 out;
    out.v[0] = c0;
    out.v[1] = c1;
    out.v[2] = c2;
    out.v[3] = c3;
    return out;
}

/* Four draws of claug's stream (stream, a, b, c) under a 64-bit seed. */
PHILOX_FN philox4 claug_random4(philox_u64 seed, philox_u32 stream, philox_u32 a, philox_u32 b, philox_u32 c) {
    return philox4x32(stream, a, b, c, (philox_u32)seed, (philox_u32)(seed >> 32));
}

/* Uniform in [0, 1) with 24 random bits: exactly representable, identical on host and device. */
PHILOX_FN float claug_uniform(philox_u32 x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

#endif
