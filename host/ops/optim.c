#include "claug/ops/optim.h"

#include <math.h>

enum { ADAM };

void optim_init(optim_kernels *k, clrt *rt) {
    clrt_kernels_init(&k->ks, rt, "optim.cl", NULL, (const char *const[]){[ADAM] = "adam", NULL});
}

void optim_release(optim_kernels *k) { clrt_kernels_release(&k->ks); }

float adam_lr_t(double lr, double beta1, double beta2, long t) {
    if (t < 1) die(EXIT_USAGE, "Adam step %ld: steps count from 1", t);
    return (float)(lr * sqrt(1.0 - pow(beta2, (double)t)) / (1.0 - pow(beta1, (double)t)));
}

void adam_step(optim_kernels *k, cl_mem p, cl_mem m, cl_mem v, cl_mem g, int n, float lr_t, float beta1, float beta2,
               float eps, const char *tag) {
    KARGS(k->ks.k[ADAM], ARG_MEM(p), ARG_MEM(m), ARG_MEM(v), ARG_MEM(g), ARG_INT(n), ARG_FLOAT(lr_t), ARG_FLOAT(beta1),
          ARG_FLOAT(beta2), ARG_FLOAT(eps));
    clrt_launch(k->ks.rt, k->ks.k[ADAM], 1, (size_t[]){(size_t)n}, &k->ks.rt->wg_1d, tag);
}

void ref_adam_step(float *p, float *m, float *v, const float *g, int n, float lr_t, float beta1, float beta2,
                   float eps) {
    for (int i = 0; i < n; i++) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        p[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
    }
}
