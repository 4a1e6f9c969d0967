/* `claug tune`: both searches on the seed model, the before/after tables, and the file. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/tune/search.h"
#include "driver.h"

static const char *pass_name[3] = {"forward", "input gradient", "weight gradient"};

static void print_conv_result(const conv_tune_result *r, int rounds) {
    printf("\nConvolution, before (defaults) -> after (tuned), median device time of %d interleaved runs:\n", rounds);
    double before = 0, after = 0;
    for (int l = 0; l < r->nlayers; l++)
        for (int k = 0; k < 3; k++) {
            if (r->t_before[l][k] <= 0) continue; /* the first layer has no input gradient */
            char name[80];
            snprintf(name, sizeof name, "%s %s", r->layer[l], pass_name[k]);
            printf("  %-34s %9.3f ms -> %9.3f ms  x%.2f\n", name, 1e3 * r->t_before[l][k], 1e3 * r->t_after[l][k],
                   r->t_after[l][k] > 0 ? r->t_before[l][k] / r->t_after[l][k] : 0.0);
            before += r->t_before[l][k];
            after += r->t_after[l][k];
        }
    printf("  %-34s %9.3f ms -> %9.3f ms  x%.2f\n", "total", 1e3 * before, 1e3 * after,
           after > 0 ? before / after : 0.0);
    char d[256];
    conv_tuning_describe(d, sizeof d, &r->before);
    printf("  before: %s\n", d);
    conv_tuning_describe(d, sizeof d, &r->after);
    printf("  after:  %s%s\n", d, memcmp(&r->before, &r->after, sizeof r->after) ? "" : " (the defaults were kept)");
    if (memcmp(&r->winner, &r->after, sizeof r->after)) {
        conv_tuning_describe(d, sizeof d, &r->winner);
        printf("  not kept, not faster than the defaults by %.0f%% in these runs or not correct: %s\n",
               100 * (1 - TUNE_KEEP_MARGIN), d);
    }
    printf("  %d candidates checked against the reference, %d rejected\n", r->tried, r->rejected);
}

static void print_gemm_result(const gemm_tune_result *r) {
    printf("\nCLBlast SGEMM, before (%s) -> after (%s), median device time:\n",
           r->baseline_default ? "defaults" : "the parameters this process had", r->defaults_kept ? "kept" : "tuned");
    double before = 0, after = 0;
    for (int i = 0; i < r->nshapes; i++) {
        const dense_gemm_shape *s = &r->shape[i];
        char name[96];
        snprintf(name, sizeof name, "%s (%zux%zux%zu %c%c)", s->name, s->m, s->n, s->k, s->ta ? 'T' : 'N',
                 s->tb ? 'T' : 'N');
        double flops = 2.0 * s->m * s->n * s->k;
        printf("  %-44s %8.3f ms (%5.1f GFLOP/s) -> %8.3f ms (%5.1f GFLOP/s)\n", name, 1e3 * r->t_before[i],
               r->t_before[i] > 0 ? flops / r->t_before[i] * 1e-9 : 0.0, 1e3 * r->t_after[i],
               r->t_after[i] > 0 ? flops / r->t_after[i] * 1e-9 : 0.0);
        before += r->t_before[i];
        after += r->t_after[i];
    }
    printf("  %-44s %8.3f ms -> %8.3f ms  x%.2f\n", "total", 1e3 * before, 1e3 * after,
           after > 0 ? before / after : 0.0);
    char d[1024];
    gemm_tuning_describe(d, sizeof d, &r->after);
    printf("  after: %s\n  %d candidates checked against the reference, %d rejected\n", d, r->tried, r->rejected);
}

static const char *route_name[NROUTES] = {[ROUTE_GEMM] = "CLBlast", [ROUTE_CONV] = "1x1 convolutions"};

static void print_dense_result(const dense_tune_result *r) {
    if (r->nlayers == 0) return;
    printf("\nDense layers: as 1x1 convolutions (the tiles above) or through CLBlast (the parameters above), forward "
           "and backward, median device time of %d interleaved runs:\n",
           r->rounds);
    for (int i = NROUTES - 1; i >= 0; i--) {
        if (r->ok[i])
            printf("  %-34s %9.3f ms%s\n", route_name[i], 1e3 * r->t[i], i == r->before ? "  (the default)" : "");
        else if (r->why[i][0])
            printf("  %-34s REJECTED: %s\n", route_name[i], r->why[i]);
        else
            printf("  %-34s REJECTED: results differ from the reference (worst error %.3g x the tolerance)\n",
                   route_name[i], r->worst[i]);
    }
    printf("  kept: %s%s\n", route_name[r->after], r->after == r->before ? " (the default)" : "");
}

void tune_run(clrt *rt, const tune_config *c, bool quick, tuning *out, char **saved) {
    int nl;
    layer *L = model_layers(MODEL_SEED, &nl, NULL);
    tuning_default(out, rt);
    out->batch_size = c->batch_size;
    snprintf(out->model, sizeof out->model, "%s", MODEL_SEED);
    *saved = NULL;
    char *path = tuning_path(rt);
    if (path && !can_create(path)) die(EXIT_USAGE, "cannot create the tuning file %s: %s", path, strerror(errno));
    printf("Tuning for batch %d on this device; every candidate is checked against the plain-C reference before "
           "it is timed.\n",
           c->batch_size);

    conv_space cs;
    conv_space_default(&cs, rt, quick);
    tune_conv_problem *cp = tune_conv_problem_new(rt, L, nl, c->batch_size, c->seed, out->conv.dense);
    conv_tune_result cr;
    tune_conv(cp, &cs, c, &cr);
    tune_conv_problem_free(cp);
    out->conv = cr.after;
    print_conv_result(&cr, tune_final_rounds(c->rounds));

    gemm_candidate gc[TUNE_MAX_CANDIDATES];
    int n = gemm_candidates_default(gc, TUNE_MAX_CANDIDATES, rt, quick);
    tune_gemm_problem *gp = tune_gemm_problem_new(rt, L, nl, c->batch_size, c->seed);
    gemm_tune_result gr;
    tune_gemm(gp, gc, n, c, &gr);
    tune_gemm_problem_free(gp);
    out->gemm = gr.after;
    print_gemm_result(&gr);

    tune_dense_problem *dp = tune_dense_problem_new(rt, L, nl, c->batch_size, c->seed);
    dense_tune_result dr;
    tune_dense(dp, &out->conv, c, &dr);
    tune_dense_problem_free(dp);
    out->conv.dense = dr.after;
    print_dense_result(&dr);
    free(L);
    /* What the driver made of every build tried: the figures tools/portability.sh predicts. */
    if (rt->is_gpu) clrt_print_kernel_report(stdout, rt);

    if (!path) {
        warn("no cache directory ($XDG_CACHE_HOME or $HOME): the tuning is not saved");
        return;
    }
    if (!tuning_save(out, rt, path)) die(EXIT_USAGE, "cannot write the tuning file %s: %s", path, strerror(errno));
    printf("\nSaved to %s; `claug train`, `run`, `eval` and `bench` on this device use it.\n", path);
    *saved = path;
}
