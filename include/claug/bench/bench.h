/* `claug bench`: a vendor-neutral benchmark of one OpenCL device. The same kernels, timed the
 * same way (OpenCL profiling events, or the host clock for whole training steps), on whatever
 * device is chosen: the device's ceilings (the FP32 peak of the best FMA kernel shape a sweep
 * finds, the memory read bandwidth of the best of clpeak's vector widths and access patterns on
 * a working set beyond the last-level cache, and the read bandwidth at a cache-resident working
 * set wherever an item needs one), a copy, each layer of the seed model forward and backward as
 * training runs it, CLBlast SGEMM on the dense layers' shapes, the gather and augmentation
 * kernels, a whole training step and the epoch it implies, and the kernel build time with and
 * without the program cache. Each item: the median, the spread and the standard deviation of
 * timed runs taken after a warm-up until the spread is small (or a cap), a rate, and the rate's
 * share of what the roofline allows it. `claug bench --compare` puts saved results side by side. */
#ifndef CLAUG_BENCH_H
#define CLAUG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claug/runtime/clrt.h"
#include "claug/util/json_read.h"

/* The version of the JSON file: 2 adds the ceilings, the spread and standard deviation, and each
 * item's work (flops, bytes, intensity), layer and pass, which the roofline chart needs. */
enum { BENCH_FORMAT_VERSION = 2 };

typedef struct {
    int batch_size;        /* images per training step */
    int repeats;           /* timed runs per item at least */
    const char *json_path; /* NULL: no JSON file */
    uint64_t seed;         /* weights, inputs and the synthetic data set */
} bench_config;

/* Measures every item on rt's device, printing each row of the table as it is measured, and
 * returns the results as the JSON text `--json` writes (to FILE when c->json_path is set). The
 * caller frees it. */
char *bench_run(clrt *rt, const bench_config *c);

/* Result files of `bench --json`, read and checked. */
typedef struct {
    const char *path;
    json_value *doc;
    const char *device; /* device.name */
    int batch;
    int version;             /* format_version; 1 for files from before it was written */
    const json_value *items; /* array of objects with a name, a positive median and a rate */
} bench_file;

/* Reads and checks the files (the caller frees them with bench_files_free); one that cannot be read or is not such a file exits EXIT_USAGE
 * naming it. */
bench_file *bench_files_load(const char *const *paths, int n);
/* The same for the text of one (text[len] a NUL), named `path` in messages. */
void bench_file_parse(bench_file *f, const char *path, const char *text, size_t len);
void bench_files_free(bench_file *f, int n);
/* The item of f named `name`, or NULL. */
const json_value *bench_file_item(const bench_file *f, const char *name);
/* One table of the files: a row per item, a column per file, and the ratio of the times when
 * there are two. */
void bench_compare(const bench_file *f, int n);

/* "12.345 ms", "1.234 s", "56.7 us"; "-" when not finite. */
void bench_format_time(char *buf, size_t len, double seconds);
/* "184.6 GFLOP/s", "754557 images/s"; "-" without a unit or a finite rate. */
void bench_format_rate(char *buf, size_t len, double rate, const char *unit);

/* ---- the kernels of cl/bench_fma.cl and cl/bench.cl ---- */

/* The shape of the FMA kernel: its -D tunables (cl/bench_fma.cl says what each does). */
typedef struct {
    int width;  /* BENCH_WIDTH: floatN, 2 to 16 */
    int chains; /* BENCH_CHAINS */
    int unroll; /* BENCH_UNROLL */
    int wg;     /* BENCH_WG: the work-group size */
} bench_fma_shape;

/* Where the sweep starts on rt's kind of device. */
void bench_fma_default(bench_fma_shape *s, const clrt *rt);
/* Every shape the sweep may try from the default (one axis at a time), for the portability
 * listing; at most max into out, returns how many. */
int bench_fma_candidates(bench_fma_shape *out, int max, const clrt *rt);

typedef struct {
    clrt *rt;
    bench_fma_shape shape;
    clrt_kernels ks; /* bench_fma */
} bench_fma_kernel;

/* Builds the FMA kernel of shape s: false (nothing held, the reason in why) when it does not
 * build or the device cannot run its work-group size. */
bool bench_fma_init(bench_fma_kernel *k, clrt *rt, const bench_fma_shape *s, char *why, size_t whylen);
void bench_fma_release(bench_fma_kernel *k);
/* out[i] = the sum of work-item i's chains after `iters` steps of x = fma(x, a, b). */
void bench_fma(bench_fma_kernel *k, cl_mem out /* (n) */, int n, int iters, float a, float b, const char *tag);
/* The plain-C reference of bench_fma, with fmaf and the kernel's order of additions. */
void ref_bench_fma(float *out /* (n) */, int n, int iters, float a, float b, const bench_fma_shape *s);

/* The memory kernels: bench_read4, 8, 16 and their one-sum forms, bench_copy, bench_fill. */
typedef struct {
    clrt *rt;
    clrt_kernels ks;
} bench_mem_kernels;

void bench_mem_init(bench_mem_kernels *k, clrt *rt);
void bench_mem_release(bench_mem_kernels *k);

/* One read kernel and its launch (cl/bench.cl). */
typedef struct {
    int width;    /* 4, 8 or 16 */
    bool blocked; /* clpeak's local-offset pattern; else its global-offset one (strided) */
    bool one_sum; /* one sum rather than 8 partial sums (4 of float16s) */
    int wg;       /* the work-group size */
} bench_read_shape;

/* out[i] = the sum of the 16 float`width`s work-item i reads in each of `passes` passes, in pass
 * p those of work-item (i + p * bench_read_shift(n, passes)) mod n; n, a multiple of s->wg,
 * work-items. */
void bench_read(bench_mem_kernels *k, cl_mem out /* (n) */, cl_mem src /* (n * 16, width) */,
                const bench_read_shape *s, int n, int passes, const char *tag);
/* Work-items between those whose vectors one pass and the next read: n / passes, or at least
 * 17 (1 when n <= 17). */
int bench_read_shift(int n, int passes);
/* The plain-C reference of bench_read, in the kernel's order of additions. */
void ref_bench_read(float *out /* (n) */, const float *src /* (n * 16, width) */, const bench_read_shape *s, int n,
                    int passes);
/* dst = src, n float4s. */
void bench_copy(bench_mem_kernels *k, cl_mem dst /* (n, 4) */, cl_mem src /* (n, 4) */, int n, const char *tag);
/* x[i] = bench_fill_value(i): varied floats in [1, 2). */
void bench_fill(bench_mem_kernels *k, cl_mem x /* (n) */, int n, const char *tag);
float bench_fill_value(uint32_t i);

#endif
