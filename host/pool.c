#include "claug/pool.h"

void pool_init(pool_kernels *k, clrt *rt, const char *options) {
    k->rt = rt;
    cl_program p = clrt_program(rt, "pool.cl", options);
    k->fwd = clrt_kernel(p, "pool_fwd");
    k->bwd = clrt_kernel(p, "pool_bwd");
    CL_CHECK(clReleaseProgram(p));
}

void pool_release(pool_kernels *k) {
    if (k->fwd) CL_CHECK(clReleaseKernel(k->fwd));
    if (k->bwd) CL_CHECK(clReleaseKernel(k->bwd));
    k->fwd = k->bwd = NULL;
}

/* The window index is stored in a uchar: S * S must not exceed 256. */
static void check_window(int S) {
    if (S < 1 || S > 16) die(EXIT_USAGE, "max pooling window %d is outside 1 to 16", S);
}

void pool_forward(pool_kernels *k, cl_mem y, cl_mem arg, cl_mem x, int B, int C, int H, int W, int S,
                  const char *tag) {
    check_window(S);
    size_t n = (size_t)B * (size_t)C * (size_t)(H / S) * (size_t)(W / S);
    if (n == 0) return; /* images smaller than one window: an empty output */
    KARGS(k->fwd, ARG_MEM(y), ARG_MEM(arg), ARG_MEM(x), ARG_INT(B * C), ARG_INT(H), ARG_INT(W), ARG_INT(S));
    clrt_launch(k->rt, k->fwd, 1, &n, &k->rt->wg_1d, tag);
}

void pool_backward(pool_kernels *k, cl_mem dx, cl_mem dy, cl_mem arg, int B, int C, int H, int W, int S,
                   const char *tag) {
    check_window(S);
    KARGS(k->bwd, ARG_MEM(dx), ARG_MEM(dy), ARG_MEM(arg), ARG_INT(B * C), ARG_INT(H), ARG_INT(W), ARG_INT(S));
    size_t windows = (size_t)B * (size_t)C * (size_t)((H + S - 1) / S) * (size_t)((W + S - 1) / S);
    clrt_launch(k->rt, k->bwd, 1, &windows, &k->rt->wg_1d, tag);
}

void ref_pool_forward(float *y, uint8_t *arg, const float *x, int B, int C, int H, int W, int S) {
    int OH = H / S, OW = W / S;
    for (int bc = 0; bc < B * C; bc++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                const float *win = x + ((size_t)bc * H + (size_t)oh * S) * W + (size_t)ow * S;
                int at = 0;
                for (int r = 0; r < S; r++)
                    for (int c = 0; c < S; c++)
                        if (win[r * W + c] > win[at / S * W + at % S]) at = r * S + c;
                size_t o = ((size_t)bc * OH + oh) * OW + ow;
                y[o] = win[at / S * W + at % S];
                arg[o] = (uint8_t)at;
            }
}

/* Scatter form, the other way round from the kernel's gather: zero dx, then add each window's
 * gradient at its maximum. */
void ref_pool_backward(float *dx, const float *dy, const uint8_t *arg, int B, int C, int H, int W, int S) {
    int OH = H / S, OW = W / S;
    for (size_t i = 0; i < (size_t)B * C * H * W; i++) dx[i] = 0.0f;
    for (int bc = 0; bc < B * C; bc++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                size_t o = ((size_t)bc * OH + oh) * OW + ow;
                int r = arg[o] / S, c = arg[o] % S;
                dx[((size_t)bc * H + (size_t)oh * S + r) * W + (size_t)ow * S + c] += dy[o];
            }
}
