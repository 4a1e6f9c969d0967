/* Convolution: forward, input gradient and weight/bias gradient on the device against the
 * plain-C reference, on odd sizes, for both kernel shapes (register tiles, local-memory tiles)
 * and odd tunables; the reference's gradients against finite differences; and the two shapes
 * agreeing to the bit. */
/* ctest: labels=kernel timeout=180 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/ops/conv.h"
#include "claug/ops/pool.h"
#include "devbuf.h"
#include "fd.h"
#include "tol.h"

typedef struct {
    int B, CI, H, W, CO, K, relu;
} shape;

typedef struct {
    float *y, *dx, *dw, *db;
    bool px; /* the layer took the pixel-vector kernels */
} results;

static size_t out_n(const shape *s) { return (size_t)s->B * s->CO * (s->H - s->K + 1) * (s->W - s->K + 1); }

/* Runs forward and backward on the device with tuning t; fills r (caller frees). */
/* With arg, dy is the gradient of the output max-pooled in S x S windows, arg its argmax
 * ((B, CO, OH/S, OW/S) each), and the backward unpools it. */
static void run_device_pooled(clrt *rt, const conv_tuning *t, const shape *s, const float *x, const float *w,
                              const float *b, const float *dy, const uint8_t *arg, int S, results *r) {
    conv_ctx c;
    conv_init(&c, rt, t);
    conv_layer l;
    conv_layer_init(&c, &l, s->CI, s->H, s->W, s->CO, s->K, s->relu, "conv", s->B);
    r->px = l.px;
    size_t nx = (size_t)s->B * s->CI * s->H * s->W, nw = (size_t)s->CO * s->CI * s->K * s->K, ny = out_n(s);
    size_t np = arg ? (size_t)s->B * s->CO * ((s->H - s->K + 1) / S) * ((s->W - s->K + 1) / S) : ny;
    cl_mem X = upload(rt, x, nx * 4), Wb = upload(rt, w, nw * 4), Bb = upload(rt, b, (size_t)s->CO * 4),
           DY = upload(rt, dy, np * 4), Y = clrt_alloc(rt, ny * 4), DX = clrt_alloc(rt, nx * 4),
           DW = clrt_alloc(rt, nw * 4), DB = clrt_alloc(rt, (size_t)s->CO * 4);
    conv_unpool up = {arg ? upload(rt, arg, np) : NULL, S};
    conv_forward(&c, &l, Y, X, Wb, Bb, s->B);
    conv_backward(&c, &l, DX, DW, DB, DY, X, Y, arg ? &up : NULL, s->B);
    if (up.arg) release(up.arg);
    r->y = xmalloc(ny * 4), r->dx = xmalloc(nx * 4), r->dw = xmalloc(nw * 4), r->db = xmalloc((size_t)s->CO * 4);
    clrt_read(rt, Y, 0, ny * 4, r->y);
    clrt_read(rt, DX, 0, nx * 4, r->dx);
    clrt_read(rt, DW, 0, nw * 4, r->dw);
    clrt_read(rt, DB, 0, (size_t)s->CO * 4, r->db);
    cl_mem all[] = {X, Wb, Bb, DY, Y, DX, DW, DB};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) release(all[i]);
    conv_layer_release(&l);
    conv_release(&c);
}

static void run_device(clrt *rt, const conv_tuning *t, const shape *s, const float *x, const float *w, const float *b,
                       const float *dy, results *r) {
    run_device_pooled(rt, t, s, x, w, b, dy, NULL, 0, r);
}

/* Seeded inputs on the scale the layers see: activations in [0, 1), weights and biases around 0. */
static void fill_inputs(float *x, float *w, float *b, const shape *s, int seed) {
    fill_uniform(x, (size_t)s->B * s->CI * s->H * s->W, seed, 0, 1);
    fill_uniform(w, (size_t)s->CO * s->CI * s->K * s->K, seed + 100, -0.5f, 0.5f);
    fill_uniform(b, (size_t)s->CO, seed + 200, -0.2f, 0.2f);
}

static void free_results(results *r) {
    free(r->y);
    free(r->dx);
    free(r->dw);
    free(r->db);
}

/* ---- finite differences of the reference: L = sum(y * r) ---------------------------------- */

typedef struct {
    const shape *s;
    float *x, *w, *b;
    const float *r;
} fd_ctx;

static double fd_loss(void *p) {
    fd_ctx *c = p;
    size_t ny = out_n(c->s);
    float *y = xmalloc(ny * 4);
    ref_conv_forward(y, c->x, c->w, c->b, c->s->B, c->s->CI, c->s->H, c->s->W, c->s->CO, c->s->K, c->s->relu);
    double l = 0;
    for (size_t i = 0; i < ny; i++) l += (double)y[i] * c->r[i];
    free(y);
    return l;
}

static void check_reference_gradients(void) {
    /* Without relu the loss is linear in each argument, so the differences are exact up to
     * float rounding; with relu it is piecewise linear, and the step is kept small. */
    const shape shapes[] = {{2, 3, 6, 7, 4, 3, 0}, {2, 2, 5, 6, 3, 2, 1}};
    for (int i = 0; i < 2; i++) {
        const shape *s = &shapes[i];
        size_t nx = (size_t)s->B * s->CI * s->H * s->W, nw = (size_t)s->CO * s->CI * s->K * s->K, ny = out_n(s);
        float *x = xmalloc(nx * 4), *w = xmalloc(nw * 4), *b = xmalloc((size_t)s->CO * 4), *r = xmalloc(ny * 4),
              *y = xmalloc(ny * 4);
        fill_uniform(x, nx, 10 + i, -1, 1);
        fill_uniform(w, nw, 20 + i, -0.5f, 0.5f);
        fill_uniform(b, (size_t)s->CO, 30 + i, -0.1f, 0.1f);
        fill_uniform(r, ny, 40 + i, -1, 1);
        ref_conv_forward(y, x, w, b, s->B, s->CI, s->H, s->W, s->CO, s->K, s->relu);
        float *dx = xmalloc(nx * 4), *dw = xmalloc(nw * 4), *db = xmalloc((size_t)s->CO * 4);
        ref_conv_backward(dx, dw, db, r, x, w, y, s->B, s->CI, s->H, s->W, s->CO, s->K, s->relu);
        float *gx = xmalloc(nx * 4), *gw = xmalloc(nw * 4), *gb = xmalloc((size_t)s->CO * 4);
        fd_ctx c = {s, x, w, b, r};
        /* A smaller step with relu, so that few pre-activations cross 0 inside it. */
        float h = s->relu ? 1e-3f : 1e-2f;
        fd_gradient(gx, x, nx, h, fd_loss, &c);
        fd_gradient(gw, w, nw, h, fd_loss, &c);
        fd_gradient(gb, b, (size_t)s->CO, h, fd_loss, &c);
        char what[64];
        snprintf(what, sizeof what, "ref dx vs finite differences%s", s->relu ? " (relu)" : "");
        check_close(what, dx, gx, nx, TOL_FD_CONV_ATOL, TOL_FD_CONV_RTOL);
        snprintf(what, sizeof what, "ref dw vs finite differences%s", s->relu ? " (relu)" : "");
        check_close(what, dw, gw, nw, TOL_FD_CONV_ATOL, TOL_FD_CONV_RTOL);
        snprintf(what, sizeof what, "ref db vs finite differences%s", s->relu ? " (relu)" : "");
        check_close(what, db, gb, (size_t)s->CO, TOL_FD_CONV_ATOL, TOL_FD_CONV_RTOL);
        free(x), free(w), free(b), free(r), free(y), free(dx), free(dw), free(db), free(gx), free(gw), free(gb);
    }
}

/* The one list of tunables holds for the kernel source and the builds: conv.cl's #ifndef defaults
 * are the list's CPU column, and a build gets the -D options of its own variant only. */
static void check_tunables(clrt *rt) {
    char *src = clrt_source(rt, "conv.cl"), want[96], opts[512];
#define CHECK_DEFAULT_(field, define, cpu, gpu, lo, hi, kernels)                                           \
    if (define) {                                                                                            \
        snprintf(want, sizeof want, "#ifndef %s\n#define %s %d\n", (const char *)define, (const char *)define, \
                 cpu);                                                                                       \
        CHECK(strstr(src, want), "conv.cl lacks the default of the list: %s", want);                       \
    }
    CONV_TUNABLES(CHECK_DEFAULT_)
#undef CHECK_DEFAULT_
    free(src);
    conv_tuning t;
    conv_tuning_default(&t, rt);
    for (int local = 0; local <= 1; local++) {
        t.local_tiles = local;
        conv_tuning_options(opts, sizeof opts, &t);
        CHECK(local ? strstr(opts, "-DCONV_LM_TM=") && !strstr(opts, "-DCONV_TP=")
                    : strstr(opts, "-DCONV_TP=") && !strstr(opts, "-DCONV_LM_"),
              "%s tiles built with '%s'", local ? "local-memory" : "register", opts);
    }
}

/* The backward of a max pooling above the layer done by the layer's (conv_unpool): against the
 * references of both, and to the bit against the device's backward of the unpooled gradient,
 * with a window that leaves trailing rows and columns and one that does not. */
static void check_unpool(clrt *rt, const conv_tuning *tunings, int nt) {
    const shape shapes[] = {{3, 5, 9, 11, 13, 3, 1}, {2, 3, 8, 10, 21, 3, 0}};
    const int windows[] = {2, 3};
    for (int si = 0; si < 2; si++) {
        const shape *s = &shapes[si];
        int S = windows[si], OH = s->H - s->K + 1, OW = s->W - s->K + 1;
        size_t nx = (size_t)s->B * s->CI * s->H * s->W, nw = (size_t)s->CO * s->CI * s->K * s->K, ny = out_n(s);
        size_t np = (size_t)s->B * s->CO * (OH / S) * (OW / S);
        float *x = xmalloc(nx * 4), *w = xmalloc(nw * 4), *b = xmalloc((size_t)s->CO * 4), *dyp = xmalloc(np * 4),
              *yp = xmalloc(np * 4), *dy = xmalloc(ny * 4);
        uint8_t *arg = xmalloc(np);
        fill_inputs(x, w, b, s, 500 + si);
        fill_uniform(dyp, np, 800 + si, -1, 1);
        results want = {xmalloc(ny * 4), xmalloc(nx * 4), xmalloc(nw * 4), xmalloc((size_t)s->CO * 4), false};
        ref_conv_forward(want.y, x, w, b, s->B, s->CI, s->H, s->W, s->CO, s->K, s->relu);
        ref_pool_forward(yp, arg, want.y, s->B, s->CO, OH, OW, S);
        ref_pool_backward(dy, dyp, arg, s->B, s->CO, OH, OW, S);
        ref_conv_backward(want.dx, want.dw, want.db, dy, x, w, want.y, s->B, s->CI, s->H, s->W, s->CO, s->K, s->relu);
        for (int t = 0; t < nt; t++) {
            results fused, plain;
            run_device_pooled(rt, &tunings[t], s, x, w, b, dyp, arg, S, &fused);
            run_device(rt, &tunings[t], s, x, w, b, dy, &plain);
            char what[96];
            const char *names[] = {"dx", "dw", "db"};
            float *g[] = {fused.dx, fused.dw, fused.db}, *r[] = {want.dx, want.dw, want.db}, *p[] = {plain.dx, plain.dw,
                                                                                                    plain.db};
            size_t n[] = {nx, nw, (size_t)s->CO};
            for (int k = 0; k < 3; k++) {
                snprintf(what, sizeof what, "%s unpooling %dx%d of %dx%d->%d tuning %d", names[k], S, S, OH, OW, s->CO,
                         t);
                check_close(what, g[k], r[k], n[k], TOL_CONV_ATOL, TOL_CONV_RTOL);
                /* The same kernels sum in the same order; a layer with the pixel-vector kernels
                 * computes its weight gradient with the register tiles' when it unpools. */
                if (k > 0 && plain.px) continue;
                snprintf(what, sizeof what, "%s unpooling %dx%d tuning %d = unpooled first", names[k], S, S, t);
                check_same(what, g[k], p[k], n[k] * 4);
            }
            free_results(&fused);
            free_results(&plain);
        }
        free_results(&want);
        free(x), free(w), free(b), free(dyp), free(yp), free(dy), free(arg);
    }
}

int main(void) {
    check_reference_gradients();
    clrt *rt = clrt_open(NULL, NULL);
    check_tunables(rt);
    const shape full[] = {
        {3, 5, 7, 7, 5, 3, 1},    /* the brief's odd sizes */
        {3, 5, 9, 11, 13, 5, 1},  /* 5x5 kernel, CO not a multiple of 8 */
        {3, 5, 9, 11, 13, 3, 0},  /* no relu */
        {2, 1, 28, 28, 32, 3, 1}, /* the seed model's first layer */
        {3, 17, 8, 9, 21, 2, 1},  /* more channels, even kernel */
        {3, 2, 21, 27, 11, 3, 0}, /* pixel-vector kernels: 18 taps, 25 columns, dx too */
        {5, 37, 1, 1, 21, 1, 1},  /* a dense layer as a 1x1 convolution */
    };
    /* Every path still runs: the unrolled K = 3 (tunings 0, 2) and K = 5 (tuning 1) tap loops
     * and the generic one, partial tiles and reduction chunks, CO above 8 and not a multiple
     * of it or a whole local tile of it, with and without relu, several chunks of the
     * local-memory reduction. */
    const shape tiny[] = {
        {2, 3, 6, 7, 5, 3, 1},
        {2, 2, 7, 8, 11, 5, 0},
        {2, 9, 5, 6, 21, 2, 1},
        {2, 1, 10, 9, 32, 3, 1},  /* the seed model's first layer on a small image */
        {2, 2, 7, 19, 11, 3, 1},  /* pixel-vector kernels: 18 taps, 17 columns, dx too */
        {3, 19, 1, 1, 13, 1, 1},  /* a dense layer as a 1x1 convolution */
    };
    const shape *shapes = test_tiny() ? tiny : full;
    size_t nshapes = test_tiny() ? sizeof tiny / sizeof tiny[0] : sizeof full / sizeof full[0];
    conv_tuning base;
    conv_tuning_default(&base, rt);
    enum { NT = 5 };
    conv_tuning tunings[NT];
    for (int i = 0; i < NT; i++) tunings[i] = base;
    tunings[0].local_tiles = false; /* the defaults of the register-tiled shape */
    tunings[1].local_tiles = false; /* odd register tiles, odd work-group, unrolled K=5 */
    tunings[1].tp = 5, tunings[1].cb = 3, tunings[1].wt = 7, tunings[1].wcb = 3, tunings[1].lws = 7,
    tunings[1].kfast = 5, tunings[1].splits = 2;
    tunings[1].vw = base.vw == 16 ? 8 : 16; /* both vector widths on every device */
    tunings[2].local_tiles = true; /* the defaults of the local-memory shape */
    tunings[3].local_tiles = true; /* small odd local tiles, a split per image */
    tunings[3].tm = 12, tunings[3].tn = 8, tunings[3].kc = 5, tunings[3].rm = 3, tunings[3].rn = 2,
    tunings[3].splits = 0, tunings[3].vw = tunings[1].vw;
    tunings[2].prep8 = tunings[3].prep8 = !base.prep8; /* both gradient layouts on every device */
    /* Register tiles with the pixel-vector kernels on every layer they can take, odd tiles of
     * them, and tuning 1 with none: every layer takes both register kernel shapes. */
    tunings[4].local_tiles = false, tunings[4].px = 4096, tunings[4].pxr = 3, tunings[4].pxc = 5,
    tunings[4].pxt = 4, tunings[4].pxwc = 3, tunings[4].splits = 3, tunings[4].lws = 5;
    tunings[1].px = 0;

    check_unpool(rt, tunings, NT);
    for (size_t si = 0; si < nshapes; si++) {
        const shape *s = &shapes[si];
        size_t nx = (size_t)s->B * s->CI * s->H * s->W, nw = (size_t)s->CO * s->CI * s->K * s->K, ny = out_n(s);
        float *x = xmalloc(nx * 4), *w = xmalloc(nw * 4), *b = xmalloc((size_t)s->CO * 4), *dy = xmalloc(ny * 4);
        fill_inputs(x, w, b, s, 100 + si);
        fill_uniform(dy, ny, 400 + si, -1, 1);
        results want = {xmalloc(ny * 4), xmalloc(nx * 4), xmalloc(nw * 4), xmalloc((size_t)s->CO * 4), false};
        ref_conv_forward(want.y, x, w, b, s->B, s->CI, s->H, s->W, s->CO, s->K, s->relu);
        ref_conv_backward(want.dx, want.dw, want.db, dy, x, w, want.y, s->B, s->CI, s->H, s->W, s->CO, s->K, s->relu);
        results got[NT];
        for (int t = 0; t < NT; t++) {
            run_device(rt, &tunings[t], s, x, w, b, dy, &got[t]);
            char what[96];
            const char *names[] = {"y", "dx", "dw", "db"};
            float *g[] = {got[t].y, got[t].dx, got[t].dw, got[t].db}, *r[] = {want.y, want.dx, want.dw, want.db};
            size_t n[] = {ny, nx, nw, (size_t)s->CO};
            for (int k = 0; k < 4; k++) {
                snprintf(what, sizeof what, "%s B%d %dx%dx%d->%d K%d%s tuning %d", names[k], s->B, s->CI, s->H, s->W,
                         s->CO, s->K, s->relu ? " relu" : "", t);
                check_close(what, g[k], r[k], n[k], TOL_CONV_ATOL, TOL_CONV_RTOL);
            }
        }
        /* Each output sums its taps in one fixed order in every shape of the kernel: the forward
         * and the input gradient agree to the bit across tunings and variants. */
        for (int t = 1; t < NT; t++) {
            check_same("y identical across tunings", got[t].y, got[0].y, ny * 4);
            check_same("dx identical across tunings", got[t].dx, got[0].dx, nx * 4);
        }
        for (int t = 0; t < NT; t++) free_results(&got[t]);
        free_results(&want);
        free(x), free(w), free(b), free(dy);
    }
    clrt_close(rt);
    return check_done("test_conv");
}
