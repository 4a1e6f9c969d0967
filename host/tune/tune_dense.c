/* The dense layers' route in `claug tune`: the seed model's dense layers forward and backward as
 * 1x1 convolutions through the tuned convolution kernels (conv.dense = 1), or through CLBlast with
 * its tuned parameters and act.h's bias and ReLU kernels (dense.c; conv.dense = 0), as layer.c
 * runs either. Both routes are checked against the plain-C references, then timed in turns on the
 * tuner's driver (driver.h), each run whole between two markers: CLBlast's padding and
 * transposition kernels, and the gaps between launches, count as a training step pays them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/ops/act.h"
#include "claug/ops/conv.h"
#include "claug/runtime/timing.h"
#include "claug/tune/search.h"
#include "driver.h"

/* A Philox stream of this search's data. */
enum { TUNE_STREAM = 102 };

typedef struct {
    char name[32];
    int IN, OUT, relu;
    tune_layer_io io;
} dense_case;

struct tune_dense_problem {
    clrt *rt;
    int B, nl;
    dense_case L[TUNE_MAX_LAYERS];
    act_kernels act;
    dense_ctx dense;
    clrt_timer timer;
    /* The convolution route under the tuning being judged (tune_dense). */
    conv_ctx conv;
    conv_layer cl[TUNE_MAX_LAYERS];
    bool conv_built;
    char conv_why[512];
};

typedef struct {
    const dense_case *c;
    int B;
} dense_reference;

/* The reference masks its dy in place, and the device gets it masked: dense_backward's mask, and
 * the 1x1 convolution's, change it no further, so the routes may take turns on it. */
static void reference(void *ctx, tune_layer_io *io, const float *x, const float *w, const float *b, float *dy) {
    const dense_reference *r = ctx;
    const dense_case *c = r->c;
    ref_dense_forward(io->ry, x, w, b, r->B, c->IN, c->OUT, c->relu);
    ref_dense_backward(io->rdx, io->rdw, io->rdb, dy, x, w, io->ry, r->B, c->IN, c->OUT, c->relu);
}

static void case_init(clrt *rt, dense_case *c, bool need_dx, int B, uint64_t seed, uint32_t layer) {
    const size_t n[TUNE_NIO] = {[TUNE_X] = (size_t)B * c->IN,
                                [TUNE_W] = (size_t)c->OUT * c->IN,
                                [TUNE_B] = (size_t)c->OUT,
                                [TUNE_Y] = (size_t)B * c->OUT};
    tune_layer_io_init(rt, &c->io, need_dx, n, c->IN + c->OUT, seed, TUNE_STREAM, layer, reference,
                       &(dense_reference){c, B});
}

tune_dense_problem *tune_dense_problem_new(clrt *rt, const layer *L, int nl, int batch, uint64_t seed) {
    tune_dense_problem *p = xcalloc(1, sizeof *p);
    p->rt = rt;
    p->B = batch;
    bool params_below = false;
    for (int i = 0; i < nl && p->nl < TUNE_MAX_LAYERS; i++) {
        if (L[i].kind == LAYER_DENSE) {
            dense_case *c = &p->L[p->nl];
            snprintf(c->name, sizeof c->name, "%s", L[i].name);
            c->IN = L[i].c, c->OUT = L[i].oc, c->relu = L[i].relu;
            case_init(rt, c, params_below, batch, seed, (uint32_t)p->nl);
            p->nl++;
        }
        params_below |= L[i].params > 0;
    }
    act_init(&p->act, rt);
    dense_init(&p->dense, rt, &p->act);
    clrt_timer_init(&p->timer, rt);
    return p;
}

float *tune_dense_reference(tune_dense_problem *p, int i) { return i >= 0 && i < p->nl ? p->L[i].io.ry : NULL; }

static void close_conv(tune_dense_problem *p) {
    for (int i = 0; i < p->nl && p->conv_built; i++) conv_layer_release(&p->cl[i]);
    if (p->conv_built) conv_release(&p->conv);
    p->conv_built = false;
}

void tune_dense_problem_free(tune_dense_problem *p) {
    close_conv(p);
    for (int i = 0; i < p->nl; i++) tune_layer_io_release(&p->L[i].io);
    clrt_timer_release(&p->timer);
    dense_release(&p->dense);
    act_release(&p->act);
    free(p);
}

/* ---- the two routes ----------------------------------------------------------------------------- */

typedef struct {
    tune_dense_problem *p;
    int route; /* ROUTE_CONV or ROUTE_GEMM */
} route_run;

/* Every dense layer forward and backward, as a training step runs them (layer.c). */
static void run_route(void *ctx) {
    route_run *r = ctx;
    tune_dense_problem *p = r->p;
    for (int i = 0; i < p->nl; i++) {
        const dense_case *c = &p->L[i];
        const tune_layer_io *k = &c->io;
        cl_mem dx = k->need_dx ? k->dx : NULL;
        if (r->route == ROUTE_CONV) {
            conv_forward(&p->conv, &p->cl[i], k->y, k->x, k->w, k->b, p->B);
            conv_backward(&p->conv, &p->cl[i], dx, k->dw, k->db, k->dy, k->x, k->yref, NULL, p->B);
        } else {
            dense_forward(&p->dense, k->y, k->x, k->w, k->b, p->B, c->IN, c->OUT, c->relu, "tune");
            dense_backward(&p->dense, dx, k->dw, k->db, k->dy, k->x, k->w, k->yref, p->B, c->IN, c->OUT, c->relu,
                           "tune");
        }
    }
}

static bool check_route(void *ctx, int i, double *worst, char *why, size_t len) {
    tune_dense_problem *p = ctx;
    if (i == ROUTE_CONV && !p->conv_built) {
        snprintf(why, len, "%s", p->conv_why);
        return false;
    }
    for (int l = 0; l < p->nl; l++) tune_layer_io_poison(p->rt, &p->L[l].io);
    run_route(&(route_run){p, i});
    for (int l = 0; l < p->nl; l++) {
        tune_io_errors e = tune_layer_io_errors(p->rt, &p->L[l].io);
        worst[0] = fmax(worst[0], fmax(fmax(e.y, e.dx), fmax(e.dw, e.db)));
    }
    return true;
}

static bool time_route(void *ctx, int i, double *t) {
    tune_dense_problem *p = ctx;
    t[0] = clrt_timer_bracket(&p->timer, run_route, &(route_run){p, i});
    return true;
}

int tune_dense_choice(int def, const bool ok[NROUTES], const double t[NROUTES]) {
    int other = def == ROUTE_CONV ? ROUTE_GEMM : ROUTE_CONV;
    if (!ok[other]) return def;
    if (!ok[def] || t[other] < TUNE_KEEP_MARGIN * t[def]) return other;
    return def;
}

void tune_dense(tune_dense_problem *p, const conv_tuning *t, const tune_config *cfg, dense_tune_result *r) {
    memset(r, 0, sizeof *r);
    conv_tuning def;
    conv_tuning_default(&def, p->rt);
    r->before = r->after = def.dense;
    r->nlayers = p->nl;
    if (p->nl == 0) return;
    p->conv_built = conv_build(&p->conv, p->rt, t, p->conv_why, sizeof p->conv_why);
    for (int i = 0; i < p->nl && p->conv_built; i++) {
        dense_case *k = &p->L[i];
        conv_layer_init(&p->conv, &p->cl[i], k->IN, 1, 1, k->OUT, 1, k->relu, k->name, p->B);
    }
    tune_search s = {.ctx = p,
                     .nvalues = 1,
                     .nparts = 1,
                     .part_of = (const int[]){0},
                     .turn_runs = 1,
                     .check = check_route,
                     .time = time_route};
    tune_trial tr[NROUTES];
    r->rounds = tune_final_rounds(cfg->rounds);
    tune_measure(&s, NROUTES, r->rounds, tr);
    for (int i = 0; i < NROUTES; i++) {
        r->ok[i] = tr[i].ok[0] && !tr[i].dropped;
        r->t[i] = r->ok[i] ? tr[i].total : 0;
        r->worst[i] = tr[i].worst;
        snprintf(r->why[i], sizeof r->why[i], "%s", tr[i].why);
    }
    tune_trials_free(tr, NROUTES);
    close_conv(p);
    r->after = tune_dense_choice(r->before, r->ok, r->t);
}
