/* `claug run` end to end on a small subset: the report's files and their agreement with each
 * other, each column equal to a standalone `claug train` with the same seed (so both runs start
 * from the seed's weights with a fresh optimizer), each run's confusion matrix (results.json,
 * confusion.svg) against its validation accuracy, and the run directory rules. */
/* ctest: labels=e2e timeout=60 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json_check.h"
#include "svg_check.h"

static double field(const char *text, const char *name) {
    const char *p = strstr(text, name);
    return p ? atof(p + strlen(name)) : NAN;
}

static bool is_png(const char *path) {
    size_t n;
    char *b = slurp(path, &n);
    bool ok = b && n > 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0;
    free(b);
    return ok;
}

/* Each run's confusion matrix counts every test image once, its diagonal is the run's last
 * validation accuracy (which the device summed), and confusion.svg draws the same counts. */
static void check_confusion(const jv *doc, const char *dir) {
    char *path = xasprintf("%s/confusion.svg", dir), *svg = slurp(path, NULL), err[256];
    xml_doc d = {0};
    CHECK(svg && xml_parse(&d, svg, err, sizeof err), "%s: not XML: %s", path, svg ? err : "missing");
    const char *runs[2] = {"plain", "augmented"};
    for (int r = 0; r < 2; r++) {
        char key[64];
        snprintf(key, sizeof key, "runs.%s.history.0.val_accuracy", runs[r]);
        const jv *acc = jv_path(doc, key), *size = jv_path(doc, "config.test_size");
        long total = 0, diagonal = 0, drawn = 0, same = 0;
        for (int t = 0; t < 10; t++)
            for (int p = 0; p < 10; p++) {
                snprintf(key, sizeof key, "runs.%s.confusion.%d.%d", runs[r], t, p);
                const jv *v = jv_path(doc, key);
                CHECK(v && v->type == JV_NUMBER, "%s missing", key);
                long n = v ? (long)v->number : 0;
                total += n;
                diagonal += t == p ? n : 0;
                for (int i = 0; i < d.count; i++) {
                    const xml_elem *e = &d.elems[i];
                    const char *cls = xml_attr(e, "class"), *run = e->parent >= 0 ? xml_attr(&d.elems[e->parent], "data-run") : NULL;
                    if (!cls || strcmp(cls, "cell") || !run || strcmp(run, runs[r]) || svg_attr_num(e, "data-true") != t ||
                        svg_attr_num(e, "data-predicted") != p)
                        continue;
                    drawn++;
                    same += svg_attr_num(e, "data-count") == n;
                }
            }
        CHECK(size && total == (long)size->number, "%s: the matrix counts %ld images", runs[r], total);
        CHECK(acc && total && fabs((double)diagonal / total - acc->number) < 1e-9, "%s: diagonal %ld / %ld, val_accuracy %.6f",
              runs[r], diagonal, total, acc ? acc->number : NAN);
        CHECK(drawn == 100 && same == 100, "%s: confusion.svg draws %ld cells, %ld as in results.json", runs[r], drawn, same);
        printf("%-9s confusion: %ld of %ld on the diagonal, val_accuracy %.4f\n", runs[r], diagonal, total,
               acc ? acc->number : NAN);
    }
    char *md_path = xasprintf("%s/report.md", dir), *md = slurp(md_path, NULL);
    CHECK(md && strstr(md, "(confusion.svg)"), "report.md does not show confusion.svg");
    free(md);
    free(md_path);
    xml_free(&d);
    free(svg);
    free(path);
}

int main(void) {
    const char *root = scratch_dir("experiment");
    char *dir = xasprintf("%s/run", root);
    char *out, *err;
    int rc = run_claug(&out, &err, (const char *[]){"run", "--epochs", "1", "--train-size", "600", "--seed", "5",
                                                    "--out", dir, "--quiet", NULL});
    CHECK(rc == 0, "claug run: exit %d\n%s%s", rc, out, err);
    CHECK(strstr(out, "without augmentation") && strstr(out, "with augmentation") && strstr(out, "validation accuracy") &&
              strstr(out, "images per second"),
          "the table is missing:\n%s", out);
    free(out);
    free(err);

    const char *files[] = {"results.json", "history-plain.csv", "history-augmented.csv", "curves.svg", "confusion.svg",
                           "report.md", "samples.png", "augmented.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = xasprintf("%s/%s", dir, files[i]);
        size_t n = 0;
        char *text = slurp(p, &n);
        CHECK(text && n > 50, "%s missing or empty", p);
        if (strstr(files[i], ".png")) CHECK(is_png(p), "%s is not a PNG", p);
        free(text);
        free(p);
    }

    char *path = xasprintf("%s/results.json", dir), *text = slurp(path, NULL), msg[256];
    jv *doc = text ? jv_parse(text, msg, sizeof msg) : NULL;
    CHECK(doc != NULL, "results.json does not parse: %s", text ? msg : "unreadable");
    double val_loss[2] = {NAN, NAN};
    if (doc) {
        const jv *v = jv_path(doc, "config.augmentation");
        CHECK(v && v->type == JV_STRING && strcmp(v->string, "rotation_range=10") == 0, "default augmentation");
        v = jv_path(doc, "config.train_size");
        CHECK(v && v->number == 600, "train_size");
        v = jv_path(doc, "command");
        CHECK(v && v->type == JV_STRING && strstr(v->string, "--seed 5") && !strstr(v->string, "--out"), "command: %s",
              v ? v->string : "missing");
        const char *runs[2] = {"runs.plain.history.0.val_loss", "runs.augmented.history.0.val_loss"};
        for (int r = 0; r < 2; r++) {
            v = jv_path(doc, runs[r]);
            CHECK(v && v->type == JV_NUMBER && v->number > 0 && v->number < 3, "%s", runs[r]);
            if (v) val_loss[r] = v->number;
        }
        v = jv_path(doc, "device.name");
        CHECK(v && v->type == JV_STRING && *v->string, "device name");
        check_confusion(doc, dir);
        jv_free(doc);
    }
    free(text);
    free(path);

    /* Each column is what a standalone training with the same seed gives. */
    const char *aug_args[2][3] = {{NULL}, {"--rotation-range", "10", NULL}};
    for (int r = 0; r < 2; r++) {
        const char *args[] = {"train", "--epochs", "1", "--train-size", "600", "--seed", "5", "--quiet",
                              aug_args[r][0], aug_args[r][1], NULL};
        rc = run_claug(&out, &err, args);
        double v = field(out, "val_loss: ");
        CHECK(rc == 0 && fabs(v - val_loss[r]) < 5e-5, "%s: standalone val_loss %.4f, in the run %.6f",
              r ? "augmented" : "plain", v, val_loss[r]);
        printf("%-9s val_loss: run %.6f, standalone train %.4f\n", r ? "augmented" : "plain", val_loss[r], v);
        free(out);
        free(err);
    }

    /* A run directory is never reused. */
    rc = run_claug(&out, &err, (const char *[]){"run", "--epochs", "1", "--train-size", "100", "--out", dir, NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, dir) && strstr(err, "already holds a run"), "reused --out: exit %d: %s", rc,
          err);
    free(out);
    free(err);
    rc = run_claug(&out, &err, (const char *[]){"run", "--plain-only", "--augment-only", NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, "exclude each other"), "both -only flags: exit %d: %s", rc, err);
    free(out);
    free(err);

    /* One side only: its column, a "-" for the other, no CSV for it. */
    char *dir2 = xasprintf("%s/plain", root);
    rc = run_claug(&out, &err, (const char *[]){"run", "--plain-only", "--epochs", "1", "--train-size", "200", "--out",
                                                dir2, "--quiet", NULL});
    char *aug_csv = xasprintf("%s/history-augmented.csv", dir2), *plain_csv = xasprintf("%s/history-plain.csv", dir2);
    CHECK(rc == 0 && strstr(out, "-\n"), "--plain-only: exit %d\n%s%s", rc, out, err);
    CHECK(slurp(aug_csv, NULL) == NULL, "--plain-only wrote %s", aug_csv);
    char *csv = slurp(plain_csv, NULL);
    CHECK(csv != NULL, "--plain-only did not write %s", plain_csv);
    free(csv);
    free(out);
    free(err);
    free(aug_csv);
    free(plain_csv);
    free(dir2);
    free(dir);
    return check_done("test_experiment");
}
