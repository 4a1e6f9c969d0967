/* Benchmark kernels: the FP32 peak (chains of FMAs) and the copy bandwidth.
 *
 * Tunables (-D build options):
 *   BENCH_CHAINS  independent float8 FMA chains per work-item: enough that the FMA units never
 *                 wait on a chain's latency (a CPU core needs latency x ports vector FMAs in
 *                 flight: latency 4-5 x 2 ports = 8-10 on AVX2), few enough to stay in
                 registers (16 ymm on AVX2: 12 chains + a + b)                    default 8
 */

#ifndef BENCH_CHAINS
#define BENCH_CHAINS 8
#endif

/* Chain c's starting value in lane l of work-item i: distinct values in [0, 1), exact in float,
 * which the host reference computes the same way. */
float bench_start(int i, int c, int l) { return (float)((i * 64 + c * 8 + l) & 1023) * (1.0f / 1024.0f); }

/* Each of BENCH_CHAINS float8 chains runs x = fma(x, a, b) `iters` times; a and b are
 * arguments, so no step can be folded away. The chains are summed in a fixed order and written
 * out, so none of them is dead code, and the host can check the result bit for bit: fma is
 * correctly rounded, and the additions are in the order the reference uses. */
__kernel void bench_fma(__global float *out, /* (n) */
                        int n, int iters, float a, float b)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float8 x[BENCH_CHAINS];
    for (int c = 0; c < BENCH_CHAINS; c++)
        x[c] = (float8)(bench_start(i, c, 0), bench_start(i, c, 1), bench_start(i, c, 2), bench_start(i, c, 3),
                        bench_start(i, c, 4), bench_start(i, c, 5), bench_start(i, c, 6), bench_start(i, c, 7));
    float8 va = (float8)(a), vb = (float8)(b);
    for (int k = 0; k < iters; k++)
        /* Unrolled, the chains live in registers; left as a loop over the array, PoCL keeps
         * them in memory and every FMA waits on a store and a load. (A compiler that does not
         * know the pragma ignores it.) */
#pragma unroll
        for (int c = 0; c < BENCH_CHAINS; c++) x[c] = fma(x[c], va, vb);
    float8 t = x[0];
    for (int c = 1; c < BENCH_CHAINS; c++) t += x[c];
    out[i] = ((((((t.s0 + t.s1) + t.s2) + t.s3) + t.s4) + t.s5) + t.s6) + t.s7;
}

/* dst = src, one float4 per work-item: one read and one write of every byte. */
__kernel void bench_copy(__global float4 *dst,       /* (n) */
                         __global const float4 *src, /* (n) */
                         int n)
{
    int i = get_global_id(0);
    if (i < n) dst[i] = src[i];
}
