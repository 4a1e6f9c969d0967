/* The kinds of layer, one row each in layer_types[]: the token of the model string, Keras' names,
 * the token's parse, what the layer allocates, its forward and its backward, as darknet has one
 * parse and one make per layer type. What differs between kinds, net.c, weights.c and the
 * benchmark ask the row for. */
#ifndef CLAUG_LAYER_H
#define CLAUG_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claug/ops/conv.h"
#include "claug/runtime/clrt.h"

typedef enum {
    LAYER_CONV,
    LAYER_RELU,
    LAYER_MAXPOOL,
    LAYER_DROPOUT,
    LAYER_FLATTEN,
    LAYER_DENSE,
    LAYER_SOFTMAX,
    LAYER_KINDS /* the count */
} layer_kind;

typedef struct {
    layer_kind kind;
    char name[32];       /* Keras' naming: conv2d, conv2d_1, max_pooling2d, dense_1, ... */
    int pos;             /* the token's position in the model string, from 0: the stream of dropout's masks */
    int c, h, w;         /* input shape of one sample */
    int oc, oh, ow;      /* output shape of one sample */
    int size;            /* conv: kernel size; maxpool: window; dense: units */
    float rate;          /* dropout */
    bool relu;           /* conv or dense: computes the relu token that follows it */
    long params;         /* trainable parameters */
    size_t w_off, b_off; /* in floats, in the parameter buffer */
    /* device state (net_create) */
    cl_mem weight, bias, dweight, dbias; /* sub-buffers of params and grads */
    cl_mem out;          /* (B, oc, oh, ow) the layer's own output buffer, when it has one */
    cl_mem arg;          /* maxpool: (B, oc, oh, ow) uchar argmax */
    cl_mem in, y;        /* the last forward's input and output */
    conv_layer conv;
    conv_unpool unpool;  /* conv: the max pooling right above, whose backward this layer's computes (arg NULL: none) */
    bool bwd_below;      /* maxpool: the layer below computes this one's backward */
    char tag_fwd[48], tag_bwd[48];
} layer;

/* Floats of one sample's input and output. */
static inline size_t layer_in_size(const layer *l) { return (size_t)l->c * l->h * l->w; }
static inline size_t layer_out_size(const layer *l) { return (size_t)l->oc * l->oh * l->ow; }
/* Whether the layer's passes are conv.c's (a convolution, or a dense layer the convolution's
 * tuning runs as a 1x1 one): tagged l->conv.tag_fwd, tag_dx and tag_dw. */
static inline bool layer_runs_conv(const layer *l) { return l->conv.wt != NULL; }

/* One token being parsed: what the parse needs to know of the model so far, and what it says. */
typedef struct {
    const char *args; /* the token after its kind's name: "32x3" of "conv32x3" */
    layer *prev;      /* the layer before, NULL for the first */
    bool flat;        /* a flatten or a dense came before: the input is a vector */
    int classes;      /* 0: whatever the output layer has */
    char canon[64];   /* out: the canonical token (preset to the bare name) */
    char why[128];    /* out: why the token is refused */
} layer_token;

typedef enum { PARSED_BAD, PARSED_LAYER, PARSED_FUSED /* computed by the layer before: no layer */ } layer_parsed;

/* One batch's pass: its size, and whether dropout drops and which masks. */
typedef struct {
    int B;
    bool train;
    uint64_t seed;
    uint32_t step;
} layer_pass;

/* The work of one profile entry of a training step, for the benchmark's roofline. */
typedef struct {
    double flops, bytes; /* useful FLOPs; bytes moved by the memory-bound kernels */
    char detail[64];
} layer_cost;

/* How the summary shows the output: (None, h, w, c), (None, n), or (None, n) when the input is a
 * vector (h == 1) and the output 1 x 1. */
typedef enum { SHAPE_IMAGE, SHAPE_FLAT, SHAPE_AS_INPUT } layer_shape;

struct net;

typedef struct {
    const char *token;       /* "conv": the name in the model string */
    const char *form;        /* "convNxK": the token with its arguments, as messages show it */
    bool args;               /* the token takes arguments after its name (else the bare name only) */
    const char *keras_name;  /* "conv2d": numbered per kind, conv2d, conv2d_1, ... */
    const char *keras_class; /* "Conv2D" */
    layer_shape shape;
    int kernel_rank;         /* of the kernel tensor, (out, in, size, size) cut to the rank; 0: no parameters */
    bool takes_relu;         /* a relu token right after it is computed by its kernels (a flag, no layer) */
    bool own_output;         /* the allocation rule: writes a (B, oc, oh, ow) buffer of its own */
    /* Fills l (its input shape set, its output shape preset to the input's) from t->args, with
     * its parameter count and t->canon; PARSED_BAD with t->why. */
    layer_parsed (*parse)(layer *l, layer_token *t);
    /* Device state beyond the parameters and the output buffer, and its release; NULL: none. */
    void (*make)(struct net *n, layer *l);
    void (*unmake)(layer *l);
    /* The forward of the batch in x; returns the output's buffer. NULL: the output is x. */
    cl_mem (*forward)(struct net *n, layer *l, cl_mem x, const layer_pass *p);
    /* The backward from dy, the output's gradient, into dx (NULL for the first layer with
     * parameters: nothing would use it); returns the input gradient's buffer, dx or dy itself.
     * NULL: the gradient passes through. */
    cl_mem (*backward)(struct net *n, layer *l, cl_mem dx, cl_mem dy, const layer_pass *p);
    /* Whether the profile tag is one of l's at batch B, and then its work; dx: the backward
     * computes an input gradient. NULL: no work the benchmark rates. */
    bool (*cost)(layer_cost *c, const layer *l, const char *tag, int B, bool dx);
} layer_type;

extern const layer_type layer_types[LAYER_KINDS];

#endif
