#include "claug/ops/pool.h"

enum { FWD, BWD };

void pool_init_rows(pool_kernels *k, clrt *rt, bool rows) {
    k->rows = rows;
    clrt_kernels_init(&k->ks, rt, "pool.cl", rows ? "-DPOOL_ROWS=1" : "-DPOOL_ROWS=0",
                      (const char *const[]){[FWD] = "pool_fwd", [BWD] = "pool_bwd", NULL});
}

/* A CPU's forward reads rows as vectors: the 24x24 planes of the seed model pooled 1.5x faster
 * on PoCL than a work-item per window. */
void pool_init(pool_kernels *k, clrt *rt) { pool_init_rows(k, rt, !rt->is_gpu); }

void pool_release(pool_kernels *k) { clrt_kernels_release(&k->ks); }

/* The window index is stored in a uchar: S * S must not exceed 256. */
static void check_window(int S) {
    if (S < 1 || S > 16) die(EXIT_USAGE, "max pooling window %d is outside 1 to 16", S);
}

/* A work-group of whole planes of windows (up to the 1-D size), so that no work-item of the
 * rounded-up range is idle for the common sizes. */
static void launch_planes(pool_kernels *k, cl_kernel kern, int cols, int rows, int planes, const char *tag) {
    size_t wg = k->ks.rt->wg_1d, lx = (size_t)cols < wg ? (size_t)cols : wg, ly = wg / lx;
    if (ly > (size_t)rows) ly = (size_t)rows;
    size_t lz = wg / (lx * ly) < (size_t)planes ? wg / (lx * ly) : (size_t)planes;
    if (lz < 1) lz = 1;
    clrt_launch(k->ks.rt, kern, 3, (size_t[]){(size_t)cols, (size_t)rows, (size_t)planes}, (size_t[]){lx, ly, lz}, tag);
}

void pool_forward(pool_kernels *k, cl_mem y, cl_mem arg, cl_mem x, int B, int C, int H, int W, int S,
                  const char *tag) {
    check_window(S);
    if (H < S || W < S) return; /* images smaller than one window: an empty output */
    KARGS(k->ks.k[FWD], ARG_MEM(y), ARG_MEM(arg), ARG_MEM(x), ARG_INT(B * C), ARG_INT(H), ARG_INT(W), ARG_INT(S));
    if (k->rows)
        clrt_launch(k->ks.rt, k->ks.k[FWD], 2, (size_t[]){(size_t)(H / S), (size_t)B * C}, NULL, tag);
    else
        launch_planes(k, k->ks.k[FWD], W / S, H / S, B * C, tag);
}

void pool_backward(pool_kernels *k, cl_mem dx, cl_mem dy, cl_mem arg, int B, int C, int H, int W, int S,
                   const char *tag) {
    check_window(S);
    KARGS(k->ks.k[BWD], ARG_MEM(dx), ARG_MEM(dy), ARG_MEM(arg), ARG_INT(B * C), ARG_INT(H), ARG_INT(W), ARG_INT(S));
    launch_planes(k, k->ks.k[BWD], (W + S - 1) / S, (H + S - 1) / S, B * C, tag);
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
