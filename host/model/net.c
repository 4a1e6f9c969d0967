#define _POSIX_C_SOURCE 200809L
#include "claug/model/net.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "claug/data/dataset.h"
#include "philox.h"

/* ---- the model string ------------------------------------------------------------------- */

static const char *keras_name(layer_kind k) {
    switch (k) {
    case LAYER_CONV: return "conv2d";
    case LAYER_RELU: return "activation";
    case LAYER_MAXPOOL: return "max_pooling2d";
    case LAYER_DROPOUT: return "dropout";
    case LAYER_FLATTEN: return "flatten";
    case LAYER_DENSE: return "dense";
    case LAYER_SOFTMAX: return "softmax";
    }
    return "?";
}

static bool token_error(char *err, size_t len, int pos, const char *tok, const char *why) {
    snprintf(err, len, "--model: token %d '%s': %s", pos, tok, why);
    return false;
}

bool model_parse(const char *spec, int c, int h, int w, int classes, layer **layers, int *nlayers, char **canonical,
                 char *err, size_t errlen) {
    if (strcmp(spec, "seed") == 0) spec = MODEL_SEED;
    if (strcmp(spec, "seed-dropout") == 0) spec = MODEL_SEED_DROPOUT;
    char *copy = xstrdup(spec);
    /* A blank string has no tokens (it lacks the classifier), not one empty token. */
    char *next = copy[strspn(copy, " \t\n")] ? copy : NULL;
    size_t cap = strlen(spec) + 2, used = 0;
    char *canon = xcalloc(cap + 64, 1);
    layer *L = NULL;
    int n = 0, pos = 0, counts[LAYER_SOFTMAX + 1] = {0};
    bool ok = true, flat = false;
    while (next && ok) {
        char *tok = next, *comma = strchr(tok, ',');
        if (comma) *comma = 0;
        next = comma ? comma + 1 : NULL;
        pos++;
        while (isspace((unsigned char)*tok)) tok++;
        for (char *e = tok + strlen(tok); e > tok && isspace((unsigned char)e[-1]);) *--e = 0;
        if (!*tok) {
            ok = token_error(err, errlen, pos, tok, "empty (two commas in a row, or a comma at an end)");
            break;
        }
        for (char *p = tok; *p; p++) *p = (char)tolower((unsigned char)*p);
        layer l;
        memset(&l, 0, sizeof l);
        l.c = c, l.h = h, l.w = w, l.oc = c, l.oh = h, l.ow = w;
        char canon_tok[64];
        if (n > 0 && L[n - 1].kind == LAYER_SOFTMAX) {
            ok = token_error(err, errlen, pos, tok, "nothing may follow softmax");
        } else if (strncmp(tok, "conv", 4) == 0) {
            const char *x = strchr(tok + 4, 'x');
            char filters[16] = "";
            if (x && (size_t)(x - tok - 4) < sizeof filters) memcpy(filters, tok + 4, (size_t)(x - tok - 4));
            int f, k;
            if (!x || !parse_int(filters, 1, 4096, &f) || !parse_int(x + 1, 1, 64, &k))
                ok = token_error(err, errlen, pos, tok, "expected convNxK (N filters of K x K, e.g. conv32x3)");
            else if (flat)
                ok = token_error(err, errlen, pos, tok, "a convolution cannot follow flatten or dense");
            else if (k > h || k > w) {
                char why[128];
                snprintf(why, sizeof why, "a %dx%d kernel does not fit the %dx%d input", k, k, h, w);
                ok = token_error(err, errlen, pos, tok, why);
            } else {
                l.kind = LAYER_CONV, l.size = k, l.oc = f, l.oh = h - k + 1, l.ow = w - k + 1;
                l.params = (long)f * c * k * k + f;
                snprintf(canon_tok, sizeof canon_tok, "conv%dx%d", f, k);
            }
        } else if (strcmp(tok, "relu") == 0) {
            l.kind = LAYER_RELU;
            snprintf(canon_tok, sizeof canon_tok, "relu");
            if (n > 0 && (L[n - 1].kind == LAYER_CONV || L[n - 1].kind == LAYER_DENSE) && !L[n - 1].relu) {
                L[n - 1].relu = true;
                l.fused = true;
            }
        } else if (strncmp(tok, "maxpool", 7) == 0) {
            int s;
            /* The argmax is kept in a byte: windows up to 15 x 15. */
            if (!parse_int(tok + 7, 1, 15, &s))
                ok = token_error(err, errlen, pos, tok, "expected maxpoolS with a window S of 1 to 15 (e.g. maxpool2)");
            else if (flat)
                ok = token_error(err, errlen, pos, tok, "pooling cannot follow flatten or dense");
            else if (s > h || s > w) {
                char why[128];
                snprintf(why, sizeof why, "a %dx%d window does not fit the %dx%d input", s, s, h, w);
                ok = token_error(err, errlen, pos, tok, why);
            } else {
                l.kind = LAYER_MAXPOOL, l.size = s, l.oh = h / s, l.ow = w / s;
                snprintf(canon_tok, sizeof canon_tok, "maxpool%d", s);
            }
        } else if (strncmp(tok, "dropout", 7) == 0) {
            double r;
            float rf = 0;
            /* The rate is used as a float, and one that rounds to 1 would scale the kept units by
             * infinity; the canonical token must give that float back (eval parses it again). */
            if (!parse_double(tok + 7, &r) || !(r >= 0 && r < 1 && (rf = (float)r) < 1))
                ok = token_error(err, errlen, pos, tok, "expected dropoutR with a rate 0 <= R < 1 (e.g. dropout0.25)");
            else {
                l.kind = LAYER_DROPOUT, l.rate = rf;
                /* The shortest digits that give the float back (9 always do). */
                for (int digits = 6; digits <= 9; digits++) {
                    snprintf(canon_tok, sizeof canon_tok, "dropout%.*g", digits, (double)rf);
                    if ((float)strtod(canon_tok + 7, NULL) == rf) break;
                }
            }
        } else if (strcmp(tok, "flatten") == 0) {
            l.kind = LAYER_FLATTEN, l.oc = c * h * w, l.oh = l.ow = 1;
            flat = true;
            snprintf(canon_tok, sizeof canon_tok, "flatten");
        } else if (strncmp(tok, "dense", 5) == 0) {
            int units;
            if (!parse_int(tok + 5, 1, 65536, &units))
                ok = token_error(err, errlen, pos, tok, "expected denseN with N units (e.g. dense128)");
            else {
                /* Dense takes the flattened input, as after Keras' Flatten. */
                l.kind = LAYER_DENSE, l.size = units, l.c = c * h * w, l.h = l.w = 1, l.oc = units, l.oh = l.ow = 1;
                l.params = (long)units * l.c + units;
                flat = true;
                snprintf(canon_tok, sizeof canon_tok, "dense%d", units);
            }
        } else if (strcmp(tok, "softmax") == 0) {
            if (n == 0 || L[n - 1].kind != LAYER_DENSE || L[n - 1].size != classes || L[n - 1].relu) {
                char why[128];
                snprintf(why, sizeof why, "softmax must follow the output layer dense%d (one unit per class)", classes);
                ok = token_error(err, errlen, pos, tok, why);
            } else {
                l.kind = LAYER_SOFTMAX;
                snprintf(canon_tok, sizeof canon_tok, "softmax");
            }
        } else {
            ok = token_error(err, errlen, pos, tok,
                             "unknown layer (expected convNxK, relu, maxpoolS, dropoutR, flatten, denseN or softmax)");
        }
        if (!ok) break;
        int k = counts[l.kind]++;
        if (k)
            snprintf(l.name, sizeof l.name, "%s_%d", keras_name(l.kind), k);
        else
            snprintf(l.name, sizeof l.name, "%s", keras_name(l.kind));
        L = xrealloc(L, (size_t)(n + 1) * sizeof *L);
        L[n++] = l;
        c = l.oc, h = l.oh, w = l.ow;
        used += (size_t)snprintf(canon + used, cap + 64 - used, "%s%s", used ? "," : "", canon_tok);
        if (used + 64 > cap) canon = xrealloc(canon, (cap = 2 * cap + 64) + 64);
    }
    if (ok && (n == 0 || L[n - 1].kind != LAYER_SOFTMAX)) {
        snprintf(err, errlen, "--model: '%s' must end with dense%d,softmax (the classifier)", spec, classes);
        ok = false;
    }
    free(copy);
    if (!ok) {
        free(L);
        free(canon);
        return false;
    }
    *layers = L;
    *nlayers = n;
    *canonical = canon;
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

static size_t out_size(const layer *l) { return (size_t)l->oc * l->oh * l->ow; }
static size_t in_size(const layer *l) { return (size_t)l->c * l->h * l->w; }

net *net_create(clrt *rt, const char *spec, int c, int h, int w, int classes, int max_batch, const conv_tuning *ct) {
    net *n = xcalloc(1, sizeof *n);
    char err[512];
    if (!model_parse(spec, c, h, w, classes, &n->L, &n->nl, &n->spec, err, sizeof err)) die(EXIT_USAGE, "%s", err);
    n->rt = rt;
    n->in_c = c, n->in_h = h, n->in_w = w, n->classes = classes, n->max_batch = max_batch;

    /* Parameters: each tensor at an offset the device accepts for a sub-buffer. */
    size_t align = clrt_align_floats(rt), off = 0, biggest = in_size(&n->L[0]);
    for (int i = 0; i < n->nl; i++) {
        layer *l = &n->L[i];
        if (out_size(l) > biggest) biggest = out_size(l);
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
    n->x = clrt_alloc(rt, B * in_size(&n->L[0]) * sizeof(float));
    n->labels = clrt_alloc(rt, B * sizeof(cl_int));
    n->gbuf[0] = clrt_alloc(rt, B * biggest * sizeof(float));
    n->gbuf[1] = clrt_alloc(rt, B * biggest * sizeof(float));

    act_init(&n->act, rt, "");
    pool_init(&n->pool, rt, "");
    dropout_init(&n->drop, rt, "");
    loss_init(&n->loss, rt, "");
    optim_init(&n->optim, rt, "");
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
        if (l->kind == LAYER_CONV || l->kind == LAYER_MAXPOOL || l->kind == LAYER_DROPOUT || l->kind == LAYER_DENSE)
            l->out = clrt_alloc(rt, B * out_size(l) * sizeof(float));
        if (l->kind == LAYER_MAXPOOL) l->arg = clrt_alloc(rt, B * out_size(l));
        if (l->kind == LAYER_CONV) conv_layer_init(&n->conv, &l->conv, l->c, l->h, l->w, l->oc, l->size, l->relu, l->name, max_batch);
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
        if (l->kind == LAYER_CONV) conv_layer_release(&l->conv);
    }
    cl_mem ms[] = {n->params, n->grads, n->adam_m, n->adam_v, n->x, n->labels, n->gbuf[0], n->gbuf[1]};
    for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) release(ms[j]);
    act_release(&n->act);
    pool_release(&n->pool);
    dropout_release(&n->drop);
    loss_release(&n->loss);
    optim_release(&n->optim);
    dense_release(&n->dense);
    conv_release(&n->conv);
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
    static const char *types[] = {"Conv2D", "Activation", "MaxPooling2D", "Dropout", "Flatten", "Dense", "Softmax"};
    for (int i = 0; i < n->nl; i++) {
        const layer *l = &n->L[i];
        /* Like Keras' activation= argument, a fused relu and the final softmax belong to the
         * row of the layer they follow. */
        if (l->fused || l->kind == LAYER_SOFTMAX) continue;
        bool softmax = i + 1 < n->nl && n->L[i + 1].kind == LAYER_SOFTMAX;
        char what[64], shape[40], params[24];
        snprintf(what, sizeof what, "%s (%s%s)", l->name, types[l->kind], l->relu ? ", relu" : softmax ? ", softmax" : "");
        if (l->oh == 1 && l->ow == 1 && (l->kind == LAYER_DENSE || l->kind == LAYER_FLATTEN ||
                                         (l->kind != LAYER_CONV && l->kind != LAYER_MAXPOOL && l->h == 1)))
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
        double fan_in, fan_out;
        if (l->kind == LAYER_CONV)
            fan_in = (double)l->c * l->size * l->size, fan_out = (double)l->oc * l->size * l->size;
        else
            fan_in = (double)l->c, fan_out = (double)l->oc;
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

void net_reset_optimizer(net *n) {
    clrt_fill_zero(n->rt, n->adam_m, 0, n->nparams * sizeof(float));
    clrt_fill_zero(n->rt, n->adam_v, 0, n->nparams * sizeof(float));
}

/* ---- passes ---------------------------------------------------------------------------------- */

cl_mem net_forward(net *n, int B, bool train, uint64_t seed, uint32_t step) {
    cl_mem cur = n->x;
    for (int i = 0; i < n->nl; i++) {
        layer *l = &n->L[i];
        l->in = cur;
        int count = B * (int)out_size(l);
        switch (l->kind) {
        case LAYER_CONV:
            conv_forward(&n->conv, &l->conv, l->out, cur, l->weight, l->bias, B);
            cur = l->out;
            break;
        case LAYER_RELU:
            if (!l->fused) relu_forward(&n->act, cur, cur, count, l->tag_fwd);
            break;
        case LAYER_MAXPOOL:
            pool_forward(&n->pool, l->out, l->arg, cur, B, l->c, l->h, l->w, l->size, l->tag_fwd);
            cur = l->out;
            break;
        case LAYER_DROPOUT:
            if (train && l->rate > 0) {
                dropout_forward(&n->drop, l->out, cur, count, l->rate, seed, step, (uint32_t)i, l->tag_fwd);
                cur = l->out;
            }
            break;
        case LAYER_DENSE:
            dense_forward(&n->dense, l->out, cur, l->weight, l->bias, B, l->c, l->oc, l->relu, l->tag_fwd);
            cur = l->out;
            break;
        case LAYER_FLATTEN:
        case LAYER_SOFTMAX: break;
        }
        l->y = cur;
    }
    return cur;
}

void net_backward(net *n, int B, uint64_t seed, uint32_t step) {
    int first_param = 0;
    while (first_param < n->nl && !n->L[first_param].params) first_param++;
    cl_mem g = n->gbuf[0];
    for (int i = n->nl - 1; i >= first_param; i--) {
        layer *l = &n->L[i];
        cl_mem other = g == n->gbuf[0] ? n->gbuf[1] : n->gbuf[0];
        /* No input gradient below the first layer with parameters: nothing would use it. */
        cl_mem dx = i > first_param ? other : NULL;
        int count = B * (int)out_size(l);
        switch (l->kind) {
        case LAYER_CONV:
            conv_backward(&n->conv, &l->conv, dx, l->dweight, l->dbias, g, l->in, l->y, B);
            g = other;
            break;
        case LAYER_RELU:
            if (!l->fused) relu_backward(&n->act, g, g, l->y, count, l->tag_bwd);
            break;
        case LAYER_MAXPOOL:
            pool_backward(&n->pool, other, g, l->arg, B, l->c, l->h, l->w, l->size, l->tag_bwd);
            g = other;
            break;
        case LAYER_DROPOUT:
            if (l->rate > 0) dropout_backward(&n->drop, g, g, count, l->rate, seed, step, (uint32_t)i, l->tag_bwd);
            break;
        case LAYER_DENSE:
            dense_backward(&n->dense, dx, l->dweight, l->dbias, g, l->in, l->weight, l->y, B, l->c, l->oc, l->relu,
                           l->tag_bwd);
            g = other;
            break;
        case LAYER_FLATTEN:
        case LAYER_SOFTMAX: break;
        }
    }
}

void net_adam(net *n, double lr, long t) {
    adam_step(&n->optim, n->params, n->adam_m, n->adam_v, n->grads, (int)n->nparams, adam_lr_t(lr, 0.9, 0.999, t),
              0.9f, 0.999f, 1e-7f, "adam");
}
