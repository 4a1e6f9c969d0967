#define _POSIX_C_SOURCE 200809L
#include "claug/model/net.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "claug/data/dataset.h"
#include "claug/util/strbuf.h"
#include "philox.h"

/* ---- the model string ------------------------------------------------------------------- */

static layer_parsed token_error(char *err, size_t len, int pos, const char *tok, const char *why) {
    snprintf(err, len, "--model: token %d '%s': %s", pos, tok, why);
    return PARSED_BAD;
}

/* The next comma-separated token of *next, blanks trimmed and lowercased; *next moves past it
 * (NULL after the last). */
static char *next_token(char **next) {
    char *tok = *next, *comma = strchr(tok, ',');
    if (comma) *comma = 0;
    *next = comma ? comma + 1 : NULL;
    while (isspace((unsigned char)*tok)) tok++;
    for (char *e = tok + strlen(tok); e > tok && isspace((unsigned char)e[-1]);) *--e = 0;
    for (char *p = tok; *p; p++) *p = (char)tolower((unsigned char)*p);
    return tok;
}

/* The kind whose token `tok` is, or LAYER_KINDS. */
static layer_kind kind_of(const char *tok) {
    for (int k = 0; k < LAYER_KINDS; k++) {
        const layer_type *t = &layer_types[k];
        size_t len = strlen(t->token);
        if (t->args ? strncmp(tok, t->token, len) == 0 : strcmp(tok, t->token) == 0) return (layer_kind)k;
    }
    return LAYER_KINDS;
}

/* "unknown layer (expected convNxK, relu, ... or softmax)" */
static void unknown_layer(char *why, size_t len) {
    int o = snprintf(why, len, "unknown layer (expected ");
    for (int k = 0; k < LAYER_KINDS && o > 0 && (size_t)o < len; k++)
        o += snprintf(why + o, len - (size_t)o, "%s%s", k == 0 ? "" : k + 1 < LAYER_KINDS ? ", " : " or ",
                      layer_types[k].form);
    if (o > 0 && (size_t)o < len) snprintf(why + o, len - (size_t)o, ")");
}

/* Parses token `pos` (from 1) for input (c, h, w) into *l; returns PARSED_BAD with the message in
 * err. t carries the model so far in and the canonical token out. */
static layer_parsed parse_token(layer *l, layer_token *t, const char *tok, int pos, int c, int h, int w, char *err,
                                size_t errlen) {
    if (!*tok) return token_error(err, errlen, pos, tok, "empty (two commas in a row, or a comma at an end)");
    if (t->prev && t->prev->kind == LAYER_SOFTMAX)
        return token_error(err, errlen, pos, tok, "nothing may follow softmax");
    layer_kind k = kind_of(tok);
    if (k == LAYER_KINDS) {
        char why[160];
        unknown_layer(why, sizeof why);
        return token_error(err, errlen, pos, tok, why);
    }
    memset(l, 0, sizeof *l);
    l->kind = k, l->pos = pos - 1;
    l->c = c, l->h = h, l->w = w, l->oc = c, l->oh = h, l->ow = w;
    t->args = tok + strlen(layer_types[k].token);
    snprintf(t->canon, sizeof t->canon, "%s", layer_types[k].token);
    layer_parsed r = layer_types[k].parse(l, t);
    return r == PARSED_BAD ? token_error(err, errlen, pos, tok, t->why) : r;
}

bool model_parse(const char *spec, int c, int h, int w, int classes, layer **layers, int *nlayers, char **canonical,
                 char *err, size_t errlen) {
    if (strcmp(spec, "seed") == 0) spec = MODEL_SEED;
    if (strcmp(spec, "seed-dropout") == 0) spec = MODEL_SEED_DROPOUT;
    char *copy = xstrdup(spec);
    /* A blank string has no tokens (it lacks the classifier), not one empty token. */
    char *next = copy[strspn(copy, " \t\n")] ? copy : NULL;
    strbuf canon = {0};
    layer *L = NULL;
    int n = 0, pos = 0, counts[LAYER_KINDS] = {0};
    layer_token t = {.classes = classes};
    layer_parsed r = PARSED_LAYER;
    while (next && r != PARSED_BAD) {
        char *tok = next_token(&next);
        layer l;
        t.prev = n ? &L[n - 1] : NULL;
        if ((r = parse_token(&l, &t, tok, ++pos, c, h, w, err, errlen)) == PARSED_BAD) break;
        sb_printf(&canon, "%s%s", canon.len ? "," : "", t.canon);
        /* A relu is numbered whether fused or not: a name never depends on whether the layer
         * before could compute it. */
        int k = counts[l.kind]++;
        if (r == PARSED_FUSED) continue;
        if (k)
            snprintf(l.name, sizeof l.name, "%s_%d", layer_types[l.kind].keras_name, k);
        else
            snprintf(l.name, sizeof l.name, "%s", layer_types[l.kind].keras_name);
        L = xrealloc(L, (size_t)(n + 1) * sizeof *L);
        L[n++] = l;
        c = l.oc, h = l.oh, w = l.ow;
    }
    if (r != PARSED_BAD && (n == 0 || L[n - 1].kind != LAYER_SOFTMAX)) {
        if (classes > 0)
            snprintf(err, errlen, "--model: '%s' must end with dense%d,softmax (the classifier)", spec, classes);
        else
            snprintf(err, errlen, "--model: '%s' must end with denseN,softmax (the classifier)", spec);
        r = PARSED_BAD;
    }
    free(copy);
    if (r == PARSED_BAD) {
        free(L);
        free(sb_take(&canon));
        return false;
    }
    *layers = L;
    *nlayers = n;
    *canonical = sb_take(&canon);
    return true;
}

layer *model_layers(const char *spec, int *nlayers, char **canonical) {
    layer *L;
    char *canon, err[512];
    if (!model_parse(spec, IMAGE_CHANNELS, IMAGE_SIDE, IMAGE_SIDE, NUM_CLASSES, &L, nlayers, &canon, err, sizeof err))
        die(EXIT_USAGE, "%s", err);
    if (canonical)
        *canonical = canon;
    else
        free(canon);
    return L;
}

int net_gemm_shapes(dense_gemm_shape *out, int max, const layer *L, int nl, int B) {
    int n = 0;
    bool params_below = false;
    for (int i = 0; i < nl && n + 3 <= max; i++) {
        if (L[i].kind == LAYER_DENSE) {
            size_t in = (size_t)L[i].c, o = (size_t)L[i].oc, b = (size_t)B;
            dense_gemm_shape *s = out + n;
            s[0] = (dense_gemm_shape){"", false, true, b, o, in};  /* y (B, OUT) = x W^T */
            s[1] = (dense_gemm_shape){"", true, false, o, in, b};  /* dW (OUT, IN) = dy^T x */
            s[2] = (dense_gemm_shape){"", false, false, b, in, o}; /* dx (B, IN) = dy W */
            snprintf(s[0].name, sizeof s[0].name, "%s forward", L[i].name);
            snprintf(s[1].name, sizeof s[1].name, "%s weight gradient", L[i].name);
            snprintf(s[2].name, sizeof s[2].name, "%s input gradient", L[i].name);
            n += params_below ? 3 : 2;
        }
        params_below |= L[i].params > 0;
    }
    return n;
}

/* ---- the network on the device ---------------------------------------------------------- */

net *net_create(clrt *rt, const char *spec, int c, int h, int w, int classes, int max_batch, const conv_tuning *ct) {
    net *n = xcalloc(1, sizeof *n);
    char err[512];
    if (!model_parse(spec, c, h, w, classes, &n->L, &n->nl, &n->spec, err, sizeof err)) die(EXIT_USAGE, "%s", err);
    n->rt = rt;
    n->in_c = c, n->in_h = h, n->in_w = w, n->classes = classes, n->max_batch = max_batch;

    /* Parameters: each tensor at an offset the device accepts for a sub-buffer. */
    size_t align = clrt_align_floats(rt), off = 0, biggest = layer_in_size(&n->L[0]);
    for (int i = 0; i < n->nl; i++) {
        layer *l = &n->L[i];
        if (layer_out_size(l) > biggest) biggest = layer_out_size(l);
        if (!l->params) continue;
        size_t nb = (size_t)l->oc, nw = (size_t)l->params - nb;
        l->w_off = off;
        off = (off + nw + align - 1) / align * align;
        l->b_off = off;
        off = (off + nb + align - 1) / align * align;
        n->param_count += l->params;
    }
    n->nparams = off;
    size_t pbytes = n->nparams * sizeof(float);
    n->params = clrt_alloc(rt, pbytes);
    n->grads = clrt_alloc(rt, pbytes);
    n->adam_m = clrt_alloc(rt, pbytes);
    n->adam_v = clrt_alloc(rt, pbytes);
    /* The padding between tensors is never written by a backward pass: zero once, it stays. */
    clrt_fill_zero(rt, n->grads, 0, pbytes);

    size_t B = (size_t)max_batch;
    n->x = clrt_alloc(rt, B * layer_in_size(&n->L[0]) * sizeof(float));
    n->labels = clrt_alloc(rt, B * sizeof(cl_int));
    n->gbuf[0] = clrt_alloc(rt, B * biggest * sizeof(float));
    n->gbuf[1] = clrt_alloc(rt, B * biggest * sizeof(float));

    act_init(&n->act, rt);
    pool_init(&n->pool, rt);
    dropout_init(&n->drop, rt);
    loss_init(&n->loss, rt, NULL);
    optim_init(&n->optim, rt);
    dense_init(&n->dense, rt, &n->act);
    conv_init(&n->conv, rt, ct);

    for (int i = 0; i < n->nl; i++) {
        layer *l = &n->L[i];
        snprintf(l->tag_fwd, sizeof l->tag_fwd, "%s forward", l->name);
        snprintf(l->tag_bwd, sizeof l->tag_bwd, "%s backward", l->name);
        if (l->params) {
            size_t nb = (size_t)l->oc, nw = (size_t)l->params - nb;
            l->weight = clrt_sub(n->params, l->w_off * sizeof(float), nw * sizeof(float));
            l->bias = clrt_sub(n->params, l->b_off * sizeof(float), nb * sizeof(float));
            l->dweight = clrt_sub(n->grads, l->w_off * sizeof(float), nw * sizeof(float));
            l->dbias = clrt_sub(n->grads, l->b_off * sizeof(float), nb * sizeof(float));
        }
        const layer_type *t = &layer_types[l->kind];
        if (t->own_output) l->out = clrt_alloc(rt, B * layer_out_size(l) * sizeof(float));
        if (t->make) t->make(n, l);
    }
    /* A max pooling's backward is done by the convolution below it, where that one can, while it
     * spreads its output gradient (conv_unpool): one pass over the full-size gradient fewer. */
    for (int i = 0; i + 1 < n->nl; i++) {
        layer *l = &n->L[i], *up = &n->L[i + 1];
        if (l->kind == LAYER_CONV && up->kind == LAYER_MAXPOOL && conv_unpools(&l->conv)) {
            l->unpool = (conv_unpool){up->arg, up->size};
            up->bwd_below = true;
        }
    }
    return n;
}

static void release(cl_mem m) {
    if (m) CL_CHECK(clReleaseMemObject(m));
}

void net_free(net *n) {
    if (!n) return;
    for (int i = 0; i < n->nl; i++) {
        layer *l = &n->L[i];
        cl_mem ms[] = {l->weight, l->bias, l->dweight, l->dbias, l->out, l->arg};
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) release(ms[j]);
        if (layer_types[l->kind].unmake) layer_types[l->kind].unmake(l);
    }
    act_release(&n->act);
    pool_release(&n->pool);
    dropout_release(&n->drop);
    loss_release(&n->loss);
    optim_release(&n->optim);
    dense_release(&n->dense);
    conv_release(&n->conv);
    cl_mem ms[] = {n->params, n->grads, n->adam_m, n->adam_v, n->x, n->labels, n->gbuf[0], n->gbuf[1]};
    for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) release(ms[j]);
    free(n->L);
    free(n->spec);
    free(n);
}

static void group_digits(char *buf, size_t len, long v) {
    char raw[32];
    snprintf(raw, sizeof raw, "%ld", v);
    size_t n = strlen(raw), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
}

void net_summary(const net *n, FILE *f) {
    const char *name = strcmp(n->spec, MODEL_SEED) == 0           ? "seed"
                       : strcmp(n->spec, MODEL_SEED_DROPOUT) == 0 ? "seed-dropout"
                                                                  : "custom";
    const char *rule = "_________________________________________________________________";
    fprintf(f, "Model: \"%s\"\n%s\n %-28s %-25s %s\n", name, rule, "Layer (type)", "Output Shape", "Param #");
    fprintf(f, "=================================================================\n");
    for (int i = 0; i < n->nl; i++) {
        const layer *l = &n->L[i];
        const layer_type *t = &layer_types[l->kind];
        /* Like Keras' activation= argument, the final softmax belongs to the row of the layer it
         * follows, as a fused relu does. */
        if (l->kind == LAYER_SOFTMAX) continue;
        bool softmax = i + 1 < n->nl && n->L[i + 1].kind == LAYER_SOFTMAX;
        char what[64], shape[40], params[24];
        snprintf(what, sizeof what, "%s (%s%s)", l->name, t->keras_class,
                 l->relu ? ", relu" : softmax ? ", softmax" : "");
        if (l->oh == 1 && l->ow == 1 && (t->shape == SHAPE_FLAT || (t->shape == SHAPE_AS_INPUT && l->h == 1)))
            snprintf(shape, sizeof shape, "(None, %d)", l->oc);
        else
            snprintf(shape, sizeof shape, "(None, %d, %d, %d)", l->oh, l->ow, l->oc);
        group_digits(params, sizeof params, l->params);
        fprintf(f, " %-31s %-22s %s\n", what, shape, params);
    }
    char total[24];
    group_digits(total, sizeof total, n->param_count);
    fprintf(f, "=================================================================\n"
               "Total params: %s\nTrainable params: %s\nNon-trainable params: 0\n%s\n",
            total, total, rule);
}

/* ---- parameters -------------------------------------------------------------------------------- */

void net_init_params(net *n, uint64_t seed) {
    float *p = xcalloc(n->nparams, sizeof *p);
    uint32_t tensor = 0;
    for (int i = 0; i < n->nl; i++) {
        const layer *l = &n->L[i];
        if (!l->params) continue;
        long nw = l->params - l->oc;
        /* Keras' fans: the kernel's inputs and outputs times its receptive field. */
        double receptive = layer_types[l->kind].kernel_rank == 4 ? (double)l->size * l->size : 1;
        double fan_in = (double)l->c * receptive, fan_out = (double)l->oc * receptive;
        double limit = sqrt(6.0 / (fan_in + fan_out));
        for (long j = 0; j < nw; j += 4) {
            philox4 r = claug_random4(seed, CLAUG_STREAM_INIT, tensor, (uint32_t)(j / 4), 0);
            for (long k = 0; k < 4 && j + k < nw; k++)
                p[l->w_off + (size_t)(j + k)] = (float)(limit * (2.0 * claug_uniform(r.v[k]) - 1.0));
        }
        tensor++;
    }
    net_write_params(n, p);
    net_reset_optimizer(n);
    free(p);
}

void net_read_params(net *n, float *host) { clrt_read(n->rt, n->params, 0, n->nparams * sizeof(float), host); }
void net_write_params(net *n, const float *host) { clrt_write(n->rt, n->params, 0, n->nparams * sizeof(float), host); }

void net_read_moments(net *n, float *m, float *v) {
    clrt_read(n->rt, n->adam_m, 0, n->nparams * sizeof(float), m);
    clrt_read(n->rt, n->adam_v, 0, n->nparams * sizeof(float), v);
}

void net_write_moments(net *n, const float *m, const float *v) {
    clrt_write(n->rt, n->adam_m, 0, n->nparams * sizeof(float), m);
    clrt_write(n->rt, n->adam_v, 0, n->nparams * sizeof(float), v);
}

void net_reset_optimizer(net *n) {
    n->step = 0;
    clrt_fill_zero(n->rt, n->adam_m, 0, n->nparams * sizeof(float));
    clrt_fill_zero(n->rt, n->adam_v, 0, n->nparams * sizeof(float));
}

/* ---- passes ---------------------------------------------------------------------------------- */

cl_mem net_forward(net *n, int B, bool train, uint64_t seed, uint32_t step) {
    layer_pass p = {B, train, seed, step};
    cl_mem cur = n->x;
    for (int i = 0; i < n->nl; i++) {
        layer *l = &n->L[i];
        const layer_type *t = &layer_types[l->kind];
        l->in = cur;
        if (t->forward) cur = t->forward(n, l, cur, &p);
        l->y = cur;
    }
    return cur;
}

/* The backward from the logits' gradient in n->gbuf[0]; fills n->grads. */
static void net_backward(net *n, int B, uint64_t seed, uint32_t step) {
    layer_pass p = {B, true, seed, step};
    int first_param = 0;
    while (first_param < n->nl && !n->L[first_param].params) first_param++;
    cl_mem g = n->gbuf[0];
    for (int i = n->nl - 1; i >= first_param; i--) {
        layer *l = &n->L[i];
        const layer_type *t = &layer_types[l->kind];
        cl_mem other = g == n->gbuf[0] ? n->gbuf[1] : n->gbuf[0];
        /* No input gradient below the first layer with parameters: nothing would use it. */
        if (t->backward) g = t->backward(n, l, i > first_param ? other : NULL, g, &p);
    }
}

void net_train_step(net *n, cl_mem losses, cl_mem correct, int first, int B, double lr, uint64_t seed) {
    uint32_t step = (uint32_t)n->step;
    cl_mem logits = net_forward(n, B, true, seed, step);
    softmax_xent(&n->loss, losses, correct, NULL, n->gbuf[0], logits, n->labels, first, B, n->classes, 1.0f / (float)B,
                 "softmax cross-entropy");
    net_backward(n, B, seed, step);
    n->step++;
    adam_step(&n->optim, n->params, n->adam_m, n->adam_v, n->grads, (int)n->nparams,
              adam_lr_t(lr, 0.9, 0.999, n->step), 0.9f, 0.999f, 1e-7f, "adam");
}

void net_predict_step(net *n, cl_mem losses, cl_mem correct, cl_mem predicted, int first, int B) {
    cl_mem logits = net_forward(n, B, false, 0, 0);
    softmax_xent(&n->loss, losses, correct, predicted, NULL, logits, n->labels, first, B, n->classes, 1.0f, "evaluate");
}

void net_eval_step(net *n, cl_mem losses, cl_mem correct, int first, int B) {
    net_predict_step(n, losses, correct, NULL, first, B);
}
