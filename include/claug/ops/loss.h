/* Softmax fused with categorical cross-entropy (numerically stable) and its gradient, and the
 * metrics: per-sample loss and correctness, summed deterministically on the device. */
#ifndef CLAUG_LOSS_H
#define CLAUG_LOSS_H

#include "claug/runtime/clrt.h"

typedef struct { clrt_kernels ks; } loss_kernels; /* of cl/loss.cl */

/* options: NULL, or the build options of cl/loss.cl (-DMETRICS_WG=64: the tests' other
 * summation order). */
void loss_init(loss_kernels *k, clrt *rt, const char *options);
void loss_release(loss_kernels *k);

/* For each row b: p = softmax(logits[b]) computed stably (max subtracted); losses[offset + b] =
 * logsumexp(logits[b]) - logits[b][labels[b]]; correct[offset + b] = 1.0f when the first index
 * of the row's maximum logit equals the label, else 0.0f; when predicted is not NULL,
 * predicted[offset + b] = that index; when dlogits is not NULL,
 * dlogits[b][j] = (p[j] - (j == labels[b])) * grad_scale (grad_scale = 1/B for a mean loss). */
void softmax_xent(loss_kernels *k, cl_mem losses /* (total) */, cl_mem correct /* (total) */,
                  cl_mem predicted /* (total) int or NULL */, cl_mem dlogits /* (B, K) or NULL */, cl_mem logits /* (B, K) */, cl_mem labels /* (B) int */,
                  int offset, int B, int K, float grad_scale, const char *tag);
/* out[0] = sum of losses[0 .. n), out[1] = sum of correct[0 .. n), in an order fixed by n and
 * the kernel's build options (no atomics): the same bits every run on a device. */
void metrics_sum(loss_kernels *k, cl_mem out /* (2) */, cl_mem losses /* (n) */, cl_mem correct /* (n) */, int n,
                 const char *tag);

void ref_softmax_xent(float *losses, float *correct, int *predicted, float *dlogits, const float *logits, const int *labels,
                      int offset, int B, int K, float grad_scale);

#endif
