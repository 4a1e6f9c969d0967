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
/* Device seconds one FMA run is calibrated to: launch overhead vanishes beside it. */
static const double PEAK_TARGET_SECONDS = 0.025;
/* Host seconds one timed run of a training-step item is calibrated to. */
static const double STEPS_TARGET_SECONDS = 0.25;
/* The copy's buffer: far beyond any cache, within every device's allocation limit. */
static const size_t COPY_MAX_BYTES = (size_t)256 << 20;

/* ---- kernels ------------------------------------------------------------------------------ */

enum { FMA, COPY };

void bench_kernels_init(bench_kernels *k, clrt *rt) {
    k->rt = rt;
    /* A CPU core runs one work-item at a time: its chains alone must hide the FMA latency
     * (2 ports x 4-5 cycles: 8-10 vector FMAs in flight), in 16 ymm registers; 12 reaches the
     * peak on Zen 3 where 8 reaches half of it. A GPU hides latency with other work-items. */
    k->chains = rt->is_gpu ? 8 : 12;
    char opts[64];
    snprintf(opts, sizeof opts, "-DBENCH_CHAINS=%d", k->chains);
    clrt_kernels_init(&k->ks, rt, "bench.cl", opts,
                      (const char *const[]){[FMA] = "bench_fma", [COPY] = "bench_copy", NULL});
}

void bench_kernels_release(bench_kernels *k) { clrt_kernels_release(&k->ks); }

void bench_fma(bench_kernels *k, cl_mem out, int n, int iters, float a, float b, const char *tag) {
    KARGS(k->ks.k[FMA], ARG_MEM(out), ARG_INT(n), ARG_INT(iters), ARG_FLOAT(a), ARG_FLOAT(b));
    clrt_launch(k->rt, k->ks.k[FMA], 1, (size_t[]){(size_t)n}, &k->rt->wg_1d, tag);
}

void bench_copy(bench_kernels *k, cl_mem dst, cl_mem src, int n, const char *tag) {
    KARGS(k->ks.k[COPY], ARG_MEM(dst), ARG_MEM(src), ARG_INT(n));
    clrt_launch(k->rt, k->ks.k[COPY], 1, (size_t[]){(size_t)n}, &k->rt->wg_1d, tag);
}

/* bench.cl's bench_start. */
static float ref_start(int i, int c, int l) { return (float)((i * 64 + c * 8 + l) & 1023) * (1.0f / 1024.0f); }

void ref_bench_fma(float *out, int n, int iters, float a, float b, int chains) {
    for (int i = 0; i < n; i++) {
        float t[8];
        for (int c = 0; c < chains; c++)
            for (int l = 0; l < 8; l++) {
                float x = ref_start(i, c, l);
                for (int k = 0; k < iters; k++) x = fmaf(x, a, b);
                t[l] = c == 0 ? x : t[l] + x;
            }
        out[i] = ((((((t[0] + t[1]) + t[2]) + t[3]) + t[4]) + t[5]) + t[6]) + t[7];
    }
}

/* ---- items and the table ---------------------------------------------------------------------- */

typedef struct {
    char name[48], detail[64];
    const char *timing;          /* "events": OpenCL profiling events; "wall": the host's clock */
    double flops, bytes, images; /* the work of one run; 0 where it does not apply */
    int runs;
    double median, min, max; /* seconds */
    double rate;             /* in rate_unit; NaN without work */
    const char *rate_unit;
    double share;      /* of the measured peak (FMA or copy); NaN where neither applies */
    const char *bound; /* "compute", "memory" or NULL */
} bench_item;

typedef struct {
    clrt *rt;
    const bench_config *c;
    bench_kernels k;
    clrt_timer timer; /* brackets CLBlast's calls */
    bench_item *items;
    int nitems;
    double peak_flops, peak_bytes; /* per second, once measured */
    double *samples;               /* (repeats) scratch */
    conv_tuning conv;              /* the device's (tuning_load) */
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

static const char *row_format = "%-32s %10s %10s %10s %5s %18s %6s  %s\n";

static void print_row(const bench_item *it) {
    char med[24], lo[24], hi[24], runs[16], rate[40], share[16];
    bench_format_time(med, sizeof med, it->median);
    bench_format_time(lo, sizeof lo, it->min);
    bench_format_time(hi, sizeof hi, it->max);
    snprintf(runs, sizeof runs, "%d", it->runs);
    bench_format_rate(rate, sizeof rate, it->rate, it->rate_unit);
    if (isfinite(it->share)) snprintf(share, sizeof share, "%.0f%%", 100 * it->share);
    else snprintf(share, sizeof share, "-");
    printf(row_format, it->name, med, lo, hi, runs, rate, share, it->detail);
    fflush(stdout);
}

/* Adds an item from its n timed runs (sorted here) and the work of one run, and prints its row. */
static bench_item *add_item(bench *b, const char *name, const char *detail, const char *timing, double *s, int n,
                            double flops, double bytes, double images) {
    b->items = xrealloc(b->items, (size_t)(b->nitems + 1) * sizeof *b->items);
    bench_item *it = &b->items[b->nitems++];
    memset(it, 0, sizeof *it);
    snprintf(it->name, sizeof it->name, "%s", name);
    snprintf(it->detail, sizeof it->detail, "%s", detail);
    it->timing = timing;
    it->flops = flops, it->bytes = bytes, it->images = images;
    it->runs = n;
    it->median = median(s, n);
    it->min = s[0];
    it->max = s[n - 1];
    it->rate = it->share = NAN;
    if (!(it->median > 0)) images = flops = bytes = 0; /* a clock too coarse: no rate rather than infinity */
    /* Images per second where the work is images (the data path, steps, epochs), else the
     * figure that the roofline compares. */
    if (images > 0) it->rate = images / it->median, it->rate_unit = "images/s";
    else if (flops > 0) it->rate = flops / it->median * 1e-9, it->rate_unit = "GFLOP/s";
    else if (bytes > 0) it->rate = bytes / it->median * 1e-9, it->rate_unit = "GB/s";
    if (flops > 0 && b->peak_flops > 0) it->share = flops / it->median / b->peak_flops, it->bound = "compute";
    else if (bytes > 0 && b->peak_bytes > 0) it->share = bytes / it->median / b->peak_bytes, it->bound = "memory";
    print_row(it);
    return it;
}

/* ---- timing by events ----------------------------------------------------------------------- */

typedef void (*run_fn)(void *ctx);

/* Device seconds of everything one call of `run` enqueues, summed over its kernels' events. */
static double events_seconds(clrt *rt, run_fn run, void *ctx) {
    clrt_profile_begin(rt);
    run(ctx);
    clrt_prof_entry *e;
    int n = clrt_profile_end(rt, &e);
    double s = 0;
    for (int i = 0; i < n; i++) s += e[i].seconds;
    free(e);
    return s;
}

/* The warm-up, then the timed runs into b->samples. */
static void time_runs(bench *b, run_fn run, void *ctx) {
    for (int i = 0; i < WARMUP_RUNS; i++) run(ctx);
    clrt_finish(b->rt);
    for (int r = 0; r < b->c->repeats; r++) b->samples[r] = events_seconds(b->rt, run, ctx);
}

/* ---- the peaks ------------------------------------------------------------------------------- */

typedef struct {
    bench_kernels *k;
    cl_mem out;
    int n, iters;
} fma_ctx;

static void run_fma(void *p) {
    fma_ctx *f = p;
    /* x -> 1 slowly and stays there: every value normal, none denormal or infinite. */
    bench_fma(f->k, f->out, f->n, f->iters, 0.999f, 0.001f, "fma");
}

static void bench_peak_flops(bench *b) {
    clrt *rt = b->rt;
    /* Eight work-groups per compute unit: a full GPU (2048 work-items per unit at 256 per
     * group) and several groups per CPU thread. */
    fma_ctx f = {&b->k, NULL, (int)(rt->dev.compute_units * rt->wg_1d * 8), 64};
    f.out = clrt_alloc(rt, (size_t)f.n * sizeof(float));
    run_fma(&f);
    /* Calibration: more iterations until one run lasts the target time. */
    for (;;) {
        double t = events_seconds(rt, run_fma, &f);
        if (t >= PEAK_TARGET_SECONDS || f.iters >= 1 << 24) break;
        double grow = t > 0 ? ceil(PEAK_TARGET_SECONDS / t * 1.1) : 16;
        f.iters *= grow < 2 ? 2 : grow > 16 ? 16 : (int)grow;
    }
    time_runs(b, run_fma, &f);
    double flops = 2.0 * 8 * b->k.chains * (double)f.iters * f.n;
    char detail[64];
    snprintf(detail, sizeof detail, "%d x %d float8 chains x %d", f.n, b->k.chains, f.iters);
    b->peak_flops = flops / median(b->samples, b->c->repeats);
    add_item(b, "FP32 peak (FMA chains)", detail, "events", b->samples, b->c->repeats, flops, 0, 0);
    CL_CHECK(clReleaseMemObject(f.out));
}

typedef struct {
    bench_kernels *k;
    cl_mem dst, src;
    int n;
} copy_ctx;

static void run_copy(void *p) {
    copy_ctx *c = p;
    bench_copy(c->k, c->dst, c->src, c->n, "copy");
}

static void bench_peak_bytes(bench *b) {
    clrt *rt = b->rt;
    size_t bytes = COPY_MAX_BYTES;
    if (bytes > rt->dev.max_alloc) bytes = (size_t)rt->dev.max_alloc;
    if (bytes > rt->dev.global_mem / 8) bytes = (size_t)(rt->dev.global_mem / 8);
    bytes = bytes / 16 / rt->wg_1d * 16 * rt->wg_1d;
    copy_ctx c = {&b->k, clrt_alloc(rt, bytes), clrt_alloc(rt, bytes), (int)(bytes / 16)};
    /* Varied data rather than zeros, which some memory systems compress. */
    size_t chunk = bytes < ((size_t)16 << 20) ? bytes : (size_t)16 << 20;
    uint32_t *h = xmalloc(chunk);
    for (size_t off = 0; off < bytes; off += chunk) {
        size_t n = bytes - off < chunk ? bytes - off : chunk;
        for (size_t i = 0; i < n / 4; i++) h[i] = (uint32_t)((off / 4 + i) * 2654435761u) >> 2; /* finite floats */
        clrt_write(rt, c.src, off, n, h);
    }
    free(h);
    time_runs(b, run_copy, &c);
    char detail[64];
    snprintf(detail, sizeof detail, "%.0f MiB read, %.0f MiB written", bytes / 1048576.0, bytes / 1048576.0);
    b->peak_bytes = 2.0 * (double)bytes / median(b->samples, b->c->repeats);
    add_item(b, "copy bandwidth (float4)", detail, "events", b->samples, b->c->repeats, 0, 2.0 * (double)bytes, 0);
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

/* The work of the profile entry `tag` of a training step at batch B: the layer's (layer_types'
 * cost), the loss's or the optimizer's. */
static void tag_work(layer_cost *c, const net *n, int B, const char *tag) {
    memset(c, 0, sizeof *c);
    bool params_below = false; /* a layer with parameters comes earlier: the backward has an input gradient */
    for (int i = 0; i < n->nl; i++) {
        const layer *l = &n->L[i];
        if (layer_types[l->kind].cost && layer_types[l->kind].cost(c, l, tag, B, params_below)) return;
        params_below |= l->params > 0;
    }
    if (strcmp(tag, "softmax cross-entropy") == 0) {
        /* Logits in and their gradient out, the label, the loss and the correct flag. */
        c->bytes = 4.0 * B * (2 * n->classes + 3);
        snprintf(c->detail, sizeof c->detail, "%d x %d", B, n->classes);
    } else if (strcmp(tag, "adam") == 0) {
        /* Parameters, both moments and the gradient read; parameters and moments written. */
        c->bytes = 4.0 * 7 * (double)n->nparams;
        snprintf(c->detail, sizeof c->detail, "%zu parameters", n->nparams);
    }
}

/* Each profile entry of a training step, over repeated steps. */
static void bench_layers(bench *b, model_ctx *m) {
    clrt *rt = b->rt;
    int R = b->c->repeats, ntags = 0;
    const char **tags = NULL;
    double *t = NULL; /* (ntags, R) */
    for (int i = 0; i < WARMUP_RUNS; i++) train_step(m);
    clrt_finish(rt);
    for (int r = 0; r < R; r++) {
        clrt_profile_begin(rt);
        train_step(m);
        clrt_prof_entry *e;
        int n = clrt_profile_end(rt, &e);
        for (int i = 0; i < n; i++) {
            int j = 0;
            while (j < ntags && strcmp(tags[j], e[i].tag) != 0) j++;
            if (j == ntags) {
                tags = xrealloc(tags, (size_t)(ntags + 1) * sizeof *tags);
                t = xrealloc(t, (size_t)(ntags + 1) * R * sizeof *t);
                for (int k = 0; k < R; k++) t[(size_t)ntags * R + k] = 0;
                tags[ntags++] = e[i].tag; /* the net's own strings, which outlive this */
            }
            t[(size_t)j * R + r] = e[i].seconds;
        }
        free(e);
    }
    for (int j = 0; j < ntags; j++) {
        layer_cost w;
        tag_work(&w, m->n, m->B, tags[j]);
        add_item(b, tags[j], w.detail, "events", t + (size_t)j * R, R, w.flops, w.bytes, 0);
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
        for (int w = 0; w < WARMUP_RUNS; w++) enqueue_sgemm(&call);
        clrt_finish(rt);
        /* Bracketed: CLBlast's own event covers only its last kernel when it pads or transposes. */
        for (int r = 0; r < b->c->repeats; r++) b->samples[r] = clrt_timer_bracket(&b->timer, enqueue_sgemm, &call);
        char name[64], detail[64];
        snprintf(name, sizeof name, "SGEMM %.48s", g->name);
        snprintf(detail, sizeof detail, "m=%zu n=%zu k=%zu, %c%c", g->m, g->n, g->k, g->ta ? 'T' : 'N', g->tb ? 'T' : 'N');
        add_item(b, name, detail, "events", b->samples, b->c->repeats, 2.0 * g->m * g->n * g->k, 0, 0);
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
        time_runs(b, run_gather, &c);
        char detail[64];
        snprintf(detail, sizeof detail, "%d images of %dx%d%s", B, SIDE, SIDE, augment ? ", bilinear" : "");
        add_item(b, augment ? "gather + augment (rotation 10)" : "gather", detail, "events", b->samples,
                 b->c->repeats, 0, bytes, B);
    }
}

typedef enum { STEP_PLAIN, STEP_AUGMENTED, STEP_EVALUATE } step_kind;

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

/* Seconds per step over the timed runs, each of enough steps to last STEPS_TARGET_SECONDS,
 * into out (repeats). Returns the steps per run. */
static int time_steps(bench *b, data_ctx *d, model_ctx *m, step_kind kind, double *out) {
    int warm = 3, steps = (int)ceil(STEPS_TARGET_SECONDS / (steps_seconds(b->rt, d, m, kind, warm) / warm));
    steps = steps < 5 ? 5 : steps > 2000 ? 2000 : steps;
    for (int r = 0; r < b->c->repeats; r++) out[r] = steps_seconds(b->rt, d, m, kind, steps) / steps;
    return steps;
}

static void bench_steps(bench *b, data_ctx *d, model_ctx *m) {
    int R = b->c->repeats, B = m->B;
    double *t[3];
    static const char *names[3] = {"training step", "training step, augmented", "evaluation step"},
                      *what[3] = {"gather + train", "augment + train", "gather + forward + loss"};
    for (int k = 0; k < 3; k++) {
        t[k] = xmalloc((size_t)R * sizeof *t[k]);
        int steps = time_steps(b, d, m, (step_kind)k, t[k]);
        char detail[64];
        snprintf(detail, sizeof detail, "%d steps per run, %s", steps, what[k]);
        add_item(b, names[k], detail, "wall", t[k], R, 0, 0, B); /* sorts t[k] */
    }
    /* An epoch: the training set in steps, then the test set forward. Quantiles add up: the
     * k-th fastest epoch is estimated from the k-th fastest step of each kind. */
    int train_steps = (TRAIN_IMAGES + B - 1) / B, eval_steps = (TEST_IMAGES + B - 1) / B;
    for (int k = 0; k < 2; k++) {
        for (int r = 0; r < R; r++) b->samples[r] = train_steps * t[k][r] + eval_steps * t[STEP_EVALUATE][r];
        char detail[64];
        snprintf(detail, sizeof detail, "%d steps + %d evaluation batches", train_steps, eval_steps);
        add_item(b, k ? "epoch estimate, augmented" : "epoch estimate", detail, "wall", b->samples, R, 0, 0,
                 TRAIN_IMAGES);
    }
    for (int k = 0; k < 3; k++) free(t[k]);
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
    int R = b->c->repeats;
    model_ctx m;
    double cold_first, cold = build_and_first_step(b, d, &m, &cold_first);
    model_close(&m);
    double *warm = xmalloc((size_t)R * sizeof *warm), *warm_first = xmalloc((size_t)R * sizeof *warm_first);
    for (int r = 0; r < R; r++) {
        model_ctx m;
        warm[r] = build_and_first_step(b, d, &m, &warm_first[r]);
        model_close(&m);
    }
    add_item(b, "kernel build, cold", "all programs, no cache", "wall", &cold, 1, 0, 0, 0);
    add_item(b, "first step after a cold build", "gather, augment, train; lazy compiles", "wall", &cold_first, 1, 0,
             0, 0);
    add_item(b, "kernel build, warm", "all programs, from claug's cache", "wall", warm, R, 0, 0, 0);
    add_item(b, "first step after a warm build", "gather, augment, train", "wall", warm_first, R, 0, 0, 0);
    free(warm);
    free(warm_first);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void write_json(const bench *b, const char *tuning) {
    const clrt_devinfo *d = &b->rt->dev;
    strbuf sb = {0};
    json_writer w;
    json_init(&w, &sb);
    char date[32], desc[1024];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    clrt_describe(desc, sizeof desc, d);
    json_object_begin(&w);
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
    json_uint(json_key(&w, "local_memory_bytes"), d->local_mem);
    json_uint(json_key(&w, "max_allocation_bytes"), d->max_alloc);
    json_uint(json_key(&w, "max_work_group_size"), d->max_wg);
    json_string(json_key(&w, "description"), desc);
    json_object_end(&w);
    json_int(json_key(&w, "batch_size"), b->c->batch_size);
    json_int(json_key(&w, "repeats"), b->c->repeats);
    json_int(json_key(&w, "warmup_runs"), WARMUP_RUNS);
    json_string(json_key(&w, "tuning"), tuning);
    json_number(json_key(&w, "peak_gflops"), b->peak_flops * 1e-9);
    json_number(json_key(&w, "copy_gbs"), b->peak_bytes * 1e-9);
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
        json_int(json_key(&w, "repeats"), it->runs);
        json_string(json_key(&w, "timing"), it->timing);
        json_number(json_key(&w, "rate"), it->rate); /* NaN: null */
        json_string(json_key(&w, "rate_unit"), it->rate_unit);
        json_number(json_key(&w, "share_of_peak"), it->share);
        json_string(json_key(&w, "bound"), it->bound);
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
    char *text = sb_take(&sb);
    if (!write_file(b->c->json_path, text, strlen(text)))
        die(EXIT_USAGE, "--json %s: cannot write: %s", b->c->json_path, strerror(errno));
    free(text);
}

/* ---- the run --------------------------------------------------------------------------------- */

void bench_run(clrt *rt, const bench_config *c) {
    bench b = {.rt = rt, .c = c};
    b.samples = xmalloc((size_t)c->repeats * sizeof *b.samples);
    /* The model the items time, built as training builds it, before the cold builds below: the
     * tuning file lives in the user's cache directory. */
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
    printf("Batch size %d; %d timed runs per item after %d warm-up runs; median, fastest and slowest run.\n"
           "Tuning: %s.\n%s.\n\n",
           c->batch_size, c->repeats, WARMUP_RUNS, tuned, details);
    printf(row_format, "item", "median", "min", "max", "runs", "rate", "share", "detail");

    /* From here every program is built cold (a private cache, a nonce option), so that the cold
     * builds measured below are; the timed model above came from the user's cache, as in training. */
    clrt_cold cold_builds;
    clrt_cold_begin(rt, &cold_builds);
    bench_kernels_init(&b.k, rt);
    clrt_timer_init(&b.timer, rt);
    bench_peak_flops(&b);
    bench_peak_bytes(&b);
    /* SGEMM first: CLBlast builds its kernels at its first call, once per process, and that
     * belongs to neither build below. */
    bench_sgemm(&b);
    data_ctx d;
    data_init(&d, rt, c->seed);
    bench_layers(&b, &m);
    bench_data(&b, &d, &m);
    bench_steps(&b, &d, &m);
    bench_builds(&b, &d);
    printf("\nshare: of the FP32 peak (compute-bound items) or of the copy bandwidth (memory-bound items) "
           "measured above.\n");
    if (rt->is_gpu) clrt_print_kernel_report(stdout, rt);
    if (c->json_path) write_json(&b, tuning);

    model_close(&m);
    data_release(&d);
    clrt_timer_release(&b.timer);
    bench_kernels_release(&b.k);
    clrt_cold_end(rt, &cold_builds);
    free(b.items);
    free(b.samples);
    free(tuning);
}
