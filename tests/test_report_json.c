/* results.json from the synthetic histories, read back by a strict JSON reader: every value
 * exactly, non-finite values as null, a seed beyond 2^53 as written, a run that completed no
 * epoch and a missing run. */
/* ctest: labels=host timeout=60 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report_fixture.h"

static void check_json_string(const jv *root, const char *path, const char *want) {
    const jv *v = jv_path(root, path);
    CHECK(v && v->type == JV_STRING && strcmp(v->string, want) == 0, "%s: got '%s', want '%s'", path,
          v && v->type == JV_STRING ? v->string : "(not a string)", want);
}

/* Exact: the writer promises numbers that read back to the same double; non-finite -> null. */
static void check_json_number(const jv *root, const char *path, double want) {
    const jv *v = jv_path(root, path);
    if (!isfinite(want)) {
        CHECK(v && v->type == JV_NULL, "%s: want null for %g", path, want);
        return;
    }
    CHECK(v && v->type == JV_NUMBER && v->number == want, "%s: got %.17g, want %.17g", path,
          v && v->type == JV_NUMBER ? v->number : NAN, want);
}

/* check_json_number at "runs.<run>.<rest>". */
static void check_run_number(const jv *root, const char *run, const char *rest, double want) {
    char path[160];
    snprintf(path, sizeof path, "runs.%s.%s", run, rest);
    check_json_number(root, path, want);
}

/* `median`: the run's median seconds per epoch, worked out by hand. */
static void check_json_run(const jv *root, const char *run, const history *h, double median) {
    char path[160];
    snprintf(path, sizeof path, "runs.%s", run);
    const jv *v = jv_path(root, path);
    if (!h) {
        CHECK(v && v->type == JV_NULL, "%s should be null", path);
        return;
    }
    const jv *hist = jv_path(v, "history");
    CHECK(hist && hist->type == JV_ARRAY && hist->count == h->epochs, "%s.history: want %d entries", path, h->epochs);
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"loss", offsetof(epoch_metrics, loss)},
        {"accuracy", offsetof(epoch_metrics, accuracy)},
        {"val_loss", offsetof(epoch_metrics, val_loss)},
        {"val_accuracy", offsetof(epoch_metrics, val_accuracy)},
        {"train_seconds", offsetof(epoch_metrics, train_seconds)},
        {"val_seconds", offsetof(epoch_metrics, val_seconds)},
        {"images_per_second", offsetof(epoch_metrics, images_per_second)},
    };
    for (int i = 0; i < h->epochs; i++) {
        char rest[64];
        snprintf(rest, sizeof rest, "history.%d.epoch", i);
        check_run_number(root, run, rest, i + 1);
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            snprintf(rest, sizeof rest, "history.%d.%s", i, fields[f].name);
            check_run_number(root, run, rest, *(const double *)((const char *)&h->epoch[i] + fields[f].off));
        }
    }
    const epoch_metrics *last = &h->epoch[h->epochs - 1];
    check_run_number(root, run, "final.loss", last->loss);
    check_run_number(root, run, "final.accuracy", last->accuracy);
    check_run_number(root, run, "final.val_loss", last->val_loss);
    check_run_number(root, run, "final.val_accuracy", last->val_accuracy);
    check_run_number(root, run, "median_seconds_per_epoch", median);
    check_run_number(root, run, "images_per_second", h->train_images / median);
}

static void test_json(const history *plain, const history *augmented) {
    report r = make_report(plain, augmented);
    char *text = report_json(&r);
    jv *root = parse_json(text, "report_json");
    if (root) {
        check_json_string(root, "version", "0.1.0");
        check_json_string(root, "commit", "abc123def456");
        check_json_string(root, "date", "2024-05-01T12:00:00Z");
        check_json_string(root, "command", fixture_command_decoded);
        check_json_string(root, "config.model", r.model);
        check_json_number(root, "config.parameters", 122634);
        check_json_number(root, "config.epochs", 5);
        check_json_number(root, "config.batch_size", 32);
        check_json_number(root, "config.lr", 0.001);
        check_json_number(root, "config.train_size", 60000);
        check_json_number(root, "config.test_size", 10000);
        check_json_string(root, "config.augmentation", "rotation_range=10");
        check_json_string(root, "device.name", r.device_name);
        check_json_string(root, "device.vendor", "GenuineIntel");
        check_json_string(root, "device.type", "CPU");
        check_json_string(root, "device.driver", "5.0+debian");
        check_json_string(root, "device.platform", "Portable Computing Language");
        check_json_string(root, "device.opencl_c", "OpenCL C 1.2 PoCL");
        check_json_number(root, "device.compute_units", 2);
        check_json_string(root, "tuning", r.tuning);
        check_json_string(root, "device.description", r.device);
        check_json_run(root, "plain", plain, 41.2);        /* of 50, 41.2, 41.0, 41.4, 40.9 */
        check_json_run(root, "augmented", augmented, 42.0); /* of 45, 42.0, 42.1, 41.9, 42.0 */
    }
    /* A double cannot hold this seed, so the text is checked; 0.001 in its shortest form. */
    CHECK(strstr(text, "\"seed\": 18446744073709551557") != NULL, "seed not written exactly");
    CHECK(strstr(text, "\"lr\": 0.001,") != NULL, "lr not written in its shortest form");
    printf("report_json: %zu bytes, valid, values read back exactly\n", strlen(text));
    jv_free(root);
    free(text);
}

/* A run that completed no epoch: an empty history, no final metrics. */
static void test_json_empty_run(void) {
    history empty;
    history_init(&empty, "plain", 1, 60000, 32);
    report r = make_report(&empty, NULL);
    r.command_line = NULL;
    char *text = report_json(&r);
    jv *root = parse_json(text, "report_json (empty run)");
    if (root) {
        const jv *h = jv_path(root, "runs.plain.history"), *cmd = jv_path(root, "command");
        CHECK(h && h->type == JV_ARRAY && h->count == 0, "empty run: want an empty history array");
        CHECK(jv_path(root, "runs.plain.final") && jv_path(root, "runs.plain.final")->type == JV_NULL,
              "empty run: want final null");
        CHECK(cmd && cmd->type == JV_NULL, "NULL command: want null");
    }
    jv_free(root);
    free(text);
    history_free(&empty);
}

int main(void) {
    history plain, augmented;
    fixture_histories(&plain, &augmented);
    test_json(&plain, &augmented);
    test_json(&plain, NULL);
    test_json_empty_run();
    fixture_free(&plain, &augmented);
    return check_done("test_report_json");
}
