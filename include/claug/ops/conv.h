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

/* Which kernels a tunable shapes (a bit set). */
enum {
    CONV_REGISTER = 1, /* conv_fwd, conv_bwd_w: register tiles, the CPU shape */
    CONV_LOCAL = 2,    /* conv_fwd_lm, conv_bwd_w_lm: local-memory tiles, the GPU shape */
    CONV_EITHER = CONV_REGISTER | CONV_LOCAL
};

/* The kernels' tunables, the one list from which conv_tuning, its defaults, the -D options and
 * the tuning file's keys and ranges are made:
 *   X(field, -D name, CPU default, GPU default, lowest, highest, kernels)
 * A tunable with a -D name is fixed when cl/conv.cl is built (its #ifndef defaults there are the
 * CPU column) and is passed only to the builds of the kernels that use it; one without (NULL) only
 * shapes the launches. */
#define CONV_TUNABLES(X)                                                                                              \
    /* Register tiles: 6 pixels x 2 blocks of vw channels = 12 vector accumulators, the most that stay in AVX2's  \
     * 16 vector registers beside the weights and a broadcast; measured best on PoCL, as is the work-group of 16. \
     * Forward: output pixels x blocks of vw output channels per work-item. */                                       \
    X(tp, "CONV_TP", 6, 6, 1, 16, CONV_REGISTER)                                                                      \
    X(cb, "CONV_CB", 2, 2, 1, 16, CONV_REGISTER)                                                                      \
    /* Weight gradient: taps x blocks of vw output channels per work-item. */                                          \
    X(wt, "CONV_WT", 6, 6, 1, 16, CONV_REGISTER)                                                                      \
    X(wcb, "CONV_WCB", 2, 2, 1, 16, CONV_REGISTER)                                                                    \
    /* Channels per register block, the accumulators' vector width: 8 or 16; the default is the device's   \
     * native float vector width (16 on AVX-512, where a float8 FMA runs at half rate), else 8. */             \
    X(vw, "CONV_VW", 8, 8, 8, 16, CONV_EITHER)                                                                       \
    /* Pixel-vector kernels: a layer with at most px taps (CI*K*K) and output rows of at least vw pixels takes   \
     * them (0: none does); the first layer has 9 taps, the next 288. Forward: rows x channels per work-item;    \
     * weight gradient: taps x channels. 8 and 10 accumulators fit AVX2's registers. */                            \
    X(px, NULL, 27, 0, 0, 4096, CONV_REGISTER)                                                                        \
    X(pxr, "CONV_PXR", 2, 2, 1, 16, CONV_REGISTER)                                                                    \
    X(pxc, "CONV_PXC", 4, 4, 1, 32, CONV_REGISTER)                                                                    \
    X(pxt, "CONV_PXT", 5, 5, 1, 32, CONV_REGISTER)                                                                    \
    X(pxwc, "CONV_PXWC", 2, 2, 1, 32, CONV_REGISTER)                                                                  \
    /* Dense layers as 1x1 convolutions of 1x1 images through these kernels (1), or through CLBlast (0): on a CPU \
     * driver CLBlast's local-memory GEMMs with their padding and transposition kernels run the seed's dense       \
     * layers at about a tenth of the register tiles' rate; a GPU gets CLBlast's tuned kernels. */                  \
    X(dense, NULL, 1, 0, 0, 1, CONV_EITHER)                                                                           \
    /* conv_bwd_prep takes rows of 8 pixels through an 8x8 transpose in vector registers (1), or a pixel at a time  \
     * (0): a GPU holds the tile's 64 floats in scalar registers, and AMD's gfx1100 spills them. */                 \
    X(prep8, "CONV_PREP8", 1, 0, 0, 1, CONV_EITHER)                                                                   \
    /* The kernel size whose tap loop is unrolled. */                                                                 \
    X(kfast, "CONV_KFAST", 3, 3, 1, 15, CONV_REGISTER)                                                                \
    /* Their work-group size. */                                                                                      \
    X(lws, NULL, 16, 16, 1, 4096, CONV_REGISTER)                                                                      \
    /* Local tiles: 64 pixels (taps for the weight gradient) x 32 channels per work-group, in chunks of 16 of the   \
     * reduction, 4 x 2 per work-item: work-groups of 16 x 16, which the kernels fix (reqd_work_group_size). */       \
    X(tm, "CONV_LM_TM", 64, 64, 1, 512, CONV_LOCAL)                                                                   \
    X(tn, "CONV_LM_TN", 32, 32, 1, 512, CONV_LOCAL)                                                                   \
    X(kc, "CONV_LM_KC", 16, 16, 1, 512, CONV_LOCAL)                                                                   \
    X(rm, "CONV_LM_RM", 4, 4, 1, 64, CONV_LOCAL)                                                                      \
    X(rn, "CONV_LM_RN", 2, 2, 1, 64, CONV_LOCAL)                                                                      \
    /* Weight gradient: the batch is reduced in this many splits (0: one per image), whose partial sums are then    \
     * added in a fixed order. A CPU wants a few long reductions that keep a split's gradient in its cache; a GPU   \
     * wants many work-groups. */                                                                                     \
    X(splits, NULL, 8, 0, 0, 65536, CONV_EITHER)

/* The choice for a device (conv_tuning_default) or `claug tune`'s. */
typedef struct {
    /* The kernels: CONV_LOCAL's (1), else CONV_REGISTER's (0). An int like the rest, so that
     * the struct has no padding and memcmp compares choices, not stray bytes. */
    int local_tiles;
#define CONV_FIELD_(field, define, cpu, gpu, lo, hi, kernels) int field;
    CONV_TUNABLES(CONV_FIELD_)
#undef CONV_FIELD_
} conv_tuning;

/* CONV_TUNABLES as data, in the list's order (the tuning file's too). */
typedef struct {
    const char *name; /* the field's name: "tp", "lws", ... */
    const char *define; /* NULL: launch-time only */
    size_t offset;     /* in conv_tuning */
    int cpu, gpu, lo, hi, kernels;
} conv_tunable;
#define CONV_COUNT_(field, define, cpu, gpu, lo, hi, kernels) +1
enum { CONV_NTUNABLES = 0 CONV_TUNABLES(CONV_COUNT_) };
#undef CONV_COUNT_
extern const conv_tunable conv_tunables[CONV_NTUNABLES];
_Static_assert(sizeof(conv_tuning) == (CONV_NTUNABLES + 1) * sizeof(int), "conv_tuning has padding");
/* The field of t that u describes. */
int *conv_tunable_field(conv_tuning *t, const conv_tunable *u);

void conv_tuning_default(conv_tuning *t, const clrt *rt);
/* Whether a layer of CI input channels, W columns and K x K kernels takes the pixel-vector
 * kernels under t. */
bool conv_takes_px(const conv_tuning *t, int CI, int W, int K);
/* The -D options for cl/conv.cl: those of the kernels t chooses. */
void conv_tuning_options(char *buf, size_t len, const conv_tuning *t);
/* A one-line description of the choice, for output. */
void conv_tuning_describe(char *buf, size_t len, const conv_tuning *t);

typedef struct {
    conv_tuning tune;
    clrt_kernels ks;       /* of cl/conv.cl, the variant the tuning chooses */
    size_t lm_fwd_wg[3];   /* the work-groups conv_fwd_lm and conv_bwd_w_lm fix */
    size_t lm_bwd_w_wg[3];
    /* Scratch shared by every layer (grown by conv_layer_init): */
    cl_mem g;    /* (B, OH*OW, COV) gradient of the pre-activation, pixel-major; COV: CO rounded up to vw */
    cl_mem gpad; /* (B, CO, OH+2(K-1), OW+2(K-1)) the same, zero padded, for the input gradient */
    cl_mem dwp;  /* (splits, CI*K*K + 1, COV) weight and bias gradient per split */
    size_t g_bytes, gpad_bytes, dwp_bytes;
} conv_ctx;

typedef struct {
    int CI, H, W, CO, K, relu;
    bool px;        /* takes the pixel-vector kernels (conv_tuning.px) */
    int max_splits; /* of the weight gradient's batch */
    cl_mem wt; /* (CI*K*K, COV) the weights tap-major for the forward */
    cl_mem wf; /* (CO*K*K, CIV) flipped and transposed, for the input gradient */
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
/* A max pooling of S x S windows (stride S) right above the layer whose backward the layer's
 * computes: a pass over the full-size gradient saved. */
typedef struct {
    cl_mem arg; /* (B, CO, OH/S, OW/S) uchar: the pooling's argmax, the maximum's place in its window */
    int S;
} conv_unpool;
/* Whether l can take a conv_unpool: not with the pixel-vector kernels, whose weight gradient
 * reads the full-size gradient itself. */
bool conv_unpools(const conv_layer *l);

/* Given dy (gradient w.r.t. y, or with up w.r.t. the pooling of y) and the forward's x and y:
 * dw, db, and dx unless dx is NULL. The weight layouts of the last conv_forward are used. */
void conv_backward(conv_ctx *c, conv_layer *l, cl_mem dx /* (B, CI, H, W) or NULL */, cl_mem dw /* (CO, CI, K, K) */,
                   cl_mem db /* (CO) */, cl_mem dy /* (B, CO, OH, OW), with up (B, CO, OH/S, OW/S) */,
                   cl_mem x /* (B, CI, H, W) */, cl_mem y /* (B, CO, OH, OW) */, const conv_unpool *up /* or NULL */,
                   int B);

/* Plain-C references, accumulating in double. b may be NULL (no bias); y may be NULL when relu
 * is 0; dx or db may be NULL. */
void ref_conv_forward(float *y, const float *x, const float *w, const float *b, int B, int CI, int H, int W, int CO,
                      int K, int relu);
void ref_conv_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                       const float *y, int B, int CI, int H, int W, int CO, int K, int relu);

#endif
