#include "report_fixture.h"

#include <math.h>
#include <string.h>

#include "check.h"

/* loss, accuracy, val_loss, val_accuracy, train_seconds, val_seconds, images_per_second */
const epoch_metrics plain_epochs[5] = {
    {0.52, 0.81, 0.40, 0.855, 50.0, 2.5, 1200},
    {0.33, 0.88, 0.33, 0.88, 41.2, 2.1, 1456.3},
    {0.25, 0.91, NAN, 0.895, 41.0, 2.0, 1463.4}, /* a NaN breaks the validation loss curve */
    {0.18, 0.935, 0.27, 0.905, 41.4, 2.2, 1449.3},
    {0.12344, 0.9561, 0.26012, 0.914, 40.9, 2.0, 1467.0},
};
const epoch_metrics augmented_epochs[5] = {
    {0.61, 0.77, 0.45, 0.84, 45.0, 2.4, 1333.3},
    {0.41, 0.85, 0.36, 0.87, 42.0, 2.1, INFINITY},
    {0.30, 0.89, 0.30, 0.89, 42.1, 2.0, 1425.2},
    {0.23, 0.91, 0.27, 0.90, 41.9, 2.0, 1432.0},
    {0.18764, 0.9302, 0.24881, 0.912, 42.0, 2.1, 1428.6},
};
/* Quotes, a backslash, control characters, UTF-8 and one malformed byte (which must come back
 * as U+FFFD). */
const char fixture_command[] = "claug run --out \"runs/a b\" C:\\tmp\n\t\x01 caf\xc3\xa9 \xff";
const char fixture_command_decoded[] = "claug run --out \"runs/a b\" C:\\tmp\n\t\x01 caf\xc3\xa9 \xef\xbf\xbd";

void make_history(history *h, const char *name, const epoch_metrics *e, int n) {
    history_init(h, name, n, 60000, 32);
    for (int i = 0; i < n; i++) history_add(h, &e[i]);
}

void fixture_histories(history *plain, history *augmented) {
    make_history(plain, "plain", plain_epochs, 5);
    make_history(augmented, "augmented", augmented_epochs, 5);
}

void fixture_free(history *plain, history *augmented) {
    history_free(plain);
    history_free(augmented);
}

int fixture_run(const char *name, void (*test)(const history *plain, const history *augmented)) {
    history plain, augmented;
    fixture_histories(&plain, &augmented);
    test(&plain, &augmented);
    fixture_free(&plain, &augmented);
    return check_done(name);
}

report make_report(const history *plain, const history *augmented) {
    return (report){
        .command_line = fixture_command,
        .device = "Intel(R) Xeon | pthread-Intel [PoCL 5.0], 2 compute units",
        .device_name = "pthread-Intel(R) Xeon(R)",
        .device_vendor = "GenuineIntel",
        .device_type = "CPU",
        .driver = "5.0+debian",
        .platform = "Portable Computing Language",
        .opencl_c = "OpenCL C 1.2 PoCL",
        .compute_units = 2,
        .tuning = "convolution tuned (/c/tuning-1.txt); CLBlast default parameters (run `claug tune`)",
        .model = "conv32x3,relu,conv32x3,relu,maxpool2,conv32x3,relu,maxpool2,flatten,dense128,relu,dense10,softmax",
        .parameters = 122634,
        .epochs = 5,
        .batch_size = 32,
        .train_size = 60000,
        .test_size = 10000,
        .lr = 0.001,
        .seed = 18446744073709551557ULL, /* beyond 2^53: must be written exactly */
        .augmentation = "rotation_range=10",
        .version = "0.1.0",
        .commit = "abc123def456",
        .date = "2024-05-01T12:00:00Z",
        .plain = plain,
        .augmented = augmented,
        .samples_png = "samples.png",
        .augmented_png = "augmented.png",
    };
}

jv *parse_json(const char *text, const char *what) {
    char err[256];
    jv *root = jv_parse(text, err, sizeof err);
    CHECK(root != NULL, "%s is not valid JSON: %s", what, err);
    CHECK(!contains_ci(text, "nan") && !contains_ci(text, "inf"), "%s holds a NaN or infinity literal", what);
    return root;
}
