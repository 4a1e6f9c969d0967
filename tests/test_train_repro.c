/* Reproducibility: two trainings with one seed write identical weight files. */
/* ctest: labels=e2e timeout=60 */
#include <stdlib.h>

#include "check.h"
#include "short_train.h"

int main(void) {
    const char *dir = scratch_dir("train-repro");
    char *path[2] = {xasprintf("%s/a.weights", dir), xasprintf("%s/b.weights", dir)}, *w[2];
    size_t len[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        free(short_train(path[i], NULL));
        w[i] = slurp(path[i], &len[i]);
    }
    CHECK(w[0] && w[1] && len[0] == len[1] && len[0] > 122000 * 4, "weight files %zu and %zu bytes", len[0], len[1]);
    if (w[0] && w[1] && len[0] == len[1]) check_same("weights of two runs with seed 7", w[0], w[1], len[0]);
    for (int i = 0; i < 2; i++) {
        free(w[i]);
        free(path[i]);
    }
    return check_done("test_train_repro");
}
