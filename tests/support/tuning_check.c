#define _POSIX_C_SOURCE 200809L
#include "tuning_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

void tune_test_cache(const char *name) {
    const char *suite = getenv("XDG_CACHE_HOME");
    if (suite && *suite && !getenv("POCL_CACHE_DIR")) {
        char *pocl = xasprintf("%s/pocl", suite);
        setenv("POCL_CACHE_DIR", pocl, 1);
        free(pocl);
    }
    setenv("XDG_CACHE_HOME", scratch_dir(name), 1);
    unsetenv("CLAUG_KERNELS");
}

char *tune_load_for(clrt *rt, const char *model, int batch, tuning *t, char *desc, size_t len) {
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

char *tune_load_capturing(clrt *rt, tuning *t, char *desc, size_t len) {
    return tune_load_for(rt, MODEL_SEED, TUNED_BATCH, t, desc, len);
}

gemm_candidate tune_direct(const size_t v[10], int n) {
    static const char *names[] = {"WGD",  "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                  "KWID", "VWMD",   "VWND",   "PADA",   "PADB"};
    gemm_candidate c = {.min_indirect = 1 << 20};
    snprintf(c.p.kernel, sizeof c.p.kernel, "XgemmDirect");
    c.p.n = n;
    for (int i = 0; i < n; i++) snprintf(c.p.names[i], sizeof c.p.names[i], "%s", names[i]), c.p.values[i] = v[i];
    return c;
}

const size_t tune_good_direct[10] = {16, 8, 8, 8, 8, 2, 1, 2, 1, 1};

tuning tune_distinctive(const clrt *rt) {
    tuning t;
    tuning_default(&t, rt);
    t.batch_size = TUNED_BATCH;
    snprintf(t.model, sizeof t.model, "%s", MODEL_SEED);
    t.conv.tp = 5, t.conv.cb = 1, t.conv.wt = 4, t.conv.wcb = 3, t.conv.lws = 8, t.conv.splits = 4;
    t.conv.tm = 32, t.conv.tn = 16, t.conv.kc = 8, t.conv.rm = 2, t.conv.rn = 2;
    /* As test_clblast searched it: CLBlast compiles each set of parameters and routing anew. */
    gemm_candidate c = tune_direct(tune_good_direct, 10);
    t.gemm.nkernels = 1;
    t.gemm.kernels[0] = c.p;
    t.gemm.min_indirect = c.min_indirect;
    return t;
}

bool tune_same(const tuning *a, const tuning *b) {
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

