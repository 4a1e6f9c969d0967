#include "claug/ops/act.h"

void act_init(act_kernels *k, clrt *rt, const char *options) {
    k->rt = rt;
    cl_program p = clrt_program(rt, "act.cl", options);
    k->relu_fwd = clrt_kernel(p, "relu_fwd");
    k->relu_bwd = clrt_kernel(p, "relu_bwd");
    k->bias_act_fwd = clrt_kernel(p, "bias_act_fwd");
    k->bias_act_bwd = clrt_kernel(p, "bias_act_bwd");
    CL_CHECK(clReleaseProgram(p));
}

void act_release(act_kernels *k) {
    cl_kernel *all[] = {&k->relu_fwd, &k->relu_bwd, &k->bias_act_fwd, &k->bias_act_bwd};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        if (*all[i]) CL_CHECK(clReleaseKernel(*all[i]));
        *all[i] = NULL;
    }
}

/* ---- ReLU ------------------------------------------------------------------------------------- */

void relu_forward(act_kernels *k, cl_mem y, cl_mem x, int n, const char *tag) {
    KARGS(k->relu_fwd, ARG_MEM(y), ARG_MEM(x), ARG_INT(n));
    clrt_launch(k->rt, k->relu_fwd, 1, (size_t[]){(size_t)n}, &k->rt->wg_1d, tag);
}

void relu_backward(act_kernels *k, cl_mem dx, cl_mem dy, cl_mem y, int n, const char *tag) {
    KARGS(k->relu_bwd, ARG_MEM(dx), ARG_MEM(dy), ARG_MEM(y), ARG_INT(n));
    clrt_launch(k->rt, k->relu_bwd, 1, (size_t[]){(size_t)n}, &k->rt->wg_1d, tag);
}

void ref_relu_forward(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void ref_relu_backward(float *dx, const float *dy, const float *y, int n) {
    for (int i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* ---- bias (+ ReLU) after a GEMM ------------------------------------------------------------------ */

void bias_act_forward(act_kernels *k, cl_mem y, cl_mem bias, int B, int N, int relu, const char *tag) {
    KARGS(k->bias_act_fwd, ARG_MEM(y), ARG_MEM(bias), ARG_INT(B), ARG_INT(N), ARG_INT(relu != 0));
    clrt_launch(k->rt, k->bias_act_fwd, 1, (size_t[]){(size_t)B * (size_t)N}, &k->rt->wg_1d, tag);
}

void bias_act_backward(act_kernels *k, cl_mem db, cl_mem dy, cl_mem y, int B, int N, int relu, const char *tag) {
    KARGS(k->bias_act_bwd, ARG_MEM(db), ARG_MEM(dy), ARG_MEM(y), ARG_INT(B), ARG_INT(N), ARG_INT(relu != 0));
    clrt_launch(k->rt, k->bias_act_bwd, 1, (size_t[]){(size_t)N}, &k->rt->wg_1d, tag);
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
