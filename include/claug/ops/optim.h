/* Adam, as Keras defines it (lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7):
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
 *   p -= lr_t m / (sqrt(v) + epsilon),  lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t). */
#ifndef CLAUG_OPTIM_H
#define CLAUG_OPTIM_H

#include "claug/runtime/clrt.h"

typedef struct { clrt_kernels ks; } optim_kernels; /* of cl/optim.cl */

void optim_init(optim_kernels *k, clrt *rt);
void optim_release(optim_kernels *k);

/* lr_t of step t (1-based), computed in double and rounded once to float. */
float adam_lr_t(double lr, double beta1, double beta2, long t);
/* One Adam update of n parameters, in place. */
void adam_step(optim_kernels *k, cl_mem p /* (n) */, cl_mem m /* (n) */, cl_mem v /* (n) */, cl_mem g /* (n) */,
               int n, float lr_t, float beta1, float beta2, float eps, const char *tag);

void ref_adam_step(float *p, float *m, float *v, const float *g, int n, float lr_t, float beta1, float beta2,
                   float eps);

#endif
