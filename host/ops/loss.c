#include "claug/ops/loss.h"

#include <math.h>

enum { XENT, SUM };

void loss_init(loss_kernels *k, clrt *rt, const char *options) {
    clrt_kernels_init(&k->ks, rt, "loss.cl", options,
                      (const char *const[]){[XENT] = "softmax_xent", [SUM] = "metrics_sum", NULL});
}

void loss_release(loss_kernels *k) { clrt_kernels_release(&k->ks); }

void softmax_xent(loss_kernels *k, cl_mem losses, cl_mem correct, cl_mem predicted, cl_mem dlogits, cl_mem logits,
                  cl_mem labels, int offset, int B, int K, float grad_scale, const char *tag) {
    /* A NULL buffer argument reaches the kernel as a NULL pointer (OpenCL 1.2, clSetKernelArg). */
    KARGS(k->ks.k[XENT], ARG_MEM(losses), ARG_MEM(correct), ARG_MEM(predicted), ARG_MEM(dlogits), ARG_MEM(logits), ARG_MEM(labels),
          ARG_INT(offset), ARG_INT(B), ARG_INT(K), ARG_FLOAT(grad_scale));
    clrt_launch(k->ks.rt, k->ks.k[XENT], 1, (size_t[]){(size_t)B}, &k->ks.rt->wg_1d, tag);
}

void metrics_sum(loss_kernels *k, cl_mem out, cl_mem losses, cl_mem correct, int n, const char *tag) {
    /* The work-group size is METRICS_WG of the build options, read back from the compiled kernel
     * (reqd_work_group_size) so the host cannot disagree with it. */
    size_t wg[3];
    clrt_kernel_wg(k->ks.rt, k->ks.k[SUM], wg);
    KARGS(k->ks.k[SUM], ARG_MEM(out), ARG_MEM(losses), ARG_MEM(correct), ARG_INT(n));
    clrt_launch(k->ks.rt, k->ks.k[SUM], 1, wg, wg, tag);
}

/* In double, then rounded: a reference more accurate than the kernel, not a copy of it. */
void ref_softmax_xent(float *losses, float *correct, int *predicted, float *dlogits, const float *logits,
                      const int *labels, int offset, int B, int K, float grad_scale) {
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K;
        int label = labels[b], top = 0;
        for (int j = 1; j < K; j++)
            if (z[j] > z[top]) top = j;
        double m = z[top], s = 0.0;
        for (int j = 0; j < K; j++) s += exp(z[j] - m);
        losses[offset + b] = label >= 0 && label < K ? (float)((m - z[label]) + log(s)) : NAN;
        correct[offset + b] = top == label ? 1.0f : 0.0f;
        if (predicted) predicted[offset + b] = top;
        if (!dlogits) continue;
        for (int j = 0; j < K; j++)
            dlogits[(size_t)b * K + j] = (float)((exp(z[j] - m) / s - (j == label)) * grad_scale);
    }
}
