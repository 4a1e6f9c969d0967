/* The search of `claug tune`: the seed model's convolution layers and dense-layer GEMMs with
 * seeded data and their plain-C references, candidate tunings checked against them before they
 * are timed, and the winners kept only when they beat the defaults. tuning_load checks a stored
 * tuning on the same problems. */
#ifndef CLAUG_SEARCH_H
#define CLAUG_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "claug/ops/dense.h"
#include "claug/model/net.h"
#include "claug/tune/tuning.h"

enum { TUNE_MAX_CANDIDATES = 32, TUNE_MAX_LAYERS = 8, TUNE_MAX_GEMMS = 12 };

typedef struct {
    int batch_size;
    int rounds; /* timed runs per candidate, taken round-robin across the candidates */
    bool quiet; /* no line per candidate */
    uint64_t seed;
} tune_config;

/* The convolution candidates. CPU: register tiles, the forward's (tp, cb), the weight
 * gradient's (wt, wcb) and the pixel-vector kernels' (pxr, pxc), (pxt, pxwc) searched together
 * (one build carries one of each, each judged by its own kernels' time), then work-group sizes,
 * splits and whether the layers with few taps take the pixel-vector kernels, for the winners. GPU: local-memory tiles
 * (tm, tn, kc, rm, rn) and a few register tiles, each build judged by the total, then splits
 * (and work-group sizes for register tiles). Both: then the gradient layout kernel's form
 * (prep8s; none searched when nprep8s is 0), judged by the weight-gradient time its launches
 * count in. The layers run as in training, a pooling's backward fused where it is. */
typedef struct {
    int nfwd, ndw, npx, npxw, nlm, nlws, nsplits, npxs, nprep8s;
    int fwd[TUNE_MAX_CANDIDATES][2]; /* (tp, cb) */
    int dw[TUNE_MAX_CANDIDATES][2];  /* (wt, wcb) */
    int px[TUNE_MAX_CANDIDATES][2];  /* (pxr, pxc): the pixel-vector forward's */
    int pxw[TUNE_MAX_CANDIDATES][2]; /* (pxt, pxwc): the pixel-vector weight gradient's */
    int lm[TUNE_MAX_CANDIDATES][5];  /* (tm, tn, kc, rm, rn) */
    int lws[8], splits[8], pxs[2]; /* pxs: the tap limits for the pixel-vector kernels */
    int prep8s[2];                 /* CONV_PREP8's values */
} conv_space;
void conv_space_default(conv_space *s, const clrt *rt, bool quick);
/* The compile-time builds the search's first stage times: the defaults with each local-memory
 * tile of s, then with each register tile (forward and weight-gradient tiles paired in turn).
 * Returns their number, at most 2 * TUNE_MAX_CANDIDATES. */
int conv_space_builds(conv_tuning *out, const conv_space *s, const conv_tuning *def, const clrt *rt);

/* The seed model's convolution layers at one batch size, with seeded data on the device and the
 * plain-C references' outputs; with_dense, its dense layers too, as the 1x1 convolutions they are
 * under conv.dense = 1. */
typedef struct tune_conv_problem tune_conv_problem;
tune_conv_problem *tune_conv_problem_new(clrt *rt, const layer *L, int nl, int batch, uint64_t seed,
                                         bool with_dense);
void tune_conv_problem_free(tune_conv_problem *p);
/* Builds the kernels with tuning t, runs every layer forward and backward (no input gradient for
 * the first, as in training) on NaN-poisoned outputs and compares y, dx, dw, db with the
 * references (the tuner's tolerance). *fwd_ok covers y and dx (the forward kernel), *dw_ok
 * dw and db; *worst gets the largest error relative to its tolerance (<= 1 passes). False, with
 * the reason in err and both parts failed, when the kernels do not build or cannot take t's
 * work-groups. The search checks each candidate with it and tuning_load the stored tiles. */
bool tune_conv_check(tune_conv_problem *p, const conv_tuning *t, bool *fwd_ok, bool *dw_ok, double *worst, char *err,
                     size_t errlen);

typedef struct {
    conv_tuning before, after; /* the defaults and the kept tuning (the defaults unless a candidate beat them by 3%) */
    conv_tuning winner;        /* the stages' best, which the final runs held against the defaults */
    int nlayers;
    char layer[TUNE_MAX_LAYERS][32];
    double t_before[TUNE_MAX_LAYERS][3], t_after[TUNE_MAX_LAYERS][3]; /* median seconds: forward, dx, dw */
    int tried, rejected;
} conv_tune_result;
void tune_conv(tune_conv_problem *p, const conv_space *s, const tune_config *c, conv_tune_result *r);


typedef struct {
    clblast_params p;
    size_t min_indirect; /* the routing that makes every GEMM take p's kernel */
} gemm_candidate;
int gemm_candidates_default(gemm_candidate *out, int max, const clrt *rt, bool quick);

/* The seed model's GEMMs with seeded inputs and the references' outputs. */
typedef struct tune_gemm_problem tune_gemm_problem;
tune_gemm_problem *tune_gemm_problem_new(clrt *rt, const layer *L, int nl, int batch, uint64_t seed);
void tune_gemm_problem_free(tune_gemm_problem *p);
/* Applies g and runs every GEMM on poisoned outputs: CLBlast's status (0: all ran) and the largest
 * error relative to the tuner's tolerance into *worst (<= 1 passes; infinite when they did not run). */
int tune_gemm_check(tune_gemm_problem *p, const gemm_tuning *g, double *worst);
/* For the tests, which need a wrong reference: that of GEMM i ((m, n) floats). */
float *tune_gemm_reference(tune_gemm_problem *p, int i);

typedef struct {
    gemm_tuning after; /* no overrides when CLBlast's defaults were kept */
    bool defaults_kept;
    bool baseline_default; /* false when this process had overridden CLBlast before the search */
    int nshapes;
    dense_gemm_shape shape[TUNE_MAX_GEMMS];
    double t_before[TUNE_MAX_GEMMS], t_after[TUNE_MAX_GEMMS]; /* median seconds */
    int tried, rejected;
} gemm_tune_result;
/* Times CLBlast's current parameters, then the candidates (round-robin), each checked first; a
 * candidate CLBlast refuses or whose results differ from the reference is rejected. The best
 * direct and indirect candidates are combined with the routing that suits the shapes; that is
 * kept, applied and checked again only when it beats the defaults by 10% or more (CLBlast's own
 * direct parameters, as a candidate with no parameters, are timed among the others and count as
 * the defaults when faster than their own block). A candidate with no parameters stands for
 * CLBlast's own parameters of its kernel. When the defaults are kept, CLBlast is put back to
 * them. */
void tune_gemm(tune_gemm_problem *p, const gemm_candidate *c, int n, const tune_config *cfg, gemm_tune_result *r);

/* The dense layers' route (conv.dense): the seed model's dense layers forward and backward as 1x1
 * convolutions under a convolution tuning, or through CLBlast as it stands (tune_gemm's choice
 * applied), with seeded data and the plain-C references' outputs. */
typedef struct tune_dense_problem tune_dense_problem;
tune_dense_problem *tune_dense_problem_new(clrt *rt, const layer *L, int nl, int batch, uint64_t seed);
void tune_dense_problem_free(tune_dense_problem *p);
/* For the tests, which need a wrong reference: dense layer i's forward output ((batch, OUT) floats). */
float *tune_dense_reference(tune_dense_problem *p, int i);

enum { ROUTE_GEMM, ROUTE_CONV, NROUTES }; /* a route's index is its conv.dense */
typedef struct {
    int before, after;     /* the device's default route and the one kept */
    int nlayers;           /* dense layers timed; none: nothing was run */
    int rounds;            /* timed runs of each route */
    bool ok[NROUTES];      /* the route ran and matched the references */
    double worst[NROUTES]; /* its largest error relative to the tolerance */
    double t[NROUTES];     /* median device seconds of all the dense layers forward and backward */
    char why[NROUTES][512]; /* why a route could not run */
} dense_tune_result;
/* Both routes checked, then timed in turns (as many runs as the convolution's final comparison),
 * the convolution's under t; the other route is kept only when it is correct and beats the
 * default by 3%, or when the default is not correct. */
void tune_dense(tune_dense_problem *p, const conv_tuning *t, const tune_config *c, dense_tune_result *r);
/* That rule: the route kept, from the default and each route's check and median. */
int tune_dense_choice(int def, const bool ok[NROUTES], const double t[NROUTES]);

/* `claug tune`: both searches with the device's candidate lists (quick: tiny ones), before and
 * after figures, and the file written (its path into *saved, malloc'd, or NULL without a cache). */
void tune_run(clrt *rt, const tune_config *c, bool quick, tuning *out, char **saved);

#endif
