/* The kinds of layer: each kind's parse, make, forward, backward and cost, and the table. */
#include "claug/model/layer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/model/net.h"

static layer_parsed refuse(layer_token *t, const char *fmt, ...) CLAUG_PRINTF(2, 3);
static layer_parsed refuse(layer_token *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->why, sizeof t->why, fmt, ap);
    va_end(ap);
    return PARSED_BAD;
}

/* "conv2d forward" and the like: the tag's layer and whether it is the forward's or the backward's. */
static bool tag_of(const layer *l, const char *tag, bool *fwd) {
    *fwd = strcmp(tag, l->tag_fwd) == 0;
    return *fwd || strcmp(tag, l->tag_bwd) == 0;
}

/* ---- conv ------------------------------------------------------------------------------------ */

static layer_parsed conv_parse(layer *l, layer_token *t) {
    const char *x = strchr(t->args, 'x');
    char filters[16] = "";
    if (x && (size_t)(x - t->args) < sizeof filters) memcpy(filters, t->args, (size_t)(x - t->args));
    int f, k;
    if (!x || !parse_int(filters, 1, 4096, &f) || !parse_int(x + 1, 1, 64, &k))
        return refuse(t, "expected convNxK (N filters of K x K, e.g. conv32x3)");
    if (t->flat) return refuse(t, "a convolution cannot follow flatten or dense");
    if (k > l->h || k > l->w) return refuse(t, "a %dx%d kernel does not fit the %dx%d input", k, k, l->h, l->w);
    l->size = k, l->oc = f, l->oh = l->h - k + 1, l->ow = l->w - k + 1;
    l->params = (long)f * l->c * k * k + f;
    snprintf(t->canon, sizeof t->canon, "conv%dx%d", f, k);
    return PARSED_LAYER;
}

static void conv_make(net *n, layer *l) {
    conv_layer_init(&n->conv, &l->conv, l->c, l->h, l->w, l->oc, l->size, l->relu, l->name, n->max_batch);
}

static void conv_unmake(layer *l) { conv_layer_release(&l->conv); }

static cl_mem conv_fwd(net *n, layer *l, cl_mem x, const layer_pass *p) {
    conv_forward(&n->conv, &l->conv, l->out, x, l->weight, l->bias, p->B);
    return l->out;
}

static cl_mem conv_bwd(net *n, layer *l, cl_mem dx, cl_mem dy, const layer_pass *p) {
    conv_backward(&n->conv, &l->conv, dx, l->dweight, l->dbias, dy, l->in, l->y, l->unpool.arg ? &l->unpool : NULL,
                  p->B);
    return dx;
}

/* The input gradient counts like the forward, though its kernel also multiplies the padding's zeros. */
static bool conv_cost(layer_cost *c, const layer *l, const char *tag, int B, bool dx) {
    (void)dx;
    if (strcmp(tag, l->conv.tag_fwd) != 0 && strcmp(tag, l->conv.tag_dw) != 0 && strcmp(tag, l->conv.tag_dx) != 0)
        return false;
    c->flops = 2.0 * B * (double)layer_out_size(l) * l->c * l->size * l->size;
    snprintf(c->detail, sizeof c->detail, "%dx%dx%d -> %dx%dx%d, %dx%d", l->c, l->h, l->w, l->oc, l->oh, l->ow,
             l->size, l->size);
    return true;
}

/* ---- relu (one the layer before does not compute) ------------------------------------------- */

static layer_parsed relu_parse(layer *l, layer_token *t) {
    (void)l;
    if (t->prev && layer_types[t->prev->kind].takes_relu && !t->prev->relu) {
        t->prev->relu = true;
        return PARSED_FUSED;
    }
    return PARSED_LAYER;
}

static cl_mem relu_fwd(net *n, layer *l, cl_mem x, const layer_pass *p) {
    relu_forward(&n->act, x, x, p->B * (int)layer_out_size(l), l->tag_fwd);
    return x;
}

static cl_mem relu_bwd(net *n, layer *l, cl_mem dx, cl_mem dy, const layer_pass *p) {
    (void)dx;
    relu_backward(&n->act, dy, dy, l->y, p->B * (int)layer_out_size(l), l->tag_bwd);
    return dy;
}

/* ---- maxpool --------------------------------------------------------------------------------- */

static layer_parsed maxpool_parse(layer *l, layer_token *t) {
    int s;
    /* The argmax is kept in a byte: windows up to 15 x 15. */
    if (!parse_int(t->args, 1, 15, &s))
        return refuse(t, "expected maxpoolS with a window S of 1 to 15 (e.g. maxpool2)");
    if (t->flat) return refuse(t, "pooling cannot follow flatten or dense");
    if (s > l->h || s > l->w) return refuse(t, "a %dx%d window does not fit the %dx%d input", s, s, l->h, l->w);
    l->size = s, l->oh = l->h / s, l->ow = l->w / s;
    snprintf(t->canon, sizeof t->canon, "maxpool%d", s);
    return PARSED_LAYER;
}

/* The argmax, one byte per output. */
static void maxpool_make(net *n, layer *l) { l->arg = clrt_alloc(n->rt, (size_t)n->max_batch * layer_out_size(l)); }

static cl_mem maxpool_fwd(net *n, layer *l, cl_mem x, const layer_pass *p) {
    pool_forward(&n->pool, l->out, l->arg, x, p->B, l->c, l->h, l->w, l->size, l->tag_fwd);
    return l->out;
}

static cl_mem maxpool_bwd(net *n, layer *l, cl_mem dx, cl_mem dy, const layer_pass *p) {
    if (l->bwd_below) return dy;
    pool_backward(&n->pool, dx, dy, l->arg, p->B, l->c, l->h, l->w, l->size, l->tag_bwd);
    return dx;
}

static bool maxpool_cost(layer_cost *c, const layer *l, const char *tag, int B, bool dx) {
    bool fwd;
    (void)dx;
    if (!tag_of(l, tag, &fwd)) return false;
    /* Floats in and out, and the byte-sized argmax written or read. */
    double in = (double)B * layer_in_size(l), out = (double)B * layer_out_size(l);
    c->bytes = 4 * (in + out) + out;
    snprintf(c->detail, sizeof c->detail, "%dx%dx%d -> %dx%dx%d", l->c, l->h, l->w, l->oc, l->oh, l->ow);
    return true;
}

/* ---- dropout --------------------------------------------------------------------------------- */

static layer_parsed dropout_parse(layer *l, layer_token *t) {
    double r;
    float rf = 0;
    /* The rate is used as a float, and one that rounds to 1 would scale the kept units by
     * infinity; the canonical token must give that float back (eval parses it again). */
    if (!parse_double(t->args, &r) || !(r >= 0 && r < 1 && (rf = (float)r) < 1))
        return refuse(t, "expected dropoutR with a rate 0 <= R < 1 (e.g. dropout0.25)");
    l->rate = rf;
    /* The shortest digits that give the float back (9 always do). */
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(t->canon, sizeof t->canon, "dropout%.*g", digits, (double)rf);
        if ((float)strtod(t->canon + 7, NULL) == rf) break;
    }
    return PARSED_LAYER;
}

static cl_mem dropout_fwd(net *n, layer *l, cl_mem x, const layer_pass *p) {
    if (!p->train || l->rate == 0) return x;
    dropout_forward(&n->drop, l->out, x, p->B * (int)layer_out_size(l), l->rate, p->seed, p->step, (uint32_t)l->pos,
                    l->tag_fwd);
    return l->out;
}

static cl_mem dropout_bwd(net *n, layer *l, cl_mem dx, cl_mem dy, const layer_pass *p) {
    (void)dx;
    if (l->rate > 0)
        dropout_backward(&n->drop, dy, dy, p->B * (int)layer_out_size(l), l->rate, p->seed, p->step, (uint32_t)l->pos,
                         l->tag_bwd);
    return dy;
}

/* ---- flatten, dense, softmax ------------------------------------------------------------------ */

static layer_parsed flatten_parse(layer *l, layer_token *t) {
    l->oc = (int)layer_in_size(l), l->oh = l->ow = 1;
    t->flat = true;
    return PARSED_LAYER;
}

static layer_parsed dense_parse(layer *l, layer_token *t) {
    int units;
    if (!parse_int(t->args, 1, 65536, &units)) return refuse(t, "expected denseN with N units (e.g. dense128)");
    /* Dense takes the flattened input, as after Keras' Flatten. */
    l->size = units, l->c = (int)layer_in_size(l), l->h = l->w = 1, l->oc = units, l->oh = l->ow = 1;
    l->params = (long)units * l->c + units;
    t->flat = true;
    snprintf(t->canon, sizeof t->canon, "dense%d", units);
    return PARSED_LAYER;
}

/* Where the convolution's tuning says so, a dense layer is a 1x1 convolution of 1x1 images: its
 * weights (OUT, IN) are the convolution's (CO, CI, 1, 1), its input (B, IN) and output (B, OUT)
 * the images (B, CI, 1, 1) and (B, CO, 1, 1). Otherwise CLBlast computes it. */
static void dense_make(net *n, layer *l) {
    if (n->conv.tune.dense)
        conv_layer_init(&n->conv, &l->conv, l->c, 1, 1, l->oc, 1, l->relu, l->name, n->max_batch);
}

static cl_mem dense_fwd(net *n, layer *l, cl_mem x, const layer_pass *p) {
    if (layer_runs_conv(l))
        conv_forward(&n->conv, &l->conv, l->out, x, l->weight, l->bias, p->B);
    else
        dense_forward(&n->dense, l->out, x, l->weight, l->bias, p->B, l->c, l->oc, l->relu, l->tag_fwd);
    return l->out;
}

static cl_mem dense_bwd(net *n, layer *l, cl_mem dx, cl_mem dy, const layer_pass *p) {
    if (layer_runs_conv(l))
        conv_backward(&n->conv, &l->conv, dx, l->dweight, l->dbias, dy, l->in, l->y, NULL, p->B);
    else
        dense_backward(&n->dense, dx, l->dweight, l->dbias, dy, l->in, l->weight, l->y, p->B, l->c, l->oc, l->relu,
                       l->tag_bwd);
    return dx;
}

/* CLBlast's forward and backward, or the convolution's three passes, each one GEMM's worth but
 * the backward through CLBlast (its weight and input gradients). */
static bool dense_cost(layer_cost *c, const layer *l, const char *tag, int B, bool dx) {
    bool fwd;
    int gemms = 1;
    if (layer_runs_conv(l)) {
        if (strcmp(tag, l->conv.tag_fwd) != 0 && strcmp(tag, l->conv.tag_dw) != 0 && strcmp(tag, l->conv.tag_dx) != 0)
            return false;
    } else {
        if (!tag_of(l, tag, &fwd)) return false;
        gemms = !fwd && dx ? 2 : 1;
    }
    c->flops = gemms * 2.0 * B * l->c * l->oc;
    if (layer_runs_conv(l))
        snprintf(c->detail, sizeof c->detail, "%d -> %d, as a 1x1 convolution", l->c, l->oc);
    else
        snprintf(c->detail, sizeof c->detail, "%d -> %d, %d GEMM%s + bias", l->c, l->oc, gemms, gemms > 1 ? "s" : "");
    return true;
}

/* The loss computes it (softmax_xent): the layer only closes the model. */
static layer_parsed softmax_parse(layer *l, layer_token *t) {
    (void)l;
    const layer *p = t->prev;
    if (!p || p->kind != LAYER_DENSE || (t->classes > 0 && p->size != t->classes) || p->relu) {
        if (t->classes <= 0) return refuse(t, "softmax must follow the output layer denseN (one unit per class)");
        return refuse(t, "softmax must follow the output layer dense%d (one unit per class)", t->classes);
    }
    return PARSED_LAYER;
}

/* ---- the table ----------------------------------------------------------------------------------- */

const layer_type layer_types[LAYER_KINDS] = {
    [LAYER_CONV] = {"conv", "convNxK", true, "conv2d", "Conv2D", SHAPE_IMAGE, 4, true, true, conv_parse, conv_make,
                    conv_unmake, conv_fwd, conv_bwd, conv_cost},
    [LAYER_RELU] = {"relu", "relu", false, "activation", "Activation", SHAPE_AS_INPUT, 0, false, false, relu_parse,
                    NULL, NULL, relu_fwd, relu_bwd, NULL},
    [LAYER_MAXPOOL] = {"maxpool", "maxpoolS", true, "max_pooling2d", "MaxPooling2D", SHAPE_IMAGE, 0, false, true,
                       maxpool_parse, maxpool_make, NULL, maxpool_fwd, maxpool_bwd, maxpool_cost},
    [LAYER_DROPOUT] = {"dropout", "dropoutR", true, "dropout", "Dropout", SHAPE_AS_INPUT, 0, false, true,
                       dropout_parse, NULL, NULL, dropout_fwd, dropout_bwd, NULL},
    [LAYER_FLATTEN] = {"flatten", "flatten", false, "flatten", "Flatten", SHAPE_FLAT, 0, false, false, flatten_parse,
                       NULL, NULL, NULL, NULL, NULL},
    [LAYER_DENSE] = {"dense", "denseN", true, "dense", "Dense", SHAPE_FLAT, 2, true, true, dense_parse, dense_make,
                     conv_unmake, dense_fwd, dense_bwd, dense_cost},
    [LAYER_SOFTMAX] = {"softmax", "softmax", false, "softmax", "Softmax", SHAPE_AS_INPUT, 0, false, false,
                       softmax_parse, NULL, NULL, NULL, NULL, NULL},
};
