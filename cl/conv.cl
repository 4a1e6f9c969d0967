/* conv.cl -- convolution kernels for claug (OpenCL C 1.2).
 *
 * All tensors are NCHW float32; convolutions are "valid", stride 1, any CI, CO, K, H, W.
 * OH = H-K+1, OW = W-K+1, OHW = OH*OW, T = CI*K*K (number of taps), CO8 = CO rounded up to 8.
 * Every kernel takes a 1-D (CPU variant, helpers) or 2-D/3-D (GPU variant) global size that
 * the host rounds up to the work-group size; surplus work-items are guarded.
 *
 * The input gradient has no kernel of its own: dX = conv_fwd(x = gpad, wt = wf, CI' = CO,
 * CO' = CI, H' = OH+2(K-1), W' = OW+2(K-1), has_bias = 0, relu = 0), i.e. a full convolution
 * of the zero-padded output gradient with the flipped, transposed weights.
 *
 * Tunables (-D build options):
 *   CPU variant (conv_fwd, conv_bwd_w): one work-item owns a register tile of float8
 *   accumulators and streams over the reduction dimension; no local memory, no barriers.
 *     CONV_TP   forward: output pixels per work-item (pixels are flattened over n,y,x, so a
 *               tile may span rows and images)                                 default 6
 *     CONV_CB   forward: blocks of 8 output channels per work-item             default 2
 *     CONV_WT   weight gradient: taps (ci,kh,kw) per work-item                  default 6
 *     CONV_WCB  weight gradient: blocks of 8 output channels per work-item      default 2
 *     CONV_TP*CONV_CB (and CONV_WT*CONV_WCB) float8 accumulators must fit the register file
 *     together with the CB weight vectors and one broadcast: about 12 on AVX2 (16 ymm).
 *     Local size: any; on PoCL (pthread) 8..64 is best, see REPORT.md.
 *   GPU variant (conv_fwd_lm, conv_bwd_w_lm): local-memory tiled implicit GEMM.
 *     CONV_LM_TM  forward: output pixels per work-group tile;
 *                 weight gradient: taps per work-group tile                    default 64
 *     CONV_LM_TN  output channels per work-group tile                          default 32
 *     CONV_LM_KC  reduction chunk staged in local memory per barrier pair
 *                 (taps for the forward, pixels for the weight gradient)       default 16
 *     CONV_LM_RM  register tile rows per work-item (pixels fwd / taps dW)      default 4
 *     CONV_LM_RN  register tile columns per work-item (output channels)        default 2
 *     The local size is fixed by these: (CONV_LM_TM/CONV_LM_RM, CONV_LM_TN/CONV_LM_RN) for
 *     conv_fwd_lm and (CONV_LM_TN/CONV_LM_RN, CONV_LM_TM/CONV_LM_RM, 1) for conv_bwd_w_lm;
 *     CONV_LM_TM % CONV_LM_RM == 0 and CONV_LM_TN % CONV_LM_RN == 0 are required.
 */

#ifndef CONV_TP
#define CONV_TP 6
#endif
#ifndef CONV_CB
#define CONV_CB 2
#endif
#ifndef CONV_WT
#define CONV_WT 6
#endif
#ifndef CONV_WCB
#define CONV_WCB 2
#endif
#ifndef CONV_LM_TM
#define CONV_LM_TM 64
#endif
#ifndef CONV_LM_TN
#define CONV_LM_TN 32
#endif
#ifndef CONV_LM_KC
#define CONV_LM_KC 16
#endif
#ifndef CONV_LM_RM
#define CONV_LM_RM 4
#endif
#ifndef CONV_LM_RN
#define CONV_LM_RN 2
#endif

#define CONV_LM_WM (CONV_LM_TM / CONV_LM_RM)
#define CONV_LM_WN (CONV_LM_TN / CONV_LM_RN)

/* ------------------------------------------------------------------------------------------ */
/* CPU variant                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* Work-item = CONV_TP output pixels x CONV_CB blocks of 8 output channels. Per tap: CB float8
 * weight loads, TP scalar input loads (each broadcast to all lanes), TP*CB vector FMAs. The
 * channel group varies fastest across work-items so that neighbours share the input pixels. */
__kernel void conv_fwd(__global float *y,          /* (N, CO, OH, OW) */
                       __global const float *x,    /* (N, CI, H, W) */
                       __global const float *wt,   /* (CI*K*K, CO8), zero padded columns */
                       __global const float *bias, /* (CO), read only when has_bias */
                       int N, int CI, int H, int W, int CO, int K, int has_bias, int relu)
{
    const int OH = H - K + 1, OW = W - K + 1, OHW = OH * OW, HW = H * W;
    const int NP = N * OHW;
    const int nb = (CO + 7) >> 3;
    const int ncg = (nb + CONV_CB - 1) / CONV_CB;
    const int gid = get_global_id(0);
    if (gid >= ((NP + CONV_TP - 1) / CONV_TP) * ncg)
        return;
    const int cg = gid % ncg;
    const int p0 = (gid / ncg) * CONV_TP;

    /* Tail pixels and tail channel blocks are clamped to valid ones so the hot loop needs no
     * guards; their results are simply not stored. */
    const __global float *xp[CONV_TP];
#pragma unroll
    for (int i = 0; i < CONV_TP; ++i) {
        const int p = min(p0 + i, NP - 1);
        const int n = p / OHW, r = p - n * OHW, oy = r / OW;
        xp[i] = x + (size_t)n * CI * HW + oy * W + (r - oy * OW);
    }
    int blk[CONV_CB];
#pragma unroll
    for (int j = 0; j < CONV_CB; ++j)
        blk[j] = min(cg * CONV_CB + j, nb - 1);

    float8 acc[CONV_TP * CONV_CB];
#pragma unroll
    for (int a = 0; a < CONV_TP * CONV_CB; ++a)
        acc[a] = (float8)(0.0f);

    const __global float8 *wv = (const __global float8 *)wt;
    int xo = 0;
    for (int ci = 0; ci < CI; ++ci, xo += HW - K * W) {
        for (int kh = 0; kh < K; ++kh, xo += W) {
            for (int kw = 0; kw < K; ++kw, wv += nb) {
                float8 w8[CONV_CB];
#pragma unroll
                for (int j = 0; j < CONV_CB; ++j)
                    w8[j] = wv[blk[j]];
#pragma unroll
                for (int i = 0; i < CONV_TP; ++i) {
                    const float8 xv = (float8)(xp[i][xo + kw]);
#pragma unroll
                    for (int j = 0; j < CONV_CB; ++j)
                        acc[i * CONV_CB + j] = fma(xv, w8[j], acc[i * CONV_CB + j]);
                }
            }
        }
    }

#pragma unroll
    for (int j = 0; j < CONV_CB; ++j) {
        if (cg * CONV_CB + j >= nb)
            break;
        const int co0 = (cg * CONV_CB + j) * 8;
        float b[8];
        for (int c = 0; c < 8; ++c)
            b[c] = (has_bias && co0 + c < CO) ? bias[co0 + c] : 0.0f;
#pragma unroll
        for (int i = 0; i < CONV_TP; ++i) {
            const int p = p0 + i;
            if (p >= NP)
                break;
            const int n = p / OHW, r = p - n * OHW;
            float v[8];
            vstore8(acc[i * CONV_CB + j], 0, v);
            __global float *yp = y + ((size_t)n * CO + co0) * OHW + r;
            for (int c = 0; c < 8 && co0 + c < CO; ++c) {
                const float o = v[c] + b[c];
                yp[c * OHW] = relu ? fmax(o, 0.0f) : o;
            }
        }
    }
}

/* Work-item = CONV_WT taps x CONV_WCB blocks of 8 channels of one split, looping over all
 * pixels of the split: per pixel WCB float8 loads of g, WT broadcast loads of x, WT*WCB FMAs.
 * One extra tap tile per split computes the bias row (a plain sum of g), so the hot loop has
 * no per-tap special case. */
__kernel void conv_bwd_w(__global float *dwp,     /* (nsplit, CI*K*K + 1, CO8) */
                         __global const float *x, /* (N, CI, H, W) */
                         __global const float *g, /* (N, OH*OW, CO8) */
                         int N, int CI, int H, int W, int CO, int K, int nsplit)
{
    const int OH = H - K + 1, OW = W - K + 1, OHW = OH * OW, HW = H * W, KK = K * K;
    const int T = CI * KK;
    const int nb = (CO + 7) >> 3;
    const int ncg = (nb + CONV_WCB - 1) / CONV_WCB;
    const int ntt = (T + CONV_WT - 1) / CONV_WT + 1;
    const int gid = get_global_id(0);
    if (gid >= nsplit * ntt * ncg)
        return;
    const int cg = gid % ncg;
    const int tt = (gid / ncg) % ntt;
    const int s = gid / (ncg * ntt);
    const int n0 = s * N / nsplit, n1 = (s + 1) * N / nsplit;

    int blk[CONV_WCB];
#pragma unroll
    for (int j = 0; j < CONV_WCB; ++j)
        blk[j] = min(cg * CONV_WCB + j, nb - 1);
    const __global float8 *g8 = (const __global float8 *)g + (size_t)n0 * OHW * nb;
    __global float *out = dwp + (size_t)s * (T + 1) * (nb * 8);

    if (tt == ntt - 1) {
        float8 sb[CONV_WCB];
#pragma unroll
        for (int j = 0; j < CONV_WCB; ++j)
            sb[j] = (float8)(0.0f);
        for (int q = 0; q < (n1 - n0) * OHW; ++q, g8 += nb) {
#pragma unroll
            for (int j = 0; j < CONV_WCB; ++j)
                sb[j] += g8[blk[j]];
        }
#pragma unroll
        for (int j = 0; j < CONV_WCB; ++j)
            if (cg * CONV_WCB + j < nb)
                vstore8(sb[j], 0, out + (size_t)T * (nb * 8) + (cg * CONV_WCB + j) * 8);
        return;
    }

    int toff[CONV_WT];
#pragma unroll
    for (int i = 0; i < CONV_WT; ++i) {
        const int t = min(tt * CONV_WT + i, T - 1);
        const int ci = t / KK, kh = (t - ci * KK) / K;
        toff[i] = ci * HW + kh * W + (t - ci * KK - kh * K);
    }

    float8 acc[CONV_WT * CONV_WCB];
#pragma unroll
    for (int a = 0; a < CONV_WT * CONV_WCB; ++a)
        acc[a] = (float8)(0.0f);

    for (int n = n0; n < n1; ++n) {
        const __global float *xn = x + (size_t)n * CI * HW;
        for (int oy = 0; oy < OH; ++oy) {
            const __global float *xr = xn + oy * W;
            for (int ox = 0; ox < OW; ++ox, g8 += nb) {
                float8 gv[CONV_WCB];
#pragma unroll
                for (int j = 0; j < CONV_WCB; ++j)
                    gv[j] = g8[blk[j]];
#pragma unroll
                for (int i = 0; i < CONV_WT; ++i) {
                    const float8 xv = (float8)(xr[ox + toff[i]]);
#pragma unroll
                    for (int j = 0; j < CONV_WCB; ++j)
                        acc[i * CONV_WCB + j] = fma(xv, gv[j], acc[i * CONV_WCB + j]);
                }
            }
        }
    }

#pragma unroll
    for (int i = 0; i < CONV_WT; ++i) {
        const int t = tt * CONV_WT + i;
        if (t >= T)
            break;
#pragma unroll
        for (int j = 0; j < CONV_WCB; ++j)
            if (cg * CONV_WCB + j < nb)
                vstore8(acc[i * CONV_WCB + j], 0, out + (size_t)t * (nb * 8) + (cg * CONV_WCB + j) * 8);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* GPU variant                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* C[p][co] = sum_t X[p][t] * wt[t][co] over pixels p flattened across the batch. Local dim 0
 * runs over pixels so that both the im2col gathers and the NCHW stores are coalesced; each
 * work-item's rows/columns are strided by the work-group extent for the same reason. */
__kernel __attribute__((reqd_work_group_size(CONV_LM_WM, CONV_LM_WN, 1)))
void conv_fwd_lm(__global float *y,          /* (N, CO, OH, OW) */
                 __global const float *x,    /* (N, CI, H, W) */
                 __global const float *wt,   /* (CI*K*K, CO8), zero padded columns */
                 __global const float *bias, /* (CO), read only when has_bias */
                 int N, int CI, int H, int W, int CO, int K, int has_bias, int relu)
{
    __local float xs[CONV_LM_KC][CONV_LM_TM];
    __local float ws[CONV_LM_KC][CONV_LM_TN];
    __local int pbase[CONV_LM_TM];

    const int OH = H - K + 1, OW = W - K + 1, OHW = OH * OW, HW = H * W, KK = K * K;
    const int NP = N * OHW, T = CI * KK, CO8 = ((CO + 7) >> 3) * 8;
    const int tm = get_local_id(0), tn = get_local_id(1);
    const int lid = tn * CONV_LM_WM + tm;
    const int p0 = get_group_id(0) * CONV_LM_TM, c0 = get_group_id(1) * CONV_LM_TN;

    /* Pixel base offsets are reused by every chunk, so they are computed once; -1 marks pixels
     * past the end of the batch. */
    for (int m = lid; m < CONV_LM_TM; m += CONV_LM_WM * CONV_LM_WN) {
        const int p = p0 + m;
        if (p < NP) {
            const int n = p / OHW, r = p - n * OHW, oy = r / OW;
            pbase[m] = n * CI * HW + oy * W + (r - oy * OW);
        } else {
            pbase[m] = -1;
        }
    }

    float acc[CONV_LM_RM][CONV_LM_RN];
    for (int i = 0; i < CONV_LM_RM; ++i)
        for (int j = 0; j < CONV_LM_RN; ++j)
            acc[i][j] = 0.0f;

    for (int t0 = 0; t0 < T; t0 += CONV_LM_KC) {
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int e = lid; e < CONV_LM_KC * CONV_LM_TM; e += CONV_LM_WM * CONV_LM_WN) {
            const int kk = e / CONV_LM_TM, m = e - kk * CONV_LM_TM, t = t0 + kk;
            float v = 0.0f;
            if (t < T && pbase[m] >= 0) {
                const int ci = t / KK, kh = (t - ci * KK) / K;
                v = x[pbase[m] + ci * HW + kh * W + (t - ci * KK - kh * K)];
            }
            xs[kk][m] = v;
        }
        for (int e = lid; e < CONV_LM_KC * CONV_LM_TN; e += CONV_LM_WM * CONV_LM_WN) {
            const int kk = e / CONV_LM_TN, c = e - kk * CONV_LM_TN, t = t0 + kk;
            ws[kk][c] = (t < T && c0 + c < CO8) ? wt[(size_t)t * CO8 + c0 + c] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < CONV_LM_KC; ++kk) {
            float a[CONV_LM_RM], b[CONV_LM_RN];
            for (int i = 0; i < CONV_LM_RM; ++i)
                a[i] = xs[kk][tm + i * CONV_LM_WM];
            for (int j = 0; j < CONV_LM_RN; ++j)
                b[j] = ws[kk][tn + j * CONV_LM_WN];
            for (int i = 0; i < CONV_LM_RM; ++i)
                for (int j = 0; j < CONV_LM_RN; ++j)
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
    }

    for (int i = 0; i < CONV_LM_RM; ++i) {
        const int p = p0 + tm + i * CONV_LM_WM;
        if (p >= NP)
            continue;
        const int n = p / OHW, r = p - n * OHW;
        for (int j = 0; j < CONV_LM_RN; ++j) {
            const int co = c0 + tn + j * CONV_LM_WN;
            if (co >= CO)
                continue;
            float o = acc[i][j] + (has_bias ? bias[co] : 0.0f);
            y[((size_t)n * CO + co) * OHW + r] = relu ? fmax(o, 0.0f) : o;
        }
    }
}

/* dW[t][co] = sum_p X[p][t] * g[p][co] over the pixels of one split (group id 2), with the
 * bias row t == T treated as a tap whose input is constant 1. Local dim 0 runs over channels
 * because g rows and dwp rows are contiguous in co. */
__kernel __attribute__((reqd_work_group_size(CONV_LM_WN, CONV_LM_WM, 1)))
void conv_bwd_w_lm(__global float *dwp,     /* (nsplit, CI*K*K + 1, CO8) */
                   __global const float *x, /* (N, CI, H, W) */
                   __global const float *g, /* (N, OH*OW, CO8) */
                   int N, int CI, int H, int W, int CO, int K, int nsplit)
{
    __local float xs[CONV_LM_KC][CONV_LM_TM];
    __local float gs[CONV_LM_KC][CONV_LM_TN];
    __local int toff[CONV_LM_TM];

    const int OH = H - K + 1, OW = W - K + 1, OHW = OH * OW, HW = H * W, KK = K * K;
    const int T = CI * KK, CO8 = ((CO + 7) >> 3) * 8;
    const int tn = get_local_id(0), tm = get_local_id(1);
    const int lid = tm * CONV_LM_WN + tn;
    const int c0 = get_group_id(0) * CONV_LM_TN, t0 = get_group_id(1) * CONV_LM_TM;
    const int s = get_group_id(2);
    const int q0 = (s * N / nsplit) * OHW, q1 = ((s + 1) * N / nsplit) * OHW;

    /* Tap offsets: -1 is the bias row (input 1), -2 a tap past the end (input 0). */
    for (int m = lid; m < CONV_LM_TM; m += CONV_LM_WM * CONV_LM_WN) {
        const int t = t0 + m;
        if (t < T) {
            const int ci = t / KK, kh = (t - ci * KK) / K;
            toff[m] = ci * HW + kh * W + (t - ci * KK - kh * K);
        } else {
            toff[m] = t == T ? -1 : -2;
        }
    }

    float acc[CONV_LM_RM][CONV_LM_RN];
    for (int i = 0; i < CONV_LM_RM; ++i)
        for (int j = 0; j < CONV_LM_RN; ++j)
            acc[i][j] = 0.0f;

    for (int qc = q0; qc < q1; qc += CONV_LM_KC) {
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int e = lid; e < CONV_LM_KC * CONV_LM_TM; e += CONV_LM_WM * CONV_LM_WN) {
            const int m = e / CONV_LM_KC, kk = e - m * CONV_LM_KC, q = qc + kk;
            float v = 0.0f;
            if (q < q1) {
                const int to = toff[m];
                if (to >= 0) {
                    const int n = q / OHW, r = q - n * OHW, oy = r / OW;
                    v = x[(size_t)n * CI * HW + oy * W + (r - oy * OW) + to];
                } else if (to == -1) {
                    v = 1.0f;
                }
            }
            xs[kk][m] = v;
        }
        for (int e = lid; e < CONV_LM_KC * CONV_LM_TN; e += CONV_LM_WM * CONV_LM_WN) {
            const int kk = e / CONV_LM_TN, c = e - kk * CONV_LM_TN, q = qc + kk;
            gs[kk][c] = (q < q1 && c0 + c < CO8) ? g[(size_t)q * CO8 + c0 + c] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < CONV_LM_KC; ++kk) {
            float a[CONV_LM_RM], b[CONV_LM_RN];
            for (int i = 0; i < CONV_LM_RM; ++i)
                a[i] = xs[kk][tm + i * CONV_LM_WM];
            for (int j = 0; j < CONV_LM_RN; ++j)
                b[j] = gs[kk][tn + j * CONV_LM_WN];
            for (int i = 0; i < CONV_LM_RM; ++i)
                for (int j = 0; j < CONV_LM_RN; ++j)
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
    }

    __global float *out = dwp + (size_t)s * (T + 1) * CO8;
    for (int i = 0; i < CONV_LM_RM; ++i) {
        const int t = t0 + tm + i * CONV_LM_WM;
        if (t > T)
            continue;
        for (int j = 0; j < CONV_LM_RN; ++j) {
            const int co = c0 + tn + j * CONV_LM_WN;
            if (co < CO8)
                out[(size_t)t * CO8 + co] = acc[i][j];
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Layout helpers (both variants)                                                              */
/* ------------------------------------------------------------------------------------------ */

/* One work-item per (co, ci) pair of the padded CO8 x CI8 grid and tap; global size
 * CO8*CI8*K*K. Writes every element of both outputs, padding included. */
__kernel void conv_w_prep(__global float *wt,      /* (CI*K*K, CO8) */
                          __global float *wf,      /* (CO*K*K, CI8) */
                          __global const float *w, /* (CO, CI, K, K) */
                          int CI, int CO, int K)
{
    const int KK = K * K, CO8 = ((CO + 7) >> 3) * 8, CI8 = ((CI + 7) >> 3) * 8;
    const int gid = get_global_id(0);
    if (gid >= CO8 * CI8 * KK)
        return;
    const int co = gid % CO8;
    const int kk = (gid / CO8) % KK;
    const int ci = gid / (CO8 * KK);
    if (ci < CI)
        wt[(ci * KK + kk) * CO8 + co] = co < CO ? w[(co * CI + ci) * KK + kk] : 0.0f;
    if (co < CO)
        wf[(co * KK + kk) * CI8 + ci] = ci < CI ? w[(co * CI + ci) * KK + (KK - 1 - kk)] : 0.0f;
}

/* One work-item per (n, block of 8 channels, pixel of the padded plane); global size
 * N * (CO8/8) * PH * PW with PH = OH + 2P, PW = OW + 2P, P = need_dx ? K-1 : 0. The pixel
 * varies fastest so the dy/y/gpad accesses are contiguous and g gets whole float8 rows. */
__kernel void conv_bwd_prep(__global float *g,        /* (N, OH*OW, CO8) */
                            __global float *gpad,     /* (N, CO, OH+2(K-1), OW+2(K-1)) */
                            __global const float *dy, /* (N, CO, OH, OW) */
                            __global const float *y,  /* (N, CO, OH, OW), post-relu output */
                            int N, int CO, int OH, int OW, int K, int relu, int need_dx)
{
    const int P = need_dx ? K - 1 : 0, PH = OH + 2 * P, PW = OW + 2 * P, OHW = OH * OW;
    const int nb = (CO + 7) >> 3;
    const int gid = get_global_id(0);
    if (gid >= N * nb * PH * PW)
        return;
    const int pp = gid % (PH * PW);
    const int b = (gid / (PH * PW)) % nb;
    const int n = gid / (PH * PW * nb);
    const int oy = pp / PW - P, ox = pp % PW - P;
    const int inside = oy >= 0 && oy < OH && ox >= 0 && ox < OW;
    const int co0 = b * 8;

    float v[8];
    for (int c = 0; c < 8; ++c) {
        float d = 0.0f;
        if (inside && co0 + c < CO) {
            const size_t o = ((size_t)n * CO + co0 + c) * OHW + oy * OW + ox;
            d = dy[o];
            if (relu && !(y[o] > 0.0f))
                d = 0.0f;
        }
        v[c] = d;
    }
    if (inside)
        vstore8(vload8(0, v), 0, g + ((size_t)n * OHW + oy * OW + ox) * (nb * 8) + co0);
    if (need_dx)
        for (int c = 0; c < 8 && co0 + c < CO; ++c)
            gpad[((size_t)n * CO + co0 + c) * (PH * PW) + pp] = v[c];
}

/* One work-item per (co, row) with rows 0..CI*K*K-1 the taps and row CI*K*K the bias; global
 * size CO*(CI*K*K+1). Splits are summed in index order, so the result does not depend on
 * scheduling. */
__kernel void conv_bwd_w_finish(__global float *dw,        /* (CO, CI, K, K) */
                                __global float *db,        /* (CO) */
                                __global const float *dwp, /* (nsplit, CI*K*K+1, CO8) */
                                int CI, int CO, int K, int nsplit)
{
    const int R = CI * K * K + 1, CO8 = ((CO + 7) >> 3) * 8;
    const int gid = get_global_id(0);
    if (gid >= CO * R)
        return;
    const int co = gid / R, r = gid - co * R;
    float s = 0.0f;
    for (int k = 0; k < nsplit; ++k)
        s += dwp[((size_t)k * R + r) * CO8 + co];
    if (r < R - 1)
        dw[co * (R - 1) + r] = s;
    else
        db[co] = s;
}
