/* Inverted dropout: the mask comes from Philox keyed by (seed, step, layer, element), so the
 * backward recomputes it instead of storing it, and a run is reproducible. Off at evaluation
 * (the caller skips the layer). */
#ifndef CLAUG_DROPOUT_H
#define CLAUG_DROPOUT_H

#include <stdint.h>

#include "claug/runtime/clrt.h"

typedef struct { clrt_kernels ks; } dropout_kernels; /* of cl/dropout.cl */

void dropout_init(dropout_kernels *k, clrt *rt);
void dropout_release(dropout_kernels *k);

/* Element i is kept when claug_uniform(draw) >= rate, where draw is lane i % 4 of
 * claug_random4(seed, CLAUG_STREAM_DROPOUT, step, layer, i / 4); kept elements are scaled by
 * 1 / (1 - rate) (computed in float on the host), dropped ones are 0. y may be x. */
void dropout_forward(dropout_kernels *k, cl_mem y /* (n) */, cl_mem x /* (n) */, int n, float rate, uint64_t seed,
                     uint32_t step, uint32_t layer, const char *tag);
/* dx = dy masked and scaled exactly as the forward did; dx may be dy. */
void dropout_backward(dropout_kernels *k, cl_mem dx /* (n) */, cl_mem dy /* (n) */, int n, float rate, uint64_t seed,
                      uint32_t step, uint32_t layer, const char *tag);

void ref_dropout_forward(float *y, const float *x, int n, float rate, uint64_t seed, uint32_t step, uint32_t layer);
void ref_dropout_backward(float *dx, const float *dy, int n, float rate, uint64_t seed, uint32_t step, uint32_t layer);

#endif
