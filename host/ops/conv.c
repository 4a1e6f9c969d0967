#include "claug/ops/conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int round8(int n) { return (n + 7) / 8 * 8; }
static int cdiv(int a, int b) { return (a + b - 1) / b; }

void conv_tuning_default(conv_tuning *t, const clrt *rt) {
    memset(t, 0, sizeof *t);
    /* Register tiles: 6 pixels x 16 channels = 12 float8 accumulators, the most that stay in
     * AVX2's 16 vector registers beside the weights and a broadcast; measured best on PoCL
     * (cl/conv.cl's header), as is the work-group of 16. */
    t->tp = 6, t->cb = 2, t->wt = 6, t->wcb = 2, t->kfast = 3, t->lws = 16;
    /* Local tiles: 64 pixels x 32 channels per work-group of 16 x 16, 4 x 2 per work-item. */
    t->tm = 64, t->tn = 32, t->kc = 16, t->rm = 4, t->rn = 2;
    t->local_tiles = rt->is_gpu;
    /* A CPU wants a few long reductions that keep a split's gradient in its cache; a GPU wants
     * many work-groups. */
    t->splits = rt->is_gpu ? 0 : 8;
}

void conv_tuning_options(char *buf, size_t len, const conv_tuning *t) {
    snprintf(buf, len,
             "-DCONV_TP=%d -DCONV_CB=%d -DCONV_WT=%d -DCONV_WCB=%d -DCONV_KFAST=%d -DCONV_LM_TM=%d -DCONV_LM_TN=%d "
             "-DCONV_LM_KC=%d -DCONV_LM_RM=%d -DCONV_LM_RN=%d",
             t->tp, t->cb, t->wt, t->wcb, t->kfast, t->tm, t->tn, t->kc, t->rm, t->rn);
}

void conv_tuning_describe(char *buf, size_t len, const conv_tuning *t) {
    char splits[32];
    if (t->splits)
        snprintf(splits, sizeof splits, "%d splits", t->splits);
    else
        snprintf(splits, sizeof splits, "a split per image");
    if (t->local_tiles)
        snprintf(buf, len, "local-memory tiles %dx%d (chunk %d, %dx%d per work-item), weight gradient in %s", t->tm,
                 t->tn, t->kc, t->rm, t->rn, splits);
    else
        snprintf(buf, len, "register tiles %dx%d forward, %dx%d weight gradient in %s, work-group %d", t->tp,
                 8 * t->cb, t->wt, 8 * t->wcb, splits, t->lws);
}

/* Whether kernel k can run work-groups of wg items on the device: the driver's limit for one
 * kernel may be below the device's. */
static bool kernel_takes(const conv_ctx *c, cl_kernel k, size_t wg, const char *name, char *err, size_t errlen) {
    if (!k) return true; /* listing mode (clrt_list_programs): nothing was built */
    size_t max = 0;
    CL_CHECK(clGetKernelWorkGroupInfo(k, c->rt->dev.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max, &max, NULL));
    if (wg <= max) return true;
    snprintf(err, errlen, "%s takes work-groups of at most %zu items, the tuning launches %zu", name, max, wg);
    return false;
}

bool conv_build(conv_ctx *c, clrt *rt, const conv_tuning *t, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->rt = rt;
    c->tune = *t;
    char opts[512], *log;
    conv_tuning_options(opts, sizeof opts, t);
    cl_program p = clrt_program_try(rt, "conv.cl", opts, &log);
    if (!p) {
        snprintf(err, errlen, "conv.cl does not build with %s: %s", opts, log);
        free(log);
        return false;
    }
    const char *fwd = t->local_tiles ? "conv_fwd_lm" : "conv_fwd", *bwd_w = t->local_tiles ? "conv_bwd_w_lm" : "conv_bwd_w";
    c->fwd = clrt_kernel(p, fwd);
    c->bwd_w = clrt_kernel(p, bwd_w);
    c->w_prep = clrt_kernel(p, "conv_w_prep");
    c->bwd_prep = clrt_kernel(p, "conv_bwd_prep");
    c->bwd_w_finish = clrt_kernel(p, "conv_bwd_w_finish");
    CL_CHECK(clReleaseProgram(p));
    size_t wg = t->local_tiles ? (size_t)(t->tm / t->rm) * (size_t)(t->tn / t->rn) : (size_t)t->lws;
    if (kernel_takes(c, c->fwd, wg, fwd, err, errlen) && kernel_takes(c, c->bwd_w, wg, bwd_w, err, errlen)) return true;
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
    cl_kernel ks[] = {c->fwd, c->bwd_w, c->w_prep, c->bwd_prep, c->bwd_w_finish};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        if (ks[i]) CL_CHECK(clReleaseKernel(ks[i]));
    release_mem(&c->g);
    release_mem(&c->gpad);
    release_mem(&c->dwp);
}

static int splits(const conv_ctx *c, int B) {
    int s = c->tune.splits ? c->tune.splits : B;
    return s > B ? B : s;
}

/* Grows a scratch buffer to at least `bytes`; only ever at set-up, never per step. */
static void reserve(conv_ctx *c, cl_mem *m, size_t *have, size_t bytes) {
    if (bytes <= *have) return;
    release_mem(m);
    *m = clrt_alloc(c->rt, bytes);
    *have = bytes;
}

void conv_layer_init(conv_ctx *c, conv_layer *l, int CI, int H, int W, int CO, int K, int relu, const char *name,
                     int max_batch) {
    memset(l, 0, sizeof *l);
    l->CI = CI, l->H = H, l->W = W, l->CO = CO, l->K = K, l->relu = relu;
    int KK = K * K, OH = H - K + 1, OW = W - K + 1;
    l->wt = clrt_alloc(c->rt, (size_t)CI * KK * round8(CO) * sizeof(float));
    l->wf = clrt_alloc(c->rt, (size_t)CO * KK * round8(CI) * sizeof(float));
    snprintf(l->tag_fwd, sizeof l->tag_fwd, "%s forward", name);
    snprintf(l->tag_dx, sizeof l->tag_dx, "%s input gradient", name);
    snprintf(l->tag_dw, sizeof l->tag_dw, "%s weight gradient", name);
    size_t B = (size_t)max_batch;
    reserve(c, &c->g, &c->g_bytes, B * OH * OW * round8(CO) * sizeof(float));
    reserve(c, &c->gpad, &c->gpad_bytes, B * CO * (OH + 2 * (K - 1)) * (OW + 2 * (K - 1)) * sizeof(float));
    reserve(c, &c->dwp, &c->dwp_bytes, (size_t)splits(c, max_batch) * (CI * KK + 1) * round8(CO) * sizeof(float));
}

void conv_layer_release(conv_layer *l) {
    release_mem(&l->wt);
    release_mem(&l->wf);
}

/* The one forward launch, shared by the forward pass and the input gradient. */
static void launch_fwd(conv_ctx *c, cl_mem y, cl_mem x, cl_mem wt, cl_mem b, int B, int CI, int H, int W, int CO,
                       int K, int has_bias, int relu, const char *tag) {
    const conv_tuning *t = &c->tune;
    KARGS(c->fwd, ARG_MEM(y), ARG_MEM(x), ARG_MEM(wt), ARG_MEM(b), ARG_INT(B), ARG_INT(CI), ARG_INT(H), ARG_INT(W),
          ARG_INT(CO), ARG_INT(K), ARG_INT(has_bias), ARG_INT(relu));
    int NP = B * (H - K + 1) * (W - K + 1);
    if (t->local_tiles) {
        size_t lws[2] = {(size_t)(t->tm / t->rm), (size_t)(t->tn / t->rn)};
        size_t gws[2] = {(size_t)cdiv(NP, t->tm) * lws[0], (size_t)cdiv(CO, t->tn) * lws[1]};
        clrt_launch(c->rt, c->fwd, 2, gws, lws, tag);
    } else {
        size_t gws = (size_t)cdiv(NP, t->tp) * (size_t)cdiv(round8(CO) / 8, t->cb), lws = (size_t)t->lws;
        clrt_launch(c->rt, c->fwd, 1, &gws, &lws, tag);
    }
}

void conv_forward(conv_ctx *c, conv_layer *l, cl_mem y, cl_mem x, cl_mem w, cl_mem b, int B) {
    int KK = l->K * l->K;
    KARGS(c->w_prep, ARG_MEM(l->wt), ARG_MEM(l->wf), ARG_MEM(w), ARG_INT(l->CI), ARG_INT(l->CO), ARG_INT(l->K));
    size_t n = (size_t)round8(l->CO) * round8(l->CI) * KK;
    clrt_launch(c->rt, c->w_prep, 1, &n, &c->rt->wg_1d, l->tag_fwd);
    launch_fwd(c, y, x, l->wt, b, B, l->CI, l->H, l->W, l->CO, l->K, 1, l->relu, l->tag_fwd);
}

void conv_backward(conv_ctx *c, conv_layer *l, cl_mem dx, cl_mem dw, cl_mem db, cl_mem dy, cl_mem x, cl_mem y, int B) {
    const conv_tuning *t = &c->tune;
    int K = l->K, OH = l->H - K + 1, OW = l->W - K + 1, T = l->CI * K * K, CO8 = round8(l->CO), P = dx ? K - 1 : 0;
    int ns = splits(c, B);

    KARGS(c->bwd_prep, ARG_MEM(c->g), ARG_MEM(c->gpad), ARG_MEM(dy), ARG_MEM(y), ARG_INT(B), ARG_INT(l->CO),
          ARG_INT(OH), ARG_INT(OW), ARG_INT(K), ARG_INT(l->relu), ARG_INT(dx != NULL));
    size_t n = (size_t)B * (CO8 / 8) * (OH + 2 * P); /* a work-item per padded row */
    clrt_launch(c->rt, c->bwd_prep, 1, &n, &c->rt->wg_1d, l->tag_dw);

    KARGS(c->bwd_w, ARG_MEM(c->dwp), ARG_MEM(x), ARG_MEM(c->g), ARG_INT(B), ARG_INT(l->CI), ARG_INT(l->H),
          ARG_INT(l->W), ARG_INT(l->CO), ARG_INT(K), ARG_INT(ns));
    if (t->local_tiles) {
        size_t lws[3] = {(size_t)(t->tn / t->rn), (size_t)(t->tm / t->rm), 1};
        size_t gws[3] = {(size_t)cdiv(CO8, t->tn) * lws[0], (size_t)cdiv(T + 1, t->tm) * lws[1], (size_t)ns};
        clrt_launch(c->rt, c->bwd_w, 3, gws, lws, l->tag_dw);
    } else {
        size_t gws = (size_t)ns * (cdiv(T, t->wt) + 1) * cdiv(CO8 / 8, t->wcb), lws = (size_t)t->lws;
        clrt_launch(c->rt, c->bwd_w, 1, &gws, &lws, l->tag_dw);
    }
    KARGS(c->bwd_w_finish, ARG_MEM(dw), ARG_MEM(db), ARG_MEM(c->dwp), ARG_INT(l->CI), ARG_INT(l->CO), ARG_INT(K),
          ARG_INT(ns));
    n = (size_t)l->CO * (T + 1);
    clrt_launch(c->rt, c->bwd_w_finish, 1, &n, &c->rt->wg_1d, l->tag_dw);

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
    int OH = H - K + 1, OW = W - K + 1;
    for (int co = 0; co < CO; co++) {
        for (int ci = 0; ci < CI; ci++)
            for (int kh = 0; kh < K; kh++)
                for (int kw = 0; kw < K; kw++) {
                    double s = 0.0;
                    for (int n = 0; n < B; n++)
                        for (int oy = 0; oy < OH; oy++)
                            for (int ox = 0; ox < OW; ox++)
                                s += masked(dy, y, (((size_t)n * CO + co) * OH + oy) * OW + ox, relu) *
                                     (double)x[(((size_t)n * CI + ci) * H + oy + kh) * W + ox + kw];
                    dw[((co * CI + ci) * K + kh) * K + kw] = (float)s;
                }
        if (db) {
            double s = 0.0;
            for (int n = 0; n < B; n++)
                for (int p = 0; p < OH * OW; p++) s += masked(dy, y, ((size_t)n * CO + co) * OH * OW + p, relu);
            db[co] = (float)s;
        }
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
