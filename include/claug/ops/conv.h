/* 2-D convolution (valid, stride 1, NCHW, any CI, CO, K) with bias and an optional fused ReLU:
 * our own OpenCL kernels (cl/conv.cl), forward and backward side by side.
 *
 * Both directions are implicit GEMMs over the same im2col view of the input: the forward
 * reduces over taps (ci, kh, kw), the weight gradient over pixels; the input gradient is the
 * forward kernel run on the zero-padded output gradient with flipped, transposed weights. */
#ifndef CLAUG_CONV_H
#define CLAUG_CONV_H

#include <stdbool.h>

#include "claug/runtime/clrt.h"

/* The kernels' tunables (-D options), chosen per device (conv_tuning_default) or by `claug tune`. */
typedef struct {
    bool local_tiles; /* GPU shape: conv_fwd_lm / conv_bwd_w_lm, local-memory tiles */
    /* register-tiled variant (CPU shape) */
    int tp, cb;   /* forward: output pixels x blocks of 8 output channels per work-item */
    int wt, wcb;  /* weight gradient: taps x blocks of 8 output channels per work-item */
    int kfast;    /* the kernel size whose tap loop is unrolled */
    int lws;      /* their work-group size */
    /* local-memory variant (GPU shape) */
    int tm, tn, kc, rm, rn;
    /* weight gradient: the batch is reduced in this many splits (0: one per image), whose
     * partial sums are then added in a fixed order */
    int splits;
} conv_tuning;

void conv_tuning_default(conv_tuning *t, const clrt *rt);
/* The -D options for cl/conv.cl. */
void conv_tuning_options(char *buf, size_t len, const conv_tuning *t);
/* A one-line description of the choice, for output. */
void conv_tuning_describe(char *buf, size_t len, const conv_tuning *t);

typedef struct {
    clrt *rt;
    conv_tuning tune;
    cl_kernel fwd, bwd_w, w_prep, bwd_prep, bwd_w_finish;
    /* Scratch shared by every layer (sized by conv_reserve): */
    cl_mem g;    /* (B, OH*OW, CO8) gradient of the pre-activation, pixel-major */
    cl_mem gpad; /* (B, CO, OH+2(K-1), OW+2(K-1)) the same, zero padded, for the input gradient */
    cl_mem dwp;  /* (splits, CI*K*K + 1, CO8) weight and bias gradient per split */
    size_t g_bytes, gpad_bytes, dwp_bytes;
} conv_ctx;

typedef struct {
    int CI, H, W, CO, K, relu;
    cl_mem wt; /* (CI*K*K, CO8) the weights tap-major for the forward */
    cl_mem wf; /* (CO*K*K, CI8) flipped and transposed, for the input gradient */
    char tag_fwd[48], tag_dx[48], tag_dw[48];
} conv_layer;

void conv_init(conv_ctx *c, clrt *rt, const conv_tuning *t);
/* conv_init for a tuning on trial: false with the reason (the build log, or a work-group the
 * kernels cannot take) and nothing held when the kernels cannot run with t. */
bool conv_build(conv_ctx *c, clrt *rt, const conv_tuning *t, char *err, size_t errlen);
void conv_release(conv_ctx *c);
void conv_layer_init(conv_ctx *c, conv_layer *l, int CI, int H, int W, int CO, int K, int relu, const char *name,
                     int max_batch);
void conv_layer_release(conv_layer *l);

/* y = conv(x, w) + b, then ReLU when the layer has it. Prepares the layer's weight layouts. */
void conv_forward(conv_ctx *c, conv_layer *l, cl_mem y /* (B, CO, OH, OW) */, cl_mem x /* (B, CI, H, W) */,
                  cl_mem w /* (CO, CI, K, K) */, cl_mem b /* (CO) */, int B);
/* Given dy (gradient w.r.t. y) and the forward's x and y: dw, db, and dx unless dx is NULL. The
 * weight layouts of the last conv_forward are used. */
void conv_backward(conv_ctx *c, conv_layer *l, cl_mem dx /* (B, CI, H, W) or NULL */, cl_mem dw /* (CO, CI, K, K) */,
                   cl_mem db /* (CO) */, cl_mem dy /* (B, CO, OH, OW) */, cl_mem x /* (B, CI, H, W) */,
                   cl_mem y /* (B, CO, OH, OW) */, int B);

/* Plain-C references, accumulating in double. b may be NULL (no bias); y may be NULL when relu
 * is 0; dx or db may be NULL. */
void ref_conv_forward(float *y, const float *x, const float *w, const float *b, int B, int CI, int H, int W, int CO,
                      int K, int relu);
void ref_conv_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                       const float *y, int B, int CI, int H, int W, int CO, int K, int relu);

#endif
