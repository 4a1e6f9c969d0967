/* Saved, loaded, evaluated: `eval --weights` of a training's saved weights gives the accuracy the
 * training reported for its validation, and the accuracy per class. */
/* ctest: labels=e2e timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "short_train.h"

int main(void) {
    char *weights = xasprintf("%s/a.weights", scratch_dir("weights-eval"));
    char *out = short_train(weights, NULL), *err;
    double val_acc = last_field(out, "val_accuracy: ");
    free(out);

    int rc = run_claug(&out, &err, (const char *[]){"eval", "--weights", weights, NULL});
    double acc = last_field(out, "accuracy: ");
    /* The same images through the same kernels: the same count of right answers. */
    CHECK(rc == 0 && fabs(acc - val_acc) < 1e-9, "eval: exit %d, accuracy %.4f vs %.4f\n%s%s", rc, acc, val_acc, out, err);
    CHECK(strstr(out, "Ankle boot") && strstr(out, "T-shirt/top"), "eval lacks the per-class table:\n%s", out);
    free(out);
    free(err);
    free(weights);
    return check_done("test_weights_eval");
}
