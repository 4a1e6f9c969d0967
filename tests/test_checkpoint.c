/* `claug train --checkpoint / --resume`: a training interrupted after any epoch, or killed with
 * SIGKILL at any moment, and resumed, ends with weights bit-identical to an uninterrupted one
 * (plain, and with augmentation and dropout, whose random draws are keyed by epoch and step);
 * a checkpoint of another configuration, a corrupt one and a missing one are refused (exit 2). */
/* ctest: labels=e2e timeout=240 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "mini_data.h"

static const char *data, *dir;

static char *path_in(const char *name) { return xasprintf("%s/%s", dir, name); }

/* claug train on the mini data with args... (NULL-terminated), quiet; returns the exit code and
 * the stderr (caller frees) in *err. */
static int train(char **err, const char *extra[]) {
    const char *args[40] = {"train", "--data", data, "--train-size", "400", "--seed", "9", "--quiet"};
    int n = 8;
    for (int i = 0; extra[i]; i++) args[n++] = extra[i];
    args[n] = NULL;
    char *out;
    int rc = run_claug(&out, err, args);
    free(out);
    return rc;
}

static void same_file(const char *what, const char *a, const char *b) {
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    CHECK(x && y && la == lb && memcmp(x, y, la) == 0, "%s: %s and %s differ (%zu and %zu bytes)", what, a, b, la, lb);
    free(x);
    free(y);
}

/* Uninterrupted 3 epochs against 1 + resume to 3, and 2 + resume to 3, for one option set. */
static void resumed_equals_uninterrupted(const char *label, const char *opt[]) {
    char *full = path_in("full.bin"), *ck = path_in("c.ckpt"), *res = path_in("res.bin"), *err;
    const char *a[20];
    int n = 0;
    for (int i = 0; opt[i]; i++) a[n++] = opt[i];
    a[n] = "--epochs", a[n + 1] = "3", a[n + 2] = "--save", a[n + 3] = full, a[n + 4] = NULL;
    CHECK(train(&err, a) == 0, "%s: uninterrupted training failed: %s", label, err);
    free(err);
    for (int stop = 1; stop <= 2; stop++) {
        char e[8];
        snprintf(e, sizeof e, "%d", stop);
        unlink(ck);
        a[n] = "--epochs", a[n + 1] = e, a[n + 2] = "--checkpoint", a[n + 3] = ck, a[n + 4] = NULL;
        CHECK(train(&err, a) == 0, "%s: training to epoch %d failed: %s", label, stop, err);
        free(err);
        a[n] = "--epochs", a[n + 1] = "3", a[n + 2] = "--resume", a[n + 3] = ck, a[n + 4] = "--save", a[n + 5] = res,
        a[n + 6] = NULL;
        CHECK(train(&err, a) == 0, "%s: resume after epoch %d failed: %s", label, stop, err);
        free(err);
        char what[128];
        snprintf(what, sizeof what, "%s, resumed after epoch %d", label, stop);
        same_file(what, res, full);
    }
    free(full);
    free(ck);
    free(res);
}

/* SIGKILL at a moment in the training, then --resume: the same weights as uninterrupted. */
static void killed_then_resumed(double delay) {
    char *full = path_in("kfull.bin"), *ck = path_in("k.ckpt"), *res = path_in("kres.bin"), *err;
    const char *a[] = {"--epochs", "4", "--save", full, "--rotation-range", "10", NULL};
    CHECK(train(&err, a) == 0, "kill: uninterrupted training failed: %s", err);
    free(err);
    unlink(ck);
    pid_t pid = start_claug((const char *[]){"train", "--data", data, "--train-size", "400", "--seed", "9", "--quiet",
                                             "--epochs", "4", "--rotation-range", "10", "--checkpoint", ck, NULL},
                            "checkpoint-kill");
    struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* Killed before the first checkpoint: there is nothing to resume, so start afresh. */
    const char *b1[] = {"--epochs", "4", "--rotation-range", "10", "--resume", ck, "--save", res, NULL};
    const char *b2[] = {"--epochs", "4", "--rotation-range", "10", "--checkpoint", ck, "--save", res, NULL};
    bool have = access(ck, F_OK) == 0;
    CHECK(train(&err, have ? b1 : b2) == 0, "kill after %.2f s: the rerun failed: %s", delay, err);
    free(err);
    char what[64];
    snprintf(what, sizeof what, "killed after %.2f s (%s), resumed", delay, have ? "checkpoint" : "none yet");
    same_file(what, res, full);
    free(full);
    free(ck);
    free(res);
}

static void refused(const char *what, const char *extra[], const char *expect) {
    char *err;
    int rc = train(&err, extra);
    CHECK(rc == 2 && strstr(err, expect), "%s: exit %d (want 2), stderr '%s' (want '%s')", what, rc, err, expect);
    free(err);
}

int main(void) {
    data = mini_data("checkpoint-data", 1000, 200);
    dir = scratch_dir("checkpoint");
    resumed_equals_uninterrupted("plain", (const char *[]){NULL});
    resumed_equals_uninterrupted("seed-dropout, augmented",
                                 (const char *[]){"--model", "seed-dropout", "--rotation-range", "10", "--zoom-range",
                                                  "0.1", "--horizontal-flip", NULL});
    killed_then_resumed(0.4);
    killed_then_resumed(1.5);

    char *ck = path_in("r.ckpt"), *bad = path_in("bad.ckpt");
    const char *make[] = {"--epochs", "2", "--checkpoint", ck, NULL};
    char *err;
    CHECK(train(&err, make) == 0, "making a checkpoint: %s", err);
    free(err);
    refused("another seed", (const char *[]){"--epochs", "3", "--resume", ck, "--seed", "10", NULL}, "seed=9");
    refused("another learning rate", (const char *[]){"--epochs", "3", "--resume", ck, "--lr", "0.002", NULL}, "lr=");
    refused("another model", (const char *[]){"--epochs", "3", "--resume", ck, "--model", "seed-dropout", NULL},
            "model=");
    refused("augmentation", (const char *[]){"--epochs", "3", "--resume", ck, "--rotation-range", "5", NULL},
            "augmentation=");
    refused("fewer epochs than done", (const char *[]){"--epochs", "1", "--resume", ck, "--checkpoint", bad, NULL},
            "the checkpoint has 2 epochs, more than --epochs 1");
    size_t len;
    char *bytes = slurp(ck, &len);
    CHECK(bytes && len > 100, "checkpoint unreadable");
    bytes[len / 2] ^= 1;
    write_file(bad, bytes, len);
    refused("a flipped bit", (const char *[]){"--epochs", "3", "--resume", bad, NULL}, "CRC-32");
    write_file(bad, bytes, len / 3);
    refused("truncated", (const char *[]){"--epochs", "3", "--resume", bad, NULL}, "CRC-32");
    write_file(bad, "CLAUGWTS", 8);
    refused("not a checkpoint", (const char *[]){"--epochs", "3", "--resume", bad, NULL}, "not a claug checkpoint");
    unlink(bad);
    refused("missing", (const char *[]){"--epochs", "3", "--resume", bad, NULL}, "bad.ckpt");
    free(bytes);
    free(ck);
    free(bad);
    return check_done("checkpoint");
}
