#include "claug/ops/dropout.h"

#include "philox.h"

enum { FWD, BWD };

void dropout_init(dropout_kernels *k, clrt *rt) {
    /* Two kernel objects of one function, so each direction keeps its own arguments. */
    clrt_kernels_init(&k->ks, rt, "philox.h dropout.cl", NULL,
                      (const char *const[]){[FWD] = "dropout_apply", [BWD] = "dropout_apply", NULL});
}

void dropout_release(dropout_kernels *k) { clrt_kernels_release(&k->ks); }

static float keep_scale(float rate) {
    if (!(rate >= 0.0f && rate < 1.0f)) die(EXIT_USAGE, "dropout rate %g is outside [0, 1)", (double)rate);
    return 1.0f / (1.0f - rate);
}

static void launch(dropout_kernels *k, cl_kernel kern, cl_mem out, cl_mem in, int n, float rate, uint64_t seed,
                   uint32_t step, uint32_t layer, const char *tag) {
    float scale = keep_scale(rate);
    KARGS(kern, ARG_MEM(out), ARG_MEM(in), ARG_INT(n), ARG_FLOAT(rate), ARG_FLOAT(scale), ARG_UINT(seed),
          ARG_UINT(seed >> 32), ARG_UINT(step), ARG_UINT(layer));
    clrt_launch(k->ks.rt, kern, 1, (size_t[]){((size_t)n + 3) / 4}, &k->ks.rt->wg_1d, tag);
}

void dropout_forward(dropout_kernels *k, cl_mem y, cl_mem x, int n, float rate, uint64_t seed, uint32_t step,
                     uint32_t layer, const char *tag) {
    launch(k, k->ks.k[FWD], y, x, n, rate, seed, step, layer, tag);
}

void dropout_backward(dropout_kernels *k, cl_mem dx, cl_mem dy, int n, float rate, uint64_t seed, uint32_t step,
                      uint32_t layer, const char *tag) {
    launch(k, k->ks.k[BWD], dx, dy, n, rate, seed, step, layer, tag);
}

void ref_dropout_forward(float *y, const float *x, int n, float rate, uint64_t seed, uint32_t step, uint32_t layer) {
    float scale = keep_scale(rate);
    for (int i = 0; i < n; i++) {
        philox4 r = claug_random4(seed, CLAUG_STREAM_DROPOUT, step, layer, (uint32_t)(i / 4));
        y[i] = claug_uniform(r.v[i % 4]) >= rate ? x[i] * scale : 0.0f;
    }
}

void ref_dropout_backward(float *dx, const float *dy, int n, float rate, uint64_t seed, uint32_t step,
                          uint32_t layer) {
    ref_dropout_forward(dx, dy, n, rate, seed, step, layer);
}
