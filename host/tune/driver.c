#include "driver.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "philox.h"

bool tune_trial_timed(const tune_trial *t) {
    bool any = false;
    for (int k = 0; k < TUNE_MAX_PARTS; k++) any |= t->ok[k];
    return any && !t->dropped;
}

static void check_all(const tune_search *s, int n, tune_trial *t, double *scratch) {
    for (int i = 0; i < n; i++) {
        memset(&t[i], 0, sizeof t[i]);
        double worst[TUNE_MAX_PARTS] = {0};
        t[i].ran = s->check(s->ctx, i, worst, t[i].why, sizeof t[i].why);
        t[i].worst = t[i].ran ? 0 : INFINITY;
        for (int k = 0; k < s->nparts && t[i].ran; k++) {
            t[i].ok[k] = worst[k] <= 1;
            t[i].worst = fmax(t[i].worst, worst[k]);
        }
        if (!tune_trial_timed(&t[i])) continue;
        /* A warm-up: lazy compiles, caches. */
        memset(scratch, 0, (size_t)s->nvalues * sizeof *scratch);
        t[i].dropped = !s->time(s->ctx, i, scratch);
    }
}

/* Medians of samples (rounds, nvalues) into t. */
static void medians(const tune_search *s, const double *samples, int rounds, tune_trial *t) {
    int nv = s->nvalues;
    double *tmp = xmalloc((size_t)rounds * sizeof *tmp);
    t->med = xmalloc((size_t)nv * sizeof *t->med);
    for (int v = 0; v < nv; v++) {
        for (int r = 0; r < rounds; r++) tmp[r] = samples[(size_t)r * nv + v];
        t->med[v] = median(tmp, rounds);
    }
    for (int k = 0; k <= s->nparts; k++) { /* k == nparts: all values */
        for (int r = 0; r < rounds; r++) {
            tmp[r] = 0;
            for (int v = 0; v < nv; v++)
                if (k == s->nparts || s->part_of[v] == k) tmp[r] += samples[(size_t)r * nv + v];
        }
        *(k == s->nparts ? &t->total : &t->part[k]) = median(tmp, rounds);
    }
    free(tmp);
}

void tune_measure(const tune_search *s, int n, int rounds, tune_trial *t) {
    size_t per = (size_t)rounds * s->nvalues;
    double *samples = xcalloc((size_t)(n ? n : 1) * per, sizeof *samples);
    check_all(s, n, t, samples);
    int turns = rounds < s->turn_runs ? 1 : rounds / s->turn_runs;
    for (int turn = 0, done = 0; turn < turns; turn++) {
        int runs = turn == turns - 1 ? rounds - done : s->turn_runs;
        for (int q = 0; q < n; q++) {
            int i = (turn + q) % n;
            if (!tune_trial_timed(&t[i])) continue;
            if (s->select) s->select(s->ctx, i);
            double *at = samples + (size_t)i * per + (size_t)done * s->nvalues;
            bool ok = true;
            for (int k = s->turn_warmup ? -1 : 0; k < runs && ok; k++) {
                double *dst = at + (size_t)(k < 0 ? 0 : k) * s->nvalues; /* the warm-up is overwritten */
                memset(dst, 0, (size_t)s->nvalues * sizeof *dst);
                ok = s->time(s->ctx, i, dst);
            }
            t[i].dropped = !ok;
        }
        done += runs;
    }
    for (int i = 0; i < n; i++) medians(s, samples + (size_t)i * per, rounds, &t[i]); /* 0 when not timed */
    free(samples);
}

void tune_trials_free(tune_trial *t, int n) {
    for (int i = 0; i < n; i++) free(t[i].med), t[i].med = NULL;
}

double tune_time_block(const tune_search *s, int i, int rounds, double *med) {
    int nv = s->nvalues;
    double *samples = xcalloc((size_t)rounds * nv, sizeof *samples), total = 0;
    bool ok = true;
    for (int w = 0; w < 2; w++) ok &= s->time(s->ctx, i, samples);
    memset(samples, 0, (size_t)nv * sizeof *samples);
    for (int r = 0; r < rounds; r++) ok &= s->time(s->ctx, i, samples + (size_t)r * nv);
    /* Only candidates that passed their check come here: a run that fails now is the device's. */
    if (!ok) die(EXIT_DEVICE, "a checked tuning candidate failed while it was timed");
    tune_trial t = {0};
    medians(s, samples, rounds, &t);
    for (int v = 0; v < nv; v++) total += med[v] = t.med[v];
    free(t.med);
    free(samples);
    return total;
}

void tune_fill(float *x, size_t n, uint64_t seed, uint32_t stream, uint32_t which, float lo, float hi) {
    for (size_t i = 0; i < n; i += 4) {
        philox4 r = claug_random4(seed, stream, which, (uint32_t)(i / 4), 0);
        for (size_t j = 0; j < 4 && i + j < n; j++) x[i + j] = lo + (hi - lo) * claug_uniform(r.v[j]);
    }
}

cl_mem tune_upload(clrt *rt, const float *h, size_t n) {
    cl_mem m = clrt_alloc(rt, n * sizeof *h);
    clrt_write(rt, m, 0, n * sizeof *h, h);
    return m;
}

void tune_poison(clrt *rt, cl_mem m, size_t n, float value) {
    const cl_float v = value;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, m, &v, sizeof v, 0, n * sizeof(float), 0, NULL, NULL));
}

double tune_worst_error(clrt *rt, cl_mem m, const float *want, size_t n) {
    float *got = xmalloc(n * sizeof *got);
    clrt_read(rt, m, 0, n * sizeof *got, got);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (TUNE_ATOL + TUNE_RTOL * fabs((double)want[i]));
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
    }
    free(got);
    return worst;
}

void tune_layer_io_init(clrt *rt, tune_layer_io *io, bool need_dx, const size_t n[TUNE_NIO], int fan, uint64_t seed,
                        uint32_t stream, uint32_t layer, tune_reference_fn reference, void *ctx) {
    memset(io, 0, sizeof *io);
    io->need_dx = need_dx;
    memcpy(io->n, n, sizeof io->n);
    float *x = xmalloc(n[TUNE_X] * sizeof *x), *w = xmalloc(n[TUNE_W] * sizeof *w), *b = xmalloc(n[TUNE_B] * sizeof *b),
          *dy = xmalloc(n[TUNE_Y] * sizeof *dy);
    float limit = sqrtf(6.0f / (float)fan);
    tune_fill(x, n[TUNE_X], seed, stream, 4 * layer, 0.0f, 1.0f);
    tune_fill(w, n[TUNE_W], seed, stream, 4 * layer + 1, -limit, limit);
    tune_fill(b, n[TUNE_B], seed, stream, 4 * layer + 2, -0.1f, 0.1f);
    tune_fill(dy, n[TUNE_Y], seed, stream, 4 * layer + 3, -0.01f, 0.01f);
    io->ry = xmalloc(n[TUNE_Y] * sizeof(float));
    io->rdx = need_dx ? xmalloc(n[TUNE_X] * sizeof(float)) : NULL;
    io->rdw = xmalloc(n[TUNE_W] * sizeof(float));
    io->rdb = xmalloc(n[TUNE_B] * sizeof(float));
    reference(ctx, io, x, w, b, dy);
    io->x = tune_upload(rt, x, n[TUNE_X]);
    io->w = tune_upload(rt, w, n[TUNE_W]);
    io->b = tune_upload(rt, b, n[TUNE_B]);
    io->dy = tune_upload(rt, dy, n[TUNE_Y]);
    io->yref = tune_upload(rt, io->ry, n[TUNE_Y]);
    io->y = clrt_alloc(rt, n[TUNE_Y] * sizeof(float));
    io->dx = clrt_alloc(rt, n[TUNE_X] * sizeof(float));
    io->dw = clrt_alloc(rt, n[TUNE_W] * sizeof(float));
    io->db = clrt_alloc(rt, n[TUNE_B] * sizeof(float));
    free(x), free(w), free(b), free(dy);
}

void tune_layer_io_release(tune_layer_io *io) {
    cl_mem ms[] = {io->x, io->w, io->b, io->dy, io->yref, io->y, io->dx, io->dw, io->db};
    for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) CL_CHECK(clReleaseMemObject(ms[j]));
    free(io->ry), free(io->rdx), free(io->rdw), free(io->rdb);
}

void tune_layer_io_poison(clrt *rt, const tune_layer_io *io) {
    tune_poison(rt, io->y, io->n[TUNE_Y], NAN), tune_poison(rt, io->dx, io->n[TUNE_X], NAN);
    tune_poison(rt, io->dw, io->n[TUNE_W], NAN), tune_poison(rt, io->db, io->n[TUNE_B], NAN);
}

tune_io_errors tune_layer_io_errors(clrt *rt, const tune_layer_io *io) {
    return (tune_io_errors){.y = tune_worst_error(rt, io->y, io->ry, io->n[TUNE_Y]),
                            .dx = io->need_dx ? tune_worst_error(rt, io->dx, io->rdx, io->n[TUNE_X]) : 0,
                            .dw = tune_worst_error(rt, io->dw, io->rdw, io->n[TUNE_W]),
                            .db = tune_worst_error(rt, io->db, io->rdb, io->n[TUNE_B])};
}
