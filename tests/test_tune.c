/* `claug tune`: a candidate with wrong results is rejected and never stored (a convolution kernel
 * made wrong for one tile size, CLBlast parameters that compile but compute garbage, parameters
 * CLBlast refuses, and a correct candidate measured against a wrong reference); the tuning file
 * round-trips, and a corrupt, truncated, foreign or out-of-range one is ignored with a warning;
 * training loads the stored tuning and says so. One executable, because CLBlast compiles each
 * parameter set once per process. */
#define _POSIX_C_SOURCE 200809L
#include <clblast_c.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "claug/model/net.h"
#include "claug/tune/tune.h"

/* ---- helpers ------------------------------------------------------------------------------------ */

/* The batch distinctive() and tuned_at() record. */
enum { TUNED_BATCH = 17 };

/* tuning_load for a run of `model` at `batch` with stderr captured: returns what it warned
 * (malloc'd). */
static char *load_for(clrt *rt, const char *model, int batch, tuning *t, char *desc, size_t len) {
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    tuning_load(rt, model, 1, 28, 28, 10, batch, t, desc, len);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    long n = ftell(tmp);
    char *text = xcalloc((size_t)(n > 0 ? n : 0) + 1, 1);
    rewind(tmp);
    if (n > 0 && fread(text, 1, (size_t)n, tmp) != (size_t)n) text[0] = 0;
    fclose(tmp);
    return text;
}

/* The seed model's canonical string, as the tuning file records it. */
static const char *seed_canonical(void) {
    static char buf[512];
    layer *L;
    int nl;
    char *canonical, err[256];
    CHECK(model_parse(MODEL_SEED, 1, 28, 28, 10, &L, &nl, &canonical, err, sizeof err), "seed model: %s", err);
    snprintf(buf, sizeof buf, "%s", canonical);
    free(L);
    free(canonical);
    return buf;
}

/* The same for the seed model at the batch the test's files record. */
static char *load_capturing(clrt *rt, tuning *t, char *desc, size_t len) {
    return load_for(rt, MODEL_SEED, TUNED_BATCH, t, desc, len);
}

static gemm_candidate direct(const size_t v[10], int n) {
    static const char *names[] = {"WGD",  "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                  "KWID", "VWMD",   "VWND",   "PADA",   "PADB"};
    gemm_candidate c = {.min_indirect = 1 << 20};
    snprintf(c.p.kernel, sizeof c.p.kernel, "XgemmDirect");
    c.p.n = n;
    for (int i = 0; i < n; i++) snprintf(c.p.names[i], sizeof c.p.names[i], "%s", names[i]), c.p.values[i] = v[i];
    return c;
}

/* Legal XgemmDirect parameters, every GEMM direct. */
static const size_t good_v[10] = {16, 8, 8, 8, 8, 2, 1, 2, 1, 1};

/* A tuning no default equals, within the kernels' limits. */
static tuning distinctive(const clrt *rt) {
    tuning t;
    tuning_default(&t, rt);
    t.batch_size = TUNED_BATCH;
    snprintf(t.model, sizeof t.model, "%s", seed_canonical());
    t.conv.tp = 5, t.conv.cb = 1, t.conv.wt = 4, t.conv.wcb = 3, t.conv.lws = 8, t.conv.splits = 4;
    t.conv.tm = 32, t.conv.tn = 16, t.conv.kc = 8, t.conv.rm = 2, t.conv.rn = 2;
    /* As test_clblast searched it: CLBlast compiles each set of parameters and routing anew. */
    gemm_candidate c = direct(good_v, 10);
    t.gemm.nkernels = 1;
    t.gemm.kernels[0] = c.p;
    t.gemm.min_indirect = c.min_indirect;
    return t;
}

static bool same_tuning(const tuning *a, const tuning *b) {
    if (memcmp(&a->conv, &b->conv, sizeof a->conv) != 0 || a->batch_size != b->batch_size ||
        a->gemm.nkernels != b->gemm.nkernels || a->gemm.min_indirect != b->gemm.min_indirect)
        return false;
    for (int k = 0; k < a->gemm.nkernels; k++) {
        const clblast_params *x = &a->gemm.kernels[k], *y = &b->gemm.kernels[k];
        if (strcmp(x->kernel, y->kernel) != 0 || x->n != y->n) return false;
        for (int i = 0; i < x->n; i++)
            if (strcmp(x->names[i], y->names[i]) != 0 || x->values[i] != y->values[i]) return false;
    }
    return true;
}

/* Writes text as the device's tuning file, loads it, and expects the defaults and a warning
 * containing `why`. */
static void expect_ignored(clrt *rt, const char *text, size_t len, const char *why, const char *what) {
    char *path = tuning_path(rt);
    CHECK(write_file(path, text, len), "cannot write %s", path);
    tuning t, def;
    tuning_default(&def, rt);
    char desc[4096];
    char *err = load_capturing(rt, &t, desc, sizeof desc);
    CHECK(!t.from_file && memcmp(&t.conv, &def.conv, sizeof def.conv) == 0 && t.gemm.nkernels == 0,
          "%s: the file's values were used", what);
    CHECK(strstr(err, "ignoring the tuning file") && strstr(err, path) && strstr(err, why),
          "%s: warning '%s' lacks '%s'", what, err, why);
    CHECK(strstr(desc, "convolution default parameters (run `claug tune`)") != NULL, "%s: description '%s'", what,
          desc);
    printf("%-28s ignored: %s", what, strstr(err, "ignoring") ? strstr(err, "ignoring") : err);
    free(err);
    free(path);
}

/* The text with its checksum line recomputed, as an editor who knows the format would. */
static char *resum(const char *text) {
    const char *sum = strstr(text, "checksum = ");
    size_t body = (size_t)(sum - text);
    char *out =
        xasprintf("%.*schecksum = %016llx\n", (int)body, text, (unsigned long long)fnv64(FNV64_INIT, text, body));
    return out;
}

/* ---- the file --------------------------------------------------------------------------------------- */

static void test_file(clrt *rt) {
    char *path = tuning_path(rt);
    tuning def, t;
    tuning_default(&def, rt);
    char desc[4096];
    remove(path);
    char *err = load_capturing(rt, &t, desc, sizeof desc);
    CHECK(!t.from_file && memcmp(&t.conv, &def.conv, sizeof def.conv) == 0 && !*err, "no file: %s", err);
    CHECK(strstr(desc, "convolution default parameters (run `claug tune`); CLBlast default parameters (run `claug "
                       "tune`)") != NULL,
          "no file: description '%s'", desc);
    printf("no file: %s\n", desc);
    free(err);

    /* Save, load: the same values, and the line says where they came from. */
    tuning want = distinctive(rt);
    CHECK(tuning_save(&want, rt, path), "cannot save %s", path);
    err = load_capturing(rt, &t, desc, sizeof desc);
    CHECK(t.from_file && same_tuning(&t, &want) && !*err, "round trip: values differ (warnings: %s)", err);
    char tuned_conv[1200], tuned_gemm[1200];
    snprintf(tuned_conv, sizeof tuned_conv, "convolution tuned (%s)", path);
    snprintf(tuned_gemm, sizeof tuned_gemm, "CLBlast tuned (%s)", path);
    CHECK(strstr(desc, tuned_conv) && strstr(desc, tuned_gemm), "round trip: description '%s'", desc);
    printf("round trip: %s\n", desc);
    free(err);

    char *text = tuning_format(&want, &rt->dev);
    size_t len = strlen(text);
    /* One value changed: the checksum no longer matches. */
    char *edited = xstrdup(text);
    char *tp = strstr(edited, "conv.tp = 5");
    CHECK(tp != NULL, "no conv.tp line in\n%s", text);
    if (tp) tp[10] = '7';
    expect_ignored(rt, edited, len, "checksum", "edited value");
    /* Cut short. */
    expect_ignored(rt, text, len / 2, "no checksum line", "truncated");
    expect_ignored(rt, text, len - 1, "checksum", "last byte missing");
    /* Made for another device, checksum intact. */
    clrt_devinfo other = rt->dev;
    snprintf(other.driver, sizeof other.driver, "%.200s-other", rt->dev.driver);
    char *foreign = tuning_format(&want, &other);
    expect_ignored(rt, foreign, strlen(foreign), "made for driver", "another driver");
    /* Values the kernels cannot take, or keys nobody wrote, with a valid checksum. */
    tuning bad = want;
    bad.conv.tp = 0;
    char *zero = tuning_format(&bad, &rt->dev);
    expect_ignored(rt, zero, strlen(zero), "conv.tp = 0 is outside", "tile of 0");
    bad = want;
    bad.conv.tn = 15; /* not a multiple of rn = 2 */
    char *odd = tuning_format(&bad, &rt->dev);
    expect_ignored(rt, odd, strlen(odd), "not multiples", "tiles not multiples");
    char *unknown_src =
        xasprintf("%.*sconv.turbo = 1\n%s", (int)(strstr(text, "checksum") - text), text, strstr(text, "checksum"));
    char *unknown = resum(unknown_src);
    expect_ignored(rt, unknown, strlen(unknown), "unknown key 'conv.turbo'", "unknown key");
    char *dup_src =
        xasprintf("%.*sconv.tp = 5\n%s", (int)(strstr(text, "checksum") - text), text, strstr(text, "checksum"));
    char *dup = resum(dup_src);
    expect_ignored(rt, dup, strlen(dup), "given twice", "duplicate key");
    const char *missing_at = strstr(text, "conv.splits");
    char *missing_src = xasprintf("%.*s%s", (int)(missing_at - text), text, strchr(missing_at, '\n') + 1);
    char *missing = resum(missing_src);
    expect_ignored(rt, missing, strlen(missing), "keys missing", "missing key");
    expect_ignored(rt, "garbage\n", 8, "no checksum line", "garbage");

    /* CLBlast parameters it refuses (one missing): the convolution's are still used, CLBlast runs
     * its defaults, with a warning. */
    tuning partial = want;
    partial.gemm.kernels[0].n--;
    CHECK(tuning_save(&partial, rt, path), "cannot save");
    err = load_capturing(rt, &t, desc, sizeof desc);
    CHECK(t.from_file && memcmp(&t.conv, &want.conv, sizeof want.conv) == 0 && t.gemm.nkernels == 0 &&
              strstr(err, "CLBlast refused") && strstr(err, path) && strstr(err, "XgemmDirect WGD=16") &&
              strstr(desc, tuned_conv) && strstr(desc, "CLBlast default parameters (those of"),
          "refused CLBlast parameters: '%s' / '%s'", desc, err);
    printf("%-28s %s", "CLBlast refuses", err);
    free(err);
    remove(path);
    free(text), free(edited), free(foreign), free(zero), free(odd), free(unknown_src), free(unknown);
    free(dup_src), free(dup), free(missing_src), free(missing), free(path);
}

/* ---- a convolution candidate with wrong results --------------------------------------------------- */

/* A copy of the kernels in which conv_fwd with CONV_TP == 4 returns at once (the fastest-looking
 * forward of all, and a wrong one), and in which CONV_TP == 3 does not build. */
static const char *bad_kernel_dir(void) {
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s", scratch_dir("tune-kernels"));
    char *src_dir = xasprintf("%s/cl", CLAUG_SOURCE_DIR);
    DIR *d = opendir(src_dir);
    CHECK(d != NULL, "cannot list %s", src_dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *from = xasprintf("%s/%s", src_dir, e->d_name), *to = xasprintf("%s/%s", dir, e->d_name);
        size_t n;
        char *text = slurp(from, &n);
        CHECK(text != NULL, "cannot read %s", from);
        if (text && strcmp(e->d_name, "conv.cl") == 0) {
            const char *guard = "if (gid >= ((NP + CONV_TP - 1) / CONV_TP) * ncg)";
            char *at = strstr(text, guard);
            CHECK(at != NULL, "conv.cl no longer has conv_fwd's guard '%s': update this test", guard);
            if (at) {
                char *patched = xasprintf("#if CONV_TP == 3\n#error \"test_tune: TP=3 does not build\"\n#endif\n"
                                          "%.*sif (CONV_TP == 4 || gid >= ((NP + CONV_TP - 1) / CONV_TP) * ncg)%s",
                                          (int)(at - text), text, at + strlen(guard));
                free(text);
                text = patched;
                n = strlen(text);
            }
        }
        if (text) CHECK(write_file(to, text, n), "cannot write %s", to);
        free(text), free(from), free(to);
    }
    if (d) closedir(d);
    free(src_dir);
    return dir;
}

static void test_bad_conv_candidate(void) {
    clrt *rt = clrt_open(NULL, bad_kernel_dir());
    int nl;
    layer *L = model_layers(MODEL_SEED, &nl, NULL);
    tune_conv_problem *p = tune_conv_problem_new(rt, L, nl, 2, 7);
    free(L);
    conv_tuning bad, good;
    conv_tuning_default(&good, rt);
    good.local_tiles = false;
    bad = good;
    bad.tp = 4;
    bool fwd_ok, dw_ok;
    double worst;
    char why[2048];
    CHECK(tune_conv_check(p, &bad, &fwd_ok, &dw_ok, &worst, why, sizeof why), "TP=4 does not build: %s", why);
    printf("corrupt TP=4 build: forward %s, weight gradient %s (worst %.3g x the tolerance)\n", fwd_ok ? "ok" : "wrong",
           dw_ok ? "ok" : "wrong", worst);
    CHECK(!fwd_ok && dw_ok, "the corrupt kernel's forward should fail its check and its weight gradient pass");
    CHECK(tune_conv_check(p, &good, &fwd_ok, &dw_ok, &worst, why, sizeof why), "TP=6 does not build: %s", why);
    printf("TP=6 build: worst %.3g x the tolerance\n", worst);
    CHECK(fwd_ok && dw_ok, "the good build fails its check (worst %.3g)", worst);

    /* The search over both: the corrupt forward is rejected and cannot win. */
    /* Two builds, the two just checked (so no new compile): the corrupt forward and the defaults. */
    conv_space s = {.nfwd = 2, .ndw = 1, .nlws = 1, .nsplits = 2};
    s.fwd[0][0] = bad.tp, s.fwd[0][1] = bad.cb, s.fwd[1][0] = good.tp, s.fwd[1][1] = good.cb;
    s.dw[0][0] = good.wt, s.dw[0][1] = good.wcb;
    s.lws[0] = good.lws, s.splits[0] = good.splits, s.splits[1] = 4;
    tune_config cfg = {.batch_size = 2, .rounds = 3, .seed = 7};
    conv_tune_result r;
    tune_conv(p, &s, &cfg, &r);
    printf("search: %d tried, %d rejected; kept forward %dx%d\n", r.tried, r.rejected, r.after.tp, 8 * r.after.cb);
    CHECK(r.rejected >= 1, "the corrupt candidate was not rejected");
    CHECK(r.after.tp != 4, "the corrupt forward won");

    /* Stored and loaded back: the correct winner. */
    tuning t, loaded;
    tuning_default(&t, rt);
    t.conv = r.after;
    t.batch_size = 2;
    snprintf(t.model, sizeof t.model, "%s", seed_canonical());
    char *path = tuning_path(rt), desc[4096];
    CHECK(tuning_save(&t, rt, path), "cannot save");
    char *err = load_for(rt, MODEL_SEED, 2, &loaded, desc, sizeof desc);
    CHECK(loaded.from_file && memcmp(&loaded.conv, &r.after, sizeof r.after) == 0 && !*err,
          "the stored winner did not load: %s", err);
    free(err);
    CHECK(tune_conv_check(p, &loaded.conv, &fwd_ok, &dw_ok, &worst, why, sizeof why), "does not build: %s", why);
    CHECK(fwd_ok && dw_ok, "the stored winner fails its check (worst %.3g)", worst);

    /* Stored tiles that compute wrong results (the corrupt TP=4), or do not build (TP=3 in this
     * copy of the kernels): ignored at load with a warning naming the file and the tiles. */
    const struct {
        int tp;
        const char *why;
    } trials[] = {{4, "results differ from the plain-C reference"}, {3, "does not build"}};
    for (int i = 0; i < 2; i++) {
        t.conv = good;
        t.conv.tp = trials[i].tp;
        CHECK(tuning_save(&t, rt, path), "cannot save");
        double t0 = now_seconds();
        err = load_for(rt, MODEL_SEED, 2, &loaded, desc, sizeof desc);
        double dt = now_seconds() - t0;
        char tiles[256];
        conv_tuning_describe(tiles, sizeof tiles, &t.conv);
        conv_tuning def;
        conv_tuning_default(&def, rt);
        CHECK(memcmp(&loaded.conv, &def, sizeof def) == 0, "TP=%d: the stored tiles were used", trials[i].tp);
        CHECK(strstr(err, "ignoring the convolution parameters of the tuning file") && strstr(err, path) &&
                  strstr(err, tiles) && strstr(err, trials[i].why),
              "TP=%d: warning '%s' lacks the file, '%s' or '%s'", trials[i].tp, err, tiles, trials[i].why);
        CHECK(strstr(desc, "convolution default parameters (those of") != NULL, "TP=%d: description '%s'",
              trials[i].tp, desc);
        printf("stored TP=%d (load %.2f s): %.300s\n", trials[i].tp, dt, err);
        free(err);
    }
    remove(path);
    free(path);
    tune_conv_problem_free(p);
    clrt_close(rt);
}

/* ---- CLBlast ------------------------------------------------------------------------------------------ */

static void test_clblast(clrt *rt) {
    /* WGD 24 is not a multiple of MDIMCD * VWMD = 16: CLBlast compiles it and computes garbage. */
    static const size_t wrong_v[10] = {24, 16, 16, 16, 16, 2, 1, 1, 1, 1};
    gemm_candidate c[3] = {direct(good_v, 10), direct(wrong_v, 10), direct(good_v, 9) /* PADB missing */};
    int nl;
    layer *L = model_layers(MODEL_SEED, &nl, NULL);
    tune_gemm_problem *p = tune_gemm_problem_new(rt, L, nl, 4, 11);
    free(L);
    tune_config cfg = {.batch_size = 4, .rounds = 3, .seed = 11};
    gemm_tune_result r;
    tune_gemm(p, c, 3, &cfg, &r);
    printf("CLBlast search: %d tried, %d rejected, %s\n", r.tried, r.rejected,
           r.defaults_kept ? "defaults kept" : "tuned");
    CHECK(r.baseline_default, "CLBlast was overridden before the search");
    CHECK(r.tried == 3 && r.rejected == 2, "want the wrong and the refused candidate rejected, got %d of %d",
          r.rejected, r.tried);
    double worst;
    if (!r.defaults_kept) {
        CHECK(r.after.nkernels == 1 && r.after.kernels[0].values[0] == 16,
              "kept parameters are not the good candidate");
        int st = tune_gemm_check(p, &r.after, &worst);
        CHECK(st == 0 && worst <= 1, "the kept parameters fail the check (worst %.3g)", worst);
    }
    /* The check itself: the wrong parameters run and fail it, the incomplete ones are refused. */
    gemm_tuning g = {.nkernels = 1, .kernels = {c[1].p}, .min_indirect = c[1].min_indirect};
    int st = tune_gemm_check(p, &g, &worst);
    printf("CLBlast WGD=24: status %d, worst %.3g x the tolerance\n", st, worst);
    CHECK(st == 0 && worst > 1, "the wrong CLBlast parameters pass the check");
    g.kernels[0] = c[2].p;
    st = tune_gemm_check(p, &g, &worst);
    CHECK(st == CLBlastMissingOverrideParameter, "a parameter missing: status %d", st);

    /* Against a wrong reference even the good candidate is rejected, and nothing is kept. */
    tune_gemm_reference(p, 0)[0] += 1.0f;
    tune_gemm(p, c, 1, &cfg, &r);
    CHECK(r.rejected == 1 && r.defaults_kept && r.after.nkernels == 0 && r.after.min_indirect == 0,
          "a candidate that disagrees with the reference was kept (%d rejected)", r.rejected);
    tune_gemm_problem_free(p);
}

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
    snprintf(huge.model, sizeof huge.model, "%s", seed_canonical());
    gemm_candidate c = direct(good_v, 10);
    for (int i = 0; i < 10; i++) c.p.values[i] = 4096;
    huge.gemm.nkernels = 1;
    huge.gemm.kernels[0] = c.p;
    huge.gemm.min_indirect = c.min_indirect;
    huge.conv.splits = 4; /* valid tiles, not the defaults: they are used, CLBlast's are not */
    CHECK(tuning_save(&huge, rt, path), "cannot save");
    tuning t;
    char desc[4096];
    double t0 = now_seconds();
    char *err = load_for(rt, MODEL_SEED, 32, &t, desc, sizeof desc);
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
    tuning want = distinctive(rt);
    CHECK(tuning_save(&want, rt, path), "cannot save");
    conv_tuning def;
    conv_tuning_default(&def, rt);
    err = load_for(rt, MODEL_SEED, 64, &t, desc, sizeof desc);
    CHECK(!*err && t.from_file && memcmp(&t.conv, &def, sizeof def) == 0 && t.gemm.nkernels == 0 &&
              strstr(desc, "convolution default parameters (") && strstr(desc, "tuned at batch 17") &&
              strstr(desc, "at tuned shapes: none; at others: conv2d, conv2d_1, conv2d_2") &&
              strstr(desc, "CLBlast default parameters (") && strstr(desc, "at others: dense, dense_1"),
          "batch 64: '%s' / '%s'", desc, err);
    printf("batch 64: %s\n", desc);
    free(err);
    const char *other = "conv32x3,relu,maxpool2,flatten,dense10,softmax";
    err = load_for(rt, other, TUNED_BATCH, &t, desc, sizeof desc);
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
    tuning want = distinctive(rt);
    CHECK(tuning_save(&want, rt, path), "cannot save");
    tuning t;
    char desc[4096];
    /* What the trials add to start-up: the file loaded (tiles and CLBlast parameters built and
     * checked, as compiled before), against no file. */
    double t0 = now_seconds();
    char *warned = load_capturing(rt, &t, desc, sizeof desc);
    double with_file = now_seconds() - t0;
    CHECK(t.from_file && same_tuning(&t, &want) && !*warned, "the stored tuning did not load: %s", warned);
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
    /* The tuning file lives in claug's cache directory: this test's own, so the suite's other
     * tests never see its tunings. PoCL's compiled kernels stay with the suite's cache, so the
     * builds (CLBlast's take seconds each) are paid once. */
    const char *suite = getenv("XDG_CACHE_HOME");
    if (suite && *suite && !getenv("POCL_CACHE_DIR")) {
        char *pocl = xasprintf("%s/pocl", suite);
        setenv("POCL_CACHE_DIR", pocl, 1);
        free(pocl);
    }
    setenv("XDG_CACHE_HOME", scratch_dir("tune-cache"), 1);
    unsetenv("CLAUG_KERNELS");

    double t0 = now_seconds();
    test_bad_conv_candidate();
    printf("[%.1f s]\n", now_seconds() - t0);
    clrt *rt = clrt_open(NULL, NULL);
    test_clblast(rt);
    printf("[%.1f s]\n", now_seconds() - t0);
    test_file(rt);
    test_validated(rt);
    test_cli(rt);
    printf("[%.1f s]\n", now_seconds() - t0);
    clrt_close(rt);
    return check_done("test_tune");
}
