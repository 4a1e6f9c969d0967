#include "claug/ops/act.h"

enum { RELU_FWD, RELU_BWD, BIAS_ACT_FWD, BIAS_ACT_BWD };

void act_init(act_kernels *k, clrt *rt) {
    clrt_kernels_init(&k->ks, rt, "act.cl", NULL,
                      (const char *const[]){[RELU_FWD] = "relu_fwd", [RELU_BWD] = "relu_bwd",
                                            [BIAS_ACT_FWD] = "bias_act_fwd", [BIAS_ACT_BWD] = "bias_act_bwd", NULL});
}

void act_release(act_kernels *k) { clrt_kernels_release(&k->ks); }

/* ---- ReLU ------------------------------------------------------------------------------------- */

void relu_forward(act_kernels *k, cl_mem y, cl_mem x, int n, const char *tag) {
    KARGS(k->ks.k[RELU_FWD], ARG_MEM(y), ARG_MEM(x), ARG_INT(n));
    clrt_launch(k->ks.rt, k->ks.k[RELU_FWD], 1, (size_t[]){(size_t)n}, &k->ks.rt->wg_1d, tag);
}

void relu_backward(act_kernels *k, cl_mem dx, cl_mem dy, cl_mem y, int n, const char *tag) {
    KARGS(k->ks.k[RELU_BWD], ARG_MEM(dx), ARG_MEM(dy), ARG_MEM(y), ARG_INT(n));
    clrt_launch(k->ks.rt, k->ks.k[RELU_BWD], 1, (size_t[]){(size_t)n}, &k->ks.rt->wg_1d, tag);
}

void ref_relu_forward(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void ref_relu_backward(float *dx, const float *dy, const float *y, int n) {
    for (int i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* ---- bias (+ ReLU) after a GEMM ------------------------------------------------------------------ */

void bias_act_forward(act_kernels *k, cl_mem y, cl_mem bias, int B, int N, int relu, const char *tag) {
    KARGS(k->ks.k[BIAS_ACT_FWD], ARG_MEM(y), ARG_MEM(bias), ARG_INT(B), ARG_INT(N), ARG_INT(relu != 0));
    clrt_launch(k->ks.rt, k->ks.k[BIAS_ACT_FWD], 1, (size_t[]){(size_t)B * (size_t)N}, &k->ks.rt->wg_1d, tag);
}

void bias_act_backward(act_kernels *k, cl_mem db, cl_mem dy, cl_mem y, int B, int N, int relu, const char *tag) {
    KARGS(k->ks.k[BIAS_ACT_BWD], ARG_MEM(db), ARG_MEM(dy), ARG_MEM(y), ARG_INT(B), ARG_INT(N), ARG_INT(relu != 0));
    clrt_launch(k->ks.rt, k->ks.k[BIAS_ACT_BWD], 1, (size_t[]){(size_t)N}, &k->ks.rt->wg_1d, tag);
}

void ref_bias_act_forward(float *y, const float *bias, int B, int N, int relu) {
    for (int b = 0; b < B; b++)
        for (int j = 0; j < N; j++) {
            float v = y[b * N + j] + bias[j];
            y[b * N + j] = relu && !(v > 0.0f) ? 0.0f : v;
        }
}

void ref_bias_act_backward(float *db, float *dy, const float *y, int B, int N, int relu) {
    for (int j = 0; j < N; j++) db[j] = 0.0f;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < N; j++) {
            float *g = &dy[b * N + j];
            if (relu && !(y[b * N + j] > 0.0f)) *g = 0.0f;
            db[j] += *g;
        }
}
