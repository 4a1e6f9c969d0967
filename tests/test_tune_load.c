/* A stored tuning validated by use: CLBlast parameters that do not compile are ignored by
 * tuning_load, train, eval and bench alike, and CLBlast is put back to its own; a file serves only
 * the shapes it was tuned at; `claug tune --quick` writes the file and training announces it. */
/* ctest: labels=e2e timeout=900 */
#define _POSIX_C_SOURCE 200809L
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "claug/model/net.h"
#include "tuning_check.h"

/* ---- parameters validated by use, and the shapes they were tuned for ---------------------------------- */

/* Runs claug with args; expects exit 0, a warning naming the file and CLBlast's parameter set,
 * and CLBlast's defaults announced. */
static void expect_runs_on_defaults(const char *path, const char *const *args) {
    char *out, *err;
    int rc = run_claug(&out, &err, args);
    CHECK(rc == 0 && strstr(err, "ignoring the CLBlast parameters of the tuning file") && strstr(err, path) &&
              strstr(err, "XgemmDirect WGD=4096") && strstr(out, "CLBlast default parameters (those of"),
          "claug %s with uncompilable CLBlast parameters: exit %d\n%s\n%s", args[0], rc, out, err);
    printf("%s: exit %d, %.300s", args[0], rc, err);
    free(out), free(err);
}

static void test_validated(clrt *rt) {
    char *path = tuning_path(rt);
    /* Every XgemmDirect value 4096: CLBlast accepts the override but cannot compile the kernel. */
    tuning huge;
    tuning_default(&huge, rt);
    huge.batch_size = 32;
    snprintf(huge.model, sizeof huge.model, "%s", MODEL_SEED);
    gemm_candidate c = tune_direct(tune_good_direct, 10);
    for (int i = 0; i < 10; i++) c.p.values[i] = 4096;
    huge.gemm.nkernels = 1;
    huge.gemm.kernels[0] = c.p;
    huge.gemm.min_indirect = c.min_indirect;
    huge.conv.splits = 4; /* valid tiles, not the defaults: they are used, CLBlast's are not */
    CHECK(tuning_save(&huge, rt, path), "cannot save");
    tuning t;
    char desc[4096];
    double t0 = now_seconds();
    char *err = tune_load_for(rt, MODEL_SEED, 32, &t, desc, sizeof desc);
    printf("uncompilable CLBlast parameters: load %.2f s: %s", now_seconds() - t0, err);
    CHECK(t.from_file && t.gemm.nkernels == 0 && t.gemm.min_indirect == 0 && t.conv.splits == 4 &&
              strstr(err, "ignoring the CLBlast parameters of the tuning file") && strstr(err, path) &&
              strstr(err, "XgemmDirect WGD=4096") && strstr(desc, "CLBlast default parameters (those of") &&
              strstr(desc, "convolution tuned ("),
          "uncompilable CLBlast parameters: '%s' / '%s'", desc, err);
    /* CLBlast is back to its own parameters: the GEMMs run and agree with the reference. */
    CHECK(!tune_clblast_overridden(), "CLBlast still overridden after the failed trial");
    int nl;
    layer *L = model_layers(MODEL_SEED, &nl, NULL);
    tune_gemm_problem *p = tune_gemm_problem_new(rt, L, nl, 32, 3);
    free(L);
    double worst;
    gemm_tuning none = {0};
    int st = tune_gemm_check(p, &none, &worst);
    CHECK(st == 0 && worst <= 1, "CLBlast's defaults after the failed trial: status %d, worst %.3g", st, worst);
    tune_gemm_problem_free(p);
    free(err);
    const char *wpath = sink_path("tune-validated.weights");
    expect_runs_on_defaults(path, (const char *[]){"train", "--epochs", "1", "--train-size", "64", "--save", wpath, NULL});
    expect_runs_on_defaults(path, (const char *[]){"eval", "--weights", wpath, NULL});
    expect_runs_on_defaults(path, (const char *[]){"bench", "--repeats", "1", NULL});

    /* Tuned at batch 17 for the seed model: at batch 64 every layer's shape differs (defaults for
     * all, said per layer); another model shares its only convolution (tuned) but not its dense
     * layer (CLBlast's defaults). */
    tuning want = tune_distinctive(rt);
    CHECK(tuning_save(&want, rt, path), "cannot save");
    conv_tuning def;
    conv_tuning_default(&def, rt);
    err = tune_load_for(rt, MODEL_SEED, 64, &t, desc, sizeof desc);
    CHECK(!*err && t.from_file && memcmp(&t.conv, &def, sizeof def) == 0 && t.gemm.nkernels == 0 &&
              strstr(desc, "convolution default parameters (") && strstr(desc, "tuned at batch 17") &&
              strstr(desc, "at tuned shapes: none; at others: conv2d, conv2d_1, conv2d_2") &&
              strstr(desc, "CLBlast default parameters (") && strstr(desc, "at others: dense, dense_1"),
          "batch 64: '%s' / '%s'", desc, err);
    printf("batch 64: %s\n", desc);
    free(err);
    const char *other = "conv32x3,relu,maxpool2,flatten,dense10,softmax";
    err = tune_load_for(rt, other, TUNED_BATCH, &t, desc, sizeof desc);
    CHECK(!*err && memcmp(&t.conv, &want.conv, sizeof want.conv) == 0 && t.gemm.nkernels == 0 &&
              strstr(desc, "convolution tuned (") && strstr(desc, "CLBlast default parameters (") &&
              strstr(desc, "at tuned shapes: none; at others: dense"),
          "another model: '%s' / '%s'", desc, err);
    printf("model %s: %s\n", other, desc);
    free(err);
    char *out;
    int rc = run_claug(&out, &err,
                       (const char *[]){"train", "--epochs", "1", "--train-size", "64", "--batch-size", "64", NULL});
    CHECK(rc == 0 && strstr(out, "at others: conv2d, conv2d_1, conv2d_2") && !strstr(out, "convolution tuned"),
          "train --batch-size 64: exit %d\n%s\n%s", rc, out, err);
    free(out), free(err);
    remove(path);
    free(path);
}

/* ---- the command line and training ------------------------------------------------------------------ */

static void test_cli(clrt *rt) {
    char *out, *err, *path = tuning_path(rt);
    remove(path);
    int rc = run_claug(&out, &err, (const char *[]){"tune", "--quick", "--batch-size", "2", NULL});
    CHECK(rc == 0 && strstr(out, "Saved to") && strstr(out, path), "tune --quick: exit %d\n%s\n%s", rc, out, err);
    CHECK(access(path, F_OK) == 0, "tune --quick wrote no %s", path);
    CHECK(strstr(out, "before (defaults) -> after") != NULL, "tune --quick: no before/after table");
    free(out), free(err);
    rc = run_claug(NULL, &err, (const char *[]){"tune", "--batch-size", "0", NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, "--batch-size"), "tune --batch-size 0: exit %d: %s", rc, err);
    free(err);

    /* Training announces the tuning it loads, unless quiet. */
    tuning want = tune_distinctive(rt);
    CHECK(tuning_save(&want, rt, path), "cannot save");
    tuning t;
    char desc[4096];
    /* What the trials add to start-up: the file loaded (tiles and CLBlast parameters built and
     * checked, as compiled before), against no file. */
    double t0 = now_seconds();
    char *warned = tune_load_capturing(rt, &t, desc, sizeof desc);
    double with_file = now_seconds() - t0;
    CHECK(t.from_file && tune_same(&t, &want) && !*warned, "the stored tuning did not load: %s", warned);
    free(warned);
    rename(path, sink_path("tune-moved.txt"));
    t0 = now_seconds();
    tuning_load(rt, MODEL_SEED, 1, 28, 28, 10, TUNED_BATCH, &t, desc, sizeof desc);
    printf("tuning_load: %.3f s with the file's trials, %.3f s without a file\n", with_file, now_seconds() - t0);
    rename(sink_path("tune-moved.txt"), path);
    const char *args[] = {"train", "--epochs", "1", "--train-size", "100", "--batch-size", "17", NULL};
    rc = run_claug(&out, &err, args);
    char want_line[1200];
    snprintf(want_line, sizeof want_line, "Tuning: convolution tuned (%s)", path);
    CHECK(rc == 0 && strstr(out, want_line), "train: exit %d, no '%s' in\n%s\n%s", rc, want_line, out, err);
    free(out), free(err);
    remove(path);
    free(path);
}

int main(void) {
    tune_test_cache("tune-load-cache");
    double t0 = now_seconds();
    clrt *rt = clrt_open(NULL, NULL);
    test_validated(rt);
    test_cli(rt);
    printf("[%.1f s]\n", now_seconds() - t0);
    clrt_close(rt);
    return check_done("test_tune_load");
}
