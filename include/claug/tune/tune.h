/* Per-device tuning (`claug tune`): the convolution kernels' -D tunables and CLBlast's GEMM
 * parameters, searched on the current device for the seed model's shapes, every candidate checked
 * against the plain-C references before it may win, and the winner stored in the program cache
 * directory as a text file keyed by device and driver. Training, evaluation and bench load it
 * with tuning_load(); without a valid file they run the defaults and say so. */
#ifndef CLAUG_TUNE_H
#define CLAUG_TUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claug/runtime/clrt.h"
#include "claug/ops/conv.h"
#include "claug/ops/dense.h"
#include "claug/model/net.h"

enum {
    CLBLAST_MAX_PARAMS = 16,
    CLBLAST_MAX_KERNELS = 2,
    TUNE_MAX_CANDIDATES = 32,
    TUNE_MAX_LAYERS = 8,
    TUNE_MAX_GEMMS = 12
};

/* One CLBlast kernel's parameters, as CLBlastOverrideParameters takes them. */
typedef struct {
    char kernel[16]; /* "XgemmDirect", "Xgemm" */
    int n;
    char names[CLBLAST_MAX_PARAMS][16];
    size_t values[CLBLAST_MAX_PARAMS];
} clblast_params;

/* CLBlast's SGEMM set-up: parameter overrides for its kernels (none: its defaults) and the
 * routing, XGEMM_MIN_INDIRECT_SIZE: a GEMM with m*n*k below its cube takes XgemmDirect, any other
 * the indirect Xgemm with its pad and transpose kernels. */
typedef struct {
    int nkernels;
    clblast_params kernels[CLBLAST_MAX_KERNELS];
    size_t min_indirect; /* 0: CLBlast's own routing */
} gemm_tuning;

typedef struct {
    conv_tuning conv;
    gemm_tuning gemm;
    int batch_size; /* the batch the search ran at; 0 for the defaults */
    char model[512]; /* the canonical model the search ran on; empty for the defaults */
    bool from_file; /* false: the defaults */
} tuning;

/* The defaults: conv_tuning_default and CLBlast's own parameters. */
void tuning_default(tuning *t, const clrt *rt);
/* The tuning file of rt's device in rt->cache_dir: "tuning-<16 hex>.txt", the hex a hash of the
 * device name, vendor, driver and platform version. NULL without a cache directory. */
char *tuning_path(const clrt *rt);
/* The file's text: a header naming the device, key = value lines, and a checksum line. */
char *tuning_format(const tuning *t, const clrt_devinfo *d);
/* Parses a tuning file's text for device d. False with the reason when it is corrupt, truncated,
 * made for another device or driver, or holds a value the kernels cannot take; *t is then
 * unspecified. */
bool tuning_parse(tuning *t, const char *text, const clrt *rt, char *err, size_t errlen);
/* Writes the file atomically; false (errno set) on failure. */
bool tuning_save(const tuning *t, const clrt *rt, const char *path);

/* The device's tuning for a run of `model` on (c, h, w) inputs and `classes` at batch `batch`.
 * Each kernel family (the convolution build, CLBlast's GEMM kernels) serves every layer of its
 * kind, so it takes the file's parameters only when every such layer of the run has a shape the
 * file was tuned at (same layer, same batch), and only after they were built and run once on
 * those shapes against the plain-C reference: tiles that do not build or compute wrong results,
 * and CLBlast parameters that fail to compile or run, are ignored with a warning naming the file
 * and the parameters. Anything else runs the defaults (with a warning when a file exists but is
 * not valid). Leaves CLBlast with the parameters chosen. `desc` gets one line saying, for the
 * convolution and CLBlast separately, "tuned (<file>): <layers>", "default parameters (the fastest
 * in `claug tune`, <file>)", "default parameters (<file> ...; tuned shapes: <layers>; not:
 * <layers>)" or "default parameters (run `claug tune`)". */
void tuning_load(clrt *rt, const char *model, int c, int h, int w, int classes, int batch, tuning *t, char *desc,
                 size_t desclen);
/* Whether the kernels can take t on rt's device (ranges, tile divisibility, work-group and local
 * memory limits); false with the reason. */
bool conv_tuning_check(const conv_tuning *t, const clrt *rt, char *err, size_t errlen);
/* Passes g's overrides to CLBlast for rt's device (nothing when g has none); returns CLBlast's
 * status, 0 on success. */
int gemm_tuning_apply(const clrt *rt, const gemm_tuning *g);
/* Whether CLBlast runs parameters other than its own in this process. */
bool tune_clblast_overridden(void);
/* Puts CLBlast back to its own parameters, as retrieved before this process's first override
 * (its C API has no reset); CLBlast's status, 0 on success. */
int gemm_tuning_restore(const clrt *rt);
/* One line: "Xgemm MWG=64 NWG=64 ..., direct below 64^3" or "CLBlast's defaults". */
void gemm_tuning_describe(char *buf, size_t len, const gemm_tuning *g);
/* The convolution and CLBlast choices in one line, for result files. */
void tuning_describe(char *buf, size_t len, const tuning *t);

/* ---- the search ------------------------------------------------------------------------------ */

typedef struct {
    int batch_size;
    int rounds; /* timed runs per candidate, taken round-robin across the candidates */
    bool quiet; /* no line per candidate */
    uint64_t seed;
} tune_config;

/* Median of s (sorted in place). */
double tune_median(double *s, int n);

/* The convolution candidates. CPU: register tiles, the forward's (tp, cb) and the weight
 * gradient's (wt, wcb) searched together (one build carries one of each, each judged by its own
 * kernel's time), then work-group sizes and splits for the winners. GPU: local-memory tiles
 * (tm, tn, kc, rm, rn) and a few register tiles, each build judged by the total, then splits
 * (and work-group sizes for register tiles). */
typedef struct {
    int nfwd, ndw, nlm, nlws, nsplits;
    int fwd[TUNE_MAX_CANDIDATES][2]; /* (tp, cb) */
    int dw[TUNE_MAX_CANDIDATES][2];  /* (wt, wcb) */
    int lm[TUNE_MAX_CANDIDATES][5];  /* (tm, tn, kc, rm, rn) */
    int lws[8], splits[8];
} conv_space;
void conv_space_default(conv_space *s, const clrt *rt, bool quick);
/* The compile-time builds the search's first stage times: the defaults with each local-memory
 * tile of s, then with each register tile (forward and weight-gradient tiles paired in turn).
 * Returns their number, at most 2 * TUNE_MAX_CANDIDATES. */
int conv_space_builds(conv_tuning *out, const conv_space *s, const conv_tuning *def, const clrt *rt);

/* The seed model's convolution layers at one batch size, with seeded data on the device and the
 * plain-C references' outputs. */
typedef struct tune_conv_problem tune_conv_problem;
tune_conv_problem *tune_conv_problem_new(clrt *rt, const layer *L, int nl, int batch, uint64_t seed);
void tune_conv_problem_free(tune_conv_problem *p);
/* Builds the kernels with tuning t, runs every layer forward and backward (no input gradient for
 * the first, as in training) on NaN-poisoned outputs and compares y, dx, dw, db with the
 * references (|a - b| <= 1e-4 + 1e-4 |ref|). *fwd_ok covers y and dx (the forward kernel), *dw_ok
 * dw and db; *worst gets the largest error relative to its tolerance (<= 1 passes). False, with
 * the reason in err and both parts failed, when the kernels do not build or cannot take t's
 * work-groups. The search checks each candidate with it and tuning_load the stored tiles. */
bool tune_conv_check(tune_conv_problem *p, const conv_tuning *t, bool *fwd_ok, bool *dw_ok, double *worst, char *err,
                     size_t errlen);

typedef struct {
    conv_tuning before, after; /* the defaults and the kept tuning (the defaults unless a candidate beat them by 3%) */
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
 * |got - ref| / (1e-4 + 1e-4 |ref|) into *worst (<= 1 passes; infinite when they did not run). */
int tune_gemm_check(tune_gemm_problem *p, const gemm_tuning *g, double *worst);
/* The reference output of GEMM i ((m, n) floats), for tests that need a wrong one. */
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

/* `claug tune`: both searches with the device's candidate lists (quick: tiny ones), before and
 * after figures, and the file written (its path into *saved, malloc'd, or NULL without a cache).
 * conv_override / gemm_override, when not NULL, replace the candidate lists (tests);
 * ngemm_override 0 with a non-NULL gemm_override skips the CLBlast search. */
void tune_run(clrt *rt, const tune_config *c, bool quick, const conv_space *conv_override,
              const gemm_candidate *gemm_override, int ngemm_override, tuning *out, char **saved);

#endif
