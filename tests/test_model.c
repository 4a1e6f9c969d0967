/* Model strings: the seed models' shapes and parameter counts (against the per-layer formulas),
 * canonical forms, and every kind of bad string refused with the bad token named. */
/* ctest: labels=host,e2e timeout=60 */
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

/* Parameter counts against the per-layer formulas, and canonical forms. */
static void test_counts(void) {
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
}

/* The layer lists: shapes, names, fused and unfused relus, dropout's mask streams. */
static void test_layers(void) {
    /* Shapes of the seed model, layer by layer; each relu a flag of the layer before it. */
    layer *L;
    int n;
    char *canon, err[256];
    CHECK(model_parse("seed", 1, 28, 28, 10, &L, &n, &canon, err, sizeof err), "%s", err);
    const struct {
        layer_kind kind;
        const char *name;
        int oc, oh, ow;
        bool relu;
    } seed[] = {{LAYER_CONV, "conv2d", 32, 26, 26, true},          {LAYER_CONV, "conv2d_1", 32, 24, 24, true},
                {LAYER_MAXPOOL, "max_pooling2d", 32, 12, 12, false}, {LAYER_CONV, "conv2d_2", 32, 10, 10, true},
                {LAYER_MAXPOOL, "max_pooling2d_1", 32, 5, 5, false}, {LAYER_FLATTEN, "flatten", 800, 1, 1, false},
                {LAYER_DENSE, "dense", 128, 1, 1, true},             {LAYER_DENSE, "dense_1", 10, 1, 1, false},
                {LAYER_SOFTMAX, "softmax", 10, 1, 1, false}};
    CHECK(n == 9, "seed has %d layers", n);
    for (int i = 0; i < n && i < 9; i++)
        CHECK(L[i].kind == seed[i].kind && strcmp(L[i].name, seed[i].name) == 0 && L[i].oc == seed[i].oc &&
                  L[i].oh == seed[i].oh && L[i].ow == seed[i].ow && L[i].relu == seed[i].relu,
              "layer %d (%s): kind %d, %dx%dx%d, relu %d", i, L[i].name, (int)L[i].kind, L[i].oc, L[i].oh, L[i].ow,
              L[i].relu);
    free(L);
    free(canon);

    /* A relu the layer before cannot compute (after pooling, flatten or another relu) is a layer;
     * relus are numbered fused or not. Dropout keys its masks by its token's position. */
    CHECK(model_parse("conv4x3,relu,relu,maxpool2,relu,dropout0.5,flatten,dense10,softmax", 1, 28, 28, 10, &L, &n,
                      &canon, err, sizeof err),
          "%s", err);
    const char *names[] = {"conv2d", "activation_1", "max_pooling2d", "activation_2", "dropout", "flatten", "dense",
                           "softmax"};
    CHECK(n == 8, "%d layers, want 8", n);
    for (int i = 0; i < n && i < 8; i++)
        CHECK(strcmp(L[i].name, names[i]) == 0, "layer %d: %s, want %s", i, L[i].name, names[i]);
    CHECK(n == 8 && L[0].relu && L[1].kind == LAYER_RELU && L[3].kind == LAYER_RELU && L[4].pos == 5 && !L[6].relu,
          "unfused relus: %s", canon);
    CHECK(strcmp(canon, "conv4x3,relu,relu,maxpool2,relu,dropout0.5,flatten,dense10,softmax") == 0, "canonical: %s",
          canon);
    free(L);
    free(canon);
    CHECK(model_parse("seed-dropout", 1, 28, 28, 10, &L, &n, &canon, err, sizeof err), "%s", err);
    CHECK(n == 12 && L[3].kind == LAYER_DROPOUT && L[3].pos == 5 && L[6].kind == LAYER_DROPOUT && L[6].pos == 9 &&
              L[9].kind == LAYER_DROPOUT && L[9].pos == 13 && L[9].rate == 0.5f,
          "seed-dropout: %d layers, dropout positions", n);
    free(L);
    free(canon);
}

/* Every kind of bad string refused with the bad token named, by the parser and the command line. */
static void test_refused(void) {
    char err[256];
    /* A bad model string and a phrase of its message. */
    static const char *const bad[][2] = {
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
        {"conv4x3,banana,dense10,softmax",
         "token 2 'banana': unknown layer (expected convNxK, relu, maxpoolS, dropoutR, flatten, denseN or softmax)"},
        {"relux,dense10,softmax", "token 1 'relux': unknown layer"},
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
        bool ok = model_parse(bad[i][0], 1, 28, 28, 10, &l2, &n2, &c2, err, sizeof err);
        CHECK(!ok && strstr(err, bad[i][1]), "'%s': %s, want '%s'", bad[i][0], ok ? "accepted" : err, bad[i][1]);
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
}

int main(void) {
    test_counts();
    test_layers();
    test_refused();
    return check_done("test_model");
}
