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
    bool need_dx;                /* false for the first layer with parameters, as in training */
    cl_mem x, w, b, dy, yref;    /* inputs; yref the reference's output, read by the ReLU mask */
    cl_mem y, dx, dw, db;        /* outputs */
    float *ry, *rdx, *rdw, *rdb; /* the references' outputs */
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

static void case_init(clrt *rt, dense_case *c, int B, uint64_t seed, uint32_t layer) {
    size_t nx = (size_t)B * c->IN, nw = (size_t)c->OUT * c->IN, ny = (size_t)B * c->OUT;
    float *x = xmalloc(nx * sizeof *x), *w = xmalloc(nw * sizeof *w), *b = xmalloc((size_t)c->OUT * sizeof *b),
          *dy = xmalloc(ny * sizeof *dy);
    tune_layer_inputs(x, nx, w, nw, b, (size_t)c->OUT, dy, ny, c->IN + c->OUT, seed, TUNE_STREAM, layer);
    c->ry = xmalloc(ny * sizeof(float));
    c->rdx = c->need_dx ? xmalloc(nx * sizeof(float)) : NULL;
    c->rdw = xmalloc(nw * sizeof(float));
    c->rdb = xmalloc((size_t)c->OUT * sizeof(float));
    ref_dense_forward(c->ry, x, w, b, B, c->IN, c->OUT, c->relu);
    c->dy = tune_upload(rt, dy, ny);
    /* The reference masks its dy in place, as dense_backward does the device's (idempotently: the
     * routes may take turns on the same dy). */
    ref_dense_backward(c->rdx, c->rdw, c->rdb, dy, x, w, c->ry, B, c->IN, c->OUT, c->relu);
    c->x = tune_upload(rt, x, nx);
    c->w = tune_upload(rt, w, nw);
    c->b = tune_upload(rt, b, (size_t)c->OUT);
    c->yref = tune_upload(rt, c->ry, ny);
    c->y = clrt_alloc(rt, ny * sizeof(float));
    c->dx = clrt_alloc(rt, nx * sizeof(float));
    c->dw = clrt_alloc(rt, nw * sizeof(float));
    c->db = clrt_alloc(rt, (size_t)c->OUT * sizeof(float));
    free(x), free(w), free(b), free(dy);
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
            c->IN = L[i].c, c->OUT = L[i].oc, c->relu = L[i].relu, c->need_dx = params_below;
            case_init(rt, c, batch, seed, (uint32_t)p->nl);
            p->nl++;
        }
        params_below |= L[i].params > 0;
    }
    act_init(&p->act, rt);
    dense_init(&p->dense, rt, &p->act);
    clrt_timer_init(&p->timer, rt);
    return p;
}

float *tune_dense_reference(tune_dense_problem *p, int i) { return i >= 0 && i < p->nl ? p->L[i].ry : NULL; }

static void close_conv(tune_dense_problem *p) {
    for (int i = 0; i < p->nl && p->conv_built; i++) conv_layer_release(&p->cl[i]);
    if (p->conv_built) conv_release(&p->conv);
    p->conv_built = false;
}

void tune_dense_problem_free(tune_dense_problem *p) {
    close_conv(p);
    for (int i = 0; i < p->nl; i++) {
        dense_case *c = &p->L[i];
        cl_mem ms[] = {c->x, c->w, c->b, c->dy, c->yref, c->y, c->dx, c->dw, c->db};
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) CL_CHECK(clReleaseMemObject(ms[j]));
        free(c->ry), free(c->rdx), free(c->rdw), free(c->rdb);
    }
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
        dense_case *k = &p->L[i];
        cl_mem dx = k->need_dx ? k->dx : NULL;
        if (r->route == ROUTE_CONV) {
            conv_forward(&p->conv, &p->cl[i], k->y, k->x, k->w, k->b, p->B);
            conv_backward(&p->conv, &p->cl[i], dx, k->dw, k->db, k->dy, k->x, k->yref, NULL, p->B);
        } else {
            dense_forward(&p->dense, k->y, k->x, k->w, k->b, p->B, k->IN, k->OUT, k->relu, "tune");
            dense_backward(&p->dense, dx, k->dw, k->db, k->dy, k->x, k->w, k->yref, p->B, k->IN, k->OUT, k->relu,
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
    for (int l = 0; l < p->nl; l++) {
        dense_case *k = &p->L[l];
        tune_poison(p->rt, k->y, (size_t)p->B * k->OUT, NAN), tune_poison(p->rt, k->dx, (size_t)p->B * k->IN, NAN);
        tune_poison(p->rt, k->dw, (size_t)k->OUT * k->IN, NAN), tune_poison(p->rt, k->db, (size_t)k->OUT, NAN);
    }
    run_route(&(route_run){p, i});
    for (int l = 0; l < p->nl; l++) {
        dense_case *k = &p->L[l];
        worst[0] = fmax(worst[0], tune_worst_error(p->rt, k->y, k->ry, (size_t)p->B * k->OUT));
        if (k->need_dx) worst[0] = fmax(worst[0], tune_worst_error(p->rt, k->dx, k->rdx, (size_t)p->B * k->IN));
        worst[0] = fmax(worst[0], tune_worst_error(p->rt, k->dw, k->rdw, (size_t)k->OUT * k->IN));
        worst[0] = fmax(worst[0], tune_worst_error(p->rt, k->db, k->rdb, (size_t)k->OUT));
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
