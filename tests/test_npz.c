/* Weights to Keras and back: `export` of a short training's weights, read by NumPy
 * (tests/support/npz_forward.py), whose forward pass in Keras' layouts gives the accuracy and the
 * confusion matrix `eval` of the .npz prints, which are those of the training; the same arrays
 * through np.savez_compressed (deflate, zip64 local headers) evaluate the same; damaged or
 * mismatched archives exit 2 naming the file and the problem. */
/* ctest: labels=e2e timeout=120 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/data/dataset.h"
#include "claug/util/zip.h"
#include "short_train.h"

static const char *dir;

/* What eval printed from the loss on: the metrics and the confusion matrix, not the time. */
static const char *results(const char *out) {
    const char *p = out ? strstr(out, "loss: ") : NULL;
    return p ? p : "(no results)";
}

/* The good archive's members rebuilt into dir/file, member `name` changed: dropped (no `from`,
 * no `add`), its bytes `from` (n bytes) replaced by `to` (as long), or a copy of it added as
 * `add`. */
static char *rebuild(const uint8_t *good, size_t len, const char *file, const char *name, const char *from,
                     const char *to, size_t n_from, const char *add) {
    zip_archive z;
    char why[256];
    CHECK(zip_open(&z, good, len, why, sizeof why), "the exported archive does not open: %s", why);
    zip_entry e[32];
    uint8_t *bytes[32];
    int n = 0;
    for (int i = 0; i < z.count && n < 30; i++) {
        size_t blen;
        CHECK(zip_extract(&z, i, SIZE_MAX - 1, &bytes[n], &blen, why, sizeof why), "%s", why);
        bool match = strcmp(z.m[i].name, name) == 0;
        if (match && !from && !add) {
            free(bytes[n]);
            continue;
        }
        if (match && from) {
            uint8_t *at = memmem(bytes[n], blen, from, n_from);
            CHECK(at != NULL, "%s: nothing to replace", name);
            if (at) memcpy(at, to, n_from);
        }
        e[n] = (zip_entry){z.m[i].name, bytes[n], blen};
        n++;
        if (match && add) e[n] = (zip_entry){add, bytes[n - 1], blen}, bytes[n++] = NULL;
    }
    size_t out_len;
    uint8_t *out = zip_build(e, n, &out_len);
    char *path = xasprintf("%s/%s", dir, file);
    write_file(path, out, out_len);
    free(out);
    for (int i = 0; i < n; i++) free(bytes[i]);
    zip_close(&z);
    return path;
}

/* s as NumPy's '<U' stores it (UTF-32LE); returns the bytes. */
static size_t utf32(char *out, const char *s) {
    size_t n = 0;
    for (; *s; s++, n += 4) out[n] = *s, out[n + 1] = out[n + 2] = out[n + 3] = 0;
    return n;
}

static void expect_bad(const char *path, const char *phrase) {
    char *out, *err;
    int rc = run_claug(&out, &err, (const char *[]){"eval", "--weights", path, NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, path) && strstr(err, phrase), "%s: exit %d, want 2 and '%s': %s", path, rc,
          phrase, err);
    printf("  %-28s -> exit %d: %s", strrchr(path, '/') + 1, rc, err);
    free(out);
    free(err);
}

int main(void) {
    dir = scratch_dir("npz");
    char *bin = xasprintf("%s/a.weights", dir), *npz = xasprintf("%s/a.npz", dir), *zipped = xasprintf("%s/c.npz", dir),
         *eval_txt = xasprintf("%s/eval.txt", dir);
    char *out = short_train(bin, NULL), *err;
    double val_acc = last_field(out, "val_accuracy: ");
    free(out);

    int rc = run_claug(&out, &err, (const char *[]){"export", "--weights", bin, "-o", npz, NULL});
    CHECK(rc == 0, "export: exit %d\n%s%s", rc, out, err);
    free(out);
    free(err);

    char *a_out;
    rc = run_claug(&a_out, &err, (const char *[]){"eval", "--weights", npz, NULL});
    double acc = last_field(a_out, "accuracy: ");
    CHECK(rc == 0 && acc == val_acc, "eval of the .npz: exit %d, accuracy %.4f, the training's %.4f\n%s%s", rc, acc,
          val_acc, a_out, err);
    CHECK(strstr(a_out, "confusion matrix") && strstr(a_out, "Ankle boot"), "eval prints no confusion matrix:\n%s", a_out);
    free(err);
    write_file(eval_txt, a_out, strlen(a_out));

    /* NumPy, as a Keras user would read the file. */
    char *cmd = xasprintf("/usr/bin/python3 '%s/tests/support/npz_forward.py' '%s' '%s' '%s' '%s'", test_source_dir(), npz,
                          dataset_default_dir(), eval_txt, zipped);
    fflush(stdout);
    rc = system(cmd);
    CHECK(rc == 0, "%s: exit status %d (needs Debian's python3-numpy: tools/install-deps.sh)", cmd, rc);
    free(cmd);

    rc = run_claug(&out, &err, (const char *[]){"eval", "--weights", zipped, NULL});
    CHECK(rc == 0 && strcmp(results(out), results(a_out)) == 0,
          "eval of np.savez_compressed's copy: exit %d\n%s%s\nwant\n%s", rc, out, err, results(a_out));
    free(out);
    free(err);

    size_t len = 0;
    uint8_t *good = (uint8_t *)slurp(npz, &len);
    CHECK(good != NULL, "%s was not written", npz);
    if (good) {
        char *p = xasprintf("%s/truncated.npz", dir);
        write_file(p, good, len / 2);
        expect_bad(p, "truncated or not a zip");
        free(p);
        p = xasprintf("%s/flipped.npz", dir);
        good[len / 2] ^= 0x10; /* inside the largest member, dense/kernel */
        write_file(p, good, len);
        good[len / 2] ^= 0x10;
        expect_bad(p, "CRC-32 does not match");
        free(p);
        struct {
            const char *file, *member, *from, *to, *add, *phrase;
        } bad[] = {
            {"missing.npz", "dense_1/bias.npy", NULL, NULL, NULL, "no array 'dense_1/bias'"},
            {"no-model.npz", "model.npy", NULL, NULL, NULL, "no array 'model'"},
            {"extra.npz", "dense_1/bias.npy", NULL, NULL, "extra.npy", "unexpected array 'extra'"},
            {"twice.npz", "dense_1/bias.npy", NULL, NULL, "dense_1/bias.npy", "appears twice"},
            {"int32.npz", "conv2d/kernel.npy", "'<f4'", "'<i4'", NULL, "not '<f4'"},
            {"float64.npz", "conv2d/kernel.npy", "'<f4'", "'<f8'", NULL, "dtype '<f8'"},
            {"fortran.npz", "dense/kernel.npy", "False", "True ", NULL, "fortran_order is True"},
            {"shape.npz", "conv2d/kernel.npy", "(3, 3, 1, 32)", "(3, 3, 32, 1)", NULL, "expects conv2d/kernel (3, 3, 1, 32)"},
            {"model.npz", "model.npy", "dense128", "dense127", NULL, "expects dense/kernel (800, 127)"},
            {"not-npy.npz", "input_shape.npy", "\x93NUMPY", "\x93NUMPZ", NULL, "not a .npy array"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            char from[64], to[64];
            size_t n = 0;
            if (bad[i].from && strcmp(bad[i].member, "model.npy") == 0) { /* the model string is UTF-32 */
                n = utf32(from, bad[i].from);
                utf32(to, bad[i].to);
            } else if (bad[i].from) {
                n = strlen(bad[i].from);
                memcpy(from, bad[i].from, n);
                memcpy(to, bad[i].to, n);
            }
            char *path = rebuild(good, len, bad[i].file, bad[i].member, bad[i].from ? from : NULL, to, n, bad[i].add);
            expect_bad(path, bad[i].phrase);
            free(path);
        }
    }
    /* export's own bad usage */
    rc = run_claug(&out, &err, (const char *[]){"export", "--weights", bin, NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, "-o"), "export without -o: exit %d: %s", rc, err);
    free(out);
    free(err);
    char *missing = xasprintf("%s/absent.weights", dir);
    rc = run_claug(&out, &err, (const char *[]){"export", "--weights", missing, "-o", npz, NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, missing), "export of a missing file: exit %d: %s", rc, err);
    free(out);
    free(err);
    free(missing);
    free(good);
    free(a_out);
    free(bin), free(npz), free(zipped), free(eval_txt);
    return check_done("test_npz");
}
