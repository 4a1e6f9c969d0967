/* The convolution search of `claug tune`: the seed model's convolution layers with seeded data and
 * their plain-C references, on the tuner's driver (driver.h): candidates checked on NaN-poisoned
 * outputs, then timed round-robin by OpenCL profiling events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/model/net.h"
#include "claug/ops/pool.h"
#include "claug/tune/search.h"
#include "driver.h"

/* A Philox stream of the tuner's own data. */
enum { TUNE_STREAM = 101 };

typedef struct {
    char name[32];
    int CI, H, W, CO, K, relu;
    bool px; /* takes the pixel-vector kernels with the default tap limit */
    int S;   /* the max pooling's window right above the layer, 0 for none */
    tune_layer_io io; /* with S, io.dy is the pooling's backward of dyp */
    cl_mem dyp;       /* (B, CO, OH/S, OW/S) with S: the gradient of the pooling's output */
    cl_mem arg;       /* (B, CO, OH/S, OW/S) uchar with S: the pooling's argmax of the reference's y */
} conv_case;

struct tune_conv_problem {
    clrt *rt;
    int B, nl;
    conv_case L[TUNE_MAX_LAYERS];
};

typedef struct {
    const conv_case *c;
    int B;
    size_t np;    /* with S: B * CO * (OH/S) * (OW/S), the pooling's outputs */
    float *dyp;   /* (np) */
    uint8_t *arg; /* (np) */
} conv_reference;

/* With a pooling above, training hands the layer the pooling's gradient and argmax (conv_unpool),
 * or, where the layer cannot take them, their backward: dy is made so, from the first of its
 * draws, and both forms give the same references. */
static void reference(void *ctx, tune_layer_io *io, const float *x, const float *w, const float *b, float *dy) {
    conv_reference *r = ctx;
    const conv_case *c = r->c;
    int OH = c->H - c->K + 1, OW = c->W - c->K + 1;
    ref_conv_forward(io->ry, x, w, b, r->B, c->CI, c->H, c->W, c->CO, c->K, c->relu);
    if (c->S) {
        float *yp = xmalloc(r->np * sizeof *yp);
        r->dyp = xmalloc(r->np * sizeof *r->dyp);
        r->arg = xmalloc(r->np);
        ref_pool_forward(yp, r->arg, io->ry, r->B, c->CO, OH, OW, c->S);
        memcpy(r->dyp, dy, r->np * sizeof *dy);
        ref_pool_backward(dy, r->dyp, r->arg, r->B, c->CO, OH, OW, c->S);
        free(yp);
    }
    ref_conv_backward(io->rdx, io->rdw, io->rdb, dy, x, w, io->ry, r->B, c->CI, c->H, c->W, c->CO, c->K, c->relu);
}

static void case_init(clrt *rt, conv_case *c, bool need_dx, int B, uint64_t seed, uint32_t layer) {
    int KK = c->K * c->K, OH = c->H - c->K + 1, OW = c->W - c->K + 1;
    const size_t n[TUNE_NIO] = {[TUNE_X] = (size_t)B * c->CI * c->H * c->W,
                                [TUNE_W] = (size_t)c->CO * c->CI * KK,
                                [TUNE_B] = (size_t)c->CO,
                                [TUNE_Y] = (size_t)B * c->CO * OH * OW};
    conv_reference r = {c, B, c->S ? (size_t)B * c->CO * (OH / c->S) * (OW / c->S) : 0, NULL, NULL};
    tune_layer_io_init(rt, &c->io, need_dx, n, (c->CI + c->CO) * KK, seed, TUNE_STREAM, layer, reference, &r);
    if (c->S) {
        c->dyp = tune_upload(rt, r.dyp, r.np);
        c->arg = clrt_alloc(rt, r.np);
        clrt_write(rt, c->arg, 0, r.np, r.arg);
    }
    free(r.dyp), free(r.arg);
}

tune_conv_problem *tune_conv_problem_new(clrt *rt, const layer *L, int nl, int batch, uint64_t seed,
                                         bool with_dense) {
    tune_conv_problem *p = xcalloc(1, sizeof *p);
    p->rt = rt;
    p->B = batch;
    bool params_below = false;
    conv_tuning def;
    conv_tuning_default(&def, rt);
    for (int i = 0; i < nl && p->nl < TUNE_MAX_LAYERS; i++) {
        /* The dense layers too where they are 1x1 convolutions (layer.c). */
        bool conv = L[i].kind == LAYER_CONV, dense = L[i].kind == LAYER_DENSE && with_dense;
        if (conv || dense) {
            conv_case *c = &p->L[p->nl];
            snprintf(c->name, sizeof c->name, "%s", L[i].name);
            c->CI = L[i].c, c->H = L[i].h, c->W = L[i].w, c->CO = L[i].oc, c->K = L[i].size, c->relu = L[i].relu;
            if (dense) c->K = 1;
            c->px = conv_takes_px(&def, c->CI, c->W, c->K);
            c->S = conv && i + 1 < nl && L[i + 1].kind == LAYER_MAXPOOL ? L[i + 1].size : 0;
            case_init(rt, c, params_below, batch, seed, (uint32_t)p->nl);
            p->nl++;
        }
        params_below |= L[i].params > 0;
    }
    return p;
}

void tune_conv_problem_free(tune_conv_problem *p) {
    for (int i = 0; i < p->nl; i++) {
        conv_case *c = &p->L[i];
        tune_layer_io_release(&c->io);
        if (c->S) {
            CL_CHECK(clReleaseMemObject(c->dyp));
            CL_CHECK(clReleaseMemObject(c->arg));
        }
    }
    free(p);
}

/* ---- one candidate ------------------------------------------------------------------------------ */

typedef struct {
    conv_tuning t;
    conv_ctx ctx;
    conv_layer layer[TUNE_MAX_LAYERS];
    bool built;
    char why[512]; /* why it did not build */
    /* Values per layer: forward, input gradient, weight gradient; parts: see PART_* below. */
    tune_trial r;
} candidate;

/* The kernels a candidate's times and checks fall to, each judged on its own: the register
 * tiles' forward (forward and input gradient) and weight gradient, and the pixel-vector
 * kernels' (the layers with few taps; their input gradient is the register tiles' forward). */
enum { PART_FWD, PART_DW, PART_PXF, PART_PXW, NPARTS };

static int part_fwd(const conv_case *k) { return k->px ? PART_PXF : PART_FWD; }
static int part_dw(const conv_case *k) { return k->px ? PART_PXW : PART_DW; }

/* A candidate that does not build is kept, unbuilt, to be rejected with its reason. */
static void open_candidate(tune_conv_problem *p, candidate *c, const conv_tuning *t) {
    memset(c, 0, sizeof *c);
    c->t = *t;
    c->built = conv_build(&c->ctx, p->rt, t, c->why, sizeof c->why);
    for (int i = 0; i < p->nl && c->built; i++) {
        conv_case *k = &p->L[i];
        conv_layer_init(&c->ctx, &c->layer[i], k->CI, k->H, k->W, k->CO, k->K, k->relu, k->name, p->B);
    }
}

static void close_candidate(tune_conv_problem *p, candidate *c) {
    for (int i = 0; i < p->nl && c->built; i++) conv_layer_release(&c->layer[i]);
    if (c->built) conv_release(&c->ctx);
    tune_trials_free(&c->r, 1);
}

/* Every layer forward and backward, as a training step runs them (net.c): a layer below a pooling
 * that can take its backward does. */
static void run_candidate(tune_conv_problem *p, candidate *c) {
    for (int i = 0; i < p->nl; i++) {
        const conv_case *k = &p->L[i];
        const tune_layer_io *io = &k->io;
        conv_layer *l = &c->layer[i];
        bool unpool = k->S && conv_unpools(l);
        conv_forward(&c->ctx, l, io->y, io->x, io->w, io->b, p->B);
        conv_backward(&c->ctx, l, io->need_dx ? io->dx : NULL, io->dw, io->db, unpool ? k->dyp : io->dy, io->x,
                      io->yref, unpool ? &(conv_unpool){k->arg, k->S} : NULL, p->B);
    }
}

/* The candidates of one measurement, for the driver's callbacks. */
typedef struct {
    tune_conv_problem *p;
    candidate *c;
} conv_set;

static bool check_candidate(void *ctx, int i, double *worst, char *why, size_t len) {
    conv_set *set = ctx;
    tune_conv_problem *p = set->p;
    candidate *c = &set->c[i];
    clrt *rt = p->rt;
    if (!c->built) {
        snprintf(why, len, "%s", c->why);
        return false;
    }
    for (int l = 0; l < p->nl; l++) tune_layer_io_poison(rt, &p->L[l].io);
    run_candidate(p, c);
    for (int l = 0; l < p->nl; l++) {
        const conv_case *k = &p->L[l];
        tune_io_errors e = tune_layer_io_errors(rt, &k->io);
        int f = part_fwd(k), d = part_dw(k);
        worst[f] = fmax(worst[f], e.y);
        worst[PART_FWD] = fmax(worst[PART_FWD], e.dx);
        worst[d] = fmax(worst[d], fmax(e.dw, e.db));
    }
    return true;
}

/* One timed run: device seconds per layer and pass into out (nl, 3). */
static bool time_candidate(void *ctx, int i, double *out) {
    conv_set *set = ctx;
    tune_conv_problem *p = set->p;
    candidate *c = &set->c[i];
    clrt_profile_begin(p->rt);
    run_candidate(p, c);
    clrt_prof_entry *e;
    int n = clrt_profile_end(p->rt, &e);
    for (int j = 0; j < n; j++)
        for (int l = 0; l < p->nl; l++) {
            const conv_layer *cl = &c->layer[l];
            const char *tags[3] = {cl->tag_fwd, cl->tag_dx, cl->tag_dw};
            for (int k = 0; k < 3; k++)
                if (strcmp(e[j].tag, tags[k]) == 0) out[l * 3 + k] += e[j].seconds;
        }
    free(e);
    return true;
}

/* Checks every candidate, then times those with a correct part, `rounds` runs each, one at a
 * time in turn (each candidate has kernels of its own, so switching costs nothing). */
static void measure(tune_conv_problem *p, candidate *c, int n, int rounds) {
    int part_of[TUNE_MAX_LAYERS * 3];
    for (int v = 0; v < p->nl * 3; v++) {
        const conv_case *k = &p->L[v / 3];
        part_of[v] = v % 3 == 0 ? part_fwd(k) : v % 3 == 1 ? PART_FWD : part_dw(k);
    }
    conv_set set = {p, c};
    tune_search s = {.ctx = &set,
                     .nvalues = p->nl * 3,
                     .nparts = NPARTS,
                     .part_of = part_of,
                     .turn_runs = 1,
                     .check = check_candidate,
                     .time = time_candidate};
    tune_trial *t = xcalloc((size_t)(n ? n : 1), sizeof *t);
    tune_measure(&s, n, rounds, t);
    for (int i = 0; i < n; i++) c[i].r = t[i];
    free(t);
}

bool tune_conv_check(tune_conv_problem *p, const conv_tuning *t, bool *fwd_ok, bool *dw_ok, double *worst, char *err,
                     size_t errlen) {
    candidate c;
    open_candidate(p, &c, t);
    double w[TUNE_MAX_PARTS] = {0};
    bool built = check_candidate(&(conv_set){p, &c}, 0, w, err, errlen);
    *fwd_ok = built && w[PART_FWD] <= 1 && w[PART_PXF] <= 1, *dw_ok = built && w[PART_DW] <= 1 && w[PART_PXW] <= 1;
    *worst = built ? fmax(fmax(w[PART_FWD], w[PART_DW]), fmax(w[PART_PXF], w[PART_PXW])) : INFINITY;
    close_candidate(p, &c);
    return built;
}

static bool all_ok(const candidate *c) {
    for (int k = 0; k < NPARTS; k++)
        if (!c->r.ok[k]) return false;
    return true;
}

static void label(char *buf, size_t len, const conv_tuning *t) {
    char splits[24] = "per image";
    if (t->splits) snprintf(splits, sizeof splits, "%d", t->splits);
    if (t->local_tiles)
        snprintf(buf, len, "local tiles %dx%d chunk %d, %dx%d per item, splits %s, prep8 %d", t->tm, t->tn, t->kc,
                 t->rm, t->rn, splits, t->prep8);
    else
        snprintf(buf, len, "forward %dx%d, dW %dx%d, px %dx%d/%dx%d up to %d taps, work-group %d, splits %s, prep8 %d",
                 t->tp, t->vw * t->cb, t->wt, t->vw * t->wcb, t->pxr, t->pxc, t->pxt, t->pxwc, t->px, t->lws, splits,
                 t->prep8);
}

static void report(const candidate *c, int n, const tune_config *cfg, conv_tune_result *r) {
    for (int i = 0; i < n; i++) {
        r->tried++;
        const tune_trial *t = &c[i].r;
        bool ok = all_ok(&c[i]);
        r->rejected += !ok;
        if (cfg->quiet && ok) continue;
        char l[160];
        label(l, sizeof l, &c[i].t);
        if (ok)
            printf("  %-70s fwd+dx %8.3f ms  dW %8.3f ms  px %8.3f ms  total %8.3f ms\n", l, 1e3 * t->part[PART_FWD],
                   1e3 * t->part[PART_DW], 1e3 * (t->part[PART_PXF] + t->part[PART_PXW]), 1e3 * t->total);
        else if (!t->ran)
            printf("  %-70s REJECTED: %s\n", l, t->why);
        else
            printf("  %-70s REJECTED: %s%s%s differ from the reference (worst error %.3g x the tolerance)%s\n", l,
                   t->ok[PART_FWD] && t->ok[PART_PXF] ? "" : "forward and input-gradient results",
                   !(t->ok[PART_FWD] && t->ok[PART_PXF]) && !(t->ok[PART_DW] && t->ok[PART_PXW]) ? ", " : "",
                   t->ok[PART_DW] && t->ok[PART_PXW] ? "" : "weight-gradient results", t->worst,
                   tune_trial_timed(t) ? "; only its correct parts may count" : "");
    }
    fflush(stdout);
}

/* Sets of parts, as bits: ALL_PARTS asks for a whole candidate. */
#define PARTS(p) (1u << (p))
enum { ALL_PARTS = PARTS(NPARTS) - 1 };

/* Index of the candidate with the least time in the parts `score` (ALL_PARTS: the median total)
 * among those correct in the parts `need`, or -1. */
static int best_of(const candidate *c, int n, unsigned need, unsigned score) {
    int best = -1;
    double bs = 0;
    for (int i = 0; i < n; i++) {
        const tune_trial *t = &c[i].r;
        bool ok = true;
        for (int k = 0; k < NPARTS; k++)
            if (need & PARTS(k)) ok &= t->ok[k];
        double s = score == ALL_PARTS ? t->total : 0;
        for (int k = 0; k < NPARTS && score != ALL_PARTS; k++)
            if (score & PARTS(k)) s += t->part[k];
        if (ok && (best < 0 || s < bs)) best = i, bs = s;
    }
    return best;
}

static void close_all(tune_conv_problem *p, candidate *c, int n) {
    for (int i = 0; i < n; i++) close_candidate(p, &c[i]);
}

int conv_space_builds(conv_tuning *out, const conv_space *s, const conv_tuning *def, const clrt *rt) {
    int n = 0;
    for (int i = 0; i < s->nlm && n < TUNE_MAX_CANDIDATES; i++) {
        conv_tuning t = *def;
        t.local_tiles = true;
        t.tm = s->lm[i][0], t.tn = s->lm[i][1], t.kc = s->lm[i][2], t.rm = s->lm[i][3], t.rn = s->lm[i][4];
        out[n++] = t;
    }
    int nreg = s->nfwd > s->ndw ? s->nfwd : s->ndw;
    nreg = nreg > s->npx ? nreg : s->npx;
    nreg = nreg > s->npxw ? nreg : s->npxw;
    for (int j = 0; j < nreg && s->nfwd && s->ndw && n < 2 * TUNE_MAX_CANDIDATES; j++) {
        conv_tuning t = *def;
        t.local_tiles = false;
        t.tp = s->fwd[j % s->nfwd][0], t.cb = s->fwd[j % s->nfwd][1];
        t.wt = s->dw[j % s->ndw][0], t.wcb = s->dw[j % s->ndw][1];
        if (s->npx) t.pxr = s->px[j % s->npx][0], t.pxc = s->px[j % s->npx][1];
        if (s->npxw) t.pxt = s->pxw[j % s->npxw][0], t.pxwc = s->pxw[j % s->npxw][1];
        if (rt->is_gpu) t.lws = (int)rt->wg_1d;
        out[n++] = t;
    }
    return n;
}

/* Stage 1: the builds (compile-time tiles). Returns the winner, or the defaults when nothing
 * correct was found. */
static conv_tuning search_builds(tune_conv_problem *p, const conv_space *s, const tune_config *cfg,
                                 const conv_tuning *def, conv_tune_result *r) {
    conv_tuning *builds = xcalloc(TUNE_MAX_CANDIDATES * 2, sizeof *builds);
    candidate *c = xcalloc(TUNE_MAX_CANDIDATES * 2, sizeof *c);
    int nb = conv_space_builds(builds, s, def, p->rt), n = 0;
    for (int i = 0; i < nb; i++) {
        char why[256];
        /* A local-memory tile beyond this device's limits is not tried. */
        if (!builds[i].local_tiles || conv_tuning_check(&builds[i], p->rt, why, sizeof why))
            open_candidate(p, &c[n++], &builds[i]);
    }
    free(builds);
    if (!cfg->quiet)
        printf("\nConvolution kernels: %d builds (compile-time tiles), %d rounds each%s:\n", n, cfg->rounds,
               p->rt->is_gpu ? ", judged by the total"
                             : "; forward tiles judged by forward + input-gradient time, "
                               "weight-gradient tiles by weight-gradient time");
    fflush(stdout);
    measure(p, c, n, cfg->rounds);
    report(c, n, cfg, r);
    conv_tuning win = *def;
    if (p->rt->is_gpu || s->nlm) {
        int b = best_of(c, n, ALL_PARTS, ALL_PARTS);
        if (b >= 0) win = c[b].t;
    } else {
        int bf = best_of(c, n, PARTS(PART_FWD), PARTS(PART_FWD)), bd = best_of(c, n, PARTS(PART_DW), PARTS(PART_DW));
        int bpf = best_of(c, n, PARTS(PART_PXF), PARTS(PART_PXF));
        int bpw = best_of(c, n, PARTS(PART_PXW), PARTS(PART_PXW));
        win.local_tiles = false;
        if (bf >= 0) win.tp = c[bf].t.tp, win.cb = c[bf].t.cb;
        if (bd >= 0) win.wt = c[bd].t.wt, win.wcb = c[bd].t.wcb;
        if (bpf >= 0) win.pxr = c[bpf].t.pxr, win.pxc = c[bpf].t.pxc;
        if (bpw >= 0) win.pxt = c[bpw].t.pxt, win.pxwc = c[bpw].t.pxwc;
    }
    close_all(p, c, n);
    free(c);
    return win;
}

/* Variants of the winner so far, each built and checked, then timed together; the correct one
 * with the least time in the parts `score` (those the variants differ in), else *win. */
static conv_tuning search_variants(tune_conv_problem *p, const tune_config *cfg, const char *title,
                                   const conv_tuning *variants, int nv, unsigned score, const conv_tuning *win,
                                   conv_tune_result *r) {
    candidate *c = xcalloc((size_t)(nv ? nv : 1), sizeof *c);
    int n = 0;
    for (int i = 0; i < nv; i++) {
        char why[256];
        if (conv_tuning_check(&variants[i], p->rt, why, sizeof why)) open_candidate(p, &c[n++], &variants[i]);
    }
    if (!cfg->quiet) printf("\nConvolution: %s, %d candidates:\n", title, n);
    fflush(stdout);
    measure(p, c, n, cfg->rounds);
    report(c, n, cfg, r);
    int b = best_of(c, n, ALL_PARTS, score);
    conv_tuning best = b >= 0 ? c[b].t : *win;
    close_all(p, c, n);
    free(c);
    return best;
}

/* Stage 2: work-group sizes, splits and the pixel-vector kernels' use for the winning tiles (no
 * new tiles). */
static conv_tuning search_runtime(tune_conv_problem *p, const conv_space *s, const tune_config *cfg,
                                  const conv_tuning *win, conv_tune_result *r) {
    conv_tuning *v = xcalloc(64, sizeof *v);
    int n = 0;
    int nlws = win->local_tiles || !s->nlws ? 1 : s->nlws, nsplits = s->nsplits ? s->nsplits : 1;
    int npxs = win->local_tiles || !s->npxs ? 1 : s->npxs;
    for (int i = 0; i < nlws; i++)
        for (int j = 0; j < nsplits; j++)
            for (int k = 0; k < npxs && n < 64; k++) {
                conv_tuning t = *win;
                if (!win->local_tiles && s->nlws) t.lws = s->lws[i];
                if (s->nsplits) t.splits = s->splits[j];
                if (!win->local_tiles && s->npxs) t.px = s->pxs[k];
                v[n++] = t;
            }
    conv_tuning best = search_variants(
        p, cfg, "work-group sizes, splits and the pixel-vector kernels' use for those tiles", v, n, ALL_PARTS, win, r);
    free(v);
    return best;
}

/* Stage 3: the gradient's layout kernel (CONV_PREP8) under everything chosen so far, judged by
 * the weight-gradient time its launches count in: its best form depends on the register file (a
 * CPU's vector transpose spills on some GPUs). */
static conv_tuning search_prep(tune_conv_problem *p, const conv_space *s, const tune_config *cfg,
                               const conv_tuning *win, conv_tune_result *r) {
    conv_tuning v[2];
    int n = 0;
    for (int i = 0; i < s->nprep8s && n < 2; i++) {
        v[n] = *win;
        v[n++].prep8 = s->prep8s[i];
    }
    return search_variants(p, cfg,
                           "the gradient's layout kernel, 8-pixel rows or one pixel at a time (prep8), judged by the "
                           "weight-gradient time",
                           v, n, PARTS(PART_DW) | PARTS(PART_PXW), win, r);
}

void tune_conv(tune_conv_problem *p, const conv_space *s, const tune_config *cfg, conv_tune_result *r) {
    memset(r, 0, sizeof *r);
    conv_tuning def;
    conv_tuning_default(&def, p->rt);
    conv_tuning win = search_builds(p, s, cfg, &def, r);
    win = search_runtime(p, s, cfg, &win, r);
    if (s->nprep8s) win = search_prep(p, s, cfg, &win, r);

    /* The winner against the defaults, once more and with twice the runs: the figures reported,
     * and the defaults kept unless the winner is faster. */
    bool same = memcmp(&win, &def, sizeof def) == 0;
    int rounds = tune_final_rounds(cfg->rounds), n = same ? 1 : 2;
    candidate c[2];
    open_candidate(p, &c[0], &def);
    if (!same) open_candidate(p, &c[1], &win);
    if (!cfg->quiet) printf("\nConvolution: the defaults and the winner, %d rounds\n", rounds);
    measure(p, c, n, rounds);
    if (!all_ok(&c[0])) warn("the default convolution tuning fails its check against the reference");
    const candidate *after =
        !same && all_ok(&c[1]) && c[1].r.total < TUNE_KEEP_MARGIN * c[0].r.total ? &c[1] : &c[0];
    r->before = def;
    r->winner = win;
    r->after = after->t;
    r->nlayers = p->nl;
    for (int l = 0; l < p->nl; l++) {
        snprintf(r->layer[l], sizeof r->layer[l], "%s", p->L[l].name);
        for (int q = 0; q < 3; q++)
            r->t_before[l][q] = c[0].r.med[l * 3 + q], r->t_after[l][q] = after->r.med[l * 3 + q];
    }
    close_all(p, c, n);
}

void conv_space_default(conv_space *s, const clrt *rt, bool quick) {
    memset(s, 0, sizeof *s);
    /* Register tiles: TP pixels x CB blocks of vw channels, at most 14 accumulators where the
     * vectors are 8 wide (AVX2 has 16 vector registers; the weights and a broadcast need the
     * rest), at most 28 where they are 16 wide (AVX-512 has 32). */
    static const int tiles[][2] = {{6, 2}, {5, 2}, {4, 2}, {4, 3}, {8, 1}, {6, 1}, {5, 1}, {4, 1}};
    static const int wide_tiles[][2] = {{6, 2}, {8, 2}, {10, 2}, {12, 2}, {14, 2}, {4, 2}, {12, 1}, {6, 1}};
    static const int quick_tiles[][2] = {{6, 2}, {5, 2}};
    conv_tuning def;
    conv_tuning_default(&def, rt);
    int nt = quick ? 2 : (int)(sizeof tiles / sizeof tiles[0]);
    if (rt->is_gpu) nt = quick ? 1 : 3; /* the register variant's best few on a CPU, for comparison */
    for (int i = 0; i < nt; i++) {
        const int *t = quick ? quick_tiles[i] : def.vw == 16 ? wide_tiles[i] : tiles[i];
        s->fwd[i][0] = s->dw[i][0] = t[0];
        s->fwd[i][1] = s->dw[i][1] = t[1];
    }
    s->nfwd = s->ndw = nt;
    /* Pixel-vector tiles, the defaults first: (rows, channels) and (taps, channels), at most 15
     * and 12 accumulators for 8-wide vectors, 30 and 27 for 16-wide ones. */
    static const int px[][2] = {{2, 4}, {1, 8}, {3, 4}, {2, 5}, {1, 4}, {2, 3}};
    static const int wide_px[][2] = {{2, 8}, {2, 4}, {3, 8}, {1, 16}, {2, 10}, {4, 4}};
    static const int pxw[][2] = {{5, 2}, {9, 1}, {3, 3}, {4, 2}, {6, 2}, {3, 2}};
    static const int wide_pxw[][2] = {{9, 2}, {5, 2}, {9, 1}, {9, 3}, {6, 3}, {5, 4}};
    s->npx = s->npxw = rt->is_gpu ? 0 : quick ? 1 : (int)(sizeof px / sizeof px[0]);
    for (int i = 0; i < s->npx; i++)
        for (int k = 0; k < 2; k++) {
            s->px[i][k] = def.vw == 16 ? wide_px[i][k] : px[i][k];
            s->pxw[i][k] = def.vw == 16 ? wide_pxw[i][k] : pxw[i][k];
        }
    s->pxs[0] = def.px, s->pxs[1] = 0;
    s->npxs = rt->is_gpu || quick ? 0 : 2;
    s->prep8s[0] = def.prep8, s->prep8s[1] = !def.prep8;
    s->nprep8s = 2;
    if (rt->is_gpu) {
        /* (tm, tn, kc, rm, rn): RM*RN <= 16 outputs per work-item; the local size and memory
         * are checked against the device when the candidates are built. */
        static const int lm[][5] = {{64, 32, 16, 4, 2},  {64, 64, 16, 4, 4}, {32, 32, 16, 2, 2}, {64, 32, 8, 4, 2},
                                    {128, 32, 16, 8, 2}, {128, 64, 8, 8, 2}, {32, 64, 16, 2, 4}, {64, 64, 8, 4, 2},
                                    {128, 32, 8, 4, 2},  {64, 32, 32, 4, 2}};
        s->nlm = quick ? 2 : (int)(sizeof lm / sizeof lm[0]);
        memcpy(s->lm, lm, (size_t)s->nlm * sizeof lm[0]);
        static const int lws[] = {64, 128, 256}, splits[] = {0, 8, 16};
        s->nlws = quick ? 1 : 3, s->nsplits = quick ? 1 : 3;
        memcpy(s->lws, lws, sizeof lws);
        memcpy(s->splits, splits, sizeof splits);
    } else {
        static const int lws[] = {16, 8, 32, 64}, splits[] = {8, 4, 16};
        s->nlws = quick ? 1 : 4, s->nsplits = quick ? 1 : 3;
        memcpy(s->lws, lws, sizeof lws);
        memcpy(s->splits, splits, sizeof splits);
    }
}
