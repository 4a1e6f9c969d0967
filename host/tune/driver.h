/* The one driver both searches of `claug tune` run on (tune_conv.c, tune_gemm.c): each candidate
 * run once on poisoned outputs and checked against the plain-C reference, a warm-up, then timed
 * runs taken in turns across the candidates, the order rotating from turn to turn so that the
 * drift of a shared machine falls on every candidate alike, and medians. A search supplies the
 * candidates through a few callbacks. Private to host/tune/. */
#ifndef CLAUG_TUNE_DRIVER_H
#define CLAUG_TUNE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claug/runtime/clrt.h"

/* The tolerance of every check: |got - want| <= TUNE_ATOL + TUNE_RTOL |want|. */
#define TUNE_ATOL 1e-4
#define TUNE_RTOL 1e-4

enum { TUNE_MAX_PARTS = 4 };

/* A winner replaces the defaults only when faster by more than the noise of interleaved medians
 * on a shared machine, so that a re-run does not flip between equals (the convolution's tiles,
 * the dense layers' route; CLBlast has its own margin, tune_gemm.c). */
#define TUNE_KEEP_MARGIN 0.97
/* The runs of a final comparison (the defaults against the winner): twice a search's. */
static inline int tune_final_rounds(int rounds) { return 2 * rounds; }

typedef struct {
    void *ctx;
    int nvalues;        /* seconds one timed run yields: per layer and pass, per GEMM */
    int nparts;         /* parts of a candidate checked and scored apart (separate kernels) */
    const int *part_of; /* (nvalues): the part each value times */
    int turn_runs;      /* timed runs of a candidate in a row per turn */
    bool turn_warmup;   /* an untimed run starts each turn (runs right after a switch are slower) */
    /* Runs candidate i on poisoned outputs; each part's largest error relative to the tolerance
     * into worst (nparts). False, with the reason in why, when it cannot run at all. */
    bool (*check)(void *ctx, int i, double *worst, char *why, size_t len);
    /* Makes candidate i the current one before its turn; NULL when candidates run side by side. */
    void (*select)(void *ctx, int i);
    /* One run of candidate i: device seconds into t (nvalues, zeroed); false when it failed. */
    bool (*time)(void *ctx, int i, double *t);
} tune_search;

typedef struct {
    bool ran;          /* false: it could not run (why) */
    char why[512];
    double worst;      /* the largest error of all parts relative to the tolerance */
    bool ok[TUNE_MAX_PARTS]; /* the part passed its check */
    bool dropped;      /* failed while timed */
    double *med;       /* (nvalues) median seconds of each value; 0 when not timed */
    double part[TUNE_MAX_PARTS], total; /* medians of the per-run sums of each part's values, of all */
} tune_trial;

/* Whether any part of t passed its check and it ran to the end. */
bool tune_trial_timed(const tune_trial *t);
/* Checks candidates [0, n), then times those with a correct part `rounds` times each, into t (n). */
void tune_measure(const tune_search *s, int n, int rounds, tune_trial *t);
void tune_trials_free(tune_trial *t, int n);
/* Candidate i alone, after two warm-up runs: per-value medians of `rounds` runs in a row into
 * med (nvalues); returns their sum. */
double tune_time_block(const tune_search *s, int i, int rounds, double *med);

/* Fills x (n) with uniform values in [lo, hi) from the Philox stream `stream`, `which` apart. */
void tune_fill(float *x, size_t n, uint64_t seed, uint32_t stream, uint32_t which, float lo, float hi);
/* A layer case of a search (tune_conv.c, tune_dense.c): its inputs and outputs on the device,
 * and the plain-C references' outputs, each of n[] floats. */
enum { TUNE_X, TUNE_W, TUNE_B, TUNE_Y, TUNE_NIO };
typedef struct {
    bool need_dx;                /* false for the first layer with parameters, as in training */
    size_t n[TUNE_NIO];          /* floats of x and dx, w and dw, b and db, y and dy */
    cl_mem x, w, b, dy, yref;    /* inputs; yref the reference's output, read by the backward's ReLU mask */
    cl_mem y, dx, dw, db;        /* outputs */
    float *ry, *rdx, *rdw, *rdb; /* the references' outputs; rdx NULL without need_dx */
} tune_layer_io;
/* Fills io->ry, rdx, rdw, rdb from the host inputs. It may rewrite dy in place (a ReLU's mask, a
 * pooling's backward), and the device gets dy as it leaves it. */
typedef void (*tune_reference_fn)(void *ctx, tune_layer_io *io, const float *x, const float *w, const float *b,
                                  float *dy);
/* The case's inputs on the scale training sees: activations x in [0, 1), Glorot-uniform weights w
 * for fan = fan-in + fan-out, biases b in [-0.1, 0.1), and the small output gradients dy of a mean
 * loss, from streams 4 layer to 4 layer + 3 of `stream`; given to `reference`, then uploaded. */
void tune_layer_io_init(clrt *rt, tune_layer_io *io, bool need_dx, const size_t n[TUNE_NIO], int fan, uint64_t seed,
                        uint32_t stream, uint32_t layer, tune_reference_fn reference, void *ctx);
void tune_layer_io_release(tune_layer_io *io);
/* Fills the outputs with NaN, so that one a kernel leaves unwritten fails its check. */
void tune_layer_io_poison(clrt *rt, const tune_layer_io *io);
/* The outputs read back against the references: each one's tune_worst_error (dx's 0 without
 * need_dx). */
typedef struct {
    double y, dx, dw, db;
} tune_io_errors;
tune_io_errors tune_layer_io_errors(clrt *rt, const tune_layer_io *io);
/* A device copy of h (n). */
cl_mem tune_upload(clrt *rt, const float *h, size_t n);
/* Fills the n floats of m with value. */
void tune_poison(clrt *rt, cl_mem m, size_t n, float value);
/* The largest |got - want| / (TUNE_ATOL + TUNE_RTOL |want|) of m (n) read back: at most 1 passes;
 * NaN counts as infinite. */
double tune_worst_error(clrt *rt, cl_mem m, const float *want, size_t n);

#endif
