/* Max pooling, S x S windows with stride S, "valid" (trailing rows and columns that do not fill
 * a window are dropped). One work-item per window in both directions, on a 3-D range (window
 * column, window row, image-channel plane): no integer division (slow on CPUs) anywhere, and no
 * two work-items write the same place. The common 2 x 2 window is written out; other sizes loop. */

/* Global size (OW, OH, B*C). */
__kernel void pool_fwd(__global float *y,        /* (B, C, OH, OW) */
                       __global uchar *arg,      /* (B, C, OH, OW) */
                       __global const float *x,  /* (B, C, H, W) */
                       int BC, int H, int W, int S)
{
    int OH = H / S, OW = W / S;
    int ow = get_global_id(0), oh = get_global_id(1), bc = get_global_id(2);
    if (ow >= OW || oh >= OH || bc >= BC) return;
    int o = (bc * OH + oh) * OW + ow;
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

/* Global size (NW, NH, B*C): the windows, the partial ones of the dropped trailing rows and
 * columns included (they get zeros). Each writes its window's gradient at the maximum, 0
 * elsewhere. */
__kernel void pool_bwd(__global float *dx,         /* (B, C, H, W) */
                       __global const float *dy,   /* (B, C, OH, OW) */
                       __global const uchar *arg,  /* (B, C, OH, OW) */
                       int BC, int H, int W, int S)
{
    int OH = H / S, OW = W / S, NH = (H + S - 1) / S, NW = (W + S - 1) / S;
    int nw = get_global_id(0), nh = get_global_id(1), bc = get_global_id(2);
    if (nw >= NW || nh >= NH || bc >= BC) return;
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
