/* The convolution search of `claug tune`: the seed model's convolution layers with seeded data and
 * their plain-C references, candidates checked on NaN-poisoned outputs, then timed round-robin by
 * OpenCL profiling events (so the drift of a shared machine falls on every candidate alike). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/model/net.h"
#include "claug/tune/tune.h"
#include "philox.h"

/* A Philox stream of the tuner's own data. */
enum { TUNE_STREAM = 101 };
/* Fashion-MNIST's shapes: the seed model is tuned for them. */
/* The winner replaces the defaults only when faster by more than the noise of interleaved medians
 * on a shared machine, so that a re-run does not flip between equals. */
static const double KEEP_MARGIN = 0.97;

typedef struct {
    char name[32];
    int CI, H, W, CO, K, relu;
    bool need_dx; /* false for the first layer with parameters, as in training */
    size_t nx, nw, ny;
    cl_mem x, w, b, dy, yref;    /* inputs; yref the reference's output, read by the backward's ReLU mask */
    cl_mem y, dx, dw, db;        /* outputs */
    float *ry, *rdx, *rdw, *rdb; /* the references' outputs */
} conv_case;

struct tune_conv_problem {
    clrt *rt;
    int B, nl;
    conv_case L[TUNE_MAX_LAYERS];
};

static void fill(float *x, size_t n, uint64_t seed, uint32_t which, float lo, float hi) {
    for (size_t i = 0; i < n; i += 4) {
        philox4 r = claug_random4(seed, TUNE_STREAM, which, (uint32_t)(i / 4), 0);
        for (size_t j = 0; j < 4 && i + j < n; j++) x[i + j] = lo + (hi - lo) * claug_uniform(r.v[j]);
    }
}

static cl_mem upload_floats(clrt *rt, const float *h, size_t n) {
    cl_mem m = clrt_alloc(rt, n * sizeof *h);
    clrt_write(rt, m, 0, n * sizeof *h, h);
    return m;
}

/* Inputs on the scale training sees: activations in [0, 1), Glorot-sized weights, and the small
 * output gradients of a mean loss. */
static void case_init(clrt *rt, conv_case *c, int B, uint64_t seed, uint32_t layer) {
    int KK = c->K * c->K, OH = c->H - c->K + 1, OW = c->W - c->K + 1;
    c->nx = (size_t)B * c->CI * c->H * c->W;
    c->nw = (size_t)c->CO * c->CI * KK;
    c->ny = (size_t)B * c->CO * OH * OW;
    float *x = xmalloc(c->nx * sizeof *x), *w = xmalloc(c->nw * sizeof *w), *b = xmalloc((size_t)c->CO * sizeof *b),
          *dy = xmalloc(c->ny * sizeof *dy);
    float limit = sqrtf(6.0f / (float)((c->CI + c->CO) * KK));
    fill(x, c->nx, seed, 4 * layer, 0.0f, 1.0f);
    fill(w, c->nw, seed, 4 * layer + 1, -limit, limit);
    fill(b, (size_t)c->CO, seed, 4 * layer + 2, -0.1f, 0.1f);
    fill(dy, c->ny, seed, 4 * layer + 3, -0.01f, 0.01f);
    c->ry = xmalloc(c->ny * sizeof(float));
    c->rdx = c->need_dx ? xmalloc(c->nx * sizeof(float)) : NULL;
    c->rdw = xmalloc(c->nw * sizeof(float));
    c->rdb = xmalloc((size_t)c->CO * sizeof(float));
    ref_conv_forward(c->ry, x, w, b, B, c->CI, c->H, c->W, c->CO, c->K, c->relu);
    ref_conv_backward(c->rdx, c->rdw, c->rdb, dy, x, w, c->ry, B, c->CI, c->H, c->W, c->CO, c->K, c->relu);
    c->x = upload_floats(rt, x, c->nx);
    c->w = upload_floats(rt, w, c->nw);
    c->b = upload_floats(rt, b, (size_t)c->CO);
    c->dy = upload_floats(rt, dy, c->ny);
    c->yref = upload_floats(rt, c->ry, c->ny);
    c->y = clrt_alloc(rt, c->ny * sizeof(float));
    c->dx = clrt_alloc(rt, c->nx * sizeof(float));
    c->dw = clrt_alloc(rt, c->nw * sizeof(float));
    c->db = clrt_alloc(rt, (size_t)c->CO * sizeof(float));
    free(x), free(w), free(b), free(dy);
}

tune_conv_problem *tune_conv_problem_new(clrt *rt, const layer *L, int nl, int batch, uint64_t seed) {
    tune_conv_problem *p = xcalloc(1, sizeof *p);
    p->rt = rt;
    p->B = batch;
    bool params_below = false;
    for (int i = 0; i < nl && p->nl < TUNE_MAX_LAYERS; i++) {
        if (L[i].kind == LAYER_CONV) {
            conv_case *c = &p->L[p->nl];
            snprintf(c->name, sizeof c->name, "%s", L[i].name);
            c->CI = L[i].c, c->H = L[i].h, c->W = L[i].w, c->CO = L[i].oc, c->K = L[i].size, c->relu = L[i].relu;
            c->need_dx = params_below;
            case_init(rt, c, batch, seed, (uint32_t)p->nl);
            p->nl++;
        }
        params_below |= L[i].params > 0;
    }
    return p;
}

void tune_conv_problem_free(tune_conv_problem *p) {
    for (int i = 0; i < p->nl; i++) {
        conv_case *c = &p->L[i];
        cl_mem ms[] = {c->x, c->w, c->b, c->dy, c->yref, c->y, c->dx, c->dw, c->db};
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) CL_CHECK(clReleaseMemObject(ms[j]));
        free(c->ry), free(c->rdx), free(c->rdw), free(c->rdb);
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
    bool fwd_ok, dw_ok;
    double worst;
    double *s;                      /* (rounds, nl, 3) seconds: forward, input gradient, weight gradient */
    double med[TUNE_MAX_LAYERS][3]; /* their medians */
    double fwd, dw, total;          /* medians of the per-round sums: forward + dx, dw, all */
} candidate;

/* A candidate that does not build is kept, unbuilt, to be rejected with its reason. */
static void open_candidate(tune_conv_problem *p, candidate *c, const conv_tuning *t, int rounds) {
    memset(c, 0, sizeof *c);
    c->t = *t;
    c->s = xcalloc((size_t)rounds * p->nl * 3, sizeof *c->s);
    c->built = conv_build(&c->ctx, p->rt, t, c->why, sizeof c->why);
    for (int i = 0; i < p->nl && c->built; i++) {
        conv_case *k = &p->L[i];
        conv_layer_init(&c->ctx, &c->layer[i], k->CI, k->H, k->W, k->CO, k->K, k->relu, k->name, p->B);
    }
}

static void close_candidate(tune_conv_problem *p, candidate *c) {
    for (int i = 0; i < p->nl && c->built; i++) conv_layer_release(&c->layer[i]);
    if (c->built) conv_release(&c->ctx);
    free(c->s);
    c->s = NULL;
}

/* Every layer forward and backward, as a training step runs them. */
static void run_candidate(tune_conv_problem *p, candidate *c) {
    for (int i = 0; i < p->nl; i++) {
        conv_case *k = &p->L[i];
        conv_forward(&c->ctx, &c->layer[i], k->y, k->x, k->w, k->b, p->B);
        conv_backward(&c->ctx, &c->layer[i], k->need_dx ? k->dx : NULL, k->dw, k->db, k->dy, k->x, k->yref, p->B);
    }
}

static void poison(clrt *rt, cl_mem m, size_t n) {
    const cl_float nan = NAN;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, m, &nan, sizeof nan, 0, n * sizeof(float), 0, NULL, NULL));
}

/* The largest |got - want| / (1e-4 + 1e-4 |want|): at most 1 passes; NaN counts as infinite. */
static double worst_error(clrt *rt, cl_mem m, const float *want, size_t n) {
    float *got = xmalloc(n * sizeof *got);
    clrt_read(rt, m, 0, n * sizeof *got, got);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (1e-4 + 1e-4 * fabs((double)want[i]));
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
    }
    free(got);
    return worst;
}

static void check_candidate(tune_conv_problem *p, candidate *c) {
    clrt *rt = p->rt;
    if (!c->built) {
        c->fwd_ok = c->dw_ok = false;
        c->worst = INFINITY;
        return;
    }
    for (int i = 0; i < p->nl; i++) {
        conv_case *k = &p->L[i];
        poison(rt, k->y, k->ny), poison(rt, k->dx, k->nx), poison(rt, k->dw, k->nw), poison(rt, k->db, (size_t)k->CO);
    }
    run_candidate(p, c);
    double fwd = 0, dw = 0;
    for (int i = 0; i < p->nl; i++) {
        conv_case *k = &p->L[i];
        fwd = fmax(fwd, worst_error(rt, k->y, k->ry, k->ny));
        if (k->need_dx) fwd = fmax(fwd, worst_error(rt, k->dx, k->rdx, k->nx));
        dw = fmax(dw, worst_error(rt, k->dw, k->rdw, k->nw));
        dw = fmax(dw, worst_error(rt, k->db, k->rdb, (size_t)k->CO));
    }
    c->fwd_ok = fwd <= 1, c->dw_ok = dw <= 1;
    c->worst = fmax(fwd, dw);
}

bool tune_conv_check(tune_conv_problem *p, const conv_tuning *t, bool *fwd_ok, bool *dw_ok, double *worst, char *err,
                     size_t errlen) {
    candidate c;
    open_candidate(p, &c, t, 1);
    check_candidate(p, &c);
    *fwd_ok = c.fwd_ok, *dw_ok = c.dw_ok, *worst = c.worst;
    bool built = c.built;
    if (!built) snprintf(err, errlen, "%s", c.why);
    close_candidate(p, &c);
    return built;
}

/* One timed run: device seconds per layer and pass into out (nl, 3). */
static void time_candidate(tune_conv_problem *p, candidate *c, double *out) {
    clrt_profile_begin(p->rt);
    run_candidate(p, c);
    clrt_prof_entry *e;
    int n = clrt_profile_end(p->rt, &e);
    for (int j = 0; j < n; j++)
        for (int i = 0; i < p->nl; i++) {
            const conv_layer *l = &c->layer[i];
            const char *tags[3] = {l->tag_fwd, l->tag_dx, l->tag_dw};
            for (int k = 0; k < 3; k++)
                if (strcmp(e[j].tag, tags[k]) == 0) out[i * 3 + k] += e[j].seconds;
        }
    free(e);
}

/* Checks every candidate, then times those with a correct part round-robin, `rounds` runs each,
 * the order rotating from round to round; fills the medians. */
static void measure(tune_conv_problem *p, candidate *c, int n, int rounds) {
    for (int i = 0; i < n; i++) {
        check_candidate(p, &c[i]);
        if (c[i].fwd_ok || c[i].dw_ok) run_candidate(p, &c[i]); /* a warm-up: lazy compiles, caches */
    }
    clrt_finish(p->rt);
    int nl = p->nl;
    for (int r = 0; r < rounds; r++)
        for (int j = 0; j < n; j++) {
            candidate *k = &c[(r + j) % n];
            if (k->fwd_ok || k->dw_ok) time_candidate(p, k, k->s + (size_t)r * nl * 3);
        }
    double *tmp = xmalloc((size_t)rounds * sizeof *tmp);
    for (int i = 0; i < n; i++) {
        candidate *k = &c[i];
        for (int l = 0; l < nl; l++)
            for (int q = 0; q < 3; q++) {
                for (int r = 0; r < rounds; r++) tmp[r] = k->s[((size_t)r * nl + l) * 3 + q];
                k->med[l][q] = tune_median(tmp, rounds);
            }
        /* The passes each score adds: the forward kernel's (forward and input gradient), the
         * weight gradient's, all. */
        static const bool adds[3][3] = {{true, true, false}, {false, false, true}, {true, true, true}};
        double *score[3] = {&k->fwd, &k->dw, &k->total};
        for (int which = 0; which < 3; which++) {
            for (int r = 0; r < rounds; r++) {
                const double *s = k->s + (size_t)r * nl * 3;
                tmp[r] = 0;
                for (int l = 0; l < nl; l++)
                    for (int q = 0; q < 3; q++) tmp[r] += adds[which][q] ? s[l * 3 + q] : 0;
            }
            *score[which] = tune_median(tmp, rounds);
        }
    }
    free(tmp);
}

static void label(char *buf, size_t len, const conv_tuning *t) {
    char splits[24] = "per image";
    if (t->splits) snprintf(splits, sizeof splits, "%d", t->splits);
    if (t->local_tiles)
        snprintf(buf, len, "local tiles %dx%d chunk %d, %dx%d per item, splits %s", t->tm, t->tn, t->kc, t->rm, t->rn,
                 splits);
    else
        snprintf(buf, len, "forward %dx%d, dW %dx%d, work-group %d, splits %s", t->tp, 8 * t->cb, t->wt, 8 * t->wcb,
                 t->lws, splits);
}

static void report(const candidate *c, int n, const tune_config *cfg, conv_tune_result *r) {
    for (int i = 0; i < n; i++) {
        r->tried++;
        bool ok = c[i].fwd_ok && c[i].dw_ok;
        r->rejected += !ok;
        if (cfg->quiet && ok) continue;
        char l[160];
        label(l, sizeof l, &c[i].t);
        if (ok)
            printf("  %-58s fwd+dx %8.3f ms  dW %8.3f ms  total %8.3f ms\n", l, 1e3 * c[i].fwd, 1e3 * c[i].dw,
                   1e3 * c[i].total);
        else if (!c[i].built)
            printf("  %-58s REJECTED: %s\n", l, c[i].why);
        else
            printf("  %-58s REJECTED: %s%s%s differ from the reference (worst error %.3g x the tolerance)%s\n", l,
                   c[i].fwd_ok ? "" : "forward and input-gradient results", !c[i].fwd_ok && !c[i].dw_ok ? ", " : "",
                   c[i].dw_ok ? "" : "weight-gradient results", c[i].worst,
                   c[i].fwd_ok || c[i].dw_ok ? "; only its correct part may count" : "");
    }
    fflush(stdout);
}

/* Index of the smallest score among candidates whose part is correct, or -1. */
static int best_of(const candidate *c, int n, int which) {
    int best = -1;
    for (int i = 0; i < n; i++) {
        bool ok = which == 0 ? c[i].fwd_ok : which == 1 ? c[i].dw_ok : c[i].fwd_ok && c[i].dw_ok;
        double s = which == 0 ? c[i].fwd : which == 1 ? c[i].dw : c[i].total;
        double b = best < 0 ? 0 : which == 0 ? c[best].fwd : which == 1 ? c[best].dw : c[best].total;
        if (ok && (best < 0 || s < b)) best = i;
    }
    return best;
}

static void close_all(tune_conv_problem *p, candidate *c, int n) {
    for (int i = 0; i < n; i++) close_candidate(p, &c[i]);
}

/* Stage 1: the builds (compile-time options). Returns the winner, or the defaults when nothing
 * correct was found. */
int conv_space_builds(conv_tuning *out, const conv_space *s, const conv_tuning *def, const clrt *rt) {
    int n = 0;
    for (int i = 0; i < s->nlm && n < TUNE_MAX_CANDIDATES; i++) {
        conv_tuning t = *def;
        t.local_tiles = true;
        t.tm = s->lm[i][0], t.tn = s->lm[i][1], t.kc = s->lm[i][2], t.rm = s->lm[i][3], t.rn = s->lm[i][4];
        out[n++] = t;
    }
    int nreg = s->nfwd > s->ndw ? s->nfwd : s->ndw;
    for (int j = 0; j < nreg && s->nfwd && s->ndw && n < 2 * TUNE_MAX_CANDIDATES; j++) {
        conv_tuning t = *def;
        t.local_tiles = false;
        t.tp = s->fwd[j % s->nfwd][0], t.cb = s->fwd[j % s->nfwd][1];
        t.wt = s->dw[j % s->ndw][0], t.wcb = s->dw[j % s->ndw][1];
        if (rt->is_gpu) t.lws = (int)rt->wg_1d;
        out[n++] = t;
    }
    return n;
}

static conv_tuning search_builds(tune_conv_problem *p, const conv_space *s, const tune_config *cfg,
                                 const conv_tuning *def, conv_tune_result *r) {
    conv_tuning *builds = xcalloc(TUNE_MAX_CANDIDATES * 2, sizeof *builds);
    candidate *c = xcalloc(TUNE_MAX_CANDIDATES * 2, sizeof *c);
    int nb = conv_space_builds(builds, s, def, p->rt), n = 0;
    for (int i = 0; i < nb; i++) {
        char why[256];
        /* A local-memory tile beyond this device's limits is not tried. */
        if (!builds[i].local_tiles || conv_tuning_check(&builds[i], p->rt, why, sizeof why))
            open_candidate(p, &c[n++], &builds[i], cfg->rounds);
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
        int b = best_of(c, n, 2);
        if (b >= 0) win = c[b].t;
    } else {
        int bf = best_of(c, n, 0), bd = best_of(c, n, 1);
        win.local_tiles = false;
        if (bf >= 0) win.tp = c[bf].t.tp, win.cb = c[bf].t.cb;
        if (bd >= 0) win.wt = c[bd].t.wt, win.wcb = c[bd].t.wcb;
    }
    close_all(p, c, n);
    free(c);
    return win;
}

/* Stage 2: work-group sizes and splits for the winning tiles (no new build). */
static conv_tuning search_runtime(tune_conv_problem *p, const conv_space *s, const tune_config *cfg,
                                  const conv_tuning *win, conv_tune_result *r) {
    candidate *c = xcalloc(64, sizeof *c);
    int n = 0;
    int nlws = win->local_tiles || !s->nlws ? 1 : s->nlws, nsplits = s->nsplits ? s->nsplits : 1;
    for (int i = 0; i < nlws; i++)
        for (int j = 0; j < nsplits && n < 64; j++) {
            conv_tuning t = *win;
            char why[256];
            if (!win->local_tiles && s->nlws) t.lws = s->lws[i];
            if (s->nsplits) t.splits = s->splits[j];
            if (conv_tuning_check(&t, p->rt, why, sizeof why)) open_candidate(p, &c[n++], &t, cfg->rounds);
        }
    if (!cfg->quiet) printf("\nConvolution: work-group sizes and splits for those tiles, %d candidates:\n", n);
    fflush(stdout);
    measure(p, c, n, cfg->rounds);
    report(c, n, cfg, r);
    int b = best_of(c, n, 2);
    conv_tuning best = b >= 0 ? c[b].t : *win;
    close_all(p, c, n);
    free(c);
    return best;
}

void tune_conv(tune_conv_problem *p, const conv_space *s, const tune_config *cfg, conv_tune_result *r) {
    memset(r, 0, sizeof *r);
    conv_tuning def;
    conv_tuning_default(&def, p->rt);
    conv_tuning win = search_builds(p, s, cfg, &def, r);
    win = search_runtime(p, s, cfg, &win, r);

    /* The winner against the defaults, once more and with twice the runs: the figures reported,
     * and the defaults kept unless the winner is faster. */
    bool same = memcmp(&win, &def, sizeof def) == 0;
    int rounds = 2 * cfg->rounds, n = same ? 1 : 2;
    candidate c[2];
    open_candidate(p, &c[0], &def, rounds);
    if (!same) open_candidate(p, &c[1], &win, rounds);
    if (!cfg->quiet) printf("\nConvolution: the defaults and the winner, %d rounds\n", rounds);
    measure(p, c, n, rounds);
    if (!(c[0].fwd_ok && c[0].dw_ok)) warn("the default convolution tuning fails its check against the reference");
    const candidate *after =
        !same && c[1].fwd_ok && c[1].dw_ok && c[1].total < KEEP_MARGIN * c[0].total ? &c[1] : &c[0];
    r->before = def;
    r->after = after->t;
    r->nlayers = p->nl;
    for (int l = 0; l < p->nl; l++) {
        snprintf(r->layer[l], sizeof r->layer[l], "%s", p->L[l].name);
        for (int q = 0; q < 3; q++) r->t_before[l][q] = c[0].med[l][q], r->t_after[l][q] = after->med[l][q];
    }
    close_all(p, c, n);
}

void conv_space_default(conv_space *s, const clrt *rt, bool quick) {
    memset(s, 0, sizeof *s);
    /* Register tiles: TP pixels x CB blocks of 8 channels, at most 14 float8 accumulators (AVX2
     * has 16 vector registers; the weights and a broadcast need the rest). */
    static const int tiles[][2] = {{6, 2}, {5, 2}, {4, 2}, {4, 3}, {8, 1}, {6, 1}, {5, 1}, {4, 1}};
    static const int quick_tiles[][2] = {{6, 2}, {5, 2}};
    int nt = quick ? 2 : (int)(sizeof tiles / sizeof tiles[0]);
    if (rt->is_gpu) nt = quick ? 1 : 3; /* the register variant's best few on a CPU, for comparison */
    for (int i = 0; i < nt; i++) {
        const int *t = quick ? quick_tiles[i] : tiles[i];
        s->fwd[i][0] = s->dw[i][0] = t[0];
        s->fwd[i][1] = s->dw[i][1] = t[1];
    }
    s->nfwd = s->ndw = nt;
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
