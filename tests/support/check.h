/* Test support: assertions that count failures, array comparison with the largest error,
 * running the claug binary, scratch directories, seeded data. */
#ifndef CLAUG_CHECK_H
#define CLAUG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claug/util/util.h"

extern int check_failures;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            check_failures++;                                                \
            check_report(__FILE__, __LINE__, #cond, __VA_ARGS__);            \
        }                                                                    \
    } while (0)
void check_report(const char *file, int line, const char *cond, const char *fmt, ...) CLAUG_PRINTF(4, 5);

/* |got - want| <= atol + rtol * |want| elementwise; prints the largest error seen. */
bool check_close(const char *what, const float *got, const float *want, size_t n, double atol, double rtol);
/* Bit-identical arrays. */
bool check_same(const char *what, const void *got, const void *want, size_t bytes);

/* True when s contains `what`, ignoring ASCII case. */
bool contains_ci(const char *s, const char *what);

/* Exit status of the test program: 0 when no check failed. */
int check_done(const char *name);

/* Runs the claug binary with the given arguments (NULL-terminated), capturing stdout and
 * stderr (malloc'd, NUL-terminated, may be NULL if not wanted). Returns the exit code, or
 * 128 + signal if it was killed. */
int run_claug(char **out, char **err, const char *const *args);

/* Starts the claug binary with args (NULL-terminated) in the background, its stdout and stderr
 * into sink_path(name) and sink_path(name)-err, for a test that signals or waits for it itself.
 * Returns its pid. */
int start_claug(const char *const *args, const char *name);
/* A whole file the test itself wrote or expects (read_file without the caller's cap); NULL when
 * it cannot be read. */
char *slurp(const char *path, size_t *len);

/* A file in the build tree for output the test does not look at ("<name>-out.png"). Never the
 * machine's /dev/null: a claug that renamed over it, as root, would replace the device. */
const char *sink_path(const char *name);

/* A fresh empty directory under the build tree for this test; returns its path. */
const char *scratch_dir(const char *name);

/* The source tree, the tests' directory for their files and the claug binary: $CLAUG_SOURCE_DIR,
 * $CLAUG_TEST_TMP and $CLAUG_BIN where set (tools/device-check.sh runs the kernel tests on a
 * machine without this build tree), else those the build was configured with. */
const char *test_source_dir(void);
const char *test_tmp_dir(void);
const char *test_claug_bin(void);

/* True when $CLAUG_TEST_TINY is set and not empty (tools/oclgrind-tests.sh sets it): the kernel
 * tests then keep a few small shapes that still reach every code path, because a device
 * simulator with race detection runs kernels thousands of times slower than a device. */
bool test_tiny(void);

/* Deterministic test data: uniform in [lo, hi). */
void fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);

#endif
