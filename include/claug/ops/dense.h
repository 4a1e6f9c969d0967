/* Dense (fully connected) layers through CLBlast: row-major SGEMM with events, the temporary
 * buffer allocated once and reused; bias and ReLU by act.h's kernels.
 * Weights are (OUT, IN), row-major: y = x W^T + b. */
#ifndef CLAUG_DENSE_H
#define CLAUG_DENSE_H

#include <stdbool.h>
#include <stddef.h>

#include "claug/ops/act.h"
#include "claug/runtime/clrt.h"

typedef struct {
    clrt *rt;
    act_kernels *act;
    cl_mem temp; /* CLBlast's temporary buffer, grown to the largest any call needs, then reused */
    size_t temp_bytes;
} dense_ctx;

void dense_init(dense_ctx *d, clrt *rt, act_kernels *act);
void dense_release(dense_ctx *d);

/* y = x W^T + b, then ReLU when relu != 0. */
void dense_forward(dense_ctx *d, cl_mem y /* (B, OUT) */, cl_mem x /* (B, IN) */, cl_mem w /* (OUT, IN) */,
                   cl_mem b /* (OUT) */, int B, int IN, int OUT, int relu, const char *tag);
/* dy is the gradient w.r.t. the layer's output y; when relu != 0 it is masked in place by
 * (y > 0) first. Then db = column sums of dy, dW = dy^T x, and dx = dy W (skipped when dx is
 * NULL, for a first layer). */
void dense_backward(dense_ctx *d, cl_mem dx /* (B, IN) or NULL */, cl_mem dw /* (OUT, IN) */, cl_mem db /* (OUT) */,
                    cl_mem dy /* (B, OUT) */, cl_mem x /* (B, IN) */, cl_mem w /* (OUT, IN) */,
                    cl_mem y /* (B, OUT) */, int B, int IN, int OUT, int relu, const char *tag);

/* Row-major C (m, n) = op(A) op(B) through CLBlast, as the layers call it (op transposes when ta
 * or tb); its event goes to the profile under `tag`. Returns CLBlast's status, 0 on success. */
int dense_gemm(dense_ctx *d, bool ta, bool tb, size_t m, size_t n, size_t k, cl_mem a, cl_mem b, cl_mem c,
               const char *tag);

/* One GEMM as the dense layers issue it: row-major C (m, n) = op(A) op(B). */
typedef struct {
    char name[48]; /* "dense forward", "dense_1 weight gradient" */
    bool ta, tb;
    size_t m, n, k;
} dense_gemm_shape;

void ref_dense_forward(float *y, const float *x, const float *w, const float *b, int B, int IN, int OUT, int relu);
void ref_dense_backward(float *dx, float *dw, float *db, float *dy, const float *x, const float *w, const float *y,
                        int B, int IN, int OUT, int relu);

#endif
