/* Activations and biases, forward and backward side by side. One work-item per element (or per
 * column for the bias gradient): contiguous accesses that coalesce on a GPU and that PoCL
 * vectorises across work-items on a CPU. */

/* `v > 0 ? v : 0` rather than fmax: the C reference writes the same expression, so both give
 * the same bits (NaN included: it becomes 0 in both). */
__kernel void relu_fwd(__global float *y,       /* (n) */
                       __global const float *x, /* (n) */
                       int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float v = x[i];
    y[i] = v > 0.0f ? v : 0.0f;
}

__kernel void relu_bwd(__global float *dx,       /* (n) */
                       __global const float *dy, /* (n) */
                       __global const float *y,  /* (n) */
                       int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* In place over the flattened (B, N) output of a GEMM. */
__kernel void bias_act_fwd(__global float *y,          /* (B, N) */
                           __global const float *bias, /* (N) */
                           int B, int N, int relu)
{
    int i = get_global_id(0);
    if (i >= B * N) return;
    float v = y[i] + bias[i % N];
    y[i] = relu && !(v > 0.0f) ? 0.0f : v;
}

/* One work-item per column: a row of work-items reads a row of dy, so the loads coalesce, and
 * each column is summed in the order b = 0, 1, ... (deterministic, no atomics). B is a batch
 * size, small enough that the serial loop is cheaper than a tree. */
__kernel void bias_act_bwd(__global float *db,       /* (N) */
                           __global float *dy,       /* (B, N), masked in place when relu */
                           __global const float *y,  /* (B, N) */
                           int B, int N, int relu)
{
    int j = get_global_id(0);
    if (j >= N) return;
    float s = 0.0f;
    for (int b = 0; b < B; b++) {
        int i = b * N + j;
        float g = dy[i];
        if (relu) {
            g = y[i] > 0.0f ? g : 0.0f;
            dy[i] = g;
        }
        s += g;
    }
    db[j] = s;
}
