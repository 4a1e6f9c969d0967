#include "claug/ops/conv.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cdiv(int a, int b) { return (a + b - 1) / b; }
/* n channels padded to the kernels' vector blocks (COV, CIV in cl/conv.cl). */
static int roundv(const conv_ctx *c, int n) { return cdiv(n, c->tune.vw) * c->tune.vw; }

const conv_tunable conv_tunables[CONV_NTUNABLES] = {
#define ROW(field, define, cpu, gpu, lo, hi, kernels) \
    {#field, define, offsetof(conv_tuning, field), cpu, gpu, lo, hi, kernels},
    CONV_TUNABLES(ROW)
#undef ROW
};

int *conv_tunable_field(conv_tuning *t, const conv_tunable *u) { return (int *)((char *)t + u->offset); }
static int value(const conv_tuning *t, const conv_tunable *u) { return *(const int *)((const char *)t + u->offset); }

void conv_tuning_default(conv_tuning *t, const clrt *rt) {
    memset(t, 0, sizeof *t);
    t->local_tiles = rt->is_gpu;
    for (int i = 0; i < CONV_NTUNABLES; i++)
        *conv_tunable_field(t, &conv_tunables[i]) = rt->is_gpu ? conv_tunables[i].gpu : conv_tunables[i].cpu;
    /* A register block as wide as the device's vectors: PoCL reports a native width of 16 floats
     * on AVX-512, where float8 accumulators would leave half of each FMA unused, and 8 on AVX2. */
    if (!rt->is_gpu && rt->dev.vector_width_float >= 16) {
        t->vw = 16;
        /* AVX-512's 32 registers hold a whole 9-tap row of the weight gradient for 2 channels
         * (18 accumulators) and 2 rows of 8 channels of the forward. */
        t->pxc = 8, t->pxt = 9;
    }
}

bool conv_takes_px(const conv_tuning *t, int CI, int W, int K) {
    return !t->local_tiles && CI * K * K <= t->px && W - K + 1 >= t->vw;
}

bool conv_unpools(const conv_layer *l) { return !l->px; }

void conv_tuning_options(char *buf, size_t len, const conv_tuning *t) {
    int kernels = t->local_tiles ? CONV_LOCAL : CONV_REGISTER;
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < CONV_NTUNABLES; i++) {
        const conv_tunable *u = &conv_tunables[i];
        if (!u->define || !(u->kernels & kernels) || n >= len) continue;
        n += (size_t)snprintf(buf + n, len - n, "%s-D%s=%d", n ? " " : "", u->define, value(t, u));
    }
}

void conv_tuning_describe(char *buf, size_t len, const conv_tuning *t) {
    char splits[32];
    if (t->splits)
        snprintf(splits, sizeof splits, "%d splits", t->splits);
    else
        snprintf(splits, sizeof splits, "a split per image");
    const char *prep = t->prep8 ? "the gradient laid out in 8-pixel rows" : "the gradient laid out a pixel at a time";
    if (t->local_tiles)
        snprintf(buf, len, "local-memory tiles %dx%d (chunk %d, %dx%d per work-item), weight gradient in %s; %s", t->tm,
                 t->tn, t->kc, t->rm, t->rn, splits, prep);
    else
        snprintf(buf, len,
                 "register tiles %dx%d forward, %dx%d weight gradient in %s, work-group %d; pixel-vector kernels "
                 "(%dx%d forward, %dx%d weight gradient) for layers of up to %d taps; %s",
                 t->tp, t->vw * t->cb, t->wt, t->vw * t->wcb, splits, t->lws, t->pxr, t->pxc, t->pxt, t->pxwc, t->px,
                 prep);
}

enum { FWD, BWD_W, W_PREP, BWD_PREP, BWD_W_FINISH, FWD_PX, BWD_W_PX };

/* Whether kernel k of c can run work-groups of wg items: the driver's limit for one kernel may be
 * below the device's (a kernel that needs many registers). */
static bool wg_fits(const conv_ctx *c, int k, size_t wg, const char *name, char *err, size_t errlen) {
    cl_kernel kern = c->ks.k[k];
    if (!kern) return true; /* listing mode (clrt_list_programs): nothing was built */
    size_t max = 0;
    CL_CHECK(clGetKernelWorkGroupInfo(kern, c->ks.rt->dev.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max, &max, NULL));
    if (wg <= max) return true;
    snprintf(err, errlen, "%s takes work-groups of at most %zu items, its launches need %zu", name, max, wg);
    return false;
}

/* Whether kernel k of c can run its work-groups on the device (those it fixes, else the
 * tuning's). */
static bool kernel_takes(const conv_ctx *c, int k, const size_t fixed[3], const char *name, char *err, size_t errlen) {
    if (!c->ks.k[k]) return true; /* listing mode */
    size_t wg = c->tune.local_tiles ? fixed[0] * fixed[1] * fixed[2] : (size_t)c->tune.lws;
    /* The launches take the local size the kernel was compiled for; one the driver reports wrong
     * (or as 0) would fail at the first launch with nothing to say why. */
    size_t need = (size_t)(c->tune.tm / c->tune.rm) * (size_t)(c->tune.tn / c->tune.rn);
    if (c->tune.local_tiles && wg != need) {
        snprintf(err, errlen, "%s reports a compiled work-group size of %zux%zux%zu, the tiles need %zu work-items", name,
                 fixed[0], fixed[1], fixed[2], need);
        return false;
    }
    return wg_fits(c, k, wg, name, err, errlen);
}

bool conv_build(conv_ctx *c, clrt *rt, const conv_tuning *t, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->tune = *t;
    char opts[512], *log;
    conv_tuning_options(opts, sizeof opts, t);
    const char *names[] = {[FWD] = t->local_tiles ? "conv_fwd_lm" : "conv_fwd",
                           [BWD_W] = t->local_tiles ? "conv_bwd_w_lm" : "conv_bwd_w",
                           [W_PREP] = "conv_w_prep",
                           [BWD_PREP] = "conv_bwd_prep",
                           [BWD_W_FINISH] = "conv_bwd_w_finish",
                           /* The pixel-vector kernels belong to the register variant (the list
                            * ends before them for the other). */
                           [FWD_PX] = t->local_tiles ? NULL : "conv_fwd_px",
                           [BWD_W_PX] = t->local_tiles ? NULL : "conv_bwd_w_px",
                           NULL};
    if (!clrt_kernels_try(&c->ks, rt, "conv.cl", opts, names, &log)) {
        snprintf(err, errlen, "conv.cl does not build with %s: %s", opts, log);
        free(log);
        return false;
    }
    clrt_kernel_wg(rt, c->ks.k[FWD], c->lm_fwd_wg);
    clrt_kernel_wg(rt, c->ks.k[BWD_W], c->lm_bwd_w_wg);
    bool ok = kernel_takes(c, FWD, c->lm_fwd_wg, names[FWD], err, errlen) &&
              kernel_takes(c, BWD_W, c->lm_bwd_w_wg, names[BWD_W], err, errlen);
    for (int k = FWD_PX; ok && !t->local_tiles && k <= BWD_W_PX; k++)
        ok = kernel_takes(c, k, NULL, names[k], err, errlen);
    /* The layout kernels launch the device's 1-D work-group. */
    for (int k = W_PREP; ok && k <= BWD_W_FINISH; k++) ok = wg_fits(c, k, rt->wg_1d, names[k], err, errlen);
    if (ok) return true;
    conv_release(c);
    return false;
}

void conv_init(conv_ctx *c, clrt *rt, const conv_tuning *t) {
    char err[8192];
    if (!conv_build(c, rt, t, err, sizeof err)) die(EXIT_DEVICE, "%s", err);
}

static void release_mem(cl_mem *m) {
    if (*m) CL_CHECK(clReleaseMemObject(*m));
    *m = NULL;
}

void conv_release(conv_ctx *c) {
    clrt_kernels_release(&c->ks);
    release_mem(&c->g);
    release_mem(&c->gpad);
    release_mem(&c->dwp);
}

static int splits(const conv_ctx *c, const conv_layer *l, int B) {
    int s = c->tune.splits ? c->tune.splits : B;
    s = s > l->max_splits ? l->max_splits : s;
    return s > B ? B : s;
}

/* Grows a scratch buffer to at least `bytes`; only ever at set-up, never per step. */
static void reserve(conv_ctx *c, cl_mem *m, size_t *have, size_t bytes) {
    if (bytes <= *have) return;
    release_mem(m);
    *m = clrt_alloc(c->ks.rt, bytes);
    *have = bytes;
}

void conv_layer_init(conv_ctx *c, conv_layer *l, int CI, int H, int W, int CO, int K, int relu, const char *name,
                     int max_batch) {
    memset(l, 0, sizeof *l);
    l->CI = CI, l->H = H, l->W = W, l->CO = CO, l->K = K, l->relu = relu;
    int KK = K * K, OH = H - K + 1, OW = W - K + 1;
    l->px = conv_takes_px(&c->tune, CI, W, K);
    /* One output pixel per image (a dense layer): its taps alone make enough work-items, and
     * each split would write a whole (CI*K*K + 1, COV) partial sum. */
    l->max_splits = OH * OW == 1 ? 1 : max_batch;
    l->wt = clrt_alloc(c->ks.rt, (size_t)CI * KK * roundv(c, CO) * sizeof(float));
    l->wf = clrt_alloc(c->ks.rt, (size_t)CO * KK * roundv(c, CI) * sizeof(float));
    snprintf(l->tag_fwd, sizeof l->tag_fwd, "%s forward", name);
    snprintf(l->tag_dx, sizeof l->tag_dx, "%s input gradient", name);
    snprintf(l->tag_dw, sizeof l->tag_dw, "%s weight gradient", name);
    size_t B = (size_t)max_batch;
    reserve(c, &c->g, &c->g_bytes, B * OH * OW * roundv(c, CO) * sizeof(float));
    reserve(c, &c->gpad, &c->gpad_bytes, B * CO * (OH + 2 * (K - 1)) * (OW + 2 * (K - 1)) * sizeof(float));
    reserve(c, &c->dwp, &c->dwp_bytes, (size_t)splits(c, l, max_batch) * (CI * KK + 1) * roundv(c, CO) * sizeof(float));
}

void conv_layer_release(conv_layer *l) {
    release_mem(&l->wt);
    release_mem(&l->wf);
}

/* The one forward launch, shared by the forward pass and the input gradient. */
static void launch_fwd(conv_ctx *c, cl_mem y, cl_mem x, cl_mem wt, cl_mem b, int B, int CI, int H, int W, int CO,
                       int K, int has_bias, int relu, const char *tag) {
    const conv_tuning *t = &c->tune;
    KARGS(c->ks.k[FWD], ARG_MEM(y), ARG_MEM(x), ARG_MEM(wt), ARG_MEM(b), ARG_INT(B), ARG_INT(CI), ARG_INT(H),
          ARG_INT(W), ARG_INT(CO), ARG_INT(K), ARG_INT(has_bias), ARG_INT(relu));
    int NP = B * (H - K + 1) * (W - K + 1);
    if (t->local_tiles) {
        const size_t *lws = c->lm_fwd_wg; /* a tile of tm x tn per work-group */
        size_t gws[2] = {(size_t)cdiv(NP, t->tm) * lws[0], (size_t)cdiv(CO, t->tn) * lws[1]};
        clrt_launch(c->ks.rt, c->ks.k[FWD], 2, gws, lws, tag);
    } else {
        size_t gws = (size_t)cdiv(NP, t->tp) * (size_t)cdiv(roundv(c, CO) / t->vw, t->cb), lws = (size_t)t->lws;
        clrt_launch(c->ks.rt, c->ks.k[FWD], 1, &gws, &lws, tag);
    }
}

void conv_forward(conv_ctx *c, conv_layer *l, cl_mem y, cl_mem x, cl_mem w, cl_mem b, int B) {
    const conv_tuning *t = &c->tune;
    int KK = l->K * l->K;
    KARGS(c->ks.k[W_PREP], ARG_MEM(l->wt), ARG_MEM(l->wf), ARG_MEM(w), ARG_INT(l->CI), ARG_INT(l->CO), ARG_INT(l->K));
    size_t n = (size_t)(l->CI + l->CO) * KK;
    clrt_launch(c->ks.rt, c->ks.k[W_PREP], 1, &n, &c->ks.rt->wg_1d, l->tag_fwd);
    if (!l->px) {
        launch_fwd(c, y, x, l->wt, b, B, l->CI, l->H, l->W, l->CO, l->K, 1, l->relu, l->tag_fwd);
        return;
    }
    KARGS(c->ks.k[FWD_PX], ARG_MEM(y), ARG_MEM(x), ARG_MEM(l->wt), ARG_MEM(b), ARG_INT(B), ARG_INT(l->CI),
          ARG_INT(l->H), ARG_INT(l->W), ARG_INT(l->CO), ARG_INT(l->K), ARG_INT(1), ARG_INT(l->relu));
    n = (size_t)B * cdiv(l->H - l->K + 1, t->pxr) * cdiv(l->CO, t->pxc);
    size_t lws = (size_t)t->lws;
    clrt_launch(c->ks.rt, c->ks.k[FWD_PX], 1, &n, &lws, l->tag_fwd);
}

/* g and, for the input gradient, gpad from dy (unpooled first when up) masked by the ReLU. */
static void prep_g(conv_ctx *c, const conv_layer *l, cl_mem dy, cl_mem y, const conv_unpool *up, int B,
                   bool need_dx) {
    int K = l->K, OH = l->H - K + 1, OW = l->W - K + 1, P = need_dx ? K - 1 : 0;
    /* Without a pooling the argmax is never read: dy stands in for it. */
    KARGS(c->ks.k[BWD_PREP], ARG_MEM(c->g), ARG_MEM(c->gpad), ARG_MEM(dy), ARG_MEM(up ? up->arg : dy), ARG_MEM(y),
          ARG_INT(B), ARG_INT(l->CO), ARG_INT(OH), ARG_INT(OW), ARG_INT(K), ARG_INT(l->relu), ARG_INT(need_dx),
          ARG_INT(up ? up->S : 0));
    size_t n = (size_t)B * (roundv(c, l->CO) / 8) * (OH + 2 * P); /* a work-item per padded row of 8 channels */
    clrt_launch(c->ks.rt, c->ks.k[BWD_PREP], 1, &n, &c->ks.rt->wg_1d, l->tag_dw);
}

/* dw and db from the splits' partial sums in c->dwp. */
static void finish_dw(conv_ctx *c, const conv_layer *l, cl_mem dw, cl_mem db, int ns) {
    KARGS(c->ks.k[BWD_W_FINISH], ARG_MEM(dw), ARG_MEM(db), ARG_MEM(c->dwp), ARG_INT(l->CI), ARG_INT(l->CO),
          ARG_INT(l->K), ARG_INT(ns));
    size_t n = (size_t)l->CI * l->K * l->K + 1;
    clrt_launch(c->ks.rt, c->ks.k[BWD_W_FINISH], 1, &n, &c->ks.rt->wg_1d, l->tag_dw);
}

void conv_backward(conv_ctx *c, conv_layer *l, cl_mem dx, cl_mem dw, cl_mem db, cl_mem dy, cl_mem x, cl_mem y,
                   const conv_unpool *up, int B) {
    const conv_tuning *t = &c->tune;
    int K = l->K, OH = l->H - K + 1, OW = l->W - K + 1, T = l->CI * K * K, COV = roundv(c, l->CO), P = K - 1;
    int ns = splits(c, l, B);

    if (l->px && !up) {
        /* The weight gradient reads dy and y as they are: g and gpad only serve dx. */
        KARGS(c->ks.k[BWD_W_PX], ARG_MEM(c->dwp), ARG_MEM(x), ARG_MEM(dy), ARG_MEM(y), ARG_INT(B), ARG_INT(l->CI),
              ARG_INT(l->H), ARG_INT(l->W), ARG_INT(l->CO), ARG_INT(K), ARG_INT(l->relu), ARG_INT(ns));
        size_t n = (size_t)ns * cdiv(T, t->pxt) * cdiv(l->CO, t->pxwc), lws = (size_t)t->lws;
        clrt_launch(c->ks.rt, c->ks.k[BWD_W_PX], 1, &n, &lws, l->tag_dw);
        if (dx) prep_g(c, l, dy, y, NULL, B, true);
    } else {
        prep_g(c, l, dy, y, up, B, dx != NULL);
        KARGS(c->ks.k[BWD_W], ARG_MEM(c->dwp), ARG_MEM(x), ARG_MEM(c->g), ARG_INT(B), ARG_INT(l->CI), ARG_INT(l->H),
              ARG_INT(l->W), ARG_INT(l->CO), ARG_INT(K), ARG_INT(ns));
        if (t->local_tiles) {
            const size_t *lws = c->lm_bwd_w_wg; /* a tile of tn x tm per work-group, a split per layer of groups */
            size_t gws[3] = {(size_t)cdiv(COV, t->tn) * lws[0], (size_t)cdiv(T + 1, t->tm) * lws[1],
                             (size_t)ns * lws[2]};
            clrt_launch(c->ks.rt, c->ks.k[BWD_W], 3, gws, lws, l->tag_dw);
        } else {
            size_t gws = (size_t)ns * (cdiv(T, t->wt) + 1) * cdiv(COV / t->vw, t->wcb), lws = (size_t)t->lws;
            clrt_launch(c->ks.rt, c->ks.k[BWD_W], 1, &gws, &lws, l->tag_dw);
        }
    }
    finish_dw(c, l, dw, db, ns);

    if (dx)
        /* The input gradient has no bias: any buffer stands in for it, never read. */
        launch_fwd(c, dx, c->gpad, l->wf, c->gpad, B, l->CO, OH + 2 * P, OW + 2 * P, l->CI, K, 0, 0, l->tag_dx);
}

/* ---- plain-C references ------------------------------------------------------------------- */

void ref_conv_forward(float *y, const float *x, const float *w, const float *b, int B, int CI, int H, int W, int CO,
                      int K, int relu) {
    int OH = H - K + 1, OW = W - K + 1;
    for (int n = 0; n < B; n++)
        for (int co = 0; co < CO; co++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double s = b ? (double)b[co] : 0.0;
                    for (int ci = 0; ci < CI; ci++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++)
                                s += (double)x[(((size_t)n * CI + ci) * H + oy + kh) * W + ox + kw] *
                                     (double)w[((co * CI + ci) * K + kh) * K + kw];
                    if (relu && s < 0.0) s = 0.0;
                    y[(((size_t)n * CO + co) * OH + oy) * OW + ox] = (float)s;
                }
}

/* dy masked by the ReLU's derivative: the gradient w.r.t. the pre-activation. */
static double masked(const float *dy, const float *y, size_t o, int relu) {
    return relu && !(y[o] > 0.0f) ? 0.0 : (double)dy[o];
}

void ref_conv_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                       const float *y, int B, int CI, int H, int W, int CO, int K, int relu) {
    int OH = H - K + 1, OW = W - K + 1, KK = K * K, T = CI * KK;
    /* Row t < T of the weight gradient is tap (ci, kh, kw); row T is the bias, a tap whose input
     * is 1. */
    for (int co = 0; co < CO; co++)
        for (int t = 0; t <= (db ? T : T - 1); t++) {
            int ci = t / KK, kh = t % KK / K, kw = t % K;
            double s = 0.0;
            for (int n = 0; n < B; n++)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++) {
                        double in = t < T ? (double)x[(((size_t)n * CI + ci) * H + oy + kh) * W + ox + kw] : 1.0;
                        s += masked(dy, y, (((size_t)n * CO + co) * OH + oy) * OW + ox, relu) * in;
                    }
            if (t < T)
                dw[co * T + t] = (float)s;
            else
                db[co] = (float)s;
        }
    if (!dx) return;
    for (int n = 0; n < B; n++)
        for (int ci = 0; ci < CI; ci++)
            for (int iy = 0; iy < H; iy++)
                for (int ix = 0; ix < W; ix++) {
                    double s = 0.0;
                    for (int co = 0; co < CO; co++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                int oy = iy - kh, ox = ix - kw;
                                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                                s += masked(dy, y, (((size_t)n * CO + co) * OH + oy) * OW + ox, relu) *
                                     (double)w[((co * CI + ci) * K + kh) * K + kw];
                            }
                    dx[(((size_t)n * CI + ci) * H + iy) * W + ix] = (float)s;
                }
}
