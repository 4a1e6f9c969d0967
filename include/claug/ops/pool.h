/* Max pooling, S x S windows with stride S ("valid": trailing rows/columns that do not fill a
 * window are dropped, as in Keras), forward and backward side by side. */
#ifndef CLAUG_POOL_H
#define CLAUG_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "claug/runtime/clrt.h"

typedef struct {
    clrt_kernels ks; /* of cl/pool.cl */
    bool rows;       /* POOL_ROWS: the forward's work-item an output row (a CPU), else a window */
} pool_kernels;

/* With the device's choice of POOL_ROWS (rows on a CPU); pool_init_rows with a given one. */
void pool_init(pool_kernels *k, clrt *rt);
void pool_init_rows(pool_kernels *k, clrt *rt, bool rows);
void pool_release(pool_kernels *k);

/* OH = H / S, OW = W / S (floor). arg records which element of each window was the maximum
 * (row-major index within the window, 0 .. S*S-1; the first one on ties), for the backward. */
void pool_forward(pool_kernels *k, cl_mem y /* (B, C, OH, OW) */, cl_mem arg /* (B, C, OH, OW) uchar */,
                  cl_mem x /* (B, C, H, W) */, int B, int C, int H, int W, int S, const char *tag);
/* dx = dy routed to each window's maximum, zero elsewhere (every element of dx is written). */
void pool_backward(pool_kernels *k, cl_mem dx /* (B, C, H, W) */, cl_mem dy /* (B, C, OH, OW) */,
                   cl_mem arg /* (B, C, OH, OW) uchar */, int B, int C, int H, int W, int S, const char *tag);

void ref_pool_forward(float *y, uint8_t *arg, const float *x, int B, int C, int H, int W, int S);
void ref_pool_backward(float *dx, const float *dy, const uint8_t *arg, int B, int C, int H, int W, int S);

#endif
