/* The tuning record: the convolution kernels' -D tunables and CLBlast's GEMM parameters of one
 * device, as `claug tune` found them (search.h), stored in the program cache directory as a text
 * file keyed by device and driver. Training, evaluation and bench load it with tuning_load()
 * (through open_tuned_net, tuned_net.h); without a valid file they run the defaults and say so. */
#ifndef CLAUG_TUNING_H
#define CLAUG_TUNING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claug/runtime/clrt.h"
#include "claug/ops/conv.h"

enum { CLBLAST_MAX_PARAMS = 16, CLBLAST_MAX_KERNELS = 2 };

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

#endif
