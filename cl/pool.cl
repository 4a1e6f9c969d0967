/* Max pooling, S x S windows with stride S, "valid" (trailing rows and columns that do not fill
 * a window are dropped). The backward is one work-item per window, on a 3-D range (window
 * column, window row, image-channel plane): no integer division (slow on CPUs) anywhere, and no
 * two work-items write the same place. The common 2 x 2 window is written out; other sizes loop.
 *
 * Tunable (-D, chosen per device by host/ops/pool.c):
 *   POOL_ROWS  the forward's work-item: 1, an output row, four 2 x 2 windows at a time from two
 *              float8 loads per input row (a CPU's vectors); 0, one window, as the backward (a
 *              GPU's work-items, neighbours reading neighbouring columns). */

#ifndef POOL_ROWS
#define POOL_ROWS 0
#endif

/* One window's maximum and its place (row-major in the window); strict comparisons: the first
 * maximum in row-major order wins ties. */
inline void pool_window(__global float *y, __global uchar *arg, const __global float *win, int W, int S)
{
    float best = win[0];
    int at = 0;
    if (S == 2) {
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
    *y = best;
    *arg = (uchar)at;
}

/* Global size (OH, B*C) with POOL_ROWS, else (OW, OH, B*C). */
__kernel void pool_fwd(__global float *y,        /* (B, C, OH, OW) */
                       __global uchar *arg,      /* (B, C, OH, OW) */
                       __global const float *x,  /* (B, C, H, W) */
                       int BC, int H, int W, int S)
{
    int OH = H / S, OW = W / S;
#if POOL_ROWS
    int oh = get_global_id(0), bc = get_global_id(1);
    if (oh >= OH || bc >= BC) return;
    const __global float *row = x + (bc * H + oh * S) * W;
    __global float *yr = y + (bc * OH + oh) * OW;
    __global uchar *ar = arg + (bc * OH + oh) * OW;
    int ow = 0;
    if (S == 2)
        /* Windows ow..ow+3 span columns 2ow..2ow+7 < 2 OW <= W. The same comparisons as
         * pool_window's, lane by lane. */
        for (; ow + 4 <= OW; ow += 4) {
            const float8 a = vload8(0, row + 2 * ow), b = vload8(0, row + W + 2 * ow);
            float4 best = a.even;
            int4 at = (int4)(0);
            int4 m = a.odd > best;
            best = select(best, a.odd, m), at = select(at, (int4)(1), m);
            m = b.even > best;
            best = select(best, b.even, m), at = select(at, (int4)(2), m);
            m = b.odd > best;
            best = select(best, b.odd, m), at = select(at, (int4)(3), m);
            vstore4(best, 0, yr + ow);
            vstore4(convert_uchar4(at), 0, ar + ow);
        }
    for (; ow < OW; ow++)
        pool_window(yr + ow, ar + ow, row + ow * S, W, S);
#else
    int ow = get_global_id(0), oh = get_global_id(1), bc = get_global_id(2);
    if (ow >= OW || oh >= OH || bc >= BC) return;
    int o = (bc * OH + oh) * OW + ow;
    pool_window(y + o, arg + o, x + (bc * H + oh * S) * W + ow * S, W, S);
#endif
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
