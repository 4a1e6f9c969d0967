/* The search of `claug tune`: a candidate with wrong results is rejected and never stored (a
 * convolution kernel made wrong for one tile size, CLBlast parameters that compile but compute
 * garbage, parameters CLBlast refuses, and a correct candidate measured against a wrong
 * reference); stored tiles that are wrong or do not build are ignored at load; the dense layers'
 * route is checked both ways and chosen by its rule. One executable, because CLBlast compiles each
 * parameter set once per process. */
/* ctest: labels=kernel timeout=600 */
#define _POSIX_C_SOURCE 200809L
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "check.h"
#include "claug/model/net.h"
#include "tuning_check.h"

/* ---- a convolution candidate with wrong results --------------------------------------------------- */

/* A copy of the kernels in which conv_fwd with CONV_TP == 4 returns at once (the fastest-looking
 * forward of all, and a wrong one), in which CONV_TP == 3 does not build, and in which
 * conv_bwd_prep with CONV_PREP8 == bad_prep8 returns at once (both gradients wrong). */
static char *patch_once(char *text, const char *anchor, const char *replacement) {
    char *at = strstr(text, anchor);
    CHECK(at != NULL, "conv.cl no longer has '%s': update this test", anchor);
    if (!at) return text;
    char *patched = xasprintf("%.*s%s%s", (int)(at - text), text, replacement, at + strlen(anchor));
    free(text);
    return patched;
}

static const char *bad_kernel_dir(int bad_prep8) {
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s", scratch_dir("tune-kernels"));
    char *src_dir = xasprintf("%s/cl", test_source_dir());
    DIR *d = opendir(src_dir);
    CHECK(d != NULL, "cannot list %s", src_dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *from = xasprintf("%s/%s", src_dir, e->d_name), *to = xasprintf("%s/%s", dir, e->d_name);
        size_t n;
        char *text = slurp(from, &n);
        CHECK(text != NULL, "cannot read %s", from);
        if (text && strcmp(e->d_name, "conv.cl") == 0) {
            char *patched =
                xasprintf("#if CONV_TP == 3\n#error \"test_tune_search: TP=3 does not build\"\n#endif\n%s", text);
            free(text);
            text = patch_once(patched, "if (gid >= ((NP + CONV_TP - 1) / CONV_TP) * ncg)",
                              "if (CONV_TP == 4 || gid >= ((NP + CONV_TP - 1) / CONV_TP) * ncg)");
            char *prep = xasprintf("if (CONV_PREP8 == %d || gid >= N * nb * PH)", bad_prep8);
            text = patch_once(text, "if (gid >= N * nb * PH)", prep);
            free(prep);
            n = strlen(text);
        }
        if (text) CHECK(write_file(to, text, n), "cannot write %s", to);
        free(text), free(from), free(to);
    }
    if (d) closedir(d);
    free(src_dir);
    return dir;
}

/* dev: the device with the project's own kernels, whose defaults the corrupt copy spares. */
static void test_bad_conv_candidate(const clrt *dev) {
    conv_tuning good;
    conv_tuning_default(&good, dev);
    const int bad_prep8 = !good.prep8;
    clrt *rt = clrt_open(NULL, bad_kernel_dir(bad_prep8));
    int nl;
    layer *L = model_layers(MODEL_SEED, &nl, NULL);
    conv_tuning bad;
    tune_conv_problem *p = tune_conv_problem_new(rt, L, nl, 2, 7, good.dense);
    free(L);
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

    /* The search over both: the corrupt forward is rejected and cannot win, nor can the corrupt
     * gradient layout of the last stage, though each is the fastest of its stage. Two builds in the
     * first stage, the two just checked (so no new compile): the corrupt forward and the defaults. */
    conv_space s = {.nfwd = 2, .ndw = 1, .nlws = 1, .nsplits = 2, .nprep8s = 2};
    s.fwd[0][0] = bad.tp, s.fwd[0][1] = bad.cb, s.fwd[1][0] = good.tp, s.fwd[1][1] = good.cb;
    s.dw[0][0] = good.wt, s.dw[0][1] = good.wcb;
    s.lws[0] = good.lws, s.splits[0] = good.splits, s.splits[1] = 4;
    s.prep8s[0] = bad_prep8, s.prep8s[1] = good.prep8;
    tune_config cfg = {.batch_size = 2, .rounds = 3, .seed = 7};
    conv_tune_result r;
    tune_conv(p, &s, &cfg, &r);
    printf("search: %d tried, %d rejected; kept forward %dx%d, prep8 %d\n", r.tried, r.rejected, r.after.tp,
           8 * r.after.cb, r.after.prep8);
    CHECK(r.rejected >= 2, "the corrupt candidates were not both rejected (%d)", r.rejected);
    CHECK(r.winner.tp != 4 && r.after.tp != 4, "the corrupt forward won");
    /* The stages' winner, and what the final runs kept of it and the defaults. */
    CHECK(r.winner.prep8 == good.prep8 && r.after.prep8 == good.prep8, "the corrupt gradient layout won");

    /* Stored and loaded back: the correct winner. */
    tuning t, loaded;
    tuning_default(&t, rt);
    t.conv = r.after;
    t.batch_size = 2;
    snprintf(t.model, sizeof t.model, "%s", MODEL_SEED);
    char *path = tuning_path(rt), desc[4096];
    CHECK(tuning_save(&t, rt, path), "cannot save");
    char *err = tune_load_for(rt, MODEL_SEED, 2, &loaded, desc, sizeof desc);
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
        err = tune_load_for(rt, MODEL_SEED, 2, &loaded, desc, sizeof desc);
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
    gemm_candidate c[3] = {tune_direct(tune_good_direct, 10), tune_direct(wrong_v, 10),
                           tune_direct(tune_good_direct, 9) /* PADB missing */};
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

/* ---- the dense layers' route ------------------------------------------------------------------------ */

static void test_dense_route(clrt *rt) {
    CHECK(gemm_tuning_restore(rt) == 0, "cannot put CLBlast back to its own parameters");
    /* The rule: the default unless the other route is correct and 3% faster, or the default wrong. */
    const bool both[NROUTES] = {true, true}, conv_only[NROUTES] = {[ROUTE_CONV] = true},
               gemm_only[NROUTES] = {[ROUTE_GEMM] = true};
    const double gemm_fast[NROUTES] = {[ROUTE_GEMM] = 0.5, [ROUTE_CONV] = 1.0},
                 near[NROUTES] = {[ROUTE_GEMM] = 0.98, [ROUTE_CONV] = 1.0};
    CHECK(tune_dense_choice(ROUTE_CONV, both, gemm_fast) == ROUTE_GEMM, "a faster CLBlast route was not kept");
    CHECK(tune_dense_choice(ROUTE_CONV, both, near) == ROUTE_CONV, "a route 2%% faster replaced the default");
    CHECK(tune_dense_choice(ROUTE_CONV, conv_only, gemm_fast) == ROUTE_CONV, "a wrong route was kept");
    CHECK(tune_dense_choice(ROUTE_CONV, gemm_only, near) == ROUTE_GEMM, "a wrong default was kept over a correct route");
    CHECK(tune_dense_choice(ROUTE_GEMM, both, gemm_fast) == ROUTE_GEMM, "the faster default was replaced");

    int nl;
    layer *L = model_layers(MODEL_SEED, &nl, NULL);
    tune_dense_problem *p = tune_dense_problem_new(rt, L, nl, 4, 13);
    free(L);
    tune_config cfg = {.batch_size = 4, .rounds = 3, .seed = 13};
    conv_tuning t;
    conv_tuning_default(&t, rt);
    dense_tune_result r;
    tune_dense(p, &t, &cfg, &r);
    printf("dense route: 1x1 convolutions %s %.3f ms, CLBlast %s %.3f ms; kept %s\n", r.ok[ROUTE_CONV] ? "ok" : "WRONG",
           1e3 * r.t[ROUTE_CONV], r.ok[ROUTE_GEMM] ? "ok" : "WRONG", 1e3 * r.t[ROUTE_GEMM],
           r.after == ROUTE_CONV ? "convolutions" : "CLBlast");
    CHECK(r.nlayers == 2, "the seed model has 2 dense layers, the problem %d", r.nlayers);
    CHECK(r.before == t.dense, "the default route is %d, conv_tuning_default's %d", r.before, t.dense);
    CHECK(r.ok[ROUTE_CONV] && r.ok[ROUTE_GEMM], "a route fails its check (worst %.3g and %.3g x the tolerance)",
          r.worst[ROUTE_CONV], r.worst[ROUTE_GEMM]);
    CHECK(r.t[ROUTE_CONV] > 0 && r.t[ROUTE_GEMM] > 0, "a route was not timed");
    CHECK(r.after == tune_dense_choice(r.before, r.ok, r.t), "the kept route is not the rule's");

    /* Against a wrong reference both routes fail, and the default stays. */
    tune_dense_reference(p, 1)[0] += 1.0f;
    tune_dense(p, &t, &cfg, &r);
    CHECK(!r.ok[ROUTE_CONV] && !r.ok[ROUTE_GEMM] && r.worst[ROUTE_CONV] > 1 && r.worst[ROUTE_GEMM] > 1,
          "a route that disagrees with the reference passed");
    CHECK(r.after == r.before, "a wrong route replaced the default");
    tune_dense_problem_free(p);
}

int main(void) {
    tune_test_cache("tune-search-cache");
    double t0 = now_seconds();
    clrt *rt = clrt_open(NULL, NULL);
    test_bad_conv_candidate(rt);
    printf("[%.1f s]\n", now_seconds() - t0);
    test_clblast(rt);
    printf("[%.1f s]\n", now_seconds() - t0);
    test_dense_route(rt);
    printf("[%.1f s]\n", now_seconds() - t0);
    clrt_close(rt);
    return check_done("test_tune_search");
}
