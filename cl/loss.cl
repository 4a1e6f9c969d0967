/* Softmax fused with categorical cross-entropy and its gradient, and the deterministic sum of
 * the per-sample metrics. */

#ifndef METRICS_WG
#define METRICS_WG 256 /* work-items of metrics_sum's single work-group; a power of two */
#endif
#if METRICS_WG < 1 || (METRICS_WG & (METRICS_WG - 1)) != 0
#error "METRICS_WG must be a power of two"
#endif

/* One work-item per row: K is the number of classes (10), too few to share across work-items.
 * The row's prediction is the first index of its maximum logit (numpy's argmax): correct says
 * whether it is the label, predicted (when not NULL) which class it is.
 * The row's maximum is subtracted before exp, so no logit overflows; the loss is then
 * logsumexp - logit[label] = (m - logit[label]) + log(s), the difference taken first so that a
 * large m does not round the loss away. A label outside [0, K) gives a NaN loss, loud in the
 * metrics, rather than a read out of bounds. */
__kernel void softmax_xent(__global float *losses,        /* (total) */
                           __global float *correct,       /* (total) */
                           __global int *predicted,       /* (total) or NULL */
                           __global float *dlogits,       /* (B, K) or NULL */
                           __global const float *logits,  /* (B, K) */
                           __global const int *labels,    /* (B) */
                           int offset, int B, int K, float grad_scale)
{
    int b = get_global_id(0);
    if (b >= B) return;
    __global const float *z = logits + b * K;
    int label = labels[b], top = 0;
    for (int j = 1; j < K; j++)
        if (z[j] > z[top]) top = j;
    float m = z[top], s = 0.0f;
    for (int j = 0; j < K; j++) s += exp(z[j] - m);
    bool valid = label >= 0 && label < K;
    losses[offset + b] = valid ? (m - z[label]) + log(s) : NAN;
    correct[offset + b] = top == label ? 1.0f : 0.0f;
    if (predicted) predicted[offset + b] = top;
    if (!dlogits) return;
    float inv = 1.0f / s;
    for (int j = 0; j < K; j++)
        dlogits[b * K + j] = (exp(z[j] - m) * inv - (j == label ? 1.0f : 0.0f)) * grad_scale;
}

/* out = (sum of losses, sum of correct) over [0, n), in one work-group of METRICS_WG work-items:
 * work-item t sums elements t, t + WG, t + 2 WG, ... in order (coalesced), then a tree halves the
 * partial sums in local memory. The order depends only on n and METRICS_WG: the same bits every
 * run. */
__kernel __attribute__((reqd_work_group_size(METRICS_WG, 1, 1)))
void metrics_sum(__global float *out,           /* (2) */
                 __global const float *losses,  /* (n) */
                 __global const float *correct, /* (n) */
                 int n)
{
    __local float part_loss[METRICS_WG], part_correct[METRICS_WG];
    int t = get_local_id(0);
    float sl = 0.0f, sc = 0.0f;
    for (int i = t; i < n; i += METRICS_WG) {
        sl += losses[i];
        sc += correct[i];
    }
    part_loss[t] = sl;
    part_correct[t] = sc;
    for (int stride = METRICS_WG / 2; stride > 0; stride /= 2) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (t < stride) {
            part_loss[t] += part_loss[t + stride];
            part_correct[t] += part_correct[t + stride];
        }
    }
    if (t == 0) {
        out[0] = part_loss[0];
        out[1] = part_correct[0];
    }
}
