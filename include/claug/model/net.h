/* The network: a model string -> layers with shapes, one parameter buffer (and its gradient
 * and Adam moments) with a sub-buffer per tensor, activation buffers, and the forward and
 * backward passes, launched without any host round-trip. */
#ifndef CLAUG_NET_H
#define CLAUG_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "claug/model/layer.h"
#include "claug/ops/act.h"
#include "claug/runtime/clrt.h"
#include "claug/ops/conv.h"
#include "claug/ops/dense.h"
#include "claug/ops/dropout.h"
#include "claug/ops/loss.h"
#include "claug/ops/optim.h"
#include "claug/ops/pool.h"

/* The tutorial's model, and the same with dropout. */
#define MODEL_SEED \
    "conv32x3,relu,conv32x3,relu,maxpool2,conv32x3,relu,maxpool2,flatten,dense128,relu,dense10,softmax"
#define MODEL_SEED_DROPOUT                                                                                 \
    "conv32x3,relu,conv32x3,relu,maxpool2,dropout0.25,conv32x3,relu,maxpool2,dropout0.25,flatten,dense128," \
    "relu,dropout0.5,dense10,softmax"

/* Parses a model string (or the names "seed", "seed-dropout") for inputs (c, h, w) and
 * `classes` outputs: tokens convNxK, relu, maxpoolS, dropoutR, flatten, denseN, softmax (the
 * forms of layer_types); the last two must be dense<classes>, softmax (any denseN when classes
 * is 0: the classes are then the last layer's oc). A relu that the layer
 * before computes is that layer's flag, not a layer. Fills layers (without device state) and
 * the canonical string. False with a message naming the bad token otherwise. */
bool model_parse(const char *spec, int c, int h, int w, int classes, layer **layers, int *nlayers, char **canonical,
                 char *err, size_t errlen);
/* model_parse at Fashion-MNIST's geometry, for a spec already checked (or the seed model's):
 * exits EXIT_USAGE with the parser's message if it does not parse. canonical may be NULL. */
layer *model_layers(const char *spec, int *nlayers, char **canonical);
/* The GEMMs the dense layers of L issue at batch B: forward y = x W^T, then dW = dy^T x and
 * dx = dy W (no dx for a first layer with parameters), as tuning and the benchmark time them.
 * Returns the count (at most max). */
int net_gemm_shapes(dense_gemm_shape *out, int max, const layer *L, int nl, int B);

typedef struct net {
    clrt *rt;
    char *spec; /* canonical model string */
    layer *L;
    int nl;
    int in_c, in_h, in_w, classes, max_batch;
    long param_count;  /* trainable parameters (Keras' count) */
    size_t nparams;    /* floats in the parameter buffer, alignment padding included */
    cl_mem params, grads, adam_m, adam_v; /* (nparams) */
    long step;         /* Adam steps taken: the next one's t - 1, and the key of its dropout masks */
    cl_mem x;          /* (B, in_c, in_h, in_w) the input batch */
    cl_mem labels;     /* (B) int */
    cl_mem gbuf[2];    /* (B, largest activation) gradients, used in turn */
    act_kernels act;
    pool_kernels pool;
    dropout_kernels drop;
    loss_kernels loss;
    optim_kernels optim;
    dense_ctx dense;
    conv_ctx conv;
} net;

/* Parses (exit 2 naming the bad token on failure), allocates everything for batches up to
 * max_batch, and builds the kernels with the given convolution tuning. */
net *net_create(clrt *rt, const char *spec, int c, int h, int w, int classes, int max_batch, const conv_tuning *ct);
void net_free(net *n);
/* Keras-style summary: layer, output shape, parameters, totals. */
void net_summary(const net *n, FILE *f);

/* Glorot-uniform weights from Philox(seed, CLAUG_STREAM_INIT, tensor, element / 4), zero
 * biases (Keras' defaults); zero Adam moments. Computed on the host, uploaded once. */
void net_init_params(net *n, uint64_t seed);
/* The parameter buffer to and from the host ((nparams) floats). */
void net_read_params(net *n, float *host);
void net_write_params(net *n, const float *host);
/* Adam's first and second moments to and from the host ((nparams) floats each); with the
 * parameters and n->step they are the whole training state. */
void net_read_moments(net *n, float *m, float *v);
void net_write_moments(net *n, const float *m, const float *v);
/* Zero Adam moments and steps. */
void net_reset_optimizer(net *n);

/* Forward pass of n->x through the layers (dropout active when train); returns the logits
 * buffer (B, classes). `step` keys the dropout masks. */
cl_mem net_forward(net *n, int B, bool train, uint64_t seed, uint32_t step);
/* One training step on the batch of B in n->x and n->labels: the forward with dropout (masks
 * keyed by seed and n->step), softmax cross-entropy, the backward into n->grads, one Adam step at
 * rate lr. losses and correct get each sample's loss and 1 or 0 at [first, first + B). */
void net_train_step(net *n, cl_mem losses, cl_mem correct, int first, int B, double lr, uint64_t seed);
/* One evaluation step: the forward without dropout and the loss, into losses and correct at
 * [first, first + B). */
void net_eval_step(net *n, cl_mem losses, cl_mem correct, int first, int B);
/* net_eval_step, and each sample's predicted class (the first index of its largest logit) into
 * predicted (int) at [first, first + B). */
void net_predict_step(net *n, cl_mem losses, cl_mem correct, cl_mem predicted, int first, int B);

#endif
