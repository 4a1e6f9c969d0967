/* Activations and biases: ReLU, and the bias (+ ReLU) that follows a dense layer's GEMM, each
 * forward and backward side by side, with their plain-C references. */
#ifndef CLAUG_ACT_H
#define CLAUG_ACT_H

#include "claug/runtime/clrt.h"

typedef struct { clrt_kernels ks; } act_kernels; /* of cl/act.cl */

void act_init(act_kernels *k, clrt *rt);
void act_release(act_kernels *k);

/* y = max(x, 0); y may be x. */
void relu_forward(act_kernels *k, cl_mem y /* (n) */, cl_mem x /* (n) */, int n, const char *tag);
/* dx = dy * (y > 0); dx may be dy. */
void relu_backward(act_kernels *k, cl_mem dx /* (n) */, cl_mem dy /* (n) */, cl_mem y /* (n) */, int n,
                   const char *tag);
/* In place after a GEMM: y += bias (broadcast over rows), then ReLU when relu != 0. */
void bias_act_forward(act_kernels *k, cl_mem y /* (B, N) */, cl_mem bias /* (N) */, int B, int N, int relu,
                      const char *tag);
/* dy *= (y > 0) in place when relu != 0; then db[j] = sum over b of dy[b][j], summed in a fixed
 * order (b = 0, 1, ...), so the result is the same bits every run. */
void bias_act_backward(act_kernels *k, cl_mem db /* (N) */, cl_mem dy /* (B, N) */, cl_mem y /* (B, N) */, int B,
                       int N, int relu, const char *tag);

void ref_relu_forward(float *y, const float *x, int n);
void ref_relu_backward(float *dx, const float *dy, const float *y, int n);
void ref_bias_act_forward(float *y, const float *bias, int B, int N, int relu);
void ref_bias_act_backward(float *db, float *dy, const float *y, int B, int N, int relu);

#endif
