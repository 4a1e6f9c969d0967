/* `claug study` on a small data set: the summary recomputed here from the cell files; a cell
 * equal to `claug train` with the same settings (one training path); SIGKILL at random moments
 * then a rerun ending with the same summary as an uninterrupted study (byte for byte); two
 * concurrent shards + --collect equal to one process; corrupt and foreign cell files reported
 * and recomputed; --collect naming missing cells; a DIR of other options refused; --list and
 * bad --shard / --sizes values. CLAUG_STUDY_KILL_TRIALS sets the number of kill trials (2). */
/* ctest: labels=e2e timeout=400 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "claug/util/json_read.h"
#include "mini_data.h"

static const char *data;
static char root[1024];
/* The study of every run here: 2 sizes x 2 arms x 3 seeds, 2 epochs each. */
#define STUDY_ARGS "study", "--data", data, "--sizes", "100,300", "--seeds", "3", "--epochs", "2", "--seed", "11", "-q"
static const char *const files[] = {"summary.json", "summary.csv", "report.md", "study.svg"};

static char *at(const char *dir, const char *name) { return xasprintf("%s/%s", dir, name); }

static int study(const char *out, char **err, const char *extra1, const char *extra2) {
    const char *args[] = {STUDY_ARGS, "--out", out, extra1, extra2, NULL};
    char *o;
    int rc = run_claug(&o, err, args);
    free(o);
    return rc;
}

static void same_summary(const char *what, const char *dir, const char *ref) {
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *a = at(dir, files[i]), *b = at(ref, files[i]);
        size_t la = 0, lb = 0;
        char *x = slurp(a, &la), *y = slurp(b, &lb);
        CHECK(x && y && la == lb && memcmp(x, y, la) == 0, "%s: %s differs from the uninterrupted study's", what, a);
        free(x);
        free(y);
        free(a);
        free(b);
    }
}

static json_value *load_json(const char *path) {
    size_t len;
    char *text = slurp(path, &len), err[256];
    CHECK(text, "cannot read %s", path);
    json_value *v = text ? json_parse(text, len, err, sizeof err) : NULL;
    CHECK(v, "%s: %s", path, text ? err : "unreadable");
    free(text);
    return v;
}

static double num(const json_value *v, const char *k) {
    const json_value *m = json_member(v, k);
    return m && m->type == JSON_NUMBER ? m->number : NAN;
}

static void near(const char *what, double got, double want) {
    CHECK(fabs(got - want) <= 1e-12 * fmax(1, fabs(want)), "%s: summary %.17g, recomputed %.17g", what, got, want);
}

/* Means, sds and the paired interval of the validation metrics, from the cells, against
 * summary.json. The t quantile for 2 degrees of freedom is SciPy's t.ppf(0.975, 2). */
static void recompute(const char *ref) {
    const double t975_df2 = 4.302652729911275;
    char *sp = at(ref, "summary.json");
    json_value *s = load_json(sp);
    const json_value *sizes = json_member(s, "sizes");
    CHECK(sizes && sizes->type == JSON_ARRAY && sizes->count == 2, "summary.json: sizes");
    const int size[2] = {100, 300};
    const char *metric[2] = {"val_accuracy", "val_loss"};
    for (int i = 0; sizes && i < sizes->count && i < 2; i++) {
        const json_value *z = &sizes->items[i];
        CHECK(num(z, "size") == size[i], "size %d: %g", i, num(z, "size"));
        for (int m = 0; m < 2; m++) {
            double x[2][3], d[3];
            for (int arm = 0; arm < 2; arm++)
                for (int j = 0; j < 3; j++) {
                    char name[128];
                    snprintf(name, sizeof name, "cells/size%d-seed%d-%s.json", size[i], 11 + j, arm ? "augmented" : "plain");
                    char *cp = at(ref, name);
                    json_value *c = load_json(cp);
                    x[arm][j] = num(c, metric[m]);
                    json_value_free(c);
                    free(cp);
                }
            for (int arm = 0; arm < 2; arm++) {
                double mean = (x[arm][0] + x[arm][1] + x[arm][2]) / 3, ss = 0;
                for (int j = 0; j < 3; j++) ss += (x[arm][j] - mean) * (x[arm][j] - mean);
                const json_value *st = json_member(json_member(z, arm ? "augmented" : "plain"), metric[m]);
                char what[96];
                snprintf(what, sizeof what, "size %d %s %s mean", size[i], arm ? "augmented" : "plain", metric[m]);
                near(what, num(st, "mean"), mean);
                snprintf(what, sizeof what, "size %d %s %s sd", size[i], arm ? "augmented" : "plain", metric[m]);
                near(what, num(st, "sd"), sqrt(ss / 2));
            }
            for (int j = 0; j < 3; j++) d[j] = x[1][j] - x[0][j];
            double mean = (d[0] + d[1] + d[2]) / 3, ss = 0;
            for (int j = 0; j < 3; j++) ss += (d[j] - mean) * (d[j] - mean);
            double half = t975_df2 * sqrt(ss / 2) / sqrt(3.0);
            const json_value *st = json_member(json_member(z, "difference"), metric[m]);
            char what[96];
            snprintf(what, sizeof what, "size %d difference %s", size[i], metric[m]);
            near(what, num(st, "mean"), mean);
            CHECK(fabs(num(st, "ci_low") - (mean - half)) <= 1e-9 && fabs(num(st, "ci_high") - (mean + half)) <= 1e-9,
                  "%s: interval [%g, %g], recomputed [%g, %g]", what, num(st, "ci_low"), num(st, "ci_high"), mean - half,
                  mean + half);
            CHECK(num(st, "p_value") >= 0 && num(st, "p_value") <= 1, "%s: p %g", what, num(st, "p_value"));
        }
        const json_value *sentence = json_member(z, "sentence");
        CHECK(sentence && sentence->type == JSON_STRING && strstr(sentence->string, "validation loss"), "no sentence");
    }
    json_value_free(s);
    free(sp);
    /* summary.csv: a header and 22 rows per size (4 metrics x 2 arms, 4 differences, 10 classes). */
    char *cp = at(ref, "summary.csv");
    size_t len;
    char *csv = slurp(cp, &len);
    int lines = 0;
    for (size_t k = 0; csv && k < len; k++) lines += csv[k] == '\n';
    CHECK(csv && strncmp(csv, "size,arm,metric,n,mean,sd,ci_low,ci_high,p_value\n", 49) == 0 && lines == 1 + 2 * 22,
          "summary.csv: %d lines", lines);
    free(csv);
    free(cp);
}

/* The cell (300 images, seed 12, augmented) against `claug train` with the same settings. */
static void cell_equals_train(const char *ref) {
    char *out, *err;
    const char *args[] = {"train", "--data", data, "--train-size", "300", "--seed", "12", "--epochs", "2",
                          "--rotation-range", "10", "-q", NULL};
    CHECK(run_claug(&out, &err, args) == 0, "train: %s", err);
    char *cp = at(ref, "cells/size300-seed12-augmented.json");
    json_value *c = load_json(cp);
    char want[128];
    snprintf(want, sizeof want, "val_loss: %.4f - val_accuracy: %.4f", num(c, "val_loss"), num(c, "val_accuracy"));
    CHECK(strstr(out, want), "train printed '%s', the cell has '%s'", out, want);
    json_value_free(c);
    free(cp);
    free(out);
    free(err);
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static pid_t start_study(const char *out, const char *shard) {
    return start_claug((const char *[]){STUDY_ARGS, "--out", out, shard ? "--shard" : NULL, shard, NULL}, "study-bg");
}

static void no_leftovers(const char *dir) {
    char *cmd = xasprintf("ls '%s/cells' '%s' | grep -E '\\.ckpt$|\\.tmp\\.' >/dev/null", dir, dir);
    CHECK(system(cmd) != 0, "%s: a checkpoint or temporary file is left after the study finished", dir);
    free(cmd);
}

static void kill_trials(const char *ref, double duration) {
    const char *env = getenv("CLAUG_STUDY_KILL_TRIALS");
    int trials = env && *env ? atoi(env) : 2;
    uint64_t lcg = 12345;
    for (int k = 0; k < trials; k++) {
        lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
        double delay = 0.3 + (double)(lcg >> 11) / 9007199254740992.0 * duration;
        char name[32];
        snprintf(name, sizeof name, "kill-%d", k);
        char *dir = at(root, name);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid_t pid = start_study(dir, NULL);
        while (seconds_since(&t0) < delay) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        char *err;
        int rc = study(dir, &err, NULL, NULL);
        CHECK(rc == 0, "kill trial %d (after %.2f s): rerun exit %d: %s", k, delay, rc, err);
        printf("kill trial %d: SIGKILL after %.2f s (%s), rerun finished\n", k, delay,
               WIFSIGNALED(status) ? "killed" : "had already finished");
        char what[64];
        snprintf(what, sizeof what, "kill trial %d after %.2f s", k, delay);
        same_summary(what, dir, ref);
        no_leftovers(dir);
        free(err);
        free(dir);
    }
}

static void shards(const char *ref) {
    char *dir = at(root, "shards"), *sj = at(dir, "summary.json");
    pid_t a = start_study(dir, "0/2"), b = start_study(dir, "1/2");
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    CHECK(WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 0, "shards failed");
    CHECK(access(sj, F_OK) != 0, "a shard wrote the summary (that is --collect's)");
    char *out, *err;
    const char *args[] = {"study", "--collect", dir, NULL};
    CHECK(run_claug(&out, &err, args) == 0, "collect: %s", err);
    CHECK(strstr(out, "100 images:") && strstr(out, "300 images:"), "collect printed no table:\n%s", out);
    same_summary("two shards + --collect", dir, ref);
    free(out);
    free(err);
    free(sj);
    free(dir);
}

static void bad_cells(const char *ref) {
    char *dir = at(root, "bad"), *cmd = xasprintf("cp -r '%s' '%s'", ref, dir), *err;
    CHECK(system(cmd) == 0, "%s", cmd);
    char *a = at(dir, "cells/size100-seed11-plain.json"), *b = at(dir, "cells/size300-seed13-augmented.json"),
         *other = at(dir, "cells/size300-seed13-plain.json");
    size_t len;
    char *text = slurp(a, &len);
    write_file(a, text, len / 2);
    free(text);
    text = slurp(other, &len);
    write_file(b, text, len);
    free(text);
    CHECK(study(dir, &err, NULL, NULL) == 0, "rerun with bad cells: %s", err);
    CHECK(strstr(err, "size100-seed11-plain.json") && strstr(err, "corrupt"), "the corrupt cell is not reported: %s", err);
    CHECK(strstr(err, "size300-seed13-augmented.json") && strstr(err, "another configuration"),
          "the foreign cell is not reported: %s", err);
    same_summary("corrupt and foreign cells recomputed", dir, ref);
    free(err);
    /* --collect with two cells gone: names them, counts them. */
    unlink(a);
    unlink(other);
    char *out;
    const char *args[] = {"study", "--collect", dir, NULL};
    CHECK(run_claug(&out, &err, args) == 0, "collect: %s", err);
    CHECK(strstr(err, "2 of 12 cells missing") && strstr(err, "size100-seed11-plain") && strstr(err, "size300-seed13-plain"),
          "collect does not name the missing cells: %s", err);
    char *sp = at(dir, "summary.json");
    json_value *s = load_json(sp);
    const json_value *missing = json_member(s, "missing");
    CHECK(num(s, "cells_present") == 10 && missing && missing->count == 2, "summary.json: cells_present %g",
          num(s, "cells_present"));
    json_value_free(s);
    free(sp);
    free(out);
    free(err);
    free(a);
    free(b);
    free(other);
    free(cmd);
    free(dir);
}

static void refused(const char *what, const char *const *args, const char *expect) {
    char *out, *err;
    int rc = run_claug(&out, &err, args);
    CHECK(rc == 2 && strstr(err, expect), "%s: exit %d (want 2), stderr '%s' (want '%s')", what, rc, err, expect);
    free(out);
    free(err);
}

int main(void) {
    data = mini_data("study-data", 2000, 300);
    snprintf(root, sizeof root, "%s", scratch_dir("study"));
    char *ref = at(root, "ref"), *err;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(study(ref, &err, NULL, NULL) == 0, "the study failed: %s", err);
    free(err);
    double duration = seconds_since(&t0);
    printf("uninterrupted study: %.1f s\n", duration);
    recompute(ref);
    cell_equals_train(ref);
    kill_trials(ref, duration);
    shards(ref);
    bad_cells(ref);

    char *out;
    const char *list[] = {STUDY_ARGS, "--out", ref, "--list", NULL};
    CHECK(run_claug(&out, NULL, list) == 0, "--list failed");
    int done = 0;
    for (const char *p = out; (p = strstr(p, "(done)")); p++) done++;
    CHECK(done == 12 && strstr(out, "   11      300  augmented     13"), "--list: %d done\n%s", done, out);
    free(out);
    refused("other options in the same DIR", (const char *[]){STUDY_ARGS, "--out", ref, "--lr", "0.002", NULL},
            "holds a study of other options");
    refused("--shard 2/2", (const char *[]){STUDY_ARGS, "--out", ref, "--shard", "2/2", NULL}, "--shard '2/2'");
    refused("--shard x", (const char *[]){STUDY_ARGS, "--out", ref, "--shard", "1", NULL}, "expected I/N");
    unsetenv("SLURM_ARRAY_TASK_ID");
    refused("--shard slurm outside Slurm", (const char *[]){STUDY_ARGS, "--out", ref, "--shard", "slurm", NULL},
            "SLURM_ARRAY_TASK_ID");
    refused("--sizes descending", (const char *[]){"study", "--data", data, "--sizes", "300,100", NULL}, "ascending");
    refused("--sizes word", (const char *[]){"study", "--data", data, "--sizes", "100,abc", NULL}, "'abc'");
    refused("--sizes too large", (const char *[]){"study", "--data", data, "--sizes", "5000", NULL},
            "more than the 2000 training images");
    refused("--collect nothing", (const char *[]){"study", "--collect", root, NULL}, "study.json");
    free(ref);
    return check_done("study");
}
