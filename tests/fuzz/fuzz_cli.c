/* cli_parse_args on the input split into arguments, one per line (a newline or a NUL ends an
 * argument; a last newline starts none), after argv[0]. Options it accepts must hold values in
 * their documented ranges. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/cli/cli.h"

/* Whether arg, or what follows "--flag=" in it, is the decimal text of v (leading zeros allowed). */
static bool spells(const char *arg, uint64_t v) {
    const char *eq = arg[0] == '-' ? strchr(arg, '=') : NULL;
    if (eq) arg = eq + 1;
    if (!*arg || strspn(arg, "0123456789") != strlen(arg)) return false;
    while (arg[0] == '0' && arg[1]) arg++;
    char want[32];
    snprintf(want, sizeof want, "%" PRIu64, v);
    return strcmp(arg, want) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    char **argv = malloc((size + 2) * sizeof *argv);
    if (!buf || !argv) abort();
    memcpy(buf, data, size);
    buf[size] = 0;
    int argc = 0;
    argv[argc++] = "claug";
    for (size_t i = 0, start = 0; i <= size; i++) {
        if (i < size && buf[i] != '\n' && buf[i] != 0) continue;
        if (i == size && start == size) break;
        buf[i] = 0;
        argv[argc++] = buf + start;
        start = i + 1;
    }
    argv[argc] = NULL;

    claug_opts o;
    char err[1024];
    if (cli_parse_args(argc, argv, &o, err, sizeof err) == CLI_OK) {
        if (!isfinite(o.lr) || o.lr < LR_MIN || o.lr > LR_MAX) {
            fprintf(stderr, "fuzz: --lr %g accepted\n", o.lr);
            abort();
        }
        /* A seed other than the default must be what an argument spells: no blank, sign or
         * wrap-around may turn into a number. */
        bool found = o.seed == 42;
        for (int i = 1; i < argc && !found; i++) found = spells(argv[i], o.seed);
        if (!found) {
            fprintf(stderr, "fuzz: seed %" PRIu64 " accepted, but no argument spells it\n", o.seed);
            abort();
        }
    }
    free(o.files);
    free(argv);
    free(buf);
    return 0;
}
