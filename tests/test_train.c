/* Training end to end through the command line: a short training clears a bar well above
 * chance, two runs with one seed write identical weight files, the saved weights evaluate to
 * the accuracy the training reported, and bad weight files exit 2. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"

static double field(const char *text, const char *name) {
    const char *p = NULL;
    for (const char *q = strstr(text, name); q; q = strstr(q + 1, name)) p = q; /* the last one */
    return p ? atof(p + strlen(name)) : -1;
}

static char *path(const char *dir, const char *name) { return xasprintf("%s/%s", dir, name); }

int main(void) {
    const char *dir = scratch_dir("train");
    char *a = path(dir, "a.weights"), *b = path(dir, "b.weights"), *csv = path(dir, "history.csv");
    const char *common[] = {"train", "--train-size", "2000", "--epochs", "1", "--seed", "7", "--quiet"};
    char *out, *err;
    const char *args1[] = {common[0], common[1], common[2], common[3], common[4], common[5], common[6], common[7],
                           "--save", a, "--csv", csv, NULL};
    int rc = run_claug(&out, &err, args1);
    CHECK(rc == 0, "train: exit %d\n%s%s", rc, out, err);
    double val_acc = field(out, "val_accuracy: "), val_loss = field(out, "val_loss: ");
    printf("2000 images, 1 epoch: val_loss %.4f, val_accuracy %.4f\n", val_loss, val_acc);
    CHECK(val_acc > 0.6, "val_accuracy %.4f does not clear 0.6 (chance is 0.1)", val_acc);
    free(out);
    free(err);

    /* The CSV: Keras CSVLogger's header and one row holding the printed metrics. */
    char *text = slurp(csv, NULL);
    CHECK(text && strncmp(text, "epoch,accuracy,loss,val_accuracy,val_loss\n0,", 44) == 0, "history CSV: %s", text ? text : "(unreadable)");
    if (text) {
        double v = atof(strrchr(text, ',') + 1);
        CHECK(v > 0 && fabs(v - val_loss) < 1e-4, "CSV val_loss %.6f vs printed %.4f", v, val_loss);
    }
    free(text);

    const char *args2[] = {common[0], common[1], common[2], common[3], common[4], common[5], common[6], common[7],
                           "--save", b, NULL};
    rc = run_claug(&out, &err, args2);
    CHECK(rc == 0, "second train: exit %d\n%s", rc, err);
    free(out);
    free(err);
    size_t la, lb;
    char *wa = slurp(a, &la), *wb = slurp(b, &lb);
    CHECK(wa && wb && la == lb && la > 122000 * 4, "weight files %zu and %zu bytes", la, lb);
    if (wa && wb && la == lb) check_same("weights of two runs with seed 7", wa, wb, la);

    /* Saved, loaded, evaluated: the same accuracy as the training's validation. */
    rc = run_claug(&out, &err, (const char *[]){"eval", "--weights", a, NULL});
    double acc = field(out, "accuracy: ");
    CHECK(rc == 0 && fabs(acc - val_acc) < 1e-9, "eval: exit %d, accuracy %.4f vs %.4f\n%s%s", rc, acc, val_acc, out, err);
    CHECK(strstr(out, "Ankle boot") && strstr(out, "T-shirt/top"), "eval lacks the per-class table:\n%s", out);
    free(out);
    free(err);

    /* Bad weight files. */
    struct {
        const char *name, *phrase;
        size_t len;
        int flip; /* byte to corrupt, or -1 */
        bool fix_crc;
    } bad[] = {
        {"truncated.weights", "corrupt or truncated", la / 2, -1, false},
        {"flipped.weights", "CRC-32 does not match", la, (int)(la / 2), false},
        {"magic.weights", "not a claug weights file", la, 0, false},
        {"short.weights", "truncated", 10, -1, false},
        {"mismatch.weights", "expects", la, -2, true},
    };
    for (size_t i = 0; wa && i < sizeof bad / sizeof bad[0]; i++) {
        char *p = path(dir, bad[i].name), *copy = xmalloc(la);
        memcpy(copy, wa, la);
        if (bad[i].flip >= 0) copy[bad[i].flip] ^= 0x10;
        if (bad[i].flip == -2) { /* dense128 -> dense127: a valid model whose tensors do not fit */
            char *m = strstr(copy + 16, "dense128");
            if (m) m[7] = '7';
        }
        if (bad[i].fix_crc) put_le32((uint8_t *)copy + la - 4, (uint32_t)crc32(0L, (const uint8_t *)copy, (uInt)(la - 4)));
        write_file(p, copy, bad[i].len);
        rc = run_claug(&out, &err, (const char *[]){"eval", "--weights", p, NULL});
        CHECK(rc == EXIT_USAGE && strstr(err, p) && strstr(err, bad[i].phrase), "%s: exit %d, want 2 and '%s': %s",
              bad[i].name, rc, bad[i].phrase, err);
        printf("  %-18s -> exit %d: %s", bad[i].name, rc, err);
        free(out);
        free(err);
        free(copy);
        free(p);
    }
    rc = run_claug(&out, &err, (const char *[]){"eval", NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, "--weights"), "eval without --weights: exit %d: %s", rc, err);
    free(out);
    free(err);
    free(wa);
    free(wb);
    free(a);
    free(b);
    free(csv);
    return check_done("test_train");
}
