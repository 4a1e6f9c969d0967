/* Inverted dropout; built after philox.h. The backward masks dy exactly as the forward masks x,
 * so one kernel serves both. */

/* One work-item per group of four elements: one Philox call gives the four draws of the group
 * (lane i % 4 of counter i / 4), and the group's 16 contiguous bytes keep a GPU's accesses
 * coalesced. The host computes scale = 1 / (1 - rate) in float and passes it, so the kernel and
 * the C reference multiply by the same number and agree to the bit. */
__kernel void dropout_apply(__global float *y,        /* (n), may be x */
                            __global const float *x,  /* (n) */
                            int n, float rate, float scale, uint seed_lo, uint seed_hi, uint step, uint layer)
{
    int q = get_global_id(0);
    if (q >= (n + 3) / 4) return;
    philox4 r = claug_random4(((ulong)seed_hi << 32) | seed_lo, CLAUG_STREAM_DROPOUT, step, layer, (uint)q);
    for (int j = 0; j < 4; j++) {
        int i = 4 * q + j;
        if (i < n) y[i] = claug_uniform(r.v[j]) >= rate ? x[i] * scale : 0.0f;
    }
}
