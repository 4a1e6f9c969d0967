/* conv.cl -- convolution kernels for claug (OpenCL C 1.2).
 *
 * All tensors are NCHW float32; convolutions are "valid", stride 1, any CI, CO, K, H, W.
 * OH = H-K+1, OW = W-K+1, OHW = OH*OW, T = CI*K*K (taps), COV = CO rounded up to CONV_VW (8 or 16).
 * The host rounds every global size up to the work-group size; surplus work-items are guarded.
 * Index arithmetic assumes that every tensor has fewer than 2^31 elements.
 *
 * The input gradient has no kernel of its own: dX = conv_fwd(x = gpad, wt = wf, CI' = CO,
 * CO' = CI, H' = OH+2(K-1), W' = OW+2(K-1), has_bias = 0, relu = 0), i.e. a full convolution
 * of the zero-padded output gradient with the flipped, transposed weights.
 *
 * Kernels and global sizes (1-D unless stated):
 *   conv_fwd           ceil(N*OHW / CONV_TP) * ceil(COV/CONV_VW / CONV_CB)
 *   conv_bwd_w         nsplit * (ceil(T / CONV_WT) + 1) * ceil(COV/CONV_VW / CONV_WCB)
 *   conv_fwd_lm        2-D (ceil(N*OHW / CONV_LM_TM) * CONV_LM_TM/CONV_LM_RM,
 *                           ceil(COV / CONV_LM_TN) * CONV_LM_TN/CONV_LM_RN),
 *                      local (CONV_LM_TM/CONV_LM_RM, CONV_LM_TN/CONV_LM_RN)
 *   conv_bwd_w_lm      3-D (ceil(COV / CONV_LM_TN) * CONV_LM_TN/CONV_LM_RN,
 *                           ceil((T+1) / CONV_LM_TM) * CONV_LM_TM/CONV_LM_RM, nsplit),
 *                      local (CONV_LM_TN/CONV_LM_RN, CONV_LM_TM/CONV_LM_RM, 1)
 *   conv_fwd_px        N * ceil(OH / CONV_PXR) * ceil(CO / CONV_PXC)
 *   conv_bwd_w_px      nsplit * ceil(T / CONV_PXT) * ceil(CO / CONV_PXWC)
 *   conv_w_prep        (CI + CO) * K*K
 *   conv_bwd_prep      N * COV/8 * (OH + 2P), P = need_dx ? K-1 : 0
 *   conv_bwd_w_finish  T+1
 *
 * Tunables (-D build options; include/claug/ops/conv.h's CONV_TUNABLES lists them with their ranges, and
 * the host passes each build only those of the variant it uses; the #ifndef defaults below are
 * that list's CPU column):
 *   CPU variant (conv_fwd, conv_bwd_w): a work-item owns a register tile of vector
 *   accumulators and streams over the whole reduction; no local memory, no barriers.
 *     CONV_TP    forward: output pixels per work-item, flattened over (n, y, x) so that a tile
 *                may span rows and images
 *     CONV_CB    forward: blocks of CONV_VW output channels per work-item
 *     CONV_WT    weight gradient: taps (ci, kh, kw) per work-item
 *     CONV_WCB   weight gradient: blocks of CONV_VW output channels per work-item
 *     CONV_KFAST kernel size that gets a fully unrolled kw loop in conv_fwd; other sizes
 *                take the generic loop
 *     CONV_VW    channels per block (8 or 16): the vector width of the accumulators, 16 where
 *                the device has 512-bit vectors (an AVX-512 CPU), since a float8 there runs at
 *                half the FMA rate. The COV layouts (weights, g, dwp) are padded to it in
 *                both variants, so every kernel of a build takes it.
 *     TP*CB (and WT*WCB) vector accumulators plus CB weight vectors and one broadcast must
 *     fit the vector registers: 12 accumulators suit AVX2's 16 ymm registers, AVX-512 has 32.
 *     Any local size works; `claug tune` measures the best on each device.
 *   Pixel-vector kernels (conv_fwd_px, conv_bwd_w_px), the CPU variant's for layers with few
 *   taps and rows of at least CONV_VW pixels: the vector runs along an output row.
 *     CONV_PXR   forward: output rows per work-item
 *     CONV_PXC   forward: output channels per work-item
 *     CONV_PXT   weight gradient: taps per work-item
 *     CONV_PXWC  weight gradient: output channels per work-item
 *     PXR*PXC (and PXT*PXWC) vector accumulators, plus the PXR (PXWC) row vectors and one
 *     broadcast, must fit the vector registers, as above.
 *   GPU variant (conv_fwd_lm, conv_bwd_w_lm): local-memory tiled implicit GEMM.
 *     CONV_LM_TM  forward: output pixels per work-group tile;
 *                 weight gradient: taps per work-group tile
 *     CONV_LM_TN  output channels per work-group tile
 *     CONV_LM_KC  reduction chunk staged in local memory between barriers
 *                 (taps for the forward, pixels for the weight gradient)
 *     CONV_LM_RM  register tile rows per work-item (pixels fwd, taps dW)
 *     CONV_LM_RN  register tile columns per work-item (output channels)
 *     CONV_LM_TM must be a multiple of CONV_LM_RM and CONV_LM_TN of CONV_LM_RN; the local size
 *     is fixed by them (see above, and reqd_work_group_size), and the host reads it back from
 *     the built kernel.
 *   Both variants:
 *     CONV_PREP8 conv_bwd_prep: rows of 8 pixels through an 8x8 transpose in vector registers
 *                (1, a CPU), or a pixel at a time (0, a GPU, whose scalar registers the 64
 *                floats of a tile would overflow)
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
#ifndef CONV_KFAST
#define CONV_KFAST 3
#endif
#ifndef CONV_VW
#define CONV_VW 8
#endif
#ifndef CONV_PREP8
#define CONV_PREP8 1
#endif
#ifndef CONV_PXR
#define CONV_PXR 2
#endif
#ifndef CONV_PXC
#define CONV_PXC 4
#endif
#ifndef CONV_PXT
#define CONV_PXT 5
#endif
#ifndef CONV_PXWC
#define CONV_PXWC 2
#endif
#if CONV_VW == 8
typedef float8 floatv;
#define vloadv vload8
#define vstorev vstore8
#elif CONV_VW == 16
typedef float16 floatv;
#define vloadv vload16
#define vstorev vstore16
#else
#error "CONV_VW must be 8 or 16"
#endif
#define ROUNDV(n) (((n) + CONV_VW - 1) / CONV_VW * CONV_VW)
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
#define CONV_LM_NT (CONV_LM_WM * CONV_LM_WN)

/* t[p].sc = v[c].sp: three rounds of pairwise interleaving. */
__attribute__((always_inline)) inline void transpose8(float8 *t, const float8 *v)
{
    float8 a[8], b[8];
#pragma unroll
    for (int i = 0; i < 8; i += 2) {
        a[i] = shuffle2(v[i], v[i + 1], (uint8)(0, 8, 1, 9, 2, 10, 3, 11));
        a[i + 1] = shuffle2(v[i], v[i + 1], (uint8)(4, 12, 5, 13, 6, 14, 7, 15));
    }
    /* a[2k] holds pixels 0-3 of channels 2k, 2k+1 interleaved, a[2k+1] pixels 4-7. */
#pragma unroll
    for (int i = 0; i < 8; i += 4)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            b[i + 2 * h] = shuffle2(a[i + h], a[i + 2 + h], (uint8)(0, 1, 8, 9, 2, 3, 10, 11));
            b[i + 2 * h + 1] = shuffle2(a[i + h], a[i + 2 + h], (uint8)(4, 5, 12, 13, 6, 7, 14, 15));
        }
    /* b[i + q] (i = 0, 4) holds pixels 2q, 2q+1 of channels i..i+3. */
#pragma unroll
    for (int q = 0; q < 4; ++q) {
        t[2 * q] = shuffle2(b[q], b[4 + q], (uint8)(0, 1, 2, 3, 8, 9, 10, 11));
        t[2 * q + 1] = shuffle2(b[q], b[4 + q], (uint8)(4, 5, 6, 7, 12, 13, 14, 15));
    }
}

/* Lanes 8h..8h+7 of a register block. */
__attribute__((always_inline)) inline float8 block_half(floatv v, int h)
{
#if CONV_VW == 16
    return h ? v.hi : v.lo;
#else
    return v;
#endif
}

/* The first CONV_TP (<= 8) lanes of v to p[0..CONV_TP-1], in at most three vector stores. */
__attribute__((always_inline)) inline void store_tp(__global float *p, float8 v)
{
    float e[8];
    vstore8(v, 0, e);
    if (CONV_TP & 8)
        vstore8(v, 0, p);
    if (CONV_TP & 4)
        vstore4(vload4(0, e), 0, p);
    if (CONV_TP & 2)
        vstore2(vload2(0, e + (CONV_TP & 4)), 0, p + (CONV_TP & 4));
    if (CONV_TP & 1)
        p[CONV_TP - 1] = e[CONV_TP - 1];
}

/* ------------------------------------------------------------------------------------------ */
/* CPU variant                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* One tap of a forward register tile: CB vector weight loads, TP scalar input loads broadcast to
 * all lanes, TP*CB FMAs. xp[i] + xo is the input value of pixel i for this tap. */
__attribute__((always_inline)) inline void conv_fwd_tap(floatv *acc, const __global float **xp,
                                                        int xo, const __global floatv *wv,
                                                        const int *blk)
{
    floatv wb[CONV_CB];
#pragma unroll
    for (int j = 0; j < CONV_CB; ++j)
        wb[j] = wv[blk[j]];
#pragma unroll
    for (int i = 0; i < CONV_TP; ++i) {
        const floatv xv = (floatv)(xp[i][xo]);
#pragma unroll
        for (int j = 0; j < CONV_CB; ++j)
            acc[i * CONV_CB + j] = fma(xv, wb[j], acc[i * CONV_CB + j]);
    }
}

/* The whole reduction of one forward register tile over the taps (ci, kh, kw); wv + blk[j] is
 * the weight vector of block j for the current tap. It is inlined twice, once with constant
 * blk[] so that the CB weight vectors of a tap are fixed offsets from one pointer (that saves
 * the general-purpose registers the TP input pointers need), and kw is fully unrolled for the
 * common kernel size; both were worth about 15% on PoCL. */
__attribute__((always_inline)) inline void conv_fwd_tile(floatv *acc, const __global float **xp,
                                                         const __global floatv *wv, const int *blk,
                                                         int CI, int K, int W, int HW, int nb)
{
    int xo = 0;
    if (K == 1) {
        /* A dense layer (or a 1x1 convolution): one loop over the taps, not three nested loops
         * of one trip each per tap; dense forward and input gradient 20% faster on PoCL. */
        for (int ci = 0; ci < CI; ++ci, xo += HW, wv += nb)
            conv_fwd_tap(acc, xp, xo, wv, blk);
        return;
    }
    for (int ci = 0; ci < CI; ++ci, xo += HW - K * W) {
        for (int kh = 0; kh < K; ++kh, xo += W) {
            if (K == CONV_KFAST) {
#pragma unroll
                for (int kw = 0; kw < CONV_KFAST; ++kw, wv += nb)
                    conv_fwd_tap(acc, xp, xo + kw, wv, blk);
            } else {
                for (int kw = 0; kw < K; ++kw, wv += nb)
                    conv_fwd_tap(acc, xp, xo + kw, wv, blk);
            }
        }
    }
}

/* Work-item = CONV_TP output pixels x CONV_CB blocks of CONV_VW output channels (channel group cg),
 * accumulated in registers over all CI*K*K taps. The channel group varies fastest across
 * work-items so that neighbours share input pixels. */
__kernel void conv_fwd(__global float *y,          /* (N, CO, OH, OW) */
                       __global const float *x,    /* (N, CI, H, W) */
                       __global const float *wt,   /* (CI*K*K, COV), zero padded columns */
                       __global const float *bias, /* (CO), read only when has_bias */
                       int N, int CI, int H, int W, int CO, int K, int has_bias, int relu)
{
    const int OH = H - K + 1, OW = W - K + 1, OHW = OH * OW, HW = H * W;
    const int NP = N * OHW;
    const int nb = ROUNDV(CO) / CONV_VW;
    const int ncg = (nb + CONV_CB - 1) / CONV_CB;
    const int gid = get_global_id(0);
    if (gid >= ((NP + CONV_TP - 1) / CONV_TP) * ncg)
        return;
    const int cg = gid % ncg;
    const int p0 = (gid / ncg) * CONV_TP;
    const int n0 = p0 / OHW, r0 = p0 - n0 * OHW;

    /* Pixels past the end of the batch repeat the previous one, so the hot loop needs no guards;
     * their results are not stored. */
    const __global float *xp[CONV_TP];
    {
        int n = n0, oy = r0 / OW, ox = r0 - oy * OW;
#pragma unroll
        for (int i = 0; i < CONV_TP; ++i) {
            xp[i] = n < N ? x + (size_t)n * CI * HW + oy * W + ox : xp[max(i - 1, 0)];
            if (++ox == OW) {
                ox = 0;
                if (++oy == OH) {
                    oy = 0;
                    ++n;
                }
            }
        }
    }

    floatv acc[CONV_TP * CONV_CB];
#pragma unroll
    for (int a = 0; a < CONV_TP * CONV_CB; ++a)
        acc[a] = (floatv)(0.0f);

    /* The tile computes blocks b0..b0+CB-1; the last group is shifted down to stay inside the
     * COV columns (overlapping its neighbour, whose blocks it then does not store). With fewer
     * than CB blocks in all, out-of-range blocks repeat the last one instead. */
    const int b0 = max(min(cg * CONV_CB, nb - CONV_CB), 0);
    int blk[CONV_CB];
    if (nb >= CONV_CB) {
#pragma unroll
        for (int j = 0; j < CONV_CB; ++j)
            blk[j] = j;
        conv_fwd_tile(acc, xp, (const __global floatv *)wt + b0, blk, CI, K, W, HW, nb);
    } else {
#pragma unroll
        for (int j = 0; j < CONV_CB; ++j)
            blk[j] = min(j, nb - 1);
        conv_fwd_tile(acc, xp, (const __global floatv *)wt, blk, CI, K, W, HW, nb);
    }

#pragma unroll
    for (int j = 0; j < CONV_CB; ++j) {
        const int co0 = (b0 + j) * CONV_VW;
        if (b0 + j < cg * CONV_CB || j >= nb)
            continue;
        float bl[CONV_VW];
#pragma unroll
        for (int c = 0; c < CONV_VW; ++c)
            bl[c] = has_bias ? bias[min(co0 + c, CO - 1)] : 0.0f;
        const floatv bv = vloadv(0, bl);
        if (CONV_TP <= 8 && n0 < N && r0 + CONV_TP <= OHW && co0 + CONV_VW <= CO) {
            /* The whole tile in one image: each channel's CONV_TP pixels are contiguous, stored
             * as vectors after 8x8 transposes (a lane at a time with a strided address each was
             * about 12% of the kernel's time on PoCL). */
            floatv o[8];
#pragma unroll
            for (int i = 0; i < 8; ++i) {
                o[i] = i < CONV_TP ? acc[min(i, CONV_TP - 1) * CONV_CB + j] + bv : (floatv)(0.0f);
                if (relu)
                    o[i] = fmax(o[i], (floatv)(0.0f));
            }
            __global float *yp = y + ((size_t)n0 * CO + co0) * OHW + r0;
#pragma unroll
            for (int h = 0; h < CONV_VW / 8; ++h) {
                float8 v[8], t[8];
#pragma unroll
                for (int i = 0; i < 8; ++i)
                    v[i] = block_half(o[i], h);
                transpose8(t, v);
#pragma unroll
                for (int c = 0; c < 8; ++c)
                    store_tp(yp + (size_t)(8 * h + c) * OHW, t[c]);
            }
            continue;
        }
        int n = n0, r = r0;
#pragma unroll
        for (int i = 0; i < CONV_TP; ++i) {
            if (n < N) {
                floatv o = acc[i * CONV_CB + j] + bv;
                if (relu)
                    o = fmax(o, (floatv)(0.0f));
                __global float *yp = y + ((size_t)n * CO + co0) * OHW + r;
                float v[CONV_VW];
                vstorev(o, 0, v);
                if (co0 + CONV_VW <= CO) {
#pragma unroll
                    for (int c = 0; c < CONV_VW; ++c)
                        yp[c * OHW] = v[c];
                } else {
                    for (int c = 0; c < CO - co0; ++c)
                        yp[c * OHW] = v[c];
                }
            }
            if (++r == OHW) {
                r = 0;
                ++n;
            }
        }
    }
}

/* The whole reduction of one weight-gradient register tile over images n0..n1-1:
 * acc[i][j] += x[tap i at pixel p] * g[p][block blk[j]]. Inlined twice like conv_fwd_tile. The
 * input is addressed through one pointer per tap and image row, with the column as the only
 * index: computing int offsets per pixel instead made LLVM hoist all loads and spill
 * accumulators (23% slower). */
__attribute__((always_inline)) inline void conv_bwd_w_tile(floatv *acc, const __global float *x,
                                                           const __global floatv *gvp,
                                                           const int *blk, const int *toff, int n0,
                                                           int n1, int CI, int HW, int W, int OH,
                                                           int OW, int nb)
{
    if (OH * OW == 1) {
        /* A dense layer: one pixel per image, so one loop over the images with the tap pointers
         * set once (per image row, as below, cost 38% of the dense weight gradient on PoCL). The
         * pixel's body is the loop's below, written out: as a shared inline function, conv2d_1's
         * weight gradient measured 3-5% slower. */
        const __global float *xr[CONV_WT];
#pragma unroll
        for (int i = 0; i < CONV_WT; ++i)
            xr[i] = x + (size_t)n0 * CI * HW + toff[i];
        for (int n = n0, xo = 0; n < n1; ++n, xo += CI * HW, gvp += nb) {
            floatv gv[CONV_WCB];
#pragma unroll
            for (int j = 0; j < CONV_WCB; ++j)
                gv[j] = gvp[blk[j]];
#pragma unroll
            for (int i = 0; i < CONV_WT; ++i) {
                const floatv xv = (floatv)(xr[i][xo]);
#pragma unroll
                for (int j = 0; j < CONV_WCB; ++j)
                    acc[i * CONV_WCB + j] = fma(xv, gv[j], acc[i * CONV_WCB + j]);
            }
        }
        return;
    }
    for (int n = n0; n < n1; ++n) {
        for (int oy = 0; oy < OH; ++oy) {
            const __global float *xr[CONV_WT];
#pragma unroll
            for (int i = 0; i < CONV_WT; ++i)
                xr[i] = x + (size_t)n * CI * HW + oy * W + toff[i];
            for (int ox = 0; ox < OW; ++ox, gvp += nb) {
                floatv gv[CONV_WCB];
#pragma unroll
                for (int j = 0; j < CONV_WCB; ++j)
                    gv[j] = gvp[blk[j]];
#pragma unroll
                for (int i = 0; i < CONV_WT; ++i) {
                    const floatv xv = (floatv)(xr[i][ox]);
#pragma unroll
                    for (int j = 0; j < CONV_WCB; ++j)
                        acc[i * CONV_WCB + j] = fma(xv, gv[j], acc[i * CONV_WCB + j]);
                }
            }
        }
    }
}

/* Work-item = CONV_WT taps x CONV_WCB blocks of CONV_VW channels of one split, looping over all
 * pixels of the split: per pixel WCB vector loads of g, WT broadcast loads of x, WT*WCB FMAs.
 * One extra tap tile per split computes the bias row (a plain sum of g), so the hot loop has
 * no per-tap special case. */
__kernel void conv_bwd_w(__global float *dwp,     /* (nsplit, CI*K*K + 1, COV) */
                         __global const float *x, /* (N, CI, H, W) */
                         __global const float *g, /* (N, OH*OW, COV) */
                         int N, int CI, int H, int W, int CO, int K, int nsplit)
{
    const int OH = H - K + 1, OW = W - K + 1, OHW = OH * OW, HW = H * W, KK = K * K;
    const int T = CI * KK;
    const int COV = ROUNDV(CO), nb = COV / CONV_VW;
    const int ncg = (nb + CONV_WCB - 1) / CONV_WCB;
    const int ntt = (T + CONV_WT - 1) / CONV_WT + 1;
    const int gid = get_global_id(0);
    if (gid >= nsplit * ntt * ncg)
        return;
    const int cg = gid % ncg;
    const int tt = (gid / ncg) % ntt;
    const int s = gid / (ncg * ntt);
    const int n0 = s * N / nsplit, n1 = (s + 1) * N / nsplit;

    /* Channel blocks as in conv_fwd: the last group is shifted down, and with fewer than WCB
     * blocks in all the missing ones repeat the last. */
    const int b0 = max(min(cg * CONV_WCB, nb - CONV_WCB), 0);
    const __global floatv *gvp = (const __global floatv *)g + (size_t)n0 * OHW * nb;
    __global float *out = dwp + (size_t)s * (T + 1) * COV;

    if (tt == ntt - 1) {
        floatv sb[CONV_WCB];
#pragma unroll
        for (int j = 0; j < CONV_WCB; ++j)
            sb[j] = (floatv)(0.0f);
        for (int q = 0; q < (n1 - n0) * OHW; ++q, gvp += nb) {
#pragma unroll
            for (int j = 0; j < CONV_WCB; ++j)
                sb[j] += gvp[min(b0 + j, nb - 1)];
        }
#pragma unroll
        for (int j = 0; j < CONV_WCB; ++j)
            if (b0 + j >= cg * CONV_WCB && j < nb)
                vstorev(sb[j], 0, out + (size_t)T * COV + (b0 + j) * CONV_VW);
        return;
    }

    /* Taps past the end repeat the last one (their sums are not stored), so the hot loop needs
     * no guards. */
    int toff[CONV_WT];
#pragma unroll
    for (int i = 0; i < CONV_WT; ++i) {
        const int t = min(tt * CONV_WT + i, T - 1);
        const int ci = t / KK, kh = (t - ci * KK) / K;
        toff[i] = ci * HW + kh * W + (t - ci * KK - kh * K);
    }

    floatv acc[CONV_WT * CONV_WCB];
#pragma unroll
    for (int a = 0; a < CONV_WT * CONV_WCB; ++a)
        acc[a] = (floatv)(0.0f);
    int blk[CONV_WCB];
    if (nb >= CONV_WCB) {
#pragma unroll
        for (int j = 0; j < CONV_WCB; ++j)
            blk[j] = j;
        conv_bwd_w_tile(acc, x, gvp + b0, blk, toff, n0, n1, CI, HW, W, OH, OW, nb);
    } else {
#pragma unroll
        for (int j = 0; j < CONV_WCB; ++j)
            blk[j] = min(j, nb - 1);
        conv_bwd_w_tile(acc, x, gvp, blk, toff, n0, n1, CI, HW, W, OH, OW, nb);
    }

#pragma unroll
    for (int i = 0; i < CONV_WT; ++i) {
        const int t = tt * CONV_WT + i;
#pragma unroll
        for (int j = 0; j < CONV_WCB; ++j)
            if (t < T && b0 + j >= cg * CONV_WCB && j < nb)
                vstorev(acc[i * CONV_WCB + j], 0, out + (size_t)t * COV + (b0 + j) * CONV_VW);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Pixel-vector kernels (CPU variant, layers with few taps)                                    */
/* ------------------------------------------------------------------------------------------ */

/* With few taps (the first layer: one input channel, 9 taps) the register tiles above spend
 * more time storing than computing: every output is one scalar store of a transposed channel
 * vector, against 9 FMAs. Here the vector runs along an output row instead, so loads and stores
 * are whole contiguous vectors, and the weight gradient reads dy and y as they are (NCHW),
 * with no conv_bwd_prep. A row of OW >= CONV_VW pixels is cut into ceil(OW / CONV_VW) column
 * blocks, the last one shifted left to end at the row's end (it overlaps its neighbour). */

/* Column block cb's first pixel. */
inline int px_col(int cb, int OW) { return min(cb * CONV_VW, OW - CONV_VW); }

/* Work-item = CONV_PXR output rows x CONV_PXC output channels of one image, all column blocks
 * of the rows in turn (so the overlapping last block is stored by the same work-item, after its
 * neighbour, with the same values). Every output sums its taps in conv_fwd's order from 0 and
 * then adds the bias, so the two kernels agree to the bit. Channels vary fastest across
 * work-items, which then share input rows. */
__kernel void conv_fwd_px(__global float *y,          /* (N, CO, OH, OW) */
                          __global const float *x,    /* (N, CI, H, W) */
                          __global const float *wt,   /* (CI*K*K, COV) */
                          __global const float *bias, /* (CO), read only when has_bias */
                          int N, int CI, int H, int W, int CO, int K, int has_bias, int relu)
{
    const int OH = H - K + 1, OW = W - K + 1, HW = H * W, COV = ROUNDV(CO);
    const int ncg = (CO + CONV_PXC - 1) / CONV_PXC, nrg = (OH + CONV_PXR - 1) / CONV_PXR;
    const int ncb = (OW + CONV_VW - 1) / CONV_VW;
    const int gid = get_global_id(0);
    if (gid >= N * nrg * ncg)
        return;
    const int cg = gid % ncg, rg = (gid / ncg) % nrg, n = gid / (ncg * nrg);
    /* Rows and channels past the end repeat the last one; they are not stored. */
    int oy[CONV_PXR], co[CONV_PXC];
#pragma unroll
    for (int r = 0; r < CONV_PXR; ++r)
        oy[r] = min(rg * CONV_PXR + r, OH - 1);
#pragma unroll
    for (int c = 0; c < CONV_PXC; ++c)
        co[c] = min(cg * CONV_PXC + c, CO - 1);
    const __global float *xn = x + (size_t)n * CI * HW;

    for (int cb = 0; cb < ncb; ++cb) {
        const int ox0 = px_col(cb, OW);
        floatv acc[CONV_PXR * CONV_PXC];
#pragma unroll
        for (int a = 0; a < CONV_PXR * CONV_PXC; ++a)
            acc[a] = (floatv)(0.0f);
        const __global float *wp = wt;
        for (int ci = 0; ci < CI; ++ci)
            for (int kh = 0; kh < K; ++kh)
                for (int kw = 0; kw < K; ++kw, wp += COV) {
                    floatv xv[CONV_PXR];
#pragma unroll
                    for (int r = 0; r < CONV_PXR; ++r)
                        xv[r] = vloadv(0, xn + ci * HW + (oy[r] + kh) * W + ox0 + kw);
#pragma unroll
                    for (int c = 0; c < CONV_PXC; ++c) {
                        const floatv wv = (floatv)(wp[co[c]]);
#pragma unroll
                        for (int r = 0; r < CONV_PXR; ++r)
                            acc[r * CONV_PXC + c] = fma(xv[r], wv, acc[r * CONV_PXC + c]);
                    }
                }
#pragma unroll
        for (int c = 0; c < CONV_PXC; ++c) {
            if (cg * CONV_PXC + c >= CO)
                continue;
            const floatv bv = (floatv)(has_bias ? bias[co[c]] : 0.0f);
#pragma unroll
            for (int r = 0; r < CONV_PXR; ++r) {
                if (rg * CONV_PXR + r >= OH)
                    continue;
                floatv o = acc[r * CONV_PXC + c] + bv;
                if (relu)
                    o = fmax(o, (floatv)(0.0f));
                vstorev(o, 0, y + (((size_t)n * CO + co[c]) * OH + oy[r]) * OW + ox0);
            }
        }
    }
}

/* The lanes' sum, in a fixed order (halves, recursively). */
inline float px_sum(floatv v)
{
#if CONV_VW == 16
    const float8 h8 = v.lo + v.hi;
#else
    const float8 h8 = v;
#endif
    const float4 h4 = h8.lo + h8.hi;
    const float2 h2 = h4.lo + h4.hi;
    return h2.lo + h2.hi;
}

/* Work-item = CONV_PXT taps x CONV_PXWC output channels of one split: acc[tap][channel] sums
 * x(tap at pixel) * g(pixel) over the split's pixels, a vector of a row at a time, with
 * g = dy masked by the ReLU; the lanes are summed at the end. Tap tile 0 also sums g alone,
 * the bias row. The overlapping last column block masks the lanes its neighbour counted.
 * Global size nsplit * ceil(T / CONV_PXT) * ceil(CO / CONV_PXWC). */
__kernel void conv_bwd_w_px(__global float *dwp,      /* (nsplit, CI*K*K + 1, COV) */
                            __global const float *x,  /* (N, CI, H, W) */
                            __global const float *dy, /* (N, CO, OH, OW) */
                            __global const float *y,  /* (N, CO, OH, OW), post-relu output */
                            int N, int CI, int H, int W, int CO, int K, int relu, int nsplit)
{
    const int OH = H - K + 1, OW = W - K + 1, OHW = OH * OW, HW = H * W, KK = K * K;
    const int T = CI * KK, COV = ROUNDV(CO);
    const int ncg = (CO + CONV_PXWC - 1) / CONV_PXWC, ntt = (T + CONV_PXT - 1) / CONV_PXT;
    const int ncb = (OW + CONV_VW - 1) / CONV_VW;
    const int gid = get_global_id(0);
    if (gid >= nsplit * ntt * ncg)
        return;
    const int cg = gid % ncg, tt = (gid / ncg) % ntt, s = gid / (ncg * ntt);
    const int n0 = s * N / nsplit, n1 = (s + 1) * N / nsplit;

    /* Taps and channels past the end repeat the last one; their sums are not stored. */
    int toff[CONV_PXT], co[CONV_PXWC];
#pragma unroll
    for (int i = 0; i < CONV_PXT; ++i) {
        const int t = min(tt * CONV_PXT + i, T - 1);
        const int ci = t / KK, kh = (t - ci * KK) / K;
        toff[i] = ci * HW + kh * W + (t - ci * KK - kh * K);
    }
#pragma unroll
    for (int c = 0; c < CONV_PXWC; ++c)
        co[c] = min(cg * CONV_PXWC + c, CO - 1);

    floatv acc[CONV_PXT * CONV_PXWC], sb[CONV_PXWC];
#pragma unroll
    for (int a = 0; a < CONV_PXT * CONV_PXWC; ++a)
        acc[a] = (floatv)(0.0f);
#pragma unroll
    for (int c = 0; c < CONV_PXWC; ++c)
        sb[c] = (floatv)(0.0f);
#if CONV_VW == 16
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    typedef int16 intv;
#else
    const int8 lane = (int8)(0, 1, 2, 3, 4, 5, 6, 7);
    typedef int8 intv;
#endif

    for (int n = n0; n < n1; ++n)
        for (int oy = 0; oy < OH; ++oy)
            for (int cb = 0; cb < ncb; ++cb) {
                const int ox0 = px_col(cb, OW);
                const intv fresh = lane >= (intv)(cb * CONV_VW - ox0);
                floatv gv[CONV_PXWC];
#pragma unroll
                for (int c = 0; c < CONV_PXWC; ++c) {
                    const size_t o = ((size_t)n * CO + co[c]) * OHW + oy * OW + ox0;
                    intv keep = fresh;
                    if (relu)
                        keep &= isgreater(vloadv(0, y + o), (floatv)(0.0f));
                    gv[c] = select((floatv)(0.0f), vloadv(0, dy + o), keep);
                    sb[c] += gv[c];
                }
                const __global float *xr = x + (size_t)n * CI * HW + oy * W + ox0;
#pragma unroll
                for (int i = 0; i < CONV_PXT; ++i) {
                    const floatv xv = vloadv(0, xr + toff[i]);
#pragma unroll
                    for (int c = 0; c < CONV_PXWC; ++c)
                        acc[i * CONV_PXWC + c] = fma(xv, gv[c], acc[i * CONV_PXWC + c]);
                }
            }

    __global float *out = dwp + (size_t)s * (T + 1) * COV;
#pragma unroll
    for (int c = 0; c < CONV_PXWC; ++c) {
        if (cg * CONV_PXWC + c >= CO)
            continue;
#pragma unroll
        for (int i = 0; i < CONV_PXT; ++i)
            if (tt * CONV_PXT + i < T)
                out[(size_t)(tt * CONV_PXT + i) * COV + co[c]] = px_sum(acc[i * CONV_PXWC + c]);
        if (tt == 0)
            out[(size_t)T * COV + co[c]] = px_sum(sb[c]);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* GPU variant                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* One staged chunk of the GEMM: each work-item's RM x RN outputs, strided by the work-group's
 * extent, accumulate the KC products of A (rows: pixels or taps) and B (columns: channels). */
__attribute__((always_inline)) inline void lm_chunk(float acc[CONV_LM_RM][CONV_LM_RN],
                                                    __local const float a_tile[CONV_LM_KC][CONV_LM_TM],
                                                    __local const float b_tile[CONV_LM_KC][CONV_LM_TN], int tm, int tn)
{
    for (int kk = 0; kk < CONV_LM_KC; ++kk) {
        float a[CONV_LM_RM], b[CONV_LM_RN];
        for (int i = 0; i < CONV_LM_RM; ++i)
            a[i] = a_tile[kk][tm + i * CONV_LM_WM];
        for (int j = 0; j < CONV_LM_RN; ++j)
            b[j] = b_tile[kk][tn + j * CONV_LM_WN];
        for (int i = 0; i < CONV_LM_RM; ++i)
            for (int j = 0; j < CONV_LM_RN; ++j)
                acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
}

/* C[p][co] = sum_t X[p][t] * wt[t][co] over pixels p flattened across the batch. Local dim 0
 * runs over pixels so that both the im2col gathers and the NCHW stores are coalesced; each
 * work-item's rows and columns are strided by the work-group extent for the same reason.
 * Pixel bases (once) and tap offsets (per chunk) are tabulated in local memory so that the
 * gathers do no divisions. */
__kernel __attribute__((reqd_work_group_size(CONV_LM_WM, CONV_LM_WN, 1)))
void conv_fwd_lm(__global float *y,          /* (N, CO, OH, OW) */
                 __global const float *x,    /* (N, CI, H, W) */
                 __global const float *wt,   /* (CI*K*K, COV), zero padded columns */
                 __global const float *bias, /* (CO), read only when has_bias */
                 int N, int CI, int H, int W, int CO, int K, int has_bias, int relu)
{
    __local float xs[CONV_LM_KC][CONV_LM_TM];
    __local float ws[CONV_LM_KC][CONV_LM_TN];
    __local int pbase[CONV_LM_TM]; /* -1: pixel past the end of the batch */
    __local int toff[CONV_LM_KC];  /* -1: tap past the end */

    const int OH = H - K + 1, OW = W - K + 1, OHW = OH * OW, HW = H * W, KK = K * K;
    const int NP = N * OHW, T = CI * KK, COV = ROUNDV(CO);
    const int tm = get_local_id(0), tn = get_local_id(1);
    const int lid = tn * CONV_LM_WM + tm;
    const int p0 = get_group_id(0) * CONV_LM_TM, c0 = get_group_id(1) * CONV_LM_TN;

    for (int m = lid; m < CONV_LM_TM; m += CONV_LM_NT) {
        const int p = p0 + m;
        const int n = p / OHW, r = p - n * OHW, oy = r / OW;
        pbase[m] = p < NP ? n * CI * HW + oy * W + (r - oy * OW) : -1;
    }

    float acc[CONV_LM_RM][CONV_LM_RN];
    for (int i = 0; i < CONV_LM_RM; ++i)
        for (int j = 0; j < CONV_LM_RN; ++j)
            acc[i][j] = 0.0f;

    for (int t0 = 0; t0 < T; t0 += CONV_LM_KC) {
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = lid; kk < CONV_LM_KC; kk += CONV_LM_NT) {
            const int t = t0 + kk, ci = t / KK, kh = (t - ci * KK) / K;
            toff[kk] = t < T ? ci * HW + kh * W + (t - ci * KK - kh * K) : -1;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int e = lid; e < CONV_LM_KC * CONV_LM_TM; e += CONV_LM_NT) {
            const int kk = e / CONV_LM_TM, m = e - kk * CONV_LM_TM;
            const int pb = pbase[m], to = toff[kk];
            xs[kk][m] = (pb >= 0 && to >= 0) ? x[pb + to] : 0.0f;
        }
        for (int e = lid; e < CONV_LM_KC * CONV_LM_TN; e += CONV_LM_NT) {
            const int kk = e / CONV_LM_TN, c = e - kk * CONV_LM_TN, t = t0 + kk;
            ws[kk][c] = (t < T && c0 + c < COV) ? wt[(size_t)t * COV + c0 + c] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        lm_chunk(acc, xs, ws, tm, tn);
    }

    for (int i = 0; i < CONV_LM_RM; ++i) {
        const int p = p0 + tm + i * CONV_LM_WM;
        const int n = p / OHW, r = p - n * OHW;
        for (int j = 0; j < CONV_LM_RN; ++j) {
            const int co = c0 + tn + j * CONV_LM_WN;
            if (p < NP && co < CO) {
                const float o = acc[i][j] + (has_bias ? bias[co] : 0.0f);
                y[((size_t)n * CO + co) * OHW + r] = relu ? fmax(o, 0.0f) : o;
            }
        }
    }
}

/* dW[t][co] = sum_p X[p][t] * g[p][co] over the pixels of one split (group id 2), with the
 * bias row t == T treated as a tap whose input is constant 1. Local dim 0 runs over channels
 * because g rows and dwp rows are contiguous in co. Tap offsets (once) and pixel bases (per
 * chunk) are tabulated in local memory so that the gathers do no divisions. */
__kernel __attribute__((reqd_work_group_size(CONV_LM_WN, CONV_LM_WM, 1)))
void conv_bwd_w_lm(__global float *dwp,     /* (nsplit, CI*K*K + 1, COV) */
                   __global const float *x, /* (N, CI, H, W) */
                   __global const float *g, /* (N, OH*OW, COV) */
                   int N, int CI, int H, int W, int CO, int K, int nsplit)
{
    __local float xs[CONV_LM_KC][CONV_LM_TM];
    __local float gs[CONV_LM_KC][CONV_LM_TN];
    __local int toff[CONV_LM_TM];  /* -1: the bias row (input 1), -2: tap past the end (0) */
    __local int pbase[CONV_LM_KC]; /* -1: pixel past the end of the split */

    const int OH = H - K + 1, OW = W - K + 1, OHW = OH * OW, HW = H * W, KK = K * K;
    const int T = CI * KK, COV = ROUNDV(CO);
    const int tn = get_local_id(0), tm = get_local_id(1);
    const int lid = tm * CONV_LM_WN + tn;
    const int c0 = get_group_id(0) * CONV_LM_TN, t0 = get_group_id(1) * CONV_LM_TM;
    const int s = get_group_id(2);
    const int q0 = (s * N / nsplit) * OHW, q1 = ((s + 1) * N / nsplit) * OHW;

    for (int m = lid; m < CONV_LM_TM; m += CONV_LM_NT) {
        const int t = t0 + m, ci = t / KK, kh = (t - ci * KK) / K;
        toff[m] = t < T ? ci * HW + kh * W + (t - ci * KK - kh * K) : (t == T ? -1 : -2);
    }

    float acc[CONV_LM_RM][CONV_LM_RN];
    for (int i = 0; i < CONV_LM_RM; ++i)
        for (int j = 0; j < CONV_LM_RN; ++j)
            acc[i][j] = 0.0f;

    for (int qc = q0; qc < q1; qc += CONV_LM_KC) {
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = lid; kk < CONV_LM_KC; kk += CONV_LM_NT) {
            const int q = qc + kk, n = q / OHW, r = q - n * OHW, oy = r / OW;
            pbase[kk] = q < q1 ? n * CI * HW + oy * W + (r - oy * OW) : -1;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int e = lid; e < CONV_LM_KC * CONV_LM_TM; e += CONV_LM_NT) {
            const int m = e / CONV_LM_KC, kk = e - m * CONV_LM_KC;
            const int pb = pbase[kk], to = toff[m];
            xs[kk][m] = pb < 0 ? 0.0f : to >= 0 ? x[pb + to] : (to == -1 ? 1.0f : 0.0f);
        }
        for (int e = lid; e < CONV_LM_KC * CONV_LM_TN; e += CONV_LM_NT) {
            const int kk = e / CONV_LM_TN, c = e - kk * CONV_LM_TN, q = qc + kk;
            gs[kk][c] = (q < q1 && c0 + c < COV) ? g[(size_t)q * COV + c0 + c] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        lm_chunk(acc, xs, gs, tm, tn);
    }

    __global float *out = dwp + (size_t)s * (T + 1) * COV;
    for (int i = 0; i < CONV_LM_RM; ++i) {
        const int t = t0 + tm + i * CONV_LM_WM;
        for (int j = 0; j < CONV_LM_RN; ++j) {
            const int co = c0 + tn + j * CONV_LM_WN;
            if (t <= T && co < COV)
                out[(size_t)t * COV + co] = acc[i][j];
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Layout helpers (both variants)                                                              */
/* ------------------------------------------------------------------------------------------ */

/* One work-item per row of an output: rows (ci, tap) of wt first, then rows (co, tap) of wf;
 * global size (CI + CO) * K*K. Each writes its row contiguously, padding included, so that a
 * dense layer's 100,000 weights take a thousand work-items, not one each. */
__kernel void conv_w_prep(__global float *wt,      /* (CI*K*K, COV) */
                          __global float *wf,      /* (CO*K*K, CIV) */
                          __global const float *w, /* (CO, CI, K, K) */
                          int CI, int CO, int K)
{
    const int KK = K * K, COV = ROUNDV(CO), CIV = ROUNDV(CI);
    const int gid = get_global_id(0);
    if (gid < CI * KK) {
        __global float *row = wt + (size_t)gid * COV;
        const __global float *src = w + gid; /* (ci, kk) of co = 0; co steps by CI*KK */
        for (int co = 0; co < CO; ++co)
            row[co] = src[(size_t)co * CI * KK];
        for (int co = CO; co < COV; ++co)
            row[co] = 0.0f;
    } else if (gid < (CI + CO) * KK) {
        const int r = gid - CI * KK, co = r / KK, kk = r - co * KK;
        __global float *row = wf + (size_t)r * CIV;
        const __global float *src = w + (size_t)co * CI * KK + (KK - 1 - kk); /* ci steps by KK */
        for (int ci = 0; ci < CI; ++ci)
            row[ci] = src[ci * KK];
        for (int ci = CI; ci < CIV; ++ci)
            row[ci] = 0.0f;
    }
}

/* One work-item per (n, block of 8 channels, row of the padded plane); global size
 * N * (COV/8) * PH with PH = OH + 2P, P = need_dx ? K-1 : 0. A work-item walks its row so that
 * each of its 8 dy/y/gpad channel streams is read or written contiguously, and it writes a whole
 * float8 of g per pixel. With S > 0 the layer's output was max-pooled in S x S windows and dy is
 * the pooling's output gradient (N, CO, OH/S, OW/S): the pooling's backward happens here, each
 * pixel taking its window's gradient where it was the window's maximum (arg) and 0 elsewhere. */
__kernel void conv_bwd_prep(__global float *g,          /* (N, OH*OW, COV) */
                            __global float *gpad,       /* (N, CO, OH+2(K-1), OW+2(K-1)) */
                            __global const float *dy,   /* (N, CO, OH, OW), or (N, CO, OH/S, OW/S) */
                            __global const uchar *arg,  /* (N, CO, OH/S, OW/S), read only when S > 0 */
                            __global const float *y,    /* (N, CO, OH, OW), post-relu output */
                            int N, int CO, int OH, int OW, int K, int relu, int need_dx, int S)
{
    const int P = need_dx ? K - 1 : 0, PH = OH + 2 * P, PW = OW + 2 * P, OHW = OH * OW;
    const int COV = ROUNDV(CO), nb = COV / 8;
    const int gid = get_global_id(0);
    if (gid >= N * nb * PH)
        return;
    const int py = gid % PH;
    const int b = (gid / PH) % nb;
    const int n = gid / (PH * nb);
    const int oy = py - P, co0 = b * 8, nc = min(8, CO - co0); /* nc <= 0: a block of padding */
    __global float *gp = gpad + ((size_t)n * CO + co0) * (PH * PW) + py * PW;

    if (oy < 0 || oy >= OH) {
        if (need_dx)
            for (int c = 0; c < nc; ++c)
                for (int px = 0; px < PW; ++px)
                    gp[c * (PH * PW) + px] = 0.0f;
        return;
    }
    __global float *grow = g + ((size_t)n * OHW + oy * OW) * COV + co0;
    if (nc <= 0) {
        for (int ox = 0; ox < OW; ++ox)
            vstore8((float8)(0.0f), 0, grow + ox * COV);
        return;
    }
    if (need_dx)
        for (int c = 0; c < nc; ++c)
            for (int px = 0; px < P; ++px) {
                gp[c * (PH * PW) + px] = 0.0f;
                gp[c * (PH * PW) + P + OW + px] = 0.0f;
            }
    /* The pooled rows: this row's window row, and whether the pooling covers it (trailing rows
     * and columns that fill no window get 0). */
    const int PPH = S ? OH / S : 0, PPW = S ? OW / S : 0, wy = S ? oy / S : 0;
    const bool covered = S ? wy < PPH : true;
    /* Channels past CO read a valid channel (the last, cc below) and are zeroed by the lane mask,
     * so the loop bodies are straight-line vector code. Each stream is a base and a channel
     * stride, not eight pointers: 32 live 64-bit addresses would take 64 of a GPU's registers. */
    const int8 live = (int8)(0, 1, 2, 3, 4, 5, 6, 7) < (int8)(nc);
    const size_t ch0 = (size_t)n * CO + co0;
    const size_t prow = (ch0 * PPH + min(wy, PPH - 1)) * PPW; /* the pooled row, when S > 0 */
    const __global float *d0 = S ? dy + prow : dy + ch0 * OHW + oy * OW;
    const __global uchar *a0 = arg + (S ? prow : 0);
    const __global float *y0 = y + ch0 * OHW + oy * OW;
    __global float *q0 = gp + P;
    const int dstride = S ? PPH * PPW : OHW, qstride = PH * PW;
    /* With CONV_PREP8, eight pixels at a time where the pooling (none or 2x2) allows: each
     * channel's rows of dy, y and gpad as vectors, and an 8x8 transpose into g. Per-pixel code
     * for the rest. */
    int ox = 0;
    if (CONV_PREP8 && (S == 0 || S == 2)) {
        const int8 atv = (int8)(S ? (oy - wy * S) * S : 0) + (int8)(0, 1, 0, 1, 0, 1, 0, 1);
        const int8 in = (int8)(covered ? -1 : 0);
        for (; ox + 8 <= OW; ox += 8) {
            float8 v[8];
#pragma unroll
            for (int c = 0; c < 8; ++c) {
                const int cc = min(c, nc - 1);
                float8 d;
                if (!S) {
                    d = vload8(0, d0 + cc * dstride + ox);
                } else {
                    /* ox is even, so pixels ox..ox+7 lie in pooled columns ox/2..ox/2+3 < PPW. */
                    const uint8 wx2 = (uint8)(0, 0, 1, 1, 2, 2, 3, 3);
                    const int8 a = convert_int8(shuffle(vload4(0, a0 + cc * dstride + ox / 2), convert_uchar8(wx2)));
                    d = select((float8)(0.0f), shuffle(vload4(0, d0 + cc * dstride + ox / 2), wx2), in & (a == atv));
                }
                int8 keep = (int8)(c < nc ? -1 : 0);
                if (relu)
                    keep &= isgreater(vload8(0, y0 + cc * OHW + ox), (float8)(0.0f));
                v[c] = select((float8)(0.0f), d, keep);
                if (need_dx && c < nc)
                    vstore8(v[c], 0, q0 + c * qstride + ox);
            }
            float8 t[8];
            transpose8(t, v);
#pragma unroll
            for (int p = 0; p < 8; ++p)
                vstore8(t[p], 0, grow + (ox + p) * COV);
        }
    }
    for (int wx = S ? ox / S : 0, at = S ? (oy - wy * S) * S + ox - wx * S : 0; ox < OW; ++ox) {
        float dv[8], yv[8];
        if (!S) {
            for (int c = 0; c < 8; ++c)
                dv[c] = d0[min(c, nc - 1) * dstride + ox];
        } else {
            const bool in = covered && wx < PPW;
            for (int c = 0; c < 8; ++c) {
                const int o = min(c, nc - 1) * dstride + wx;
                dv[c] = in && a0[o] == at ? d0[o] : 0.0f;
            }
            /* The next pixel's window column and its place in the window. */
            if (++at % S == 0) {
                at -= S;
                ++wx;
            }
        }
        int8 keep = live;
        if (relu) {
            for (int c = 0; c < 8; ++c)
                yv[c] = y0[min(c, nc - 1) * OHW + ox];
            keep &= isgreater(vload8(0, yv), (float8)(0.0f));
        }
        const float8 v = select((float8)(0.0f), vload8(0, dv), keep);
        vstore8(v, 0, grow + ox * COV);
        if (need_dx) {
            /* Lanes past nc store to the clamped channel before its own lane does, in order. */
            float e[8];
            vstore8(v, 0, e);
#pragma unroll
            for (int c = 7; c >= 0; --c)
                q0[min(c, nc - 1) * qstride + ox] = e[c];
        }
    }
}

/* One work-item per row r of the partial sums, r < CI*K*K a tap and r == CI*K*K the bias, over
 * all CO channels; global size CI*K*K + 1. Splits are summed in index order, so the result does
 * not depend on scheduling. */
__kernel void conv_bwd_w_finish(__global float *dw,        /* (CO, CI, K, K) */
                                __global float *db,        /* (CO) */
                                __global const float *dwp, /* (nsplit, CI*K*K+1, COV) */
                                int CI, int CO, int K, int nsplit)
{
    const int R = CI * K * K + 1, COV = ROUNDV(CO);
    const int r = get_global_id(0);
    if (r >= R)
        return;
    for (int co = 0; co < CO; ++co) {
        float s = 0.0f;
        for (int k = 0; k < nsplit; ++k)
            s += dwp[((size_t)k * R + r) * COV + co];
        if (r < R - 1)
            dw[co * (R - 1) + r] = s;
        else
            db[co] = s;
    }
}
