/* claug-programs: lists every OpenCL program claug builds, for the portability check
 * (tools/portability.sh). claug's own initialisation code runs with clrt in listing mode
 * (clrt_list_programs), so the file lists, their order and the options are the ones claug passes
 * to the driver: once with a CPU's parameters, once with a GPU's, then conv_init with every
 * convolution build `claug tune` can try on each.
 *
 * Output, tab-separated: "params<TAB>ROLE" starts a parameter set (cpu, gpu, cpu-tune, gpu-tune);
 * "program<TAB>FILES<TAB>OPTIONS" and "kernel<TAB>NAME" follow, each kernel of the program before it.
 * Usage: claug-programs [-d SPEC] (any OpenCL device: nothing is compiled). */
#include <stdio.h>
#include <string.h>

#include "claug/bench/bench.h"
#include "claug/model/net.h"
#include "claug/model/train.h"
#include "claug/runtime/timing.h"
#include "claug/tune/search.h"

/* The smallest data set trainer_init takes: its kernels do not depend on the data. */
static void tiny_dataset(dataset *ds, uint8_t *pixels, uint8_t *label) {
    memset(ds, 0, sizeof *ds);
    ds->rows = ds->cols = 28;
    ds->train_images = ds->test_images = (idx_array){1, 28, 28, pixels};
    ds->train_labels = ds->test_labels = (idx_array){1, 1, 1, label};
}

static void params(const char *role) {
    printf("params\t%s\n", role);
}

/* What training, the benchmark and the tuner build: the network's programs, the batch gather and
 * the augmentation, the benchmark's own kernels, the runtime's marker. */
static void runtime_programs(clrt *rt, const conv_tuning *ct) {
    static uint8_t pixels[28 * 28], label[1];
    dataset ds;
    tiny_dataset(&ds, pixels, label);
    net *n = net_create(rt, MODEL_SEED_DROPOUT, 1, 28, 28, 10, 1, ct);
    trainer t;
    trainer_init(&t, rt, n, &ds, 0, 1);
    bench_mem_kernels bm;
    bench_mem_init(&bm, rt);
    bench_mem_release(&bm);
    bench_fma_shape shape;
    bench_fma_default(&shape, rt);
    bench_fma_kernel bf;
    char why[256];
    if (bench_fma_init(&bf, rt, &shape, why, sizeof why)) bench_fma_release(&bf);
    clrt_timer timer;
    clrt_timer_init(&timer, rt);
    clrt_timer_release(&timer);
    trainer_release(&t);
    net_free(n);
}

/* The convolution builds of claug tune's first stage (conv_space_builds), and the defaults with
 * each form of the gradient layout kernel its third stage tries (its second changes only launch
 * parameters). On a CPU the winner may pair one candidate's forward tiles with another's
 * weight-gradient tiles: each is a separate kernel, so these builds compile every variant of
 * both; the layout kernel's forms take no tile option, so the defaults' builds cover them. */
static void tune_programs(clrt *rt, const conv_tuning *def) {
    /* The FMA kernel shapes of the benchmark's peak sweep one axis away from its default (the
     * default itself is a runtime program). */
    bench_fma_shape shapes[32];
    int ns = bench_fma_candidates(shapes, 32, rt);
    for (int i = 1; i < ns && i < 32; i++) {
        bench_fma_kernel bf;
        char why[256];
        if (bench_fma_init(&bf, rt, &shapes[i], why, sizeof why)) bench_fma_release(&bf);
    }
    conv_space s;
    conv_space_default(&s, rt, false);
    conv_tuning builds[2 * TUNE_MAX_CANDIDATES];
    int n = conv_space_builds(builds, &s, def, rt);
    for (int i = 0; i < s.nprep8s && n < 2 * TUNE_MAX_CANDIDATES; i++)
        if (s.prep8s[i] != def->prep8) {
            builds[n] = *def;
            builds[n++].prep8 = s.prep8s[i];
        }
    for (int i = 0; i < n; i++) {
        conv_ctx c;
        conv_init(&c, rt, &builds[i]);
        conv_release(&c);
    }
}

int main(int argc, char **argv) {
    const char *spec = NULL;
    if (argc == 3 && strcmp(argv[1], "-d") == 0)
        spec = argv[2];
    else if (argc != 1)
        die(EXIT_USAGE, "usage: claug-programs [-d SPEC]");
    clrt *rt = clrt_open(spec, NULL);
    clrt_list_programs(stdout);
    for (int gpu = 0; gpu <= 1; gpu++) {
        /* The parameters follow the device type alone (conv_tuning_default, bench, the tuner's
         * candidate lists), so any device stands in for either. */
        rt->is_gpu = gpu;
        rt->wg_1d = gpu ? 256 : 64;
        conv_tuning def;
        conv_tuning_default(&def, rt);
        params(gpu ? "gpu" : "cpu");
        runtime_programs(rt, &def);
        params(gpu ? "gpu-tune" : "cpu-tune");
        tune_programs(rt, &def);
    }
    clrt_close(rt);
    return 0;
}
