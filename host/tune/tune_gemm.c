/* The CLBlast search of `claug tune`: the seed model's dense-layer GEMMs, called exactly as dense.c
 * calls them, with seeded inputs and a plain-C reference. Candidates are CLBlast parameter
 * overrides for XgemmDirect (with every GEMM routed to it) or for the indirect Xgemm (likewise);
 * the best of each are then combined with the routing (XGEMM_MIN_INDIRECT_SIZE) that suits the
 * shapes. CLBlast recompiles its GEMM program for every new set of parameters (seconds on a CPU
 * driver), so the lists are short; it keeps each compiled set, so switching back is free. */
#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/ops/dense.h"
#include "claug/model/net.h"
#include "claug/runtime/timing.h"
#include "claug/tune/search.h"
#include "driver.h"

enum { TUNE_STREAM = 102 };
/* A routing threshold so large that every GEMM takes the direct kernel (its cube fits 64 bits). */
static const size_t ALL_DIRECT = (size_t)1 << 20;
/* A candidate must beat the defaults by this much: they are timed in a block of their own before
 * any override (CLBlast has no way back to them), so machine drift is not cancelled there. */
static const double KEEP_MARGIN = 0.9;
/* Outputs are poisoned with a finite value: with beta 0 a kernel may compute 0 * C, which must
 * stay 0, yet an element never written still shows. */
static const float SENTINEL = 1e30f;
/* Timed runs in a row per candidate and pass. */
enum { PASS_RUNS = 5 };


/* ---- the problem ------------------------------------------------------------------------------ */

typedef struct {
    dense_gemm_shape s;
    cl_mem a, b, c; /* op(A) (m, k), op(B) (k, n) as stored, C (m, n) */
    float *ref;     /* (m, n) */
} gemm_case;

struct tune_gemm_problem {
    clrt *rt;
    int n;
    gemm_case g[TUNE_MAX_GEMMS];
    dense_ctx dense;
    clrt_timer timer;
    int status; /* the first CLBlast error of the last run */
};

static float *random_floats(size_t n, uint64_t seed, uint32_t which) {
    float *h = xmalloc(n * sizeof *h);
    tune_fill(h, n, seed, TUNE_STREAM, which, -0.5f, 0.5f);
    return h;
}

/* C = op(A) op(B) in double; A is (m, k) or, transposed, (k, m); B (k, n) or (n, k). */
static void ref_gemm(float *c, const float *a, const float *b, const dense_gemm_shape *s) {
    for (size_t i = 0; i < s->m; i++)
        for (size_t j = 0; j < s->n; j++) {
            double acc = 0;
            for (size_t p = 0; p < s->k; p++)
                acc += (double)(s->ta ? a[p * s->m + i] : a[i * s->k + p]) *
                       (double)(s->tb ? b[j * s->k + p] : b[p * s->n + j]);
            c[i * s->n + j] = (float)acc;
        }
}

tune_gemm_problem *tune_gemm_problem_new(clrt *rt, const layer *L, int nl, int batch, uint64_t seed) {
    tune_gemm_problem *p = xcalloc(1, sizeof *p);
    p->rt = rt;
    dense_init(&p->dense, rt, NULL); /* GEMMs only: no bias or activation */
    clrt_timer_init(&p->timer, rt);
    dense_gemm_shape shapes[TUNE_MAX_GEMMS];
    p->n = net_gemm_shapes(shapes, TUNE_MAX_GEMMS, L, nl, batch);
    for (int i = 0; i < p->n; i++) {
        gemm_case *g = &p->g[i];
        g->s = shapes[i];
        size_t na = g->s.m * g->s.k, nb = g->s.k * g->s.n, nc = g->s.m * g->s.n;
        float *a = random_floats(na, seed, 2 * (uint32_t)i), *b = random_floats(nb, seed, 2 * (uint32_t)i + 1);
        g->ref = xmalloc(nc * sizeof *g->ref);
        ref_gemm(g->ref, a, b, &g->s);
        g->a = tune_upload(rt, a, na);
        g->b = tune_upload(rt, b, nb);
        g->c = clrt_alloc(rt, nc * sizeof(float));
        free(a);
        free(b);
    }
    return p;
}

void tune_gemm_problem_free(tune_gemm_problem *p) {
    for (int i = 0; i < p->n; i++) {
        CL_CHECK(clReleaseMemObject(p->g[i].a));
        CL_CHECK(clReleaseMemObject(p->g[i].b));
        CL_CHECK(clReleaseMemObject(p->g[i].c));
        free(p->g[i].ref);
    }
    dense_release(&p->dense);
    clrt_timer_release(&p->timer);
    free(p);
}

float *tune_gemm_reference(tune_gemm_problem *p, int i) { return i >= 0 && i < p->n ? p->g[i].ref : NULL; }

/* ---- runs ------------------------------------------------------------------------------------- */

typedef struct {
    tune_gemm_problem *p;
    int i;
} gemm_call;

static void enqueue_gemm(void *ctx) {
    gemm_call *c = ctx;
    gemm_case *g = &c->p->g[c->i];
    int st = dense_gemm(&c->p->dense, g->s.ta, g->s.tb, g->s.m, g->s.n, g->s.k, g->a, g->b, g->c, "tune");
    if (st != CLBlastSuccess && c->p->status == CLBlastSuccess) c->p->status = st;
}

/* Every GEMM once with CLBlast's current parameters on poisoned outputs: CLBlast's status (0: all
 * ran) and the largest error relative to the tolerance into *worst. */
static int check_current(tune_gemm_problem *p, double *worst) {
    *worst = 0;
    p->status = CLBlastSuccess;
    for (int i = 0; i < p->n && p->status == CLBlastSuccess; i++) {
        gemm_case *g = &p->g[i];
        tune_poison(p->rt, g->c, g->s.m * g->s.n, SENTINEL);
        enqueue_gemm(&(gemm_call){p, i});
        if (p->status != CLBlastSuccess) break;
        *worst = fmax(*worst, tune_worst_error(p->rt, g->c, g->ref, g->s.m * g->s.n));
    }
    clrt_finish(p->rt);
    return p->status;
}

/* Device seconds of every GEMM with the current parameters, into t (n). */
static void time_current(tune_gemm_problem *p, double *t) {
    for (int i = 0; i < p->n; i++) t[i] = clrt_timer_bracket(&p->timer, enqueue_gemm, &(gemm_call){p, i});
}

int tune_gemm_check(tune_gemm_problem *p, const gemm_tuning *g, double *worst) {
    *worst = INFINITY;
    int status = gemm_tuning_apply(p->rt, g);
    return status == CLBlastSuccess ? check_current(p, worst) : status;
}

/* A candidate with no parameters stands for CLBlast's own parameters of its kernel: only the
 * routing is overridden. */
static gemm_tuning single(const gemm_candidate *c) {
    gemm_tuning g = {.nkernels = c->p.n > 0, .min_indirect = c->min_indirect};
    g.kernels[0] = c->p;
    return g;
}

static bool is_direct(const clblast_params *p) { return strcmp(p->kernel, "XgemmDirect") == 0; }

/* ---- the search -------------------------------------------------------------------------------- */

typedef struct {
    bool ok;
    double med[TUNE_MAX_GEMMS]; /* median seconds per GEMM */
} cand_state;

static void print_candidate(const gemm_candidate *c, const char *what) {
    char d[1024];
    gemm_tuning g = single(c);
    if (c->p.n)
        gemm_tuning_describe(d, sizeof d, &g);
    else
        snprintf(d, sizeof d, "%s with CLBlast's own parameters, every GEMM %s", c->p.kernel,
                 is_direct(&c->p) ? "direct" : "indirect");
    printf("  %s %s\n", d, what);
    fflush(stdout);
}

/* The cheapest routing of the shapes: those below a threshold take the best direct candidate,
 * the rest the best indirect one. Fills *best and returns its summed medians (INFINITY if none). */
static double compose(tune_gemm_problem *p, const gemm_candidate *c, const cand_state *st, int n, gemm_tuning *best) {
    memset(best, 0, sizeof *best);
    int order[TUNE_MAX_GEMMS];
    for (int i = 0; i < p->n; i++) order[i] = i;
    size_t mnk[TUNE_MAX_GEMMS];
    for (int i = 0; i < p->n; i++) mnk[i] = p->g[i].s.m * p->g[i].s.n * p->g[i].s.k;
    for (int i = 1; i < p->n; i++) /* by m*n*k, ascending */
        for (int j = i; j > 0 && mnk[order[j]] < mnk[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    double best_cost = INFINITY;
    for (int split = 0; split <= p->n; split++) {
        /* The first `split` shapes take the direct kernel: m*n*k < T^3 exactly for them. */
        size_t T = 1;
        if (split > 0) {
            size_t below = mnk[order[split - 1]];
            T = (size_t)cbrt((double)below);
            while (T * T * T <= below) T++;
            while (T > 1 && (T - 1) * (T - 1) * (T - 1) > below) T--;
            if (split < p->n && T * T * T > mnk[order[split]]) continue;
            if (split == p->n) T = T > ALL_DIRECT ? T : ALL_DIRECT;
        }
        double cost = 0;
        int pick[2] = {-1, -1};
        for (int kind = 0; kind < 2; kind++) { /* 0: direct for [0, split), 1: indirect for the rest */
            int lo = kind ? split : 0, hi = kind ? p->n : split;
            if (lo == hi) continue;
            double kind_best = INFINITY;
            for (int j = 0; j < n; j++) {
                if (!st[j].ok || is_direct(&c[j].p) != (kind == 0)) continue;
                double s = 0;
                for (int i = lo; i < hi; i++) s += st[j].med[order[i]];
                if (s < kind_best) kind_best = s, pick[kind] = j;
            }
            cost += kind_best;
        }
        if (!(cost < best_cost)) continue;
        best_cost = cost;
        memset(best, 0, sizeof *best);
        best->min_indirect = T;
        for (int kind = 0; kind < 2; kind++)
            if (pick[kind] >= 0 && c[pick[kind]].p.n > 0) best->kernels[best->nkernels++] = c[pick[kind]].p;
    }
    return best_cost;
}

/* The candidates of one phase for the driver's callbacks: the driver's candidate i is c[idx[i]]. */
typedef struct {
    tune_gemm_problem *p;
    const gemm_candidate *c;
    const int *idx;
} gemm_set;

static bool check_candidate(void *ctx, int i, double *worst, char *why, size_t len) {
    gemm_set *set = ctx;
    gemm_tuning g = single(&set->c[set->idx[i]]);
    int status = tune_gemm_check(set->p, &g, worst);
    if (status != CLBlastSuccess) snprintf(why, len, "CLBlast refused it (%s)", clblast_status_name(status));
    return status == CLBlastSuccess;
}

static void select_candidate(void *ctx, int i) {
    gemm_set *set = ctx;
    gemm_tuning g = single(&set->c[set->idx[i]]);
    CLBLAST_CHECK(gemm_tuning_apply(set->p->rt, &g)); /* it was accepted once */
    set->p->status = CLBlastSuccess;
}

/* Times CLBlast's current parameters: those of the candidate selected last. */
static bool time_candidate(void *ctx, int i, double *t) {
    gemm_set *set = ctx;
    (void)i;
    time_current(set->p, t);
    return set->p->status == CLBlastSuccess;
}

/* Runs right after a switch of parameters are slower on PoCL than runs in a row (by up to 2x),
 * and the defaults can only be timed in a row: every candidate is timed in short runs in a row
 * too, the turns going round-robin so that drift falls on every candidate alike. */
static tune_search gemm_search(gemm_set *set) {
    static const int one_part[TUNE_MAX_GEMMS] = {0};
    return (tune_search){.ctx = set,
                         .nvalues = set->p->n,
                         .nparts = 1,
                         .part_of = one_part,
                         .turn_runs = PASS_RUNS,
                         .turn_warmup = true,
                         .check = check_candidate,
                         .select = select_candidate,
                         .time = time_candidate};
}

static void print_rejected(const gemm_candidate *c, const tune_trial *t) {
    char why[sizeof t->why + 16];
    if (!t->ran)
        snprintf(why, sizeof why, "REJECTED: %s", t->why);
    else
        snprintf(why, sizeof why, "REJECTED: results differ from the reference (worst error %.3g x the tolerance)",
                 t->worst);
    print_candidate(c, why);
}

/* Checks the candidates idx[0..m) (the first call of each compiles it), then times those that
 * pass, into st. */
static void run_phase(tune_gemm_problem *p, const gemm_candidate *c, cand_state *st, const int *idx, int m,
                      const tune_config *cfg, gemm_tune_result *r) {
    gemm_set set = {p, c, idx};
    tune_search s = gemm_search(&set);
    tune_trial *t = xcalloc((size_t)(m ? m : 1), sizeof *t);
    tune_measure(&s, m, cfg->rounds, t);
    for (int q = 0; q < m; q++) {
        int j = idx[q];
        r->tried++;
        st[j].ok = tune_trial_timed(&t[q]);
        r->rejected += !st[j].ok;
        memcpy(st[j].med, t[q].med, (size_t)p->n * sizeof *t[q].med);
        if (!t[q].ok[0]) print_rejected(&c[j], &t[q]);
    }
    for (int q = 0; q < m && !cfg->quiet; q++) {
        int j = idx[q];
        if (!st[j].ok) continue;
        double total = 0;
        for (int i = 0; i < p->n; i++) total += st[j].med[i];
        char what[256];
        int at = snprintf(what, sizeof what, "\n    total %.3f ms:", 1e3 * total);
        for (int i = 0; i < p->n && at < (int)sizeof what; i++)
            at += snprintf(what + at, sizeof what - (size_t)at, " %.3f", 1e3 * st[j].med[i]);
        print_candidate(&c[j], what);
    }
    tune_trials_free(t, m);
    free(t);
}

/* Medians per GEMM of CLBlast's current parameters, timed in a block; returns their sum. */
static double time_block(tune_gemm_problem *p, int rounds, double *med) {
    gemm_set set = {p, NULL, NULL};
    tune_search s = gemm_search(&set);
    return tune_time_block(&s, 0, rounds, med);
}

void tune_gemm(tune_gemm_problem *p, const gemm_candidate *c, int n, const tune_config *cfg, gemm_tune_result *r) {
    memset(r, 0, sizeof *r);
    r->nshapes = p->n;
    for (int i = 0; i < p->n; i++) r->shape[i] = p->g[i].s;
    r->baseline_default = !tune_clblast_overridden();

    /* The defaults first, in a block of their own: after an override there is no way back. */
    if (!cfg->quiet)
        printf("\nCLBlast SGEMM: %s (timed first, on their own), then %d candidates, %d rounds each:\n",
               r->baseline_default ? "its defaults" : "the current parameters", n, cfg->rounds);
    double worst;
    int status = check_current(p, &worst);
    if (status != CLBlastSuccess)
        warn("CLBlast's current parameters fail: %s", clblast_status_name(status));
    else if (!(worst <= 1))
        warn("CLBlast's current parameters give results that differ from the reference (worst error %.3g x the "
             "tolerance)",
             worst);
    double base_total = time_block(p, cfg->rounds, r->t_before);
    memcpy(r->t_after, r->t_before, sizeof r->t_after);
    if (!cfg->quiet) {
        printf("  defaults\n    total %.3f ms:", 1e3 * base_total);
        for (int i = 0; i < p->n; i++) printf(" %.3f", 1e3 * r->t_before[i]);
        printf(" (per GEMM, in the order of the table below)\n");
    }

    /* Then the candidates that leave XgemmDirect's parameters alone (CLBlast's own direct
     * parameters among them), then those that override them. */
    cand_state *st = xcalloc((size_t)(n ? n : 1), sizeof *st);
    int *idx = xmalloc((size_t)(n ? n : 1) * sizeof *idx);
    for (int phase = 0, m = 0; phase < 2; phase++, m = 0) {
        for (int j = 0; j < n; j++)
            if ((is_direct(&c[j].p) && c[j].p.n > 0) == (phase == 1)) idx[m++] = j;
        run_phase(p, c, st, idx, m, cfg, r);
    }

    /* The best combination, kept only when it clearly beats the defaults and passes its check.
     * CLBlast's own direct parameters with every GEMM direct, timed among the candidates, are
     * the defaults where CLBlast routes these GEMMs direct anyway: the faster of the two figures
     * stands for the defaults, so a slow spell during their own block cannot make a candidate
     * look better than it is. A combination that only changes the routing is not worth keeping. */
    double defaults_total = base_total;
    for (int j = 0; j < n; j++)
        if (st[j].ok && c[j].p.n == 0 && is_direct(&c[j].p)) {
            double t = 0;
            for (int i = 0; i < p->n; i++) t += st[j].med[i];
            defaults_total = t < defaults_total ? t : defaults_total;
        }
    gemm_tuning best;
    double cost = compose(p, c, st, n, &best);
    r->defaults_kept = true;
    if (best.nkernels > 0 && cost < KEEP_MARGIN * defaults_total) {
        status = tune_gemm_check(p, &best, &worst);
        if (status == CLBlastSuccess && worst <= 1) {
            r->defaults_kept = false;
            r->after = best;
            time_block(p, cfg->rounds, r->t_after);
        } else if (status != CLBlastSuccess) {
            warn("CLBlast refused the combined parameters (%s); keeping its defaults", clblast_status_name(status));
        } else {
            warn("the combined CLBlast parameters give results that differ from the reference (worst error %.3g x "
                 "the tolerance); keeping the defaults",
                 worst);
        }
    }
    /* Defaults kept: CLBlast is left as a process without a tuning finds it. */
    if (r->defaults_kept && r->baseline_default && tune_clblast_overridden())
        CLBLAST_CHECK(gemm_tuning_restore(p->rt));
    free(st);
    free(idx);
}

/* ---- candidates ----------------------------------------------------------------------------------- */

static gemm_candidate params(const char *kernel, size_t min_indirect, const char *const *names, const size_t *values,
                             int n) {
    gemm_candidate c = {.min_indirect = min_indirect};
    snprintf(c.p.kernel, sizeof c.p.kernel, "%s", kernel);
    c.p.n = n;
    for (int i = 0; i < n; i++) {
        snprintf(c.p.names[i], sizeof c.p.names[i], "%s", names[i]);
        c.p.values[i] = values[i];
    }
    return c;
}

static const char *const direct_names[] = {"WGD",  "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                           "KWID", "VWMD",   "VWND",   "PADA",   "PADB"};
static const char *const xgemm_names[] = {"MWG", "NWG", "KWG",  "MDIMC", "NDIMC", "MDIMA", "NDIMB", "KWI",
                                          "VWM", "VWN", "STRM", "STRN",  "SA",    "SB",    "GEMMK", "KREG"};

/* The value of parameter `name` of p; 0 when p has none. */
static size_t value(const clblast_params *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->names[i], name) == 0) return p->values[i];
    return 0;
}

#define V(name) value(p, name)
static size_t direct_local_bytes(const clblast_params *p) {
    return 4 * (V("WGD") * (V("WGD") + V("PADA")) + V("WGD") * (V("WGD") + V("PADB")));
}
static size_t xgemm_local_bytes(const clblast_params *p) {
    return 4 * (V("SA") * V("KWG") * V("MWG") + V("SB") * V("KWG") * V("NWG"));
}
#undef V

/* CLBlast's parameter names of its two GEMM kernels, by role: the work-group's tile (m, n, k), the
 * threads that compute it and those that load A and B, the K unroll and the vector widths. */
typedef struct {
    const char *kernel, *mwg, *nwg, *kwg, *mdimc, *ndimc, *mdima, *ndimb, *kwi, *vwm, *vwn;
    size_t (*local_bytes)(const clblast_params *p);
} gemm_roles;
static const gemm_roles roles[] = {
    {"XgemmDirect", "WGD", "WGD", "WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD", "KWID", "VWMD", "VWND",
     direct_local_bytes},
    {"Xgemm", "MWG", "NWG", "KWG", "MDIMC", "NDIMC", "MDIMA", "NDIMB", "KWI", "VWM", "VWN", xgemm_local_bytes},
};

/* CLBlast's own constraints (its tuners'): integer work per item, whole vectors, the K loop
 * unrolled evenly, and the work-group and local memory within the device's limits. A parameter
 * missing makes the candidate illegal. */
static bool legal(const gemm_candidate *c, const clrt *rt) {
    const clblast_params *p = &c->p;
    for (size_t k = 0; k < sizeof roles / sizeof roles[0]; k++) {
        const gemm_roles *r = &roles[k];
        if (strcmp(r->kernel, p->kernel) != 0) continue;
        size_t mwg = value(p, r->mwg), nwg = value(p, r->nwg), kwg = value(p, r->kwg), mc = value(p, r->mdimc),
               nc = value(p, r->ndimc), ma = value(p, r->mdima), nb = value(p, r->ndimb), kwi = value(p, r->kwi),
               vm = value(p, r->vwm), vn = value(p, r->vwn);
        if (!mwg || !nwg || !kwg || !mc || !nc || !ma || !nb || !kwi || !vm || !vn || !(mc * nc / ma) ||
            !(mc * nc / nb))
            return false;
        return kwg % kwi == 0 && mwg % (mc * vm) == 0 && nwg % (nc * vn) == 0 && mwg % (ma * vm) == 0 &&
               nwg % (nb * vn) == 0 && kwg % (mc * nc / ma) == 0 && kwg % (mc * nc / nb) == 0 &&
               mc * nc <= rt->dev.max_wg && r->local_bytes(p) <= rt->dev.local_mem;
    }
    return false;
}

int gemm_candidates_default(gemm_candidate *out, int max, const clrt *rt, bool quick) {
    /* CLBlast compiles its whole GEMM program for each set (and each routing), 10-30 s on PoCL:
     * a few picks, not a sweep. On a CPU (a sweep of 20 with PoCL on Zen 3 at batch 32) the
     * indirect kernel without local memory and with long vectors wins the wide GEMMs by 2-3x,
     * while no direct tile tried beat CLBlast's own on the 10-wide ones; a GPU gets CLBlast's
     * usual shapes with local memory. --quick tries none: the defaults are timed, nothing compiled. */
    /* WGD MDIMCD NDIMCD MDIMAD NDIMBD KWID VWMD VWND PADA PADB */
    static const size_t direct_gpu[][10] = {
        {32, 8, 8, 8, 8, 2, 2, 2, 1, 1}, {32, 16, 16, 16, 16, 2, 1, 1, 1, 1}, {64, 16, 16, 16, 16, 2, 2, 2, 1, 1}};
    /* MWG NWG KWG MDIMC NDIMC MDIMA NDIMB KWI VWM VWN STRM STRN SA SB GEMMK KREG */
    static const size_t xgemm_cpu[][16] = {{32, 64, 32, 8, 8, 8, 8, 2, 4, 8, 0, 0, 0, 0, 0, 1},
                                           {64, 32, 32, 8, 8, 8, 8, 2, 8, 4, 0, 0, 0, 0, 0, 1},
                                           {32, 32, 32, 8, 8, 8, 8, 2, 4, 4, 0, 0, 0, 0, 0, 1}};
    static const size_t xgemm_gpu[][16] = {{64, 64, 32, 16, 16, 16, 16, 2, 4, 4, 0, 0, 1, 1, 0, 1},
                                           {128, 128, 16, 16, 16, 16, 16, 2, 4, 4, 0, 0, 1, 1, 0, 1},
                                           {64, 64, 16, 8, 8, 8, 8, 2, 4, 4, 0, 0, 1, 1, 0, 1}};
    const size_t(*ind)[16] = rt->is_gpu ? xgemm_gpu : xgemm_cpu;
    int nd = rt->is_gpu ? 3 : 0, ni = 3, n = 0;
    if (quick) return 0;
    /* CLBlast's own direct parameters, every GEMM direct: what the small GEMMs may keep. */
    if (n < max) out[n++] = params("XgemmDirect", ALL_DIRECT, direct_names, NULL, 0);
    for (int i = 0; i < nd + ni && n < max; i++) {
        gemm_candidate c = i < nd ? params("XgemmDirect", ALL_DIRECT, direct_names, direct_gpu[i], 10)
                                  : params("Xgemm", 1, xgemm_names, ind[i - nd], 16);
        if (legal(&c, rt)) out[n++] = c;
    }
    return n;
}
