/* The benchmark's memory kernels (host/bench/bench.c): the memory and cache read bandwidth as
 * clpeak measures it (each work-item sums vectors it reads at a stride, in one of two access
 * patterns), a copy, and a fill that makes the data. The FP32 peak's kernel is bench_fma.cl. */

/* Work-item i sums BENCH_PER vectors, `passes` times over, and writes the sum: n work-items read
 * n * BENCH_PER vectors, each once a pass. The two access patterns of clpeak: strided (blocked
 * 0), vector i + k n, so that neighbouring work-items read neighbouring vectors at every step
 * (what a GPU coalesces); blocked (1), each work-group a contiguous block, vector
 * g * L * BENCH_PER + k * L + l of its local id l (clpeak's "local offset").
 *
 * A pass measures the level that holds the whole working set only if what it reads was not read
 * a moment before. So in pass p work-item i reads the vectors of work-item v = (i + p * shift)
 * mod n, with the host's shift (bench_read_shift): a work-item's passes go through the working
 * set, and a vector is read again only after about the whole of it. (Reading its own vectors
 * every pass, a work-item would measure the L1 cache at every working set on a CPU, which runs a
 * work-item's passes back to back.) Neighbouring work-items still read neighbouring vectors.
 * With a working set that a cache holds, the passes measure that cache; the memory ceiling reads
 * once a launch (host/bench/bench.c). p * shift < n + 17 * passes: no overflow.
 *
 * Two forms of each width: vector k goes to partial sum k % S (8 sums, 4 of float16s: few
 * enough for a GPU's registers), where one sum alone would wait on each addition's latency and
 * cap a cache's bandwidth at a load per latency; or to one sum (the _1 kernels), clpeak's
 * form, which PoCL vectorizes across the work-items of a large group (their loads then run
 * contiguously) and which reads memory fastest there. Indices are ints: working sets up to
 * 2^31 vectors. n is a multiple of the work-group size.
 *
 * Tunable (-D build option): BENCH_READ_UNROLL, defined for CPUs: a pass's 16 loads in a row,
 * 4% more memory bandwidth under PoCL; a GPU compiler would hold all 16 vectors in registers and
 * spill, so there the loop steps a partial sum's worth at a time. */
#define BENCH_PER 16
/* A float16 passed to a built-in function (vstore16 here) makes clang warn that its ABI differs
 * without AVX-512; the built-ins are inlined, so no call has an ABI, and PoCL would print the
 * count of warnings on the user's terminal at every cold build on an AVX2 CPU. */
#if defined(__has_warning)
#if __has_warning("-Wpsabi")
#pragma clang diagnostic ignored "-Wpsabi"
#endif
#endif
#ifdef BENCH_READ_UNROLL
#define BENCH_READ_STEP(S) BENCH_PER
#else
#define BENCH_READ_STEP(S) (S)
#endif
#define BENCH_READ(NAME, W, S)                                                                          \
    __kernel void NAME(__global float *out, /* (n) */                                                   \
                       __global const float##W *src, /* (n * BENCH_PER) */                              \
                       int n, int passes, int shift, int blocked)                                       \
    {                                                                                                   \
        int i = get_global_id(0);                                                                       \
        if (i >= n) return;                                                                             \
        int L = get_local_size(0), step = blocked ? L : n;                                              \
        float##W s[S];                                                                                  \
        for (int j = 0; j < S; j++) s[j] = 0;                                                           \
        for (int p = 0; p < passes; p++) {                                                              \
            int v = (i + p * shift) % n;                                                                \
            int base = blocked ? v / L * L * BENCH_PER + v % L : v;                                     \
            _Pragma("unroll 1") for (int k = 0; k < BENCH_PER; k += BENCH_READ_STEP(S))                 \
                _Pragma("unroll") for (int j = 0; j < BENCH_READ_STEP(S); j++)                          \
                    s[(k + j) % S] += src[base + (k + j) * step];                                       \
        }                                                                                               \
        for (int j = 1; j < S; j++) s[0] += s[j];                                                       \
        float lanes[W];                                                                                 \
        vstore##W(s[0], 0, lanes);                                                                      \
        float t = lanes[0];                                                                             \
        for (int k = 1; k < W; k++) t += lanes[k];                                                      \
        out[i] = t;                                                                                     \
    }
BENCH_READ(bench_read4, 4, 8)
BENCH_READ(bench_read8, 8, 8)
BENCH_READ(bench_read16, 16, 4)
BENCH_READ(bench_read4_1, 4, 1)
BENCH_READ(bench_read8_1, 8, 1)
BENCH_READ(bench_read16_1, 16, 1)

/* dst = src, one float4 per work-item: one read and one write of every byte. */
__kernel void bench_copy(__global float4 *dst,       /* (n) */
                         __global const float4 *src, /* (n) */
                         int n)
{
    int i = get_global_id(0);
    if (i < n) dst[i] = src[i];
}

/* x[i] = a hash of i as a float in [1, 2): varied data (some memory systems compress zeros),
 * never a denormal (which would slow the read kernels' additions on some CPUs). */
__kernel void bench_fill(__global uint *x, /* (n) */
                         int n)
{
    int i = get_global_id(0);
    if (i < n) x[i] = 0x3f800000u | (((uint)i * 2654435761u) >> 9);
}
