/* claug bench: the FMA kernel of several shapes bit for bit against the same recurrence on the
 * host (fmaf), the read kernels of every width and pattern against a plain-C sum in their order,
 * the fill and the copy exact; one short `bench --json --svg` run read back by the tests' own
 * strict JSON reader: its FLOP and byte counts against the seed model's shapes written out by
 * hand, every share against the roofline recomputed from the ceilings the file names, the runs
 * within their bounds, the epoch estimate against its definition, the roofline SVG well-formed
 * with a point per layer pass; `--compare` of a file with itself (ratio 1.00), with a hand-made
 * file of format 1 (missing items, a known ratio), its chart, and on missing, malformed and
 * foreign files (exit 2 naming the file); and the command line's bad uses. */
/* ctest: labels=e2e timeout=300 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/bench/bench.h"
#include "claug/ops/conv.h"
#include "devbuf.h"
#include "json_check.h"
#include "svg_check.h"
#include "tol.h"

enum { B = 8 }; /* the bench run's batch size: small, so that the run is short */

static void test_fma(clrt *rt, const bench_fma_shape *shape) {
    enum { N = 37 }; /* not a multiple of the work-group size */
    bench_fma_kernel fk, *k = &fk;
    char why[256], what[160];
    CHECK(bench_fma_init(k, rt, shape, why, sizeof why), "FMA kernel float%d x %d, unroll %d, wg %d: %s", shape->width,
          shape->chains, shape->unroll, shape->wg, why);
    if (!k->ks.k[0]) return;
    static const struct {
        int iters;
        float a, b;
        const char *what;
    } cases[] = {
        {0, 1.0f, 0.0f, "fma chains, 0 steps (the starting sums)"},
        {7, -0.5f, 0.75f, "fma chains, 7 steps of -x/2 + 3/4"},
        {1000, 0.999f, 0.001f, "fma chains, 1000 steps of the benchmark's"},
    };
    float got[N], want[N];
    cl_mem out = clrt_alloc(rt, sizeof got);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bench_fma(k, out, N, cases[c].iters, cases[c].a, cases[c].b, "fma");
        clrt_read(rt, out, 0, sizeof got, got);
        ref_bench_fma(want, N, cases[c].iters, cases[c].a, cases[c].b, shape);
        /* fma is correctly rounded in OpenCL and C alike, and the sums run in the same order:
         * the same bits. */
        snprintf(what, sizeof what, "%s, float%d x %d, unroll %d", cases[c].what, shape->width, shape->chains,
                 shape->unroll);
        check_close(what, got, want, N, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
    }
    /* The sums are not all alike: a kernel that ignored its work-item index would fail here. */
    CHECK(want[0] != want[1], "work-items 0 and 1 give the same sum %g", (double)want[0]);
    release(out);
    bench_fma_release(k);
}

/* Every width, pattern and form of the sums, at two work-group sizes, against the sums in the
 * kernel's order. Two passes rotate by half the work-items, seven by 1/7 of them, 40 by 17 (the
 * least), wrapping round. */
static void test_read(bench_mem_kernels *k, clrt *rt) {
    int wg = (int)rt->wg_1d, n = 6 * wg;
    size_t floats = (size_t)n * 16 * 16;
    float *src = xmalloc(floats * sizeof *src), *got = xmalloc((size_t)n * sizeof *got),
          *want = xmalloc((size_t)n * sizeof *want);
    fill_uniform(src, floats, 11, -1, 1);
    cl_mem s = upload(rt, src, floats * sizeof *src), out = clrt_alloc(rt, (size_t)n * sizeof *got);
    static const int widths[] = {4, 8, 16};
    /* The usual work-group, and a smaller one: the blocked pattern follows the group. */
    for (int g = 0; g < 2; g++)
        for (int w = 0; w < 3; w++)
            for (int form = 0; form < 12; form++) {
                int passes = (int[]){2, 7, 40}[form >> 2];
                bench_read_shape shape = {widths[w], form & 1, form >> 1 & 1, g ? 16 : wg};
                bench_read(k, out, s, &shape, n, passes, "read");
                clrt_read(rt, out, 0, (size_t)n * sizeof *got, got);
                ref_bench_read(want, src, &shape, n, passes);
                char what[96];
                snprintf(what, sizeof what, "read float%d, %s, %s, work-group %d, %d passes", widths[w],
                         shape.blocked ? "blocked" : "strided", shape.one_sum ? "one sum" : "partial sums", shape.wg,
                         passes);
                check_close(what, got, want, (size_t)n, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
            }
    release(s);
    release(out);
    free(src);
    free(got);
    free(want);
}

static void test_fill(bench_mem_kernels *k, clrt *rt) {
    enum { N = 1003 };
    static float got[N], want[N];
    cl_mem x = clrt_alloc(rt, sizeof got);
    bench_fill(k, x, N, "fill");
    clrt_read(rt, x, 0, sizeof got, got);
    for (int i = 0; i < N; i++) want[i] = bench_fill_value((uint32_t)i);
    check_same("fill", got, want, sizeof got);
    bool in_range = true;
    for (int i = 0; i < N; i++) in_range &= want[i] >= 1 && want[i] < 2;
    CHECK(in_range && want[0] != want[1], "the fill's values are not varied floats in [1, 2)");
    release(x);
}

static void test_copy(bench_mem_kernels *k, clrt *rt) {
    enum { N4 = 1001 };
    static float src[4 * N4], got[4 * N4];
    fill_uniform(src, 4 * N4, 7, -1e3f, 1e3f);
    cl_mem s = upload(rt, src, sizeof src), d = clrt_alloc(rt, sizeof got);
    clrt_fill_zero(rt, d, 0, sizeof got);
    bench_copy(k, d, s, N4, "copy");
    clrt_read(rt, d, 0, sizeof got, got);
    check_same("copy of 1001 float4", got, src, sizeof src);
    release(s);
    release(d);
}

/* ---- the bench run -------------------------------------------------------------------------- */

static const jv *item(const jv *doc, const char *name) {
    const jv *items = jv_path(doc, "items");
    for (int i = 0; items && i < items->count; i++) {
        const jv *n = jv_path(&items->items[i], "name");
        if (n && n->type == JV_STRING && strcmp(n->string, name) == 0) return &items->items[i];
    }
    CHECK(false, "the results lack the item \"%s\"", name);
    return NULL;
}

static double num(const jv *v, const char *path) {
    const jv *x = jv_path(v, path);
    CHECK(x && x->type == JV_NUMBER, "\"%s\" is not a number", path);
    return x && x->type == JV_NUMBER ? x->number : NAN;
}

static bool positive(double x) { return isfinite(x) && x > 0; }

/* The work an item claims, back from its rate: rate (per second, in its unit) x median. */
static void check_work(const jv *doc, const char *name, const char *unit, double want) {
    const jv *it = item(doc, name);
    if (!it) return;
    const jv *u = jv_path(it, "rate_unit");
    double scale = strcmp(unit, "images/s") == 0 ? 1 : 1e9;
    double work = num(it, "rate") * scale * num(it, "median");
    CHECK(u && u->type == JV_STRING && strcmp(u->string, unit) == 0, "%s: rate unit is not %s", name, unit);
    CHECK(fabs(work - want) <= 1e-9 * want, "%s: %.17g of work per run, want %.17g", name, work, want);
}

static const char *string_of(const jv *v, const char *path) {
    const jv *x = jv_path(v, path);
    return x && x->type == JV_STRING ? x->string : NULL;
}

/* Every item: positive times in order, runs between --repeats (3) and the cap (15) unless taken
 * once, a spread and a standard deviation, and a share that is what the roofline gives from the
 * ceiling the item names: rate over peak for compute-bound items, over intensity x bandwidth for
 * the others with FLOPs, bandwidth over bandwidth for those without. */
static void check_items(const jv *doc) {
    const jv *items = jv_path(doc, "items");
    double peak = num(doc, "peak_gflops");
    CHECK(items && items->type == JV_ARRAY && items->count >= 30, "items: not an array of 30 or more");
    for (int i = 0; items && i < items->count; i++) {
        const jv *it = &items->items[i], *name = jv_path(it, "name"), *rate = jv_path(it, "rate"),
                 *share = jv_path(it, "share"), *unit = jv_path(it, "unit"), *settled = jv_path(it, "settled");
        const char *n = name && name->type == JV_STRING ? name->string : "?";
        double med = num(it, "median"), lo = num(it, "min"), hi = num(it, "max"), runs = num(it, "repeats"),
               sd = num(it, "stddev"), spread = num(it, "spread");
        CHECK(name && name->type == JV_STRING && *n, "item %d has no name", i);
        CHECK(unit && unit->type == JV_STRING && strcmp(unit->string, "s") == 0, "%s: unit is not \"s\"", n);
        CHECK(positive(med) && positive(lo) && positive(hi) && lo <= med && med <= hi,
              "%s: min %g, median %g, max %g are not positive and in order", n, lo, med, hi);
        bool once = strstr(n, "cold") != NULL;
        CHECK(once ? runs == 1 : runs >= 3 && runs <= 15, "%s: %g runs, want %s", n, runs, once ? "1" : "3 to 15");
        CHECK(sd >= 0 && sd <= hi - lo + 1e-12 && spread >= 0 && spread * med <= hi - lo + 1e-12,
              "%s: stddev %g or spread %g beyond the range %g", n, sd, spread, hi - lo);
        CHECK(settled && settled->type == JV_BOOL, "%s: \"settled\" is not a boolean", n);
        CHECK(rate && (rate->type == JV_NULL || (rate->type == JV_NUMBER && positive(rate->number))),
              "%s: rate is neither null nor positive", n);
        CHECK(share && (share->type == JV_NULL || (share->type == JV_NUMBER && positive(share->number))),
              "%s: share is neither null nor positive", n);
        if (!share || share->type != JV_NUMBER) continue;
        const char *ceiling = string_of(it, "ceiling"), *bound = string_of(it, "bound");
        CHECK(ceiling && bound, "%s: a share without a ceiling or a bound", n);
        if (!ceiling || !bound) continue;
        const jv *c = item(doc, ceiling);
        if (!c) continue;
        const jv *fl = jv_path(it, "flops");
        double flops = fl && fl->type == JV_NUMBER ? fl->number : 0, want;
        if (strcmp(bound, "compute") == 0) {
            CHECK(strcmp(ceiling, "FP32 peak (FMA chains)") == 0, "%s: compute-bound against %s", n, ceiling);
            want = flops / med * 1e-9 / peak;
        } else {
            CHECK(strcmp(bound, strstr(ceiling, "cache") ? "cache" : "memory") == 0, "%s: bound %s against %s", n,
                  bound, ceiling);
            double bw = num(c, "rate");
            want = flops > 0 ? flops / med * 1e-9 / (num(it, "intensity") * bw) : num(it, "bytes") / med * 1e-9 / bw;
            /* A bandwidth bound only where it is below the peak. */
            if (flops > 0) CHECK(num(it, "intensity") * bw < peak, "%s: bound by %s above the peak", n, ceiling);
        }
        CHECK(fabs(share->number - want) <= 1e-9 * want, "%s: share %.17g, want %.17g", n, share->number, want);
    }
}

/* dense_as_conv: the device's default tuning runs the dense layers as 1x1 convolutions. */
static void check_results(const char *path, const char *table, bool dense_as_conv) {
    char *text = slurp(path, NULL), err[256] = "";
    CHECK(text != NULL, "bench --json wrote no %s", path);
    if (!text) return;
    jv *doc = jv_parse(text, err, sizeof err);
    CHECK(doc != NULL, "%s is not valid JSON: %s", path, err);
    free(text);
    if (!doc) return;
    const char *strings[] = {"claug_version", "git_commit", "date", "tuning", "device.name", "device.vendor",
                             "device.type", "device.driver", "device.platform", "device.opencl_c_version"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const jv *s = jv_path(doc, strings[i]);
        CHECK(s && s->type == JV_STRING && *s->string, "\"%s\" is not a non-empty string", strings[i]);
    }
    const jv *date = jv_path(doc, "date");
    CHECK(date && date->type == JV_STRING && strlen(date->string) == 20 && date->string[10] == 'T' &&
              date->string[19] == 'Z',
          "date is not YYYY-MM-DDTHH:MM:SSZ");
    CHECK(num(doc, "format_version") == 2, "format_version is not 2");
    CHECK(num(doc, "batch_size") == B && num(doc, "repeats") == 3 && num(doc, "max_repeats") == 15,
          "batch_size, repeats or max_repeats differ from the command's");
    CHECK(num(doc, "device.compute_units") >= 1 && positive(num(doc, "device.global_memory_bytes")),
          "device: no compute units or no memory");
    CHECK(positive(num(doc, "peak_gflops")) && positive(num(doc, "bandwidth_gbs")) && positive(num(doc, "copy_gbs")),
          "the peaks are not positive");
    check_items(doc);

    /* The ceilings are their own reference, and each is the item of its name. */
    const jv *ceilings = jv_path(doc, "ceilings");
    CHECK(ceilings && ceilings->type == JV_ARRAY && ceilings->count >= 2, "no ceilings");
    for (int i = 0; ceilings && i < ceilings->count; i++) {
        const jv *c = &ceilings->items[i];
        const char *name = string_of(c, "name"), *kind = string_of(c, "kind");
        const jv *it = name ? item(doc, name) : NULL;
        CHECK(kind && (i == 0 ? !strcmp(kind, "compute") : i == 1 ? !strcmp(kind, "memory") : !strcmp(kind, "cache")),
              "ceiling %d is of kind %s", i, kind ? kind : "?");
        if (!it) continue;
        CHECK(fabs(num(it, "share") - 1) < 1e-12, "%s: share %g, not 1", name, num(it, "share"));
        CHECK(fabs(num(it, "rate") - num(c, "rate")) <= 1e-12 * num(c, "rate"), "%s: the item's rate is not the ceiling's",
              name);
        /* The memory ceiling's working set lies beyond the cache; a cache's within it. */
        if (i == 0) continue;
        double ws = num(c, "working_set_bytes"), cache = num(doc, "device.global_memory_cache_bytes");
        if (i == 1) CHECK(ws >= fmin(2 * cache, num(doc, "device.max_allocation_bytes") / 2), "the memory ceiling's "
                          "working set %g is within the %g-byte cache", ws, cache);
        if (i >= 2) CHECK(ws <= cache, "%s: working set %g beyond the cache", name, ws);
    }
    CHECK(fabs(num(item(doc, "FP32 peak (FMA chains)"), "rate") - num(doc, "peak_gflops")) < 1e-9 * num(doc, "peak_gflops"),
          "peak_gflops differs from the FMA item's rate");
    CHECK(fabs(num(item(doc, "memory bandwidth (read)"), "rate") - num(doc, "bandwidth_gbs")) <
              1e-9 * num(doc, "bandwidth_gbs"),
          "bandwidth_gbs differs from the read item's rate");
    /* The sweep tried shapes and the winner is among the best it saw. */
    const jv *sweep = jv_path(doc, "peak_sweep");
    CHECK(sweep && sweep->type == JV_ARRAY && sweep->count >= 4, "peak_sweep: fewer than 4 shapes");
    const jv *bsweep = jv_path(doc, "bandwidth_sweep");
    CHECK(bsweep && bsweep->type == JV_ARRAY && bsweep->count >= 12 && bsweep->count <= 24,
          "bandwidth_sweep: not 3 widths x 2 patterns x 2 forms x 1 or 2 work-group sizes");
    /* The seed model's shapes, by hand: 28x28x1 -> 26x26x32 -> 24x24x32 -> pool 12x12x32 ->
     * 10x10x32 -> pool 5x5x32 -> 800 -> 128 -> 10; 3x3 kernels. */
    check_work(doc, "conv2d forward", "GFLOP/s", 2.0 * B * 32 * 26 * 26 * 1 * 9);
    check_work(doc, "conv2d weight gradient", "GFLOP/s", 2.0 * B * 32 * 26 * 26 * 1 * 9);
    check_work(doc, "conv2d_1 forward", "GFLOP/s", 2.0 * B * 32 * 24 * 24 * 32 * 9);
    /* Intensity over the least traffic: input, weights and biases, output. */
    double least = 4.0 * (B * 32 * 26 * 26 + 32 * 32 * 9 + 32 + B * 32 * 24 * 24);
    CHECK(fabs(num(item(doc, "conv2d_1 forward"), "intensity") - 2.0 * B * 32 * 24 * 24 * 32 * 9 / least) < 1e-9,
          "conv2d_1 forward: intensity %g", num(item(doc, "conv2d_1 forward"), "intensity"));
    CHECK(strcmp(string_of(item(doc, "conv2d_1 forward"), "layer"), "conv2d_1") == 0 &&
              strcmp(string_of(item(doc, "conv2d_1 input gradient"), "pass"), "backward") == 0,
          "the layer items lack their layer and pass");
    check_work(doc, "conv2d_1 input gradient", "GFLOP/s", 2.0 * B * 32 * 24 * 24 * 32 * 9);
    check_work(doc, "conv2d_2 weight gradient", "GFLOP/s", 2.0 * B * 32 * 10 * 10 * 32 * 9);
    check_work(doc, "dense forward", "GFLOP/s", 2.0 * B * 800 * 128);
    if (dense_as_conv) { /* the convolution's passes, one GEMM's worth each */
        check_work(doc, "dense weight gradient", "GFLOP/s", 2.0 * B * 800 * 128);
        check_work(doc, "dense input gradient", "GFLOP/s", 2.0 * B * 800 * 128);
        check_work(doc, "dense_1 weight gradient", "GFLOP/s", 2.0 * B * 128 * 10);
    } else { /* CLBlast's backward: the weight and input gradients */
        check_work(doc, "dense backward", "GFLOP/s", 2 * 2.0 * B * 800 * 128);
        check_work(doc, "dense_1 backward", "GFLOP/s", 2 * 2.0 * B * 128 * 10);
    }
    check_work(doc, "max_pooling2d forward", "GB/s", 4.0 * B * 32 * (24 * 24 + 12 * 12) + B * 32 * 12 * 12);
    /* The poolings' backward passes are the convolutions' below them (conv_unpool). */
    check_work(doc, "max_pooling2d_1 forward", "GB/s", 4.0 * B * 32 * (10 * 10 + 5 * 5) + B * 32 * 5 * 5);
    check_work(doc, "SGEMM dense weight gradient", "GFLOP/s", 2.0 * 128 * 800 * B);
    check_work(doc, "SGEMM dense_1 input gradient", "GFLOP/s", 2.0 * B * 128 * 10);
    check_work(doc, "gather + augment (rotation 10)", "images/s", B);
    check_work(doc, "training step", "images/s", B);
    check_work(doc, "epoch estimate", "images/s", 60000);
    /* An epoch is 60000 / B training steps and 10000 / B evaluation batches. */
    double epoch = num(item(doc, "epoch estimate"), "median"),
           want = 7500 * num(item(doc, "training step"), "median") + 1250 * num(item(doc, "evaluation step"), "median");
    CHECK(fabs(epoch - want) <= 1e-9 * want, "epoch estimate %.9g s, want %.9g s", epoch, want);
    const char *more[] = {"adam", "softmax cross-entropy", "gather", "training step, augmented",
                          "kernel build, cold", "kernel build, warm", "first step after a cold build"};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) item(doc, more[i]);

    /* The table printed has every item's row. */
    const jv *items = jv_path(doc, "items");
    CHECK(strstr(table, "median") && strstr(table, "share"), "the table has no header:\n%s", table);
    for (int i = 0; items && i < items->count; i++) {
        const char *n = jv_path(&items->items[i], "name")->string;
        char row[80];
        snprintf(row, sizeof row, "\n%s ", n);
        CHECK(strstr(table, row) != NULL, "the table has no row \"%s\"", n);
    }
    jv_free(doc);
}

/* ---- compare ----------------------------------------------------------------------------------- */

/* The line of `text` that starts with `name` followed by a space. */
static const char *row_of(const char *text, const char *name, char *line, size_t len) {
    char key[96];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(text, key);
    if (!at) return NULL;
    at++;
    size_t n = strcspn(at, "\n");
    snprintf(line, len, "%.*s", (int)n, at);
    return line;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) die(1, "cannot write %s", path);
}

static void test_compare(const char *results, const char *dir) {
    char *out, *err, line[512];
    int rc = run_claug(&out, &err, (const char *[]){"bench", "--compare", results, results, NULL});
    CHECK(rc == 0, "bench --compare F F: exit %d\n%s", rc, err);
    CHECK(strstr(out, "[1] batch 8, ") && strstr(out, "[2] batch 8, ") && strstr(out, "time [1]/[2]"),
          "bench --compare F F: no column headers:\n%s", out);
    const char *rows[] = {"FP32 peak (FMA chains)", "conv2d_1 forward", "training step", "kernel build, cold"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *l = row_of(out, rows[i], line, sizeof line);
        size_t n = l ? strlen(l) : 0;
        CHECK(l && n >= 6 && strcmp(l + n - 6, "| 1.00") == 0,
              "bench --compare F F: row \"%s\" does not end with the ratio 1.00: %s", rows[i], l ? l : "(none)");
    }
    free(out);
    free(err);

    /* A second file with one item, twice as fast: the ratio 2.00 there, '-' elsewhere. */
    char *text = slurp(results, NULL), other[1024], path[1024], perr[256];
    jv *doc = text ? jv_parse(text, perr, sizeof perr) : NULL;
    double med = doc ? num(item(doc, "FP32 peak (FMA chains)"), "median") : 1;
    snprintf(path, sizeof path, "%s/other.json", dir);
    snprintf(other, sizeof other,
             "{\"device\": {\"name\": \"Other GPU\"}, \"batch_size\": 64, \"items\": [{\"name\": \"FP32 peak (FMA "
             "chains)\", \"median\": %.17g, \"rate\": 1e4, \"rate_unit\": \"GFLOP/s\"}, {\"name\": \"only here\", "
             "\"median\": 0.5, \"rate\": null, \"rate_unit\": null}]}",
             med / 2);
    write_text(path, other);
    rc = run_claug(&out, &err, (const char *[]){"bench", "--compare", results, path, NULL});
    CHECK(rc == 0 && strstr(out, "[2] batch 64, Other GPU"), "bench --compare F G: exit %d\n%s%s", rc, out, err);
    const char *l = row_of(out, "FP32 peak (FMA chains)", line, sizeof line);
    CHECK(l && strstr(l, "| 2.00") && strstr(l, "10000 GFLOP/s"), "compare: FP32 row lacks ratio 2.00: %s", l ? l : "");
    l = row_of(out, "adam", line, sizeof line);
    CHECK(l && strstr(l, "| -  ") && strlen(l) > 3 && strcmp(l + strlen(l) - 3, "| -") == 0,
          "compare: the row of an item the second file lacks shows no '-': %s", l ? l : "");
    l = row_of(out, "only here", line, sizeof line);
    CHECK(l && strstr(l, "| -  ") && strstr(l, "500.000 ms"), "compare: the second file's own item: %s", l ? l : "");
    free(out);
    free(err);

    /* Their chart: a bar for the item both have; one file of format 1 has no roofline. */
    char chart[1024];
    snprintf(chart, sizeof chart, "%s/compare.svg", dir);
    rc = run_claug(&out, &err, (const char *[]){"bench", "--compare", results, path, "--svg", chart, NULL});
    char *svg = slurp(chart, NULL);
    xml_doc d;
    char xerr[256];
    CHECK(rc == 0 && svg && xml_parse(&d, svg, xerr, sizeof xerr), "bench --compare F G --svg: exit %d, %s\n%s", rc,
          svg ? "not XML" : "no file", err);
    if (rc == 0 && svg) {
        int bars[4], nb = svg_find(&d, -1, "rect", "bar", bars, 4);
        /* Both have a rate: the chart's speed is the rates' ratio. */
        double want = doc ? 1e4 / num(item(doc, "FP32 peak (FMA chains)"), "rate") : 0;
        CHECK(nb == 1 && fabs(svg_attr_num(&d.elems[bars[0]], "data-ratio") - want) < 1e-12 * want,
              "compare chart: %d bars, want one of ratio %g", nb, want);
        xml_free(&d);
    }
    free(svg);
    free(out);
    free(err);
    rc = run_claug(&out, &err, (const char *[]){"bench", "--compare", path, "--svg", chart, NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, path) && strstr(err, "no roofline"),
          "bench --compare OLD --svg: exit %d (want 2), message lacks the file or 'no roofline':\n%s", rc, err);
    free(out);
    free(err);

    /* Three files: no ratio column. */
    rc = run_claug(&out, &err, (const char *[]){"bench", "--compare", results, path, results, NULL});
    CHECK(rc == 0 && strstr(out, "[3] batch 8") && !strstr(out, "time [1]/[2]"), "compare of three files:\n%s%s", out,
          err);
    free(out);
    free(err);

    /* Bad files: exit 2, the file named. */
    char truncated[1024], foreign[1024], missing[1024];
    snprintf(truncated, sizeof truncated, "%s/truncated.json", dir);
    snprintf(foreign, sizeof foreign, "%s/foreign.json", dir);
    snprintf(missing, sizeof missing, "%s/no such file.json", dir);
    if (text) text[strlen(text) / 2] = 0;
    write_text(truncated, text ? text : "{");
    write_text(foreign, "{\"device\": {}, \"items\": []}\n");
    const struct {
        const char *path, *phrase;
    } bad[] = {{missing, "cannot open: No such file"}, {truncated, "not valid JSON"}, {foreign, "not a result of"}};
    for (int i = 0; i < 3; i++) {
        rc = run_claug(&out, &err, (const char *[]){"bench", "--compare", results, bad[i].path, NULL});
        CHECK(rc == EXIT_USAGE && strstr(err, bad[i].path) && strstr(err, bad[i].phrase),
              "bench --compare with %s: exit %d (want 2), message lacks the file or '%s':\n%s", bad[i].path, rc,
              bad[i].phrase, err);
        free(out);
        free(err);
    }
    jv_free(doc);
    free(text);
}

static void expect_usage(const char *phrase, const char *const *args) {
    char *out, *err;
    int rc = run_claug(&out, &err, args);
    CHECK(rc == EXIT_USAGE && strstr(err, phrase), "claug %s %s ...: exit %d (want 2), message lacks '%s':\n%s",
          args[0], args[1] ? args[1] : "", rc, phrase, err);
    free(out);
    free(err);
}

/* The roofline of the run: a point for each layer pass with FLOPs, each at its item's numbers. */
static void check_roofline(const char *svg_path, const char *results) {
    char *svg = slurp(svg_path, NULL), *text = slurp(results, NULL), err[256];
    jv *doc = text ? jv_parse(text, err, sizeof err) : NULL;
    xml_doc d;
    CHECK(svg && doc && xml_parse(&d, svg, err, sizeof err), "bench --svg: %s", svg ? "not XML" : "no file");
    if (svg && doc) {
        int points[64], np = svg_find(&d, -1, "circle", "point", points, 64), want = 0;
        const jv *items = jv_path(doc, "items");
        for (int i = 0; i < items->count; i++) {
            const jv *it = &items->items[i];
            const jv *ai = jv_path(it, "intensity");
            if (!string_of(it, "layer") || !ai || ai->type != JV_NUMBER) continue;
            bool found = false;
            for (int k = 0; k < np && k < 64 && !found; k++)
                found = !strcmp(xml_attr(&d.elems[points[k]], "data-item"), string_of(it, "name")) &&
                        svg_attr_num(&d.elems[points[k]], "data-intensity") == num(it, "intensity") &&
                        svg_attr_num(&d.elems[points[k]], "data-gflops") == num(it, "rate");
            CHECK(found, "roofline: no point for %s at its intensity and rate", string_of(it, "name"));
            want++;
        }
        CHECK(np == want && want >= 12, "roofline: %d points, want %d (12 or more)", np, want);
        int lines[16];
        CHECK(svg_find(&d, -1, "polyline", "ceiling", lines, 16) >= 2, "roofline: no peak and bandwidth lines");
        xml_free(&d);
    }
    jv_free(doc);
    free(svg);
    free(text);
}

int main(void) {
    clrt *rt = clrt_open(NULL, NULL);
    /* The default shape, and others that take every code path: a narrow vector, an odd number of
     * chains, an unroll that leaves a remainder, the smallest work-group. */
    bench_fma_shape shape;
    bench_fma_default(&shape, rt);
    test_fma(rt, &shape);
    test_fma(rt, &(bench_fma_shape){2, 3, 4, 16});
    test_fma(rt, &(bench_fma_shape){8, 5, 2, (int)rt->wg_1d});
    bench_fma_shape shapes[32];
    int ns = bench_fma_candidates(shapes, 32, rt);
    CHECK(ns >= 8 && ns <= 32 && shapes[0].width == shape.width, "%d sweep candidates, the first not the default", ns);
    bench_mem_kernels k;
    bench_mem_init(&k, rt);
    test_read(&k, rt);
    test_fill(&k, rt);
    test_copy(&k, rt);
    bench_mem_release(&k);
    conv_tuning default_tuning; /* the bench below runs without a tuning file, on the same device */
    conv_tuning_default(&default_tuning, rt);
    clrt_close(rt);

    expect_usage("--repeats expects a whole number", (const char *[]){"bench", "--repeats", "0", NULL});
    expect_usage("unexpected argument 'x.json'", (const char *[]){"bench", "x.json", NULL});
    expect_usage("--compare needs one or more JSON files", (const char *[]){"bench", "--compare", NULL});
    expect_usage("--compare and --json exclude each other",
                 (const char *[]){"bench", "--compare", "a.json", "--json", "b.json", NULL});
    expect_usage("option --compare does not apply to `train`", (const char *[]){"train", "--compare", NULL});
    expect_usage("--json /nonexistent/x.json: cannot create",
                 (const char *[]){"bench", "--json", "/nonexistent/x.json", NULL});
    expect_usage("--svg /nonexistent/x.svg: cannot create", (const char *[]){"bench", "--svg", "/nonexistent/x.svg", NULL});
    expect_usage("option --svg does not apply to `train`", (const char *[]){"train", "--svg", "x.svg", NULL});

    const char *dir = scratch_dir("bench");
    char results[1024], roofline[1024];
    snprintf(results, sizeof results, "%s/results.json", dir);
    snprintf(roofline, sizeof roofline, "%s/roofline.svg", dir);
    char *out, *err;
    int rc = run_claug(&out, &err,
                       (const char *[]){"bench", "--json", results, "--svg", roofline, "--repeats", "3", "--batch-size",
                                        "8", NULL});
    CHECK(rc == 0, "bench --json: exit %d\n%s%s", rc, out, err);
    printf("%s", out);
    if (rc == 0) {
        check_results(results, out, default_tuning.dense);
        check_roofline(roofline, results);
        test_compare(results, dir);
    }
    free(out);
    free(err);
    return check_done("test_bench");
}
