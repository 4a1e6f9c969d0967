/* The runtime's two services to the portability check: the driver's figures of every kernel
 * built (clrt_kernel_report, which bench and tune record), and listing mode, in which claug's
 * initialisation code names its programs without compiling them (tools/port_programs.c). */
/* ctest: labels=kernel timeout=60 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/ops/act.h"
#include "claug/data/batch.h"
#include "claug/runtime/clrt.h"

static const clrt_kernel_figures *find(const clrt_kernel_figures *k, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(k[i].kernel, name) == 0) return &k[i];
    return NULL;
}

static void report(clrt *rt) {
    act_kernels a;
    act_init(&a, rt);
    act_release(&a);
    act_init(&a, rt); /* the same program again: reported once */
    act_release(&a);
    batcher b;
    batcher_init(&b, rt);
    batcher_release(&b);

    clrt_kernel_figures *k;
    int n = clrt_kernel_report(rt, &k);
    CHECK(n == 5, "%d kernels reported, want act.cl's 4 and data.cl's 1", n);
    const char *names[] = {"relu_fwd", "relu_bwd", "bias_act_fwd", "bias_act_bwd", "gather_batch"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const clrt_kernel_figures *f = find(k, n, names[i]);
        CHECK(f != NULL, "%s is not reported", names[i]);
        if (!f) continue;
        CHECK(f->wg_multiple > 0 && f->wg_max > 0, "%s: preferred multiple %zu, work-group size %zu", names[i],
              f->wg_multiple, f->wg_max);
        const char *prog = i < 4 ? "act.cl -cl-std=CL1.2" : "data.cl -cl-std=CL1.2";
        CHECK(strncmp(f->program, prog, strlen(prog)) == 0, "%s: program '%s', want '%s...'", names[i], f->program,
              prog);
    }
    free(k);

    const char *path = sink_path("kernel-report.txt");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    clrt_print_kernel_report(f, rt);
    fclose(f);
    char *text = slurp(path, NULL);
    CHECK(text && strstr(text, "gather_batch") && strstr(text, "private B"), "the printed report: %s",
          text ? text : "(none)");
    free(text);
}

/* Last: listing mode lasts for the rest of the process. */
static void listing(clrt *rt) {
    const char *path = sink_path("program-list.txt");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    clrt_list_programs(f);
    int misses = rt->cache_misses, hits = rt->cache_hits;
    clrt_kernels ks;
    clrt_kernels_init(&ks, rt, "act.cl", "-DLISTED=1", (const char *const[]){"relu_fwd", "bias_act_bwd", NULL});
    CHECK(ks.n == 2 && ks.k[0] == NULL && ks.k[1] == NULL, "listing mode created kernels");
    clrt_kernels_release(&ks);
    CHECK(rt->cache_misses == misses && rt->cache_hits == hits, "listing mode built a program");
    fclose(f);
    char *text = slurp(path, NULL);
    const char *want = "program\tact.cl\t-cl-std=CL1.2 -DLISTED=1\n"
                       "kernel\trelu_fwd\nkernel\tbias_act_bwd\n";
    CHECK(text && strcmp(text, want) == 0, "listing:\n%s\nwant:\n%s", text ? text : "(none)", want);
    free(text);
}

int main(void) {
    clrt *rt = clrt_open(NULL, NULL);
    report(rt);
    listing(rt);
    clrt_close(rt);
    return check_done("test_kernel_report");
}
