/* model_parse on the input (NUL-terminated, as an argument would be) for Fashion-MNIST's
 * shapes. A model it accepts must keep net.h's promises, and its canonical string (what the
 * weights file stores, and eval parses again) must parse to itself. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/model/net.h"

enum { C = 1, H = 28, W = 28, CLASSES = 10 };

/* Whether some comma-separated token of spec is empty or blank: always an error. */
static bool has_empty_token(const char *spec) {
    bool blank = true;
    for (const char *s = spec;; s++) {
        if (*s == ',' || !*s) {
            if (blank) return true;
            if (!*s) return false;
            blank = true;
        } else if (!isspace((unsigned char)*s)) {
            blank = false;
        }
    }
}

static void check_layers(const layer *L, int n) {
    if (n < 2 || L[n - 1].kind != LAYER_SOFTMAX || L[n - 2].kind != LAYER_DENSE || L[n - 2].size != CLASSES) abort();
    for (int i = 0; i < n; i++)
        if (L[i].c < 1 || L[i].h < 1 || L[i].w < 1 || L[i].oc < 1 || L[i].oh < 1 || L[i].ow < 1 || L[i].params < 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *spec = malloc(size + 1);
    if (!spec) abort();
    memcpy(spec, data, size);
    spec[size] = 0;
    layer *L;
    int n;
    char *canon, err[1024];
    if (model_parse(spec, C, H, W, CLASSES, &L, &n, &canon, err, sizeof err)) {
        if (strcmp(spec, "seed") != 0 && strcmp(spec, "seed-dropout") != 0 && has_empty_token(spec)) {
            fprintf(stderr, "fuzz: a model string with an empty token was accepted: '%s'\n", spec);
            abort();
        }
        check_layers(L, n);
        layer *L2;
        int n2;
        char *canon2;
        if (!model_parse(canon, C, H, W, CLASSES, &L2, &n2, &canon2, err, sizeof err)) {
            fprintf(stderr, "fuzz: '%s' is accepted, its canonical form '%s' is not: %s\n", spec, canon, err);
            abort();
        }
        if (n2 != n || strcmp(canon, canon2) != 0) {
            fprintf(stderr, "fuzz: the canonical form '%s' parses to '%s'\n", canon, canon2);
            abort();
        }
        free(L2);
        free(canon2);
        free(L);
        free(canon);
    }
    free(spec);
    return 0;
}
