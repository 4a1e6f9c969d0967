#define _POSIX_C_SOURCE 200809L
#include "claug/bench/bench.h"

#include <clblast_c.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "claug/data/augment.h"
#include "claug/data/batch.h"
#include "claug/data/dataset.h"
#include "claug/util/json.h"
#include "claug/model/net.h"
#include "claug/model/train.h"
#include "claug/runtime/timing.h"
#include "claug/tune/tuned_net.h"
#include "philox.h"

/* Fashion-MNIST's shapes and sizes: the synthetic data set and the epoch estimate. */
enum { SIDE = IMAGE_SIDE, TRAIN_IMAGES = 60000, TEST_IMAGES = 10000 };
/* Untimed runs before the timed ones: the first runs pay for lazy set-up in some drivers and
 * in CLBlast (which builds its kernels at its first call). */
enum { WARMUP_RUNS = 2 };
/* Steps enqueued ahead of the device at most, as in training (train.c). */
enum { QUEUE_AHEAD = 16 };
/* A Philox stream of the benchmark's own, apart from those of philox.h. */
enum { BENCH_STREAM = 100 };
/* Timed runs go on after --repeats until the interquartile range of the runs is within
 * SPREAD_TARGET of their median, as benchmark suites repeat a noisy measurement, but stop at
 * MAX_RUNS_FACTOR x --repeats runs, or once an item's timed runs have taken ITEM_SECONDS: on a
 * machine too busy for the spread to settle, the item says so ("settled": false) rather than
 * running on. */
static const double SPREAD_TARGET = 0.03;
enum { MAX_RUNS_FACTOR = 5 };
static const double ITEM_SECONDS = 2.0;
/* Device seconds one run of a ceiling is calibrated to: launch overhead vanishes beside it. A
 * cache's runs, of many passes over a small working set, need less; the sweeps' runs, which only
 * rank the candidates, are shorter still. */
static const double CEILING_SECONDS = 0.025, CACHE_SECONDS = 0.01, SWEEP_SECONDS = 0.005;
enum { SWEEP_RUNS = 3 };
/* Host seconds one timed run of a training-step item is calibrated to. */
static const double STEPS_TARGET_SECONDS = 0.25;
/* The memory ceiling's working set: at least twice the last-level cache the device reports, and
 * never below this, within the device's allocation limit and a quarter of its memory. */
static const size_t MEMORY_MIN_BYTES = (size_t)256 << 20;
/* The read kernels index float4s with ints. */
static const size_t READ_MAX_BYTES = (size_t)8 << 30;
/* Vectors each work-item of a read kernel sums per pass (clpeak's FETCH_PER_WI). */
enum { READ_PER = 16 };
/* The read sweep's work-group sizes: the device's usual one, and this many times it. */
enum { READ_WGS = 2, READ_WG_FACTOR = 16 };

/* ---- kernels ------------------------------------------------------------------------------ */

void bench_fma_default(bench_fma_shape *s, const clrt *rt) {
    /* A CPU: as wide as AVX-512 (narrower vectors are split or run at the same rate on AVX2),
     * 16 chains for 2 FMA ports of 4-cycle latency. A GPU hides latency with other work-items:
     * a few chains of a short vector, little register pressure. */
    if (rt->is_gpu) *s = (bench_fma_shape){4, 8, 1, (int)rt->wg_1d};
    else *s = (bench_fma_shape){16, 16, 1, (int)rt->wg_1d};
}

/* The values the sweep tries along each axis; the work-group sizes are multiples of the
 * device's usual one (-4: a quarter of it). */
static const int fma_widths[] = {2, 4, 8, 16}, fma_chains[] = {4, 8, 12, 16, 24}, fma_unrolls[] = {1, 2, 4},
                 fma_wg_factors[] = {-4, 1, 4};
enum { FMA_AXES = 4 };
static const struct {
    const int *values;
    int count;
} fma_axes[FMA_AXES] = {{fma_widths, 4}, {fma_chains, 5}, {fma_unrolls, 3}, {fma_wg_factors, 3}};

static int *shape_axis(bench_fma_shape *s, int axis) {
    return axis == 0 ? &s->width : axis == 1 ? &s->chains : axis == 2 ? &s->unroll : &s->wg;
}

/* The v-th value of `axis` on rt, or 0 when the device cannot have it (a work-group size beyond
 * its limit). */
static int axis_value(const clrt *rt, int axis, int v) {
    int x = fma_axes[axis].values[v];
    if (axis < 3) return x;
    long wg = x < 0 ? (long)rt->wg_1d / -x : (long)rt->wg_1d * x;
    return wg >= 1 && (size_t)wg <= rt->dev.max_wg ? (int)wg : 0;
}

int bench_fma_candidates(bench_fma_shape *out, int max, const clrt *rt) {
    bench_fma_shape def;
    bench_fma_default(&def, rt);
    int n = 0;
    if (n < max) out[n] = def;
    n++;
    for (int axis = 0; axis < FMA_AXES; axis++)
        for (int v = 0; v < fma_axes[axis].count; v++) {
            bench_fma_shape s = def;
            int x = axis_value(rt, axis, v);
            if (!x || x == *shape_axis(&def, axis)) continue;
            *shape_axis(&s, axis) = x;
            if (n < max) out[n] = s;
            n++;
        }
    return n;
}

bool bench_fma_init(bench_fma_kernel *k, clrt *rt, const bench_fma_shape *s, char *why, size_t whylen) {
    k->rt = rt;
    k->shape = *s;
    char opts[128], *log = NULL;
    snprintf(opts, sizeof opts, "-DBENCH_WIDTH=%d -DBENCH_CHAINS=%d -DBENCH_UNROLL=%d -DBENCH_WG=%d", s->width,
             s->chains, s->unroll, s->wg);
    if (!clrt_kernels_try(&k->ks, rt, "bench_fma.cl", opts, (const char *const[]){"bench_fma", NULL}, &log)) {
        snprintf(why, whylen, "does not build");
        free(log);
        return false;
    }
    size_t max = 0;
    if (k->ks.k[0])
        CL_CHECK(clGetKernelWorkGroupInfo(k->ks.k[0], rt->dev.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max, &max,
                                          NULL));
    if (k->ks.k[0] && max < (size_t)s->wg) {
        snprintf(why, whylen, "the device runs at most %zu work-items of it in a group", max);
        clrt_kernels_release(&k->ks);
        return false;
    }
    return true;
}

void bench_fma_release(bench_fma_kernel *k) { clrt_kernels_release(&k->ks); }

void bench_fma(bench_fma_kernel *k, cl_mem out, int n, int iters, float a, float b, const char *tag) {
    KARGS(k->ks.k[0], ARG_MEM(out), ARG_INT(n), ARG_INT(iters), ARG_FLOAT(a), ARG_FLOAT(b));
    clrt_launch(k->rt, k->ks.k[0], 1, (size_t[]){(size_t)n}, (size_t[]){(size_t)k->shape.wg}, tag);
}

/* bench_fma.cl's bench_start. */
static float ref_start(int i, int c, int l) { return (float)((i * 389 + c * 16 + l) & 1023) * (1.0f / 1024.0f); }

void ref_bench_fma(float *out, int n, int iters, float a, float b, const bench_fma_shape *s) {
    float t[16];
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < s->chains; c++)
            for (int l = 0; l < s->width; l++) {
                float x = ref_start(i, c, l);
                for (int k = 0; k < iters; k++) x = fmaf(x, a, b);
                t[l] = c == 0 ? x : t[l] + x;
            }
        float sum = t[0];
        for (int l = 1; l < s->width; l++) sum += t[l];
        out[i] = sum;
    }
}

/* The read kernels by width (4, 8, 16) and form (partial sums, one sum), then the others. */
enum { READ_KERNELS = 6, COPY = READ_KERNELS, FILL };

void bench_mem_init(bench_mem_kernels *k, clrt *rt) {
    k->rt = rt;
    clrt_kernels_init(&k->ks, rt, "bench.cl", rt->is_gpu ? "" : "-DBENCH_READ_UNROLL",
                      (const char *const[]){"bench_read4", "bench_read8", "bench_read16", "bench_read4_1",
                                            "bench_read8_1", "bench_read16_1", [COPY] = "bench_copy",
                                            [FILL] = "bench_fill", NULL});
}

void bench_mem_release(bench_mem_kernels *k) { clrt_kernels_release(&k->ks); }

/* The partial sums of shape s's kernel (bench.cl's S). */
static int read_sums(const bench_read_shape *s) { return s->one_sum ? 1 : s->width == 16 ? 4 : 8; }

int bench_read_shift(int n, int passes) {
    /* More passes than work-items: a shift wider than the vector lanes that PoCL runs side by
     * side (16 floats of AVX-512), so that lanes never read in one pass what they read in the one
     * before, and odd, so that with n a multiple of a power of two the passes still visit every
     * work-item's vectors. */
    enum { MIN_SHIFT = 17 };
    if (n <= MIN_SHIFT) return 1;
    return n / passes > MIN_SHIFT ? n / passes : MIN_SHIFT;
}

void bench_read(bench_mem_kernels *k, cl_mem out, cl_mem src, const bench_read_shape *s, int n, int passes,
                const char *tag) {
    cl_kernel kr = k->ks.k[(s->width == 4 ? 0 : s->width == 8 ? 1 : 2) + (s->one_sum ? 3 : 0)];
    KARGS(kr, ARG_MEM(out), ARG_MEM(src), ARG_INT(n), ARG_INT(passes), ARG_INT(bench_read_shift(n, passes)),
          ARG_INT(s->blocked));
    clrt_launch(k->rt, kr, 1, (size_t[]){(size_t)n}, (size_t[]){(size_t)s->wg}, tag);
}

void ref_bench_read(float *out, const float *src, const bench_read_shape *s, int n, int passes) {
    float sum[8][16];
    int width = s->width, wg = s->wg, sums = read_sums(s), shift = bench_read_shift(n, passes);
    for (int i = 0; i < n; i++) {
        size_t step = s->blocked ? (size_t)wg : (size_t)n;
        for (int j = 0; j < sums; j++)
            for (int l = 0; l < width; l++) sum[j][l] = 0;
        for (int p = 0; p < passes; p++) {
            size_t v = ((size_t)i + (size_t)p * (size_t)shift) % (size_t)n;
            size_t base = s->blocked ? v / (size_t)wg * (size_t)wg * READ_PER + v % (size_t)wg : v;
            for (int k = 0; k < READ_PER; k++)
                for (int l = 0; l < width; l++) sum[k % sums][l] += src[(base + k * step) * width + l];
        }
        for (int j = 1; j < sums; j++)
            for (int l = 0; l < width; l++) sum[0][l] += sum[j][l];
        float t = sum[0][0];
        for (int l = 1; l < width; l++) t += sum[0][l];
        out[i] = t;
    }
}

void bench_copy(bench_mem_kernels *k, cl_mem dst, cl_mem src, int n, const char *tag) {
    KARGS(k->ks.k[COPY], ARG_MEM(dst), ARG_MEM(src), ARG_INT(n));
    clrt_launch(k->rt, k->ks.k[COPY], 1, (size_t[]){(size_t)n}, &k->rt->wg_1d, tag);
}

void bench_fill(bench_mem_kernels *k, cl_mem x, int n, const char *tag) {
    KARGS(k->ks.k[FILL], ARG_MEM(x), ARG_INT(n));
    clrt_launch(k->rt, k->ks.k[FILL], 1, (size_t[]){(size_t)n}, &k->rt->wg_1d, tag);
}

/* bench.cl's bench_fill. */
float bench_fill_value(uint32_t i) {
    uint32_t u = 0x3f800000u | ((i * 2654435761u) >> 9);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- statistics ------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0 to 1) of sorted s (n > 0), interpolated between neighbours. */
static double quantile(const double *s, int n, double q) {
    double x = q * (n - 1);
    int i = (int)floor(x);
    return i >= n - 1 ? s[n - 1] : s[i] + (x - i) * (s[i + 1] - s[i]);
}

/* The interquartile range of s (n) over its median; 0 for fewer than two runs. */
static double spread_of(const double *s, int n) {
    if (n < 2) return 0;
    double *t = xmalloc((size_t)n * sizeof *t);
    memcpy(t, s, (size_t)n * sizeof *t);
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double m = quantile(t, n, 0.5), r = m > 0 ? (quantile(t, n, 0.75) - quantile(t, n, 0.25)) / m : 0;
    free(t);
    return r;
}

/* ---- items and the table ---------------------------------------------------------------------- */

/* What one run of an item does: FLOPs, bytes and images, 0 where they do not apply. For an item
 * with FLOPs, bytes is the least traffic it can have (its inputs, weights and outputs, each
 * once): FLOPs over bytes is its arithmetic intensity, where the roofline places it. */
typedef struct {
    double flops, bytes, images;
    double working_set;       /* bytes the ceiling is looked up by; 0: `bytes` (an upper bound of it) */
    const char *layer, *pass; /* a layer's forward or backward: its Keras name and "forward" or "backward" */
} item_work;

/* A bandwidth ceiling: the read kernel's best at one working set. */
typedef struct {
    char name[48];
    double bytes; /* the working set */
    double rate;  /* bytes per second */
    bool cache;   /* within the last-level cache the device reports */
} bw_ceiling;

typedef struct {
    char name[48], detail[80];
    const char *timing;   /* "events": OpenCL profiling events; "wall": the host's clock */
    item_work work;
    char layer[32], pass[16];
    int runs;
    double median, min, max, sd, spread; /* seconds; spread: interquartile range / median */
    bool settled;                       /* the spread reached SPREAD_TARGET */
    double rate;                        /* in rate_unit; NaN without work */
    const char *rate_unit;
    double intensity;  /* FLOPs per byte; NaN without both */
    double share;      /* of what the roofline allows it (below); NaN where nothing bounds it */
    char ceiling[48];  /* the ceiling item the share is of; "" with no share */
    const char *bound; /* "compute", "memory" (beyond the caches) or "cache"; NULL with no share */
} bench_item;

typedef struct {
    int width, chains, unroll, wg;
    double gflops; /* NaN: it could not run */
} peak_trial;

typedef struct {
    bench_read_shape shape;
    double gbs;
} read_trial;

typedef struct {
    clrt *rt;
    const bench_config *c;
    bench_mem_kernels mem;
    clrt_timer timer; /* brackets CLBlast's calls */
    bench_item *items;
    int nitems;
    int cap;         /* runs of an item at most */
    double *samples; /* (cap) scratch */
    conv_tuning conv; /* the device's (tuning_load) */
    /* the ceilings, once measured */
    char peak_name[48];
    double peak_flops; /* per second */
    bench_fma_shape peak_shape;
    peak_trial *peak_sweep;
    int npeak_sweep;
    read_trial read_sweep[READ_KERNELS * 2 * READ_WGS];
    int nread_sweep;
    double cache_bytes;   /* CL_DEVICE_GLOBAL_MEM_CACHE_SIZE; 0 when none is reported */
    cl_mem big, read_out; /* the memory ceiling's buffer (big_bytes); the read kernels' sums */
    size_t big_bytes, read_unit; /* working sets are multiples of read_unit bytes */
    bw_ceiling memory;
    bw_ceiling *levels; /* cache-resident working sets, measured where an item needs one */
    int nlevels;
    double copy_rate; /* bytes per second */
} bench;

void bench_format_time(char *buf, size_t len, double s) {
    if (!isfinite(s)) snprintf(buf, len, "-");
    else if (s >= 1) snprintf(buf, len, "%.3f s", s);
    else if (s >= 1e-3) snprintf(buf, len, "%.3f ms", s * 1e3);
    else snprintf(buf, len, "%.1f us", s * 1e6);
}

void bench_format_rate(char *buf, size_t len, double rate, const char *unit) {
    if (!unit || !isfinite(rate)) snprintf(buf, len, "-");
    else snprintf(buf, len, "%.*f %s", rate >= 1000 ? 0 : rate >= 10 ? 1 : 2, rate, unit);
}

/* "4 MiB", "512 KiB", "1.5 GiB". */
static void format_bytes(char *buf, size_t len, double b) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) b /= 1024, u++;
    snprintf(buf, len, "%.*f %s", b == floor(b) ? 0 : 1, b, units[u]);
}

static const char *row_format = "%-32s %10s %7s %10s %5s %18s %7s %-14s %s\n";

static void print_row(const bench_item *it) {
    char med[24], spread[16], sd[24], runs[16], rate[40], share[16], of[48];
    bench_format_time(med, sizeof med, it->median);
    snprintf(spread, sizeof spread, "%.1f%%", 100 * it->spread);
    bench_format_time(sd, sizeof sd, it->sd);
    snprintf(runs, sizeof runs, "%d%s", it->runs, it->settled ? "" : "~");
    bench_format_rate(rate, sizeof rate, it->rate, it->rate_unit);
    if (isfinite(it->share)) snprintf(share, sizeof share, "%.0f%%%s", 100 * it->share, it->share > 1 ? "*" : "");
    else snprintf(share, sizeof share, "-");
    /* The ceiling by its kind and, for a cache, its working set. */
    const char *c = strstr(it->ceiling, "cache") ? strchr(it->ceiling, ',') : NULL;
    if (!*it->ceiling) snprintf(of, sizeof of, "-");
    else if (strstr(it->ceiling, "peak")) snprintf(of, sizeof of, "peak");
    else if (c) snprintf(of, sizeof of, "cache%.*s", (int)strcspn(c + 1, ")"), c + 1);
    else snprintf(of, sizeof of, "memory");
    printf(row_format, it->name, med, spread, sd, runs, rate, share, of, it->detail);
    fflush(stdout);
}

static const bw_ceiling *bandwidth_for(bench *b, double bytes);

/* Adds an item from its n timed runs (sorted here) and the work of one run, and prints its row.
 * The share is of the roofline: an item with FLOPs of the FP32 peak, or, where its intensity
 * times the bandwidth at its working set is lower, of that; an item with bytes alone of the
 * bandwidth at its working set (a cache's when it fits in one). */
static void add_item(bench *b, const char *name, const char *detail, const char *timing, double *s, int n,
                     const item_work *w) {
    bench_item it = {.timing = timing, .work = *w, .runs = n};
    snprintf(it.name, sizeof it.name, "%s", name);
    snprintf(it.detail, sizeof it.detail, "%s", detail);
    snprintf(it.layer, sizeof it.layer, "%s", w->layer ? w->layer : "");
    snprintf(it.pass, sizeof it.pass, "%s", w->pass ? w->pass : "");
    it.work.layer = it.work.pass = NULL; /* copied above: the caller's strings need not outlive the item */
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    it.median = median(s, n);
    it.min = s[0];
    it.max = s[n - 1];
    double mean = 0, ss = 0;
    for (int i = 0; i < n; i++) mean += s[i] / n;
    for (int i = 0; i < n; i++) ss += (s[i] - mean) * (s[i] - mean);
    it.sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
    it.spread = spread_of(s, n);
    it.settled = n == 1 || it.spread <= SPREAD_TARGET;
    it.rate = it.share = it.intensity = NAN;
    item_work work = *w;
    if (!(it.median > 0)) work.images = work.flops = work.bytes = 0; /* a clock too coarse: no rate rather than infinity */
    /* Images per second where the work is images (the data path, steps, epochs), else the
     * figure that the roofline compares. */
    if (work.images > 0) it.rate = work.images / it.median, it.rate_unit = "images/s";
    else if (work.flops > 0) it.rate = work.flops / it.median * 1e-9, it.rate_unit = "GFLOP/s";
    else if (work.bytes > 0) it.rate = work.bytes / it.median * 1e-9, it.rate_unit = "GB/s";
    if (work.flops > 0 && work.bytes > 0) it.intensity = work.flops / work.bytes;
    /* The ceiling first: measuring a cache's adds its own item. */
    const bw_ceiling *bw = NULL;
    double ws = work.working_set > 0 ? work.working_set : work.bytes;
    if (work.flops > 0 && b->peak_flops > 0) {
        if (work.bytes > 0 && b->memory.rate > 0 && it.intensity * b->memory.rate < b->peak_flops) {
            bw = bandwidth_for(b, ws);
            if (it.intensity * bw->rate >= b->peak_flops) bw = NULL;
        }
        if (bw) it.share = work.flops / it.median / (it.intensity * bw->rate);
        else it.share = work.flops / it.median / b->peak_flops, it.bound = "compute";
        if (!bw) snprintf(it.ceiling, sizeof it.ceiling, "%s", b->peak_name);
    } else if (work.bytes > 0 && b->memory.rate > 0) {
        bw = bandwidth_for(b, ws);
        it.share = work.bytes / it.median / bw->rate;
    }
    if (bw) {
        it.bound = bw->cache ? "cache" : "memory";
        snprintf(it.ceiling, sizeof it.ceiling, "%s", bw->name);
    }
    b->items = xrealloc(b->items, (size_t)(b->nitems + 1) * sizeof *b->items);
    b->items[b->nitems++] = it;
    print_row(&it);
}

/* ---- timing ---------------------------------------------------------------------------------- */

typedef void (*run_fn)(void *ctx);
/* Device seconds of everything one call of `run` enqueues. */
typedef double (*timer_fn)(bench *b, run_fn run, void *ctx);

/* Whether an item with n timed runs so far, which have taken `elapsed` seconds, needs more. */
static bool more_runs(const bench *b, int n, double elapsed, bool settled) {
    if (n < b->c->repeats) return true;
    return !settled && n < b->cap && elapsed < ITEM_SECONDS;
}

/* The sum of the kernels' own events. */
static double events_seconds(bench *b, run_fn run, void *ctx) {
    clrt_profile_begin(b->rt);
    run(ctx);
    clrt_prof_entry *e;
    int n = clrt_profile_end(b->rt, &e);
    double s = 0;
    for (int i = 0; i < n; i++) s += e[i].seconds;
    free(e);
    return s;
}

/* From a marker before to one after: a CLBlast call's own event covers only its last kernel when
 * it pads or transposes. */
static double bracket_seconds(bench *b, run_fn run, void *ctx) { return clrt_timer_bracket(&b->timer, run, ctx); }

/* The warm-up, then timed runs into b->samples until more_runs says enough; returns how many. */
static int time_runs(bench *b, timer_fn timer, run_fn run, void *ctx) {
    for (int i = 0; i < WARMUP_RUNS; i++) run(ctx);
    clrt_finish(b->rt);
    int n = 0;
    double t0 = now_seconds();
    do {
        b->samples[n] = timer(b, run, ctx);
        n++;
    } while (more_runs(b, n, now_seconds() - t0, spread_of(b->samples, n) <= SPREAD_TARGET));
    return n;
}

/* ---- the FP32 peak ------------------------------------------------------------------------- */

typedef struct {
    bench_fma_kernel k;
    cl_mem out;
    int n, iters;
} fma_ctx;

static void run_fma(void *p) {
    fma_ctx *f = p;
    /* x -> 1 slowly and stays there: every value normal, none denormal or infinite. */
    bench_fma(&f->k, f->out, f->n, f->iters, 0.999f, 0.001f, "fma");
}

static double fma_flops(const fma_ctx *f) {
    return 2.0 * f->k.shape.width * f->k.shape.chains * (double)f->iters * f->n;
}

/* Builds shape s and calibrates its iterations until a run lasts `target` seconds: false (the
 * reason in why) when it cannot run on the device. */
static bool fma_open(bench *b, fma_ctx *f, const bench_fma_shape *s, double target, char *why, size_t len) {
    clrt *rt = b->rt;
    if (!bench_fma_init(&f->k, rt, s, why, len)) return false;
    /* Eight work-groups per compute unit: a full GPU, several groups per CPU thread. */
    f->n = (int)rt->dev.compute_units * s->wg * 8;
    f->iters = 64;
    f->out = clrt_alloc(rt, (size_t)f->n * sizeof(float));
    run_fma(f);
    for (;;) {
        double t = events_seconds(b, run_fma, f);
        if (t >= target || f->iters >= 1 << 24) break;
        double grow = t > 0 ? ceil(target / t * 1.1) : 16;
        f->iters *= grow < 2 ? 2 : grow > 16 ? 16 : (int)grow;
    }
    return true;
}

static void fma_close(fma_ctx *f) {
    CL_CHECK(clReleaseMemObject(f->out));
    bench_fma_release(&f->k);
}

/* Shape s's rate in the sweep (the median of a few short runs), recorded; NaN when it cannot run. */
static double sweep_shape(bench *b, const bench_fma_shape *s) {
    fma_ctx f;
    char why[256];
    double rate = NAN;
    if (fma_open(b, &f, s, SWEEP_SECONDS, why, sizeof why)) {
        double t[SWEEP_RUNS];
        for (int r = 0; r < SWEEP_RUNS; r++) t[r] = events_seconds(b, run_fma, &f);
        rate = fma_flops(&f) / median(t, SWEEP_RUNS);
        fma_close(&f);
    }
    b->peak_sweep = xrealloc(b->peak_sweep, (size_t)(b->npeak_sweep + 1) * sizeof *b->peak_sweep);
    b->peak_sweep[b->npeak_sweep++] = (peak_trial){s->width, s->chains, s->unroll, s->wg, rate * 1e-9};
    return rate;
}

/* The peak is the best kernel shape's: from the device type's default, each axis in turn (vector
 * width, chains, unroll, work-group size) takes the value that runs fastest with the others
 * fixed. The sweep ranks; the winner is then measured as every item is. */
static void bench_peak_flops(bench *b) {
    clrt *rt = b->rt;
    bench_fma_shape best;
    bench_fma_default(&best, rt);
    double best_rate = sweep_shape(b, &best);
    if (!(best_rate > 0)) die(EXIT_DEVICE, "the benchmark's default FMA kernel does not run on this device");
    for (int axis = 0; axis < FMA_AXES; axis++) {
        bench_fma_shape from = best;
        for (int v = 0; v < fma_axes[axis].count; v++) {
            bench_fma_shape s = from;
            int x = axis_value(rt, axis, v);
            if (!x || x == *shape_axis(&from, axis)) continue;
            *shape_axis(&s, axis) = x;
            double rate = sweep_shape(b, &s);
            if (rate > best_rate) best_rate = rate, best = s;
        }
    }
    fma_ctx f;
    char why[256];
    if (!fma_open(b, &f, &best, CEILING_SECONDS, why, sizeof why))
        die(EXIT_DEVICE, "the FMA kernel the sweep chose no longer runs: %s", why);
    b->peak_shape = best;
    int n = time_runs(b, events_seconds, run_fma, &f);
    double flops = fma_flops(&f);
    char detail[80];
    snprintf(detail, sizeof detail, "float%d x %d chains, unroll %d, work-group %d; best of %d shapes", best.width,
             best.chains, best.unroll, best.wg, b->npeak_sweep);
    snprintf(b->peak_name, sizeof b->peak_name, "FP32 peak (FMA chains)");
    b->peak_flops = flops / median(b->samples, n);
    add_item(b, b->peak_name, detail, "events", b->samples, n, &(item_work){.flops = flops});
    fma_close(&f);
}

/* ---- bandwidth ---------------------------------------------------------------------------------- */

typedef struct {
    bench *b;
    bench_read_shape shape;
    int n;        /* work-items */
    int passes;   /* over the working set within a launch */
    int launches; /* of the kernel in a run */
} read_ctx;

static void run_read(void *p) {
    read_ctx *r = p;
    for (int i = 0; i < r->launches; i++)
        bench_read(&r->b->mem, r->b->read_out, r->b->big, &r->shape, r->n, r->passes, "read");
}

/* The read kernel of shape s over the first `bytes` of the big buffer, calibrated until a run
 * lasts `target` seconds. A cache's working set is read `passes` times within a launch, since a
 * launch of its few groups costs more than a pass. The memory ceiling's is read once a launch, by
 * more launches: a later pass within a launch may run beside an earlier one (as PoCL's threads
 * take the groups in blocks), and their reads of the same vectors would meet in the last-level
 * cache. */
static read_ctx read_open(bench *b, size_t bytes, const bench_read_shape *s, double target, bool cache) {
    read_ctx r = {b, *s, (int)(bytes / (4 * (size_t)s->width * READ_PER)), 1, 1};
    int *count = cache ? &r.passes : &r.launches;
    for (;;) {
        double t = events_seconds(b, run_read, &r);
        if (t >= target || *count >= (cache ? 1 << 20 : 1 << 10)) break;
        double grow = t > 0 ? ceil(target / t * 1.1) : 16;
        *count *= grow < 2 ? 2 : grow > 64 ? 64 : (int)grow;
    }
    return r;
}

/* The best read bandwidth at a working set of `bytes`: every combination of clpeak's vector
 * widths and its two access patterns, both forms of the sums, and two work-group sizes (the
 * device's usual one and READ_WG_FACTOR times it: clpeak runs the largest, and PoCL vectorizes
 * the one-sum kernels across a large group's work-items), ranked by a few short runs; then the
 * fastest measured as every item is, under `name`. The sweep at the memory ceiling's working set
 * is kept for the JSON file. */
static double measure_bandwidth(bench *b, size_t bytes, const char *name, bool cache, bool keep_sweep) {
    static const int widths[] = {4, 8, 16};
    read_ctx best = {0};
    double best_rate = 0;
    for (int g = 0; g < READ_WGS; g++)
        for (int k = 0; k < READ_KERNELS; k++)
            for (int blocked = 0; blocked < 2; blocked++) {
                size_t wg = g ? b->rt->wg_1d * READ_WG_FACTOR : b->rt->wg_1d;
                bench_read_shape s = {widths[k % 3], blocked, k >= 3, (int)wg};
                size_t n = bytes / (4 * (size_t)s.width * READ_PER);
                if (wg > b->rt->dev.max_wg || n % wg) continue; /* a working set too small for the group */
                read_ctx r = read_open(b, bytes, &s, SWEEP_SECONDS, cache);
                double t[SWEEP_RUNS];
                for (int i = 0; i < SWEEP_RUNS; i++) t[i] = events_seconds(b, run_read, &r);
                double rate = (double)bytes * r.passes * r.launches / median(t, SWEEP_RUNS);
                if (keep_sweep) b->read_sweep[b->nread_sweep++] = (read_trial){s, rate * 1e-9};
                if (rate > best_rate) best_rate = rate, best = r;
            }
    best = read_open(b, bytes, &best.shape, cache ? CACHE_SECONDS : CEILING_SECONDS, cache);
    int n = time_runs(b, events_seconds, run_read, &best), times = best.passes * best.launches;
    double moved = (double)bytes * times, rate = moved / median(b->samples, n);
    char size[24], detail[80];
    format_bytes(size, sizeof size, (double)bytes);
    snprintf(detail, sizeof detail, "%s read %d time%s; float%d, %s, %d sum%s, work-group %d", size, times,
             times > 1 ? "s" : "", best.shape.width, best.shape.blocked ? "blocked" : "strided",
             read_sums(&best.shape), best.shape.one_sum ? "" : "s", best.shape.wg);
    /* The ceiling is in place before its item, which is then its own ceiling. */
    bw_ceiling *c = cache ? &b->levels[b->nlevels - 1] : &b->memory;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->bytes = (double)bytes;
    c->rate = rate;
    c->cache = cache;
    add_item(b, name, detail, "events", b->samples, n, &(item_work){.bytes = moved, .working_set = (double)bytes});
    return rate;
}

/* The bandwidth for an item of `bytes` (its working set, or an upper bound of it: the bytes it
 * moves): the memory ceiling, unless it fits in the last-level cache, where it is the read
 * bandwidth at the next power of two, measured the first time an item needs it. */
static const bw_ceiling *bandwidth_for(bench *b, double bytes) {
    double level = (double)b->read_unit;
    while (level < bytes) level *= 2;
    if (!(level <= b->cache_bytes) || level > (double)b->big_bytes) return &b->memory;
    for (int i = 0; i < b->nlevels; i++)
        if (b->levels[i].bytes == level) return &b->levels[i];
    char size[24], name[48];
    format_bytes(size, sizeof size, level);
    snprintf(name, sizeof name, "cache bandwidth (read, %s)", size);
    b->levels = xrealloc(b->levels, (size_t)(b->nlevels + 1) * sizeof *b->levels);
    b->levels[b->nlevels++] = (bw_ceiling){.bytes = level, .cache = true};
    measure_bandwidth(b, (size_t)level, name, true, false);
    return &b->levels[b->nlevels - 1];
}

typedef struct {
    bench *b;
    cl_mem dst, src;
    int n;
} copy_ctx;

static void run_copy(void *p) {
    copy_ctx *c = p;
    bench_copy(&c->b->mem, c->dst, c->src, c->n, "copy");
}

/* The memory ceiling, on a working set of at least twice the last-level cache, then a copy of
 * the same working set (half read, half written). */
static void bench_memory(bench *b) {
    clrt *rt = b->rt;
    cl_ulong cache = 0;
    CL_CHECK(clGetDeviceInfo(rt->dev.device, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof cache, &cache, NULL));
    b->cache_bytes = (double)cache;
    /* A work-group of float16s of each work-item: every working set a whole number of groups at
     * every width. */
    b->read_unit = rt->wg_1d * READ_PER * 16 * sizeof(float);
    size_t bytes = 2 * (size_t)cache > MEMORY_MIN_BYTES ? 2 * (size_t)cache : MEMORY_MIN_BYTES;
    if (bytes > rt->dev.max_alloc) bytes = (size_t)rt->dev.max_alloc;
    if (bytes > rt->dev.global_mem / 4) bytes = (size_t)(rt->dev.global_mem / 4);
    if (bytes > READ_MAX_BYTES) bytes = READ_MAX_BYTES;
    /* Halves (the copy's) of whole units of the larger work-group. */
    bytes = bytes / (2 * READ_WG_FACTOR * b->read_unit) * (2 * READ_WG_FACTOR * b->read_unit);
    b->big_bytes = bytes;
    b->big = clrt_alloc(rt, bytes);
    b->read_out = clrt_alloc(rt, bytes / (4 * 4 * READ_PER) * sizeof(float));
    bench_fill(&b->mem, b->big, (int)(bytes / 4), "fill");
    clrt_finish(rt);
    measure_bandwidth(b, bytes, "memory bandwidth (read)", false, true);
    if ((double)bytes < 2 * b->cache_bytes) {
        char size[24];
        format_bytes(size, sizeof size, b->cache_bytes);
        printf("%-32s (the device allows no working set of twice its %s cache: caches may add to this)\n", "", size);
    }

    size_t half = bytes / 2;
    copy_ctx c = {b, clrt_sub(b->big, half, half), clrt_sub(b->big, 0, half), (int)(half / 16)};
    int n = time_runs(b, events_seconds, run_copy, &c);
    char size[24], detail[80];
    format_bytes(size, sizeof size, (double)half);
    snprintf(detail, sizeof detail, "%s read, %s written", size, size);
    b->copy_rate = 2.0 * (double)half / median(b->samples, n);
    add_item(b, "copy bandwidth (float4)", detail, "events", b->samples, n, &(item_work){.bytes = 2.0 * (double)half});
    CL_CHECK(clReleaseMemObject(c.dst));
    CL_CHECK(clReleaseMemObject(c.src));
}

/* ---- the data set ----------------------------------------------------------------------------- */

/* Random images and labels of Fashion-MNIST's size on the device, and a shuffled order. */
typedef struct {
    devset set;
    cl_mem order; /* (TRAIN_IMAGES) int */
    aug_config rotate;
    int first; /* the next batch's first position in order */
} data_ctx;

static void data_init(data_ctx *d, clrt *rt, uint64_t seed) {
    size_t P = SIDE * SIDE, bytes = (size_t)TRAIN_IMAGES * P;
    uint8_t *img = xmalloc(bytes), *lab = xmalloc(TRAIN_IMAGES);
    for (size_t i = 0; i < bytes; i += 16) {
        philox4 r = claug_random4(seed, BENCH_STREAM, 3, (uint32_t)(i / 16), 0);
        for (size_t j = 0; j < 16 && i + j < bytes; j++) img[i + j] = (uint8_t)(r.v[j / 4] >> (8 * (j % 4)));
    }
    for (int i = 0; i < TRAIN_IMAGES; i++) lab[i] = (uint8_t)(img[(size_t)i * P] % NUM_CLASSES);
    idx_array images = {TRAIN_IMAGES, SIDE, SIDE, img}, labels = {TRAIN_IMAGES, 1, 1, lab};
    devset_upload(&d->set, rt, &images, &labels);
    free(img);
    free(lab);
    int *order = xmalloc(TRAIN_IMAGES * sizeof *order);
    for (int i = 0; i < TRAIN_IMAGES; i++) order[i] = i;
    shuffle_order(order, TRAIN_IMAGES, seed, 0);
    d->order = clrt_alloc(rt, TRAIN_IMAGES * sizeof(cl_int));
    clrt_write(rt, d->order, 0, TRAIN_IMAGES * sizeof(cl_int), order);
    free(order);
    aug_config_default(&d->rotate);
    d->rotate.rotation_range = 10; /* `claug run`'s default augmentation */
    d->first = 0;
}

static void data_release(data_ctx *d) {
    CL_CHECK(clReleaseMemObject(d->order));
    devset_release(&d->set);
}

/* ---- the model: everything a training step uses ------------------------------------------------ */

typedef struct {
    net *n;
    batcher gather;
    augmenter aug;
    int B;
    uint64_t seed;
    cl_mem losses, correct; /* (B) */
} model_ctx;

/* The data path's kernels and a step's buffers around the seed model n (taken over, built for
 * batches of B), its weights random. */
static void model_open(model_ctx *m, clrt *rt, net *n, int B, uint64_t seed) {
    m->n = n;
    batcher_init(&m->gather, rt);
    augment_init(&m->aug, rt);
    net_init_params(n, seed);
    m->B = B, m->seed = seed;
    m->losses = clrt_alloc(rt, (size_t)B * sizeof(float));
    m->correct = clrt_alloc(rt, (size_t)B * sizeof(float));
}

static void model_close(model_ctx *m) {
    CL_CHECK(clReleaseMemObject(m->losses));
    CL_CHECK(clReleaseMemObject(m->correct));
    augment_release(&m->aug);
    batcher_release(&m->gather);
    net_free(m->n);
}

/* The next batch into the net's input, gathered, or gathered and augmented. */
static void next_batch(data_ctx *d, model_ctx *m, bool augment) {
    if (d->first + m->B > TRAIN_IMAGES) d->first = 0;
    net *n = m->n;
    if (augment)
        augment_gather(&m->aug, n->x, n->labels, &d->set, d->order, d->first, m->B, &d->rotate, m->seed, 0,
                       "augment");
    else
        batcher_gather(&m->gather, n->x, n->labels, &d->set, d->order, d->first, m->B);
    d->first += m->B;
}

/* Training's own step on the batch in n->x. */
static void train_step(void *p) {
    model_ctx *m = p;
    net_train_step(m->n, m->losses, m->correct, 0, m->B, 1e-3, m->seed);
}


/* ---- the network's layers ------------------------------------------------------------------- */

/* The least traffic, in floats, of a layer's pass that computes: its inputs, weights and outputs,
 * each read or written once (a cache that held everything would move no more). dx: the backward
 * also computes the input gradient. */
static double least_floats(const layer *l, const char *tag, int B, bool dx) {
    double in = (double)B * layer_in_size(l), out = (double)B * layer_out_size(l), w = (double)l->params;
    if (layer_runs_conv(l)) {
        if (strcmp(tag, l->conv.tag_fwd) == 0) return in + w + out;
        if (strcmp(tag, l->conv.tag_dw) == 0) return in + out + w; /* x and dy in, the gradients out */
        return out + w + in;                                        /* dy and the weights in, dx out */
    }
    if (strcmp(tag, l->tag_fwd) == 0) return in + w + out;
    return out + in + w + (dx ? w + in : 0); /* dy and x in, the gradients out; the weights in, dx out */
}

/* The work of the profile entry `tag` of a training step at batch B: the layer's (layer_types'
 * cost, and for its FLOPs the least traffic), the loss's or the optimizer's. */
static void tag_work(item_work *w, char *detail, size_t len, const net *n, int B, const char *tag) {
    memset(w, 0, sizeof *w);
    snprintf(detail, len, "%s", "");
    bool params_below = false; /* a layer with parameters comes earlier: the backward has an input gradient */
    for (int i = 0; i < n->nl; i++) {
        const layer *l = &n->L[i];
        layer_cost c = {0};
        if (layer_types[l->kind].cost && layer_types[l->kind].cost(&c, l, tag, B, params_below)) {
            bool fwd = strcmp(tag, l->tag_fwd) == 0 || (layer_runs_conv(l) && strcmp(tag, l->conv.tag_fwd) == 0);
            *w = (item_work){c.flops, c.flops > 0 ? 4 * least_floats(l, tag, B, params_below) : c.bytes, 0, 0,
                             l->name, fwd ? "forward" : "backward"};
            snprintf(detail, len, "%s", c.detail);
            return;
        }
        params_below |= l->params > 0;
    }
    if (strcmp(tag, "softmax cross-entropy") == 0) {
        /* Logits in and their gradient out, the label, the loss and the correct flag. */
        w->bytes = 4.0 * B * (2 * n->classes + 3);
        snprintf(detail, len, "%d x %d", B, n->classes);
    } else if (strcmp(tag, "adam") == 0) {
        /* Parameters, both moments and the gradient read; parameters and moments written. */
        w->bytes = 4.0 * 7 * (double)n->nparams;
        snprintf(detail, len, "%zu parameters", n->nparams);
    }
}

/* Each profile entry of a training step, over repeated steps, until every entry's spread is
 * small (or the cap). */
static void bench_layers(bench *b, model_ctx *m) {
    clrt *rt = b->rt;
    int ntags = 0, R = 0;
    const char **tags = NULL;
    double *t = NULL; /* (ntags, cap) */
    for (int i = 0; i < WARMUP_RUNS; i++) train_step(m);
    clrt_finish(rt);
    double t0 = now_seconds();
    bool settled;
    do {
        clrt_profile_begin(rt);
        train_step(m);
        clrt_prof_entry *e;
        int n = clrt_profile_end(rt, &e);
        for (int i = 0; i < n; i++) {
            int j = 0;
            while (j < ntags && strcmp(tags[j], e[i].tag) != 0) j++;
            if (j == ntags) {
                tags = xrealloc(tags, (size_t)(ntags + 1) * sizeof *tags);
                t = xrealloc(t, (size_t)(ntags + 1) * b->cap * sizeof *t);
                for (int k = 0; k < b->cap; k++) t[(size_t)ntags * b->cap + k] = 0;
                tags[ntags++] = e[i].tag; /* the net's own strings, which outlive this */
            }
            t[(size_t)j * b->cap + R] = e[i].seconds;
        }
        free(e);
        R++;
        settled = true;
        for (int j = 0; j < ntags && settled; j++) settled = spread_of(t + (size_t)j * b->cap, R) <= SPREAD_TARGET;
    } while (more_runs(b, R, now_seconds() - t0, settled));
    for (int j = 0; j < ntags; j++) {
        item_work w;
        char detail[64];
        tag_work(&w, detail, sizeof detail, m->n, m->B, tags[j]);
        add_item(b, tags[j], detail, "events", t + (size_t)j * b->cap, R, &w);
    }
    free(tags);
    free(t);
}

/* ---- CLBlast SGEMM on the dense layers' shapes ------------------------------------------------ */

typedef struct {
    dense_ctx *dense;
    const dense_gemm_shape *g;
    cl_mem A, B, C;
} sgemm_call;

/* The very call the dense layers make. */
static void enqueue_sgemm(void *p) {
    sgemm_call *c = p;
    CLBLAST_CHECK(dense_gemm(c->dense, c->g->ta, c->g->tb, c->g->m, c->g->n, c->g->k, c->A, c->B, c->C, c->g->name));
}

static cl_mem random_buffer(clrt *rt, size_t n, uint64_t seed, uint32_t which) {
    float *h = xmalloc(n * sizeof *h);
    for (size_t i = 0; i < n; i += 4) {
        philox4 r = claug_random4(seed, BENCH_STREAM, which, (uint32_t)(i / 4), 0);
        for (size_t j = 0; j < 4 && i + j < n; j++) h[i + j] = claug_uniform(r.v[j]) - 0.5f;
    }
    cl_mem m = clrt_alloc(rt, n * sizeof *h);
    clrt_write(rt, m, 0, n * sizeof *h, h);
    free(h);
    return m;
}

static void bench_sgemm(bench *b) {
    clrt *rt = b->rt;
    dense_gemm_shape shapes[12];
    int nl;
    layer *L = model_layers(MODEL_SEED, &nl, NULL);
    int ns = net_gemm_shapes(shapes, 12, L, nl, b->c->batch_size);
    free(L);
    size_t amax = 0, bmax = 0, cmax = 0;
    for (int i = 0; i < ns; i++) {
        const dense_gemm_shape *g = &shapes[i];
        amax = amax > g->m * g->k ? amax : g->m * g->k;
        bmax = bmax > g->k * g->n ? bmax : g->k * g->n;
        cmax = cmax > g->m * g->n ? cmax : g->m * g->n;
    }
    dense_ctx dense;
    dense_init(&dense, rt, NULL);
    sgemm_call call = {&dense, NULL, random_buffer(rt, amax, b->c->seed, 1), random_buffer(rt, bmax, b->c->seed, 2),
                       clrt_alloc(rt, cmax * sizeof(float))};
    for (int i = 0; i < ns; i++) {
        const dense_gemm_shape *g = call.g = &shapes[i];
        int n = time_runs(b, bracket_seconds, enqueue_sgemm, &call);
        char name[64], detail[64];
        snprintf(name, sizeof name, "SGEMM %.48s", g->name);
        snprintf(detail, sizeof detail, "m=%zu n=%zu k=%zu, %c%c", g->m, g->n, g->k, g->ta ? 'T' : 'N', g->tb ? 'T' : 'N');
        /* A, B and C once each. */
        double bytes = 4.0 * (double)(g->m * g->k + g->k * g->n + g->m * g->n);
        add_item(b, name, detail, "events", b->samples, n, &(item_work){.flops = 2.0 * g->m * g->n * g->k, .bytes = bytes});
    }
    cl_mem ms[] = {call.A, call.B, call.C};
    for (size_t i = 0; i < 3; i++) CL_CHECK(clReleaseMemObject(ms[i]));
    dense_release(&dense);
}

/* ---- the data path and whole steps ------------------------------------------------------------- */

typedef struct {
    data_ctx *d;
    model_ctx *m;
    bool augment;
} batch_ctx;

static void run_gather(void *p) {
    batch_ctx *c = p;
    next_batch(c->d, c->m, c->augment);
}

static void bench_data(bench *b, data_ctx *d, model_ctx *m) {
    int B = m->B, P = SIDE * SIDE;
    /* uint8 pixels, label and index in; float pixels and int label out. */
    double bytes = (double)B * (P + 1 + 4 + 4.0 * P + 4);
    for (int augment = 0; augment < 2; augment++) {
        batch_ctx c = {d, m, augment};
        int n = time_runs(b, events_seconds, run_gather, &c);
        char detail[64];
        snprintf(detail, sizeof detail, "%d images of %dx%d%s", B, SIDE, SIDE, augment ? ", bilinear" : "");
        add_item(b, augment ? "gather + augment (rotation 10)" : "gather", detail, "events", b->samples, n,
                 &(item_work){.bytes = bytes, .images = B});
    }
}

typedef enum { STEP_PLAIN, STEP_AUGMENTED, STEP_EVALUATE, STEP_KINDS } step_kind;

static void whole_step(data_ctx *d, model_ctx *m, step_kind kind) {
    next_batch(d, m, kind == STEP_AUGMENTED);
    if (kind != STEP_EVALUATE) {
        train_step(m);
        return;
    }
    net_eval_step(m->n, m->losses, m->correct, 0, m->B);
}

/* Host seconds of `steps` steps enqueued back to back as training does (at most QUEUE_AHEAD
 * ahead of the device), the queue finished only at the end. */
static double steps_seconds(clrt *rt, data_ctx *d, model_ctx *m, step_kind kind, int steps) {
    cl_event ahead[QUEUE_AHEAD] = {0};
    clrt_finish(rt);
    double t0 = now_seconds();
    for (int i = 0; i < steps; i++) {
        cl_event *slot = &ahead[i % QUEUE_AHEAD];
        if (*slot) {
            CL_CHECK(clWaitForEvents(1, slot));
            CL_CHECK(clReleaseEvent(*slot));
        }
        whole_step(d, m, kind);
        CL_CHECK(clEnqueueMarkerWithWaitList(rt->queue, 0, NULL, slot));
    }
    clrt_finish(rt);
    double t = now_seconds() - t0;
    for (int i = 0; i < QUEUE_AHEAD; i++)
        if (ahead[i]) CL_CHECK(clReleaseEvent(ahead[i]));
    return t;
}

/* The three kinds of step in turns, one run of each per round, so that the drift of a shared
 * machine falls on all alike and they have the same number of runs (the epoch estimate pairs
 * them); each run enough steps to last STEPS_TARGET_SECONDS. */
static void bench_steps(bench *b, data_ctx *d, model_ctx *m) {
    int B = m->B, steps[STEP_KINDS], R = 0;
    double *t[STEP_KINDS];
    static const char *names[STEP_KINDS] = {"training step", "training step, augmented", "evaluation step"},
                      *what[STEP_KINDS] = {"gather + train", "augment + train", "gather + forward + loss"};
    for (int k = 0; k < STEP_KINDS; k++) {
        t[k] = xmalloc((size_t)b->cap * sizeof *t[k]);
        int warm = 3;
        steps[k] = (int)ceil(STEPS_TARGET_SECONDS / (steps_seconds(b->rt, d, m, (step_kind)k, warm) / warm));
        steps[k] = steps[k] < 5 ? 5 : steps[k] > 2000 ? 2000 : steps[k];
    }
    double t0 = now_seconds();
    bool settled;
    do {
        settled = true;
        for (int k = 0; k < STEP_KINDS; k++) {
            t[k][R] = steps_seconds(b->rt, d, m, (step_kind)k, steps[k]) / steps[k];
            settled &= spread_of(t[k], R + 1) <= SPREAD_TARGET;
        }
        R++;
        /* Three items' worth of time in each round. */
    } while (more_runs(b, R, (now_seconds() - t0) / STEP_KINDS, settled));
    for (int k = 0; k < STEP_KINDS; k++) {
        char detail[64];
        snprintf(detail, sizeof detail, "%d steps per run, %s", steps[k], what[k]);
        add_item(b, names[k], detail, "wall", t[k], R, &(item_work){.images = B}); /* sorts t[k] */
    }
    /* An epoch: the training set in steps, then the test set forward. Quantiles add up: the
     * k-th fastest epoch is estimated from the k-th fastest step of each kind. */
    int train_steps = (TRAIN_IMAGES + B - 1) / B, eval_steps = (TEST_IMAGES + B - 1) / B;
    for (int k = 0; k < 2; k++) {
        for (int r = 0; r < R; r++) b->samples[r] = train_steps * t[k][r] + eval_steps * t[STEP_EVALUATE][r];
        char detail[64];
        snprintf(detail, sizeof detail, "%d steps + %d evaluation batches", train_steps, eval_steps);
        add_item(b, k ? "epoch estimate, augmented" : "epoch estimate", detail, "wall", b->samples, R,
                 &(item_work){.images = TRAIN_IMAGES});
    }
    for (int k = 0; k < STEP_KINDS; k++) free(t[k]);
}

/* ---- kernel builds ---------------------------------------------------------------------------- */

/* Builds the model (every program training uses), then runs a first step with it: a gather,
 * an augmentation and a training step. Some drivers (PoCL) compile a kernel's machine code only
 * at its first launch, so the first step holds the rest of the start-up cost. Returns the
 * build seconds; *first gets the step's. */
static double build_and_first_step(bench *b, data_ctx *d, model_ctx *m, double *first) {
    clrt *rt = b->rt;
    int B = b->c->batch_size;
    double before = rt->build_seconds;
    model_open(m, rt, net_create(rt, MODEL_SEED, IMAGE_CHANNELS, SIDE, SIDE, NUM_CLASSES, B, &b->conv), B, b->c->seed);
    double built = rt->build_seconds - before;
    clrt_finish(b->rt);
    double t0 = now_seconds();
    next_batch(d, m, false);
    next_batch(d, m, true);
    train_step(m);
    clrt_finish(b->rt);
    *first = now_seconds() - t0;
    return built;
}

/* The cold build, then the warm ones, each from the program cache the cold one filled. */
static void bench_builds(bench *b, data_ctx *d) {
    model_ctx m;
    double cold_first, cold = build_and_first_step(b, d, &m, &cold_first);
    model_close(&m);
    double *warm = xmalloc((size_t)b->cap * sizeof *warm), *warm_first = xmalloc((size_t)b->cap * sizeof *warm_first);
    int R = 0;
    double t0 = now_seconds();
    do {
        model_ctx m;
        warm[R] = build_and_first_step(b, d, &m, &warm_first[R]);
        model_close(&m);
        R++;
    } while (more_runs(b, R, (now_seconds() - t0) / 2,
                       spread_of(warm, R) <= SPREAD_TARGET && spread_of(warm_first, R) <= SPREAD_TARGET));
    item_work none = {0};
    add_item(b, "kernel build, cold", "all programs, no cache", "wall", &cold, 1, &none);
    add_item(b, "first step after a cold build", "gather, augment, train; lazy compiles", "wall", &cold_first, 1,
             &none);
    add_item(b, "kernel build, warm", "all programs, from claug's cache", "wall", warm, R, &none);
    add_item(b, "first step after a warm build", "gather, augment, train", "wall", warm_first, R, &none);
    free(warm);
    free(warm_first);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void json_ceiling(json_writer *w, const char *name, const char *kind, double rate, const char *unit,
                         double working_set) {
    json_object_begin(w);
    json_string(json_key(w, "name"), name);
    json_string(json_key(w, "kind"), kind);
    json_number(json_key(w, "rate"), rate);
    json_string(json_key(w, "rate_unit"), unit);
    json_number(json_key(w, "working_set_bytes"), working_set); /* NaN: null */
    json_object_end(w);
}

static int cmp_ceiling(const void *x, const void *y) {
    const bw_ceiling *a = x, *b = y;
    return (a->bytes > b->bytes) - (a->bytes < b->bytes);
}

static char *results_json(const bench *b, const char *tuning) {
    const clrt_devinfo *d = &b->rt->dev;
    strbuf sb = {0};
    json_writer w;
    json_init(&w, &sb);
    char date[32], desc[1024];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    clrt_describe(desc, sizeof desc, d);
    json_object_begin(&w);
    json_int(json_key(&w, "format_version"), BENCH_FORMAT_VERSION);
    json_string(json_key(&w, "claug_version"), CLAUG_VERSION);
    json_string(json_key(&w, "git_commit"), CLAUG_GIT_COMMIT);
    json_string(json_key(&w, "date"), date);
    json_object_begin(json_key(&w, "device"));
    json_string(json_key(&w, "name"), d->name);
    json_string(json_key(&w, "vendor"), d->vendor);
    json_string(json_key(&w, "type"), clrt_type_name(d->type));
    json_string(json_key(&w, "driver"), d->driver);
    json_string(json_key(&w, "platform"), d->platform_name);
    json_string(json_key(&w, "platform_version"), d->platform_version);
    json_string(json_key(&w, "opencl_version"), d->version);
    json_string(json_key(&w, "opencl_c_version"), d->c_version);
    json_uint(json_key(&w, "compute_units"), d->compute_units);
    json_uint(json_key(&w, "clock_mhz"), d->clock_mhz);
    json_uint(json_key(&w, "global_memory_bytes"), d->global_mem);
    json_uint(json_key(&w, "global_memory_cache_bytes"), (unsigned long long)b->cache_bytes);
    json_uint(json_key(&w, "local_memory_bytes"), d->local_mem);
    json_uint(json_key(&w, "max_allocation_bytes"), d->max_alloc);
    json_uint(json_key(&w, "max_work_group_size"), d->max_wg);
    json_string(json_key(&w, "description"), desc);
    json_object_end(&w);
    json_int(json_key(&w, "batch_size"), b->c->batch_size);
    json_int(json_key(&w, "repeats"), b->c->repeats);
    json_int(json_key(&w, "max_repeats"), b->cap);
    json_number(json_key(&w, "spread_target"), SPREAD_TARGET);
    json_number(json_key(&w, "item_seconds"), ITEM_SECONDS);
    json_int(json_key(&w, "warmup_runs"), WARMUP_RUNS);
    json_string(json_key(&w, "tuning"), tuning);
    json_number(json_key(&w, "peak_gflops"), b->peak_flops * 1e-9);
    json_number(json_key(&w, "bandwidth_gbs"), b->memory.rate * 1e-9);
    json_number(json_key(&w, "copy_gbs"), b->copy_rate * 1e-9);
    /* The roofline's lines: the peak, the memory bandwidth, and the caches' that items needed. */
    json_array_begin(json_key(&w, "ceilings"));
    json_ceiling(&w, b->peak_name, "compute", b->peak_flops * 1e-9, "GFLOP/s", NAN);
    json_ceiling(&w, b->memory.name, "memory", b->memory.rate * 1e-9, "GB/s", b->memory.bytes);
    /* The caches by working set, smallest first (they are measured in the order items need them). */
    bw_ceiling *levels = xmalloc((size_t)(b->nlevels ? b->nlevels : 1) * sizeof *levels);
    memcpy(levels, b->levels, (size_t)b->nlevels * sizeof *levels);
    qsort(levels, (size_t)b->nlevels, sizeof *levels, cmp_ceiling);
    for (int i = 0; i < b->nlevels; i++)
        json_ceiling(&w, levels[i].name, "cache", levels[i].rate * 1e-9, "GB/s", levels[i].bytes);
    free(levels);
    json_array_end(&w);
    json_object_begin(json_key(&w, "peak_shape"));
    json_int(json_key(&w, "width"), b->peak_shape.width);
    json_int(json_key(&w, "chains"), b->peak_shape.chains);
    json_int(json_key(&w, "unroll"), b->peak_shape.unroll);
    json_int(json_key(&w, "work_group"), b->peak_shape.wg);
    json_object_end(&w);
    json_array_begin(json_key(&w, "peak_sweep"));
    for (int i = 0; i < b->npeak_sweep; i++) {
        const peak_trial *p = &b->peak_sweep[i];
        json_object_begin(&w);
        json_int(json_key(&w, "width"), p->width);
        json_int(json_key(&w, "chains"), p->chains);
        json_int(json_key(&w, "unroll"), p->unroll);
        json_int(json_key(&w, "work_group"), p->wg);
        json_number(json_key(&w, "gflops"), p->gflops); /* null: it could not run */
        json_object_end(&w);
    }
    json_array_end(&w);
    json_array_begin(json_key(&w, "bandwidth_sweep"));
    for (int i = 0; i < b->nread_sweep; i++) {
        json_object_begin(&w);
        const bench_read_shape *s = &b->read_sweep[i].shape;
        json_int(json_key(&w, "width"), s->width);
        json_string(json_key(&w, "pattern"), s->blocked ? "blocked" : "strided");
        json_int(json_key(&w, "sums"), read_sums(s));
        json_int(json_key(&w, "work_group"), s->wg);
        json_number(json_key(&w, "gbs"), b->read_sweep[i].gbs);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_array_begin(json_key(&w, "items"));
    for (int i = 0; i < b->nitems; i++) {
        const bench_item *it = &b->items[i];
        json_object_begin(&w);
        json_string(json_key(&w, "name"), it->name);
        json_string(json_key(&w, "detail"), it->detail);
        json_string(json_key(&w, "unit"), "s");
        json_number(json_key(&w, "median"), it->median);
        json_number(json_key(&w, "min"), it->min);
        json_number(json_key(&w, "max"), it->max);
        json_number(json_key(&w, "stddev"), it->sd);
        json_number(json_key(&w, "spread"), it->spread);
        json_int(json_key(&w, "repeats"), it->runs);
        json_bool(json_key(&w, "settled"), it->settled);
        json_string(json_key(&w, "timing"), it->timing);
        json_number(json_key(&w, "rate"), it->rate); /* NaN: null */
        json_string(json_key(&w, "rate_unit"), it->rate_unit);
        json_number(json_key(&w, "flops"), it->work.flops > 0 ? it->work.flops : NAN);
        json_number(json_key(&w, "bytes"), it->work.bytes > 0 ? it->work.bytes : NAN);
        json_number(json_key(&w, "intensity"), it->intensity);
        json_number(json_key(&w, "share"), it->share);
        json_string(json_key(&w, "ceiling"), *it->ceiling ? it->ceiling : NULL);
        json_string(json_key(&w, "bound"), it->bound);
        json_string(json_key(&w, "layer"), *it->layer ? it->layer : NULL);
        json_string(json_key(&w, "pass"), *it->pass ? it->pass : NULL);
        json_object_end(&w);
    }
    json_array_end(&w);
    /* The driver's figures of every kernel built, for every device type: on a GPU, the numbers to
     * compare with tools/portability.sh's prediction. */
    clrt_kernel_figures *kf;
    int nkf = clrt_kernel_report(b->rt, &kf);
    json_array_begin(json_key(&w, "kernels"));
    for (int i = 0; i < nkf; i++) {
        json_object_begin(&w);
        json_string(json_key(&w, "name"), kf[i].kernel);
        json_string(json_key(&w, "program"), kf[i].program);
        json_uint(json_key(&w, "private_mem_bytes"), kf[i].private_mem);
        json_uint(json_key(&w, "local_mem_bytes"), kf[i].local_mem);
        json_uint(json_key(&w, "preferred_work_group_size_multiple"), kf[i].wg_multiple);
        json_uint(json_key(&w, "max_work_group_size"), kf[i].wg_max);
        json_object_end(&w);
    }
    json_array_end(&w);
    free(kf);
    json_object_end(&w);
    sb_putc(&sb, '\n');
    return sb_take(&sb);
}

/* ---- the run --------------------------------------------------------------------------------- */

char *bench_run(clrt *rt, const bench_config *c) {
    bench b = {.rt = rt, .c = c, .cap = MAX_RUNS_FACTOR * c->repeats};
    b.samples = xmalloc((size_t)b.cap * sizeof *b.samples);
    /* The model the items time, built as training builds it: the tuning file lives in the
     * user's cache directory. */
    tuning tu;
    char tuned[2600], details[1024];
    model_ctx m;
    model_open(&m, rt,
               open_tuned_net(rt, MODEL_SEED, IMAGE_CHANNELS, SIDE, SIDE, NUM_CLASSES, c->batch_size, &tu, tuned,
                              sizeof tuned),
               c->batch_size, c->seed);
    b.conv = tu.conv;
    tuning_describe(details, sizeof details, &tu);
    char *tuning = xasprintf("%s. %s", tuned, details);
    printf("Batch size %d; after %d warm-up runs, %d to %d timed runs per item, until the spread (interquartile range "
           "over the median) is at most %.0f%% or an item has taken %.0f s; '~' after the runs: not reached.\n"
           "Tuning: %s.\n%s.\n\n",
           c->batch_size, WARMUP_RUNS, c->repeats, b.cap, 100 * SPREAD_TARGET, ITEM_SECONDS, tuned, details);
    printf(row_format, "item", "median", "spread", "sd", "runs", "rate", "share", "of", "detail");

    bench_mem_init(&b.mem, rt);
    clrt_timer_init(&b.timer, rt);
    bench_peak_flops(&b);
    bench_memory(&b);
    /* SGEMM first: CLBlast builds its kernels at its first call, once per process, and that
     * belongs to neither build below. */
    bench_sgemm(&b);
    data_ctx d;
    data_init(&d, rt, c->seed);
    bench_layers(&b, &m);
    bench_data(&b, &d, &m);
    bench_steps(&b, &d, &m);
    /* From here every program is built cold (a private cache, a nonce option), so that the cold
     * build measured is; everything above came from the user's cache, as in training. */
    clrt_cold cold_builds;
    clrt_cold_begin(rt, &cold_builds);
    bench_builds(&b, &d);
    clrt_cold_end(rt, &cold_builds);
    bool above = false;
    for (int i = 0; i < b.nitems; i++) above |= b.items[i].share > 1;
    printf("\nshare: of the roofline at the item's arithmetic intensity and working set: of the FP32 peak "
           "(\"peak\"), or of\nintensity x the read bandwidth at its working set (\"memory\" beyond the "
           "last-level cache, \"cache\" within it).\n");
    if (above)
        printf("*: above its ceiling by the noise of the two medians, or with a working set smaller than the "
               "smallest the read kernel can fill.\n");
    if (rt->is_gpu) clrt_print_kernel_report(stdout, rt);
    char *json = results_json(&b, tuning);
    if (c->json_path && !write_file(c->json_path, json, strlen(json)))
        die(EXIT_USAGE, "--json %s: cannot write: %s", c->json_path, strerror(errno));

    model_close(&m);
    data_release(&d);
    CL_CHECK(clReleaseMemObject(b.big));
    CL_CHECK(clReleaseMemObject(b.read_out));
    clrt_timer_release(&b.timer);
    bench_mem_release(&b.mem);
    free(b.items);
    free(b.samples);
    free(b.peak_sweep);
    free(b.levels);
    free(tuning);
    return json;
}
