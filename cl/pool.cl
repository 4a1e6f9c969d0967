/* Max pooling, S x S windows with stride S, "valid" (trailing rows and columns that do not fill
 * a window are dropped). Both directions are gathers with one work-item per written element, so
 * no two work-items write the same place and every output is written exactly once. */

/* One work-item per output element, in (B, C, OH, OW) order: neighbouring work-items read
 * neighbouring windows. */
__kernel void pool_fwd(__global float *y,        /* (B, C, OH, OW) */
                       __global uchar *arg,      /* (B, C, OH, OW) */
                       __global const float *x,  /* (B, C, H, W) */
                       int BC, int H, int W, int S)
{
    int OH = H / S, OW = W / S;
    int o = get_global_id(0);
    if (o >= BC * OH * OW) return;
    int ow = o % OW, t = o / OW, oh = t % OH, bc = t / OH;
    __global const float *win = x + (bc * H + oh * S) * W + ow * S;
    float best = win[0];
    int at = 0;
    for (int r = 0; r < S; r++)
        for (int c = 0; c < S; c++) {
            float v = win[r * W + c];
            if (v > best) { /* strict: the first maximum wins ties */
                best = v;
                at = r * S + c;
            }
        }
    y[o] = best;
    arg[o] = (uchar)at;
}

/* One work-item per input element, in (B, C, H, W) order: it takes its window's gradient when it
 * was that window's maximum, else 0 (also for the dropped trailing rows and columns). */
__kernel void pool_bwd(__global float *dx,         /* (B, C, H, W) */
                       __global const float *dy,   /* (B, C, OH, OW) */
                       __global const uchar *arg,  /* (B, C, OH, OW) */
                       int BC, int H, int W, int S)
{
    int OH = H / S, OW = W / S;
    int i = get_global_id(0);
    if (i >= BC * H * W) return;
    int w = i % W, t = i / W, h = t % H, bc = t / H;
    int oh = h / S, ow = w / S;
    float g = 0.0f;
    if (oh < OH && ow < OW) {
        int o = (bc * OH + oh) * OW + ow;
        if (arg[o] == (h - oh * S) * S + (w - ow * S)) g = dy[o];
    }
    dx[i] = g;
}
