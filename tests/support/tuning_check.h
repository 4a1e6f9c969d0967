/* What the tuning tests share (test_tuning_file.c, test_tune_search.c, test_tune_load.c): a cache
 * directory of their own, tuning_load with its warnings captured, and tunings to store. */
#ifndef CLAUG_TEST_TUNING_H
#define CLAUG_TEST_TUNING_H

#include <stdbool.h>
#include <stddef.h>

#include "claug/tune/search.h"

/* The batch tune_distinctive() records. */
enum { TUNED_BATCH = 17 };

/* Points $XDG_CACHE_HOME, where the tuning file lives, at a scratch directory `name` of this test,
 * so that no other test sees its tunings. PoCL's compiled kernels stay with the suite's cache, so
 * the builds (CLBlast's take seconds each) are paid once. */
void tune_test_cache(const char *name);
/* tuning_load for a run of `model` at `batch` with stderr captured: returns what it warned
 * (malloc'd). */
char *tune_load_for(clrt *rt, const char *model, int batch, tuning *t, char *desc, size_t len);
/* The same for the seed model at TUNED_BATCH. */
char *tune_load_capturing(clrt *rt, tuning *t, char *desc, size_t len);
/* XgemmDirect candidate with the first n of its ten parameters v, every GEMM direct. */
gemm_candidate tune_direct(const size_t v[10], int n);
/* Legal XgemmDirect parameters. */
extern const size_t tune_good_direct[10];
/* A tuning no default equals, within the kernels' limits, at TUNED_BATCH. */
tuning tune_distinctive(const clrt *rt);
bool tune_same(const tuning *a, const tuning *b);

#endif
