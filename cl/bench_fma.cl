/* The benchmark's FP32 peak: independent chains of FMAs (host/bench/bench.c).
 *
 * Tunables (-D build options), chosen per device by `claug bench`'s own sweep: the peak is the
 * best shape it finds, so it is never a stale guess:
 *   BENCH_WIDTH   the vector type, floatN: 2, 4, 8 or 16. A CPU's FMA unit is as wide as its
 *                 vector registers (16 floats with AVX-512, 8 with AVX2): narrower types leave
 *                 lanes idle                                                      default 16
 *   BENCH_CHAINS  independent FMA chains per work-item: enough that the FMA units never wait on
 *                 a chain's latency (a CPU core needs latency x ports vector FMAs in flight,
 *                 4 x 2 = 8 or more), few enough to stay in registers (32 zmm with AVX-512)
 *                                                                                 default 16
 *   BENCH_UNROLL  steps of every chain per trip of the loop: fewer loop instructions between
 *                 the FMAs                                                        default 1
 *   BENCH_WG      the work-group size, fixed with reqd_work_group_size so that the compiler
 *                 knows it (PoCL builds its work-group loops around it)          default 64
 */

/* float16 arguments of built-in functions (fma, vload16): see the same pragma in bench.cl. */
#if defined(__has_warning)
#if __has_warning("-Wpsabi")
#pragma clang diagnostic ignored "-Wpsabi"
#endif
#endif

#ifndef BENCH_WIDTH
#define BENCH_WIDTH 16
#endif
#ifndef BENCH_CHAINS
#define BENCH_CHAINS 16
#endif
#ifndef BENCH_UNROLL
#define BENCH_UNROLL 1
#endif
#ifndef BENCH_WG
#define BENCH_WG 64
#endif

#define BENCH_CAT_(a, b) a##b
#define BENCH_CAT(a, b) BENCH_CAT_(a, b)
#define BENCH_VEC BENCH_CAT(float, BENCH_WIDTH)

/* Chain c's starting value in lane l of work-item i: distinct values in [0, 1), exact in float,
 * which the host reference computes the same way. */
float bench_start(int i, int c, int l) { return (float)((i * 389 + c * 16 + l) & 1023) * (1.0f / 1024.0f); }

/* Each of BENCH_CHAINS vector chains runs x = fma(x, a, b) `iters` times; a and b are
 * arguments, so no step can be folded away. The chains are summed in a fixed order and written
 * out, so none of them is dead code, and the host can check the result bit for bit: fma is
 * correctly rounded, and the additions are in the order the reference uses. */
__kernel __attribute__((reqd_work_group_size(BENCH_WG, 1, 1)))
void bench_fma(__global float *out, /* (n) */
               int n, int iters, float a, float b)
{
    int i = get_global_id(0);
    if (i >= n) return;
    BENCH_VEC x[BENCH_CHAINS];
    float lanes[BENCH_WIDTH];
    for (int c = 0; c < BENCH_CHAINS; c++) {
        for (int l = 0; l < BENCH_WIDTH; l++) lanes[l] = bench_start(i, c, l);
        x[c] = BENCH_CAT(vload, BENCH_WIDTH)(0, lanes);
    }
    BENCH_VEC va = (BENCH_VEC)(a), vb = (BENCH_VEC)(b);
    int k = 0;
    /* Unrolled, the chains live in registers; left as a loop over the array, PoCL keeps them in
     * memory and every FMA waits on a store and a load. (A compiler that does not know the
     * pragma ignores it.) */
    for (; k + BENCH_UNROLL <= iters; k += BENCH_UNROLL)
#pragma unroll
        for (int u = 0; u < BENCH_UNROLL; u++)
#pragma unroll
            for (int c = 0; c < BENCH_CHAINS; c++) x[c] = fma(x[c], va, vb);
    for (; k < iters; k++)
#pragma unroll
        for (int c = 0; c < BENCH_CHAINS; c++) x[c] = fma(x[c], va, vb);
    BENCH_VEC t = x[0];
    for (int c = 1; c < BENCH_CHAINS; c++) t += x[c];
    BENCH_CAT(vstore, BENCH_WIDTH)(t, 0, lanes);
    float s = lanes[0];
    for (int l = 1; l < BENCH_WIDTH; l++) s += lanes[l];
    out[i] = s;
}
