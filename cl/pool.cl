/* Max pooling, S x S windows with stride S, "valid" (trailing rows and columns that do not fill
 * a window are dropped). One work-item per window in both directions: the index arithmetic
 * (integer divisions, slow on CPUs) is paid once per window, not per element, and no two
 * work-items write the same place. The common 2 x 2 window is written out; other sizes loop. */

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
    if (S == 2) {
        /* strict comparisons: the first maximum in row-major order wins ties */
        float v1 = win[1], v2 = win[W], v3 = win[W + 1];
        if (v1 > best) { best = v1; at = 1; }
        if (v2 > best) { best = v2; at = 2; }
        if (v3 > best) { best = v3; at = 3; }
    } else {
        for (int r = 0; r < S; r++)
            for (int c = 0; c < S; c++) {
                float v = win[r * W + c];
                if (v > best) {
                    best = v;
                    at = r * S + c;
                }
            }
    }
    y[o] = best;
    arg[o] = (uchar)at;
}

/* One work-item per window, the partial windows of the dropped trailing rows and columns
 * included (they get zeros): each writes its window's gradient at the maximum, 0 elsewhere. */
__kernel void pool_bwd(__global float *dx,         /* (B, C, H, W) */
                       __global const float *dy,   /* (B, C, OH, OW) */
                       __global const uchar *arg,  /* (B, C, OH, OW) */
                       int BC, int H, int W, int S)
{
    int OH = H / S, OW = W / S, NH = (H + S - 1) / S, NW = (W + S - 1) / S;
    int o = get_global_id(0);
    if (o >= BC * NH * NW) return;
    int nw = o % NW, t = o / NW, nh = t % NH, bc = t / NH;
    __global float *d = dx + (bc * H + nh * S) * W + nw * S;
    float g = 0.0f;
    int at = -1;
    if (nh < OH && nw < OW) {
        int k = (bc * OH + nh) * OW + nw;
        g = dy[k];
        at = arg[k];
    }
    int rows = min(S, H - nh * S), cols = min(S, W - nw * S);
    if (S == 2 && rows == 2 && cols == 2) {
        d[0] = at == 0 ? g : 0.0f;
        d[1] = at == 1 ? g : 0.0f;
        d[W] = at == 2 ? g : 0.0f;
        d[W + 1] = at == 3 ? g : 0.0f;
    } else {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) d[r * W + c] = at == r * S + c ? g : 0.0f;
    }
}
