/* Adam (Keras): one work-item per parameter, each reading p, m, v, g once and writing p, m, v
 * once: the one pass over the parameters a memory-bound update needs. lr_t carries the bias
 * corrections, computed on the host in double. */
__kernel void adam(__global float *p,       /* (n) */
                   __global float *m,       /* (n) */
                   __global float *v,       /* (n) */
                   __global const float *g, /* (n) */
                   int n, float lr_t, float beta1, float beta2, float eps)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr_t * mi / (sqrt(vi) + eps);
}
