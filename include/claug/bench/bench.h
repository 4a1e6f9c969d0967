/* `claug bench`: a vendor-neutral benchmark of one OpenCL device. The same kernels, timed the
 * same way (OpenCL profiling events, or the host clock for whole training steps), on whatever
 * device is chosen: the FP32 peak and the copy bandwidth it reaches, each layer of the seed
 * model forward and backward as training runs it, CLBlast SGEMM on the dense layers' shapes,
 * the gather and augmentation kernels, a whole training step and the epoch it implies, and the
 * kernel build time with and without the program cache. Each item: the median and the range of
 * the timed runs after a warm-up, a rate, and the rate's share of the measured peak.
 * `claug bench --compare` puts saved results side by side. */
#ifndef CLAUG_BENCH_H
#define CLAUG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claug/runtime/clrt.h"

typedef struct {
    int batch_size;        /* images per training step */
    int repeats;           /* timed runs per item */
    const char *json_path; /* NULL: no JSON file */
    uint64_t seed;         /* weights, inputs and the synthetic data set */
} bench_config;

/* Measures every item on rt's device, printing each row of the table as it is measured, then
 * writes the JSON file if one is asked for. */
void bench_run(clrt *rt, const bench_config *c);
/* One table of the files written by `bench --json`: a row per item, a column per file, and the
 * ratio of the times when there are two. A file that cannot be read or is not such a file
 * exits EXIT_USAGE naming it. */
void bench_compare(const char *const *paths, int n);

/* "12.345 ms", "1.234 s", "56.7 us"; "-" when not finite. */
void bench_format_time(char *buf, size_t len, double seconds);
/* "184.6 GFLOP/s", "754557 images/s"; "-" without a unit or a finite rate. */
void bench_format_rate(char *buf, size_t len, double rate, const char *unit);

/* The benchmark kernels of cl/bench.cl. */
typedef struct {
    clrt *rt;
    int chains; /* BENCH_CHAINS: float8 FMA chains per work-item */
    clrt_kernels ks; /* bench_fma, bench_copy */
} bench_kernels;

void bench_kernels_init(bench_kernels *k, clrt *rt);
void bench_kernels_release(bench_kernels *k);
/* out[i] = the sum of work-item i's chains after `iters` steps of x = fma(x, a, b). */
void bench_fma(bench_kernels *k, cl_mem out /* (n) */, int n, int iters, float a, float b, const char *tag);
/* dst = src, n float4s. */
void bench_copy(bench_kernels *k, cl_mem dst /* (n, 4) */, cl_mem src /* (n, 4) */, int n, const char *tag);

/* The plain-C reference of bench_fma, with fmaf and the kernel's order of additions. */
void ref_bench_fma(float *out, int n, int iters, float a, float b, int chains);

#endif
