/* Batch gather from the device-resident dataset. */

/* Copies images order[first .. first+B) into the batch, uint8 -> float in [0, 1], and their
 * labels. Scaling multiplies by the float nearest 1/255 rather than dividing: OpenCL allows
 * division to be inexact, multiplication is correctly rounded everywhere, so every device and
 * the C reference give the same bits. */
__kernel void gather_batch(__global float *x,              /* (B, P) */
                           __global int *y,                /* (B) */
                           __global const uchar *images,   /* (count, P) */
                           __global const uchar *labels,   /* (count) */
                           __global const int *order,      /* (n) dataset indices */
                           int first, int B, int P)
{
    int i = get_global_id(0), b = get_global_id(1);
    if (i >= P || b >= B) return;
    int src = order[first + b];
    x[b * P + i] = (float)images[(size_t)src * P + i] * (1.0f / 255.0f);
    if (i == 0) y[b] = labels[src];
}
