/* Model strings: the seed models' shapes and parameter counts (against the per-layer formulas),
 * canonical forms, and every kind of bad string refused with the bad token named. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/model/net.h"

static long parse_count(const char *spec, char **canon) {
    layer *L;
    int n;
    char err[256];
    if (!model_parse(spec, 1, 28, 28, 10, &L, &n, canon, err, sizeof err)) {
        CHECK(0, "'%s' refused: %s", spec, err);
        return -1;
    }
    long total = 0;
    for (int i = 0; i < n; i++) total += L[i].params;
    free(L);
    return total;
}

int main(void) {
    /* Per-layer formulas: conv k*k*cin*cout + cout, dense in*out + out. */
    long conv1 = 3 * 3 * 1 * 32 + 32, conv = 3 * 3 * 32 * 32 + 32;
    long dense1 = (5 * 5 * 32) * 128 + 128, dense2 = 128 * 10 + 10;
    long want = conv1 + 2 * conv + dense1 + dense2;
    char *canon;
    long got = parse_count("seed", &canon);
    CHECK(got == want, "seed: %ld parameters, want %ld", got, want);
    CHECK(canon && strcmp(canon, MODEL_SEED) == 0, "seed canonical: %s", canon);
    printf("seed model: %ld parameters\n", got);
    free(canon);
    got = parse_count("seed-dropout", &canon);
    CHECK(got == want, "seed-dropout: %ld parameters, want %ld", got, want);
    free(canon);
    /* Spaces and case are forgiven; the canonical string is normalised. */
    got = parse_count(" Conv8x5 , RELU,maxpool3,dropout0.50,dense10 ,softmax", &canon);
    CHECK(got == 5 * 5 * 8 + 8 + (8 * 8 * 8) * 10 + 10, "custom count %ld", got);
    CHECK(canon && strcmp(canon, "conv8x5,relu,maxpool3,dropout0.5,dense10,softmax") == 0, "canonical: %s", canon);
    free(canon);

    /* A rate %g prints as 1 is kept with the digits that give its float back, since eval parses
     * the canonical string of a weights file again. */
    got = parse_count("flatten,dropout0.9999999,dense10,softmax", &canon);
    char *again = NULL;
    CHECK(canon && strcmp(canon, "flatten,dropout0.9999999,dense10,softmax") == 0 &&
              parse_count(canon, &again) == got,
          "dropout0.9999999: canonical %s", canon);
    free(again);
    free(canon);

    /* Shapes of the seed model, layer by layer, and the fused ReLUs. */
    layer *L;
    int n;
    char err[256];
    CHECK(model_parse("seed", 1, 28, 28, 10, &L, &n, &canon, err, sizeof err), "%s", err);
    const int shapes[][3] = {{32, 26, 26}, {32, 26, 26}, {32, 24, 24}, {32, 24, 24}, {32, 12, 12}, {32, 10, 10}, {32, 10, 10},
                             {32, 5, 5},   {800, 1, 1},  {128, 1, 1},  {128, 1, 1},  {10, 1, 1},   {10, 1, 1}};
    CHECK(n == 13, "seed has %d layers", n);
    for (int i = 0; i < n && i < 13; i++)
        CHECK(L[i].oc == shapes[i][0] && L[i].oh == shapes[i][1] && L[i].ow == shapes[i][2], "layer %d (%s): %dx%dx%d", i,
              L[i].name, L[i].oc, L[i].oh, L[i].ow);
    CHECK(L[0].relu && L[1].fused && L[9].relu && L[10].fused && !L[11].relu, "relu fusion");
    CHECK(strcmp(L[2].name, "conv2d_1") == 0 && strcmp(L[11].name, "dense_1") == 0, "names %s %s", L[2].name, L[11].name);
    free(L);
    free(canon);

    const struct {
        const char *spec, *phrase;
    } bad[] = {
        {"conv32", "token 1 'conv32'"},
        {"conv32x0,dense10,softmax", "token 1 'conv32x0'"},
        {"conv0x3,dense10,softmax", "token 1 'conv0x3'"},
        {"conv32x30,dense10,softmax", "does not fit the 28x28 input"},
        {"conv32x3,maxpool0,dense10,softmax", "token 2 'maxpool0'"},
        {"conv32x3,maxpool16,dense10,softmax", "token 2 'maxpool16'"},
        {"dropout1.5,dense10,softmax", "token 1 'dropout1.5'"},
        {"dropout,dense10,softmax", "token 1 'dropout'"},
        {"dense,softmax", "token 1 'dense'"},
        {"dense10,relu,softmax", "token 3 'softmax'"},
        {"dense7,softmax", "softmax must follow the output layer dense10"},
        {"conv4x3,banana,dense10,softmax", "token 2 'banana': unknown layer"},
        {"dense10,conv4x3,dense10,softmax", "token 2 'conv4x3': a convolution cannot follow"},
        {"dense10,softmax,relu", "nothing may follow softmax"},
        {"conv4x3,relu", "must end with dense10,softmax"},
        {"", "must end with dense10,softmax"},
        {"conv4x3,,,relu,flatten,dense10,softmax", "token 2 '': empty"},
        {",flatten,dense10,softmax", "token 1 '': empty"},
        {"flatten,dense10,softmax,", "token 4 '': empty"},
        {"flatten, ,dense10,softmax", "token 2 '': empty"},
        /* Below 1 as a double, exactly 1 as the float the kernel uses. */
        {"flatten,dropout0.99999999,dense10,softmax", "token 2 'dropout0.99999999'"},
        {"flatten,dropout 0.5,dense10,softmax", "token 2 'dropout 0.5'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        layer *l2 = NULL;
        char *c2 = NULL;
        int n2;
        bool ok = model_parse(bad[i].spec, 1, 28, 28, 10, &l2, &n2, &c2, err, sizeof err);
        CHECK(!ok && strstr(err, bad[i].phrase), "'%s': %s, want '%s'", bad[i].spec, ok ? "accepted" : err, bad[i].phrase);
        if (ok) {
            free(l2);
            free(c2);
        }
    }
    /* And through the command line: exit 2 with the token named. */
    char *out, *errs;
    int rc = run_claug(&out, &errs, (const char *[]){"train", "--model", "conv32x3,banana,dense10,softmax", NULL});
    CHECK(rc == EXIT_USAGE && strstr(errs, "'banana'"), "claug train --model with a bad token: exit %d: %s", rc, errs);
    free(out);
    free(errs);
    return check_done("test_model");
}
