#define _POSIX_C_SOURCE 200809L
#include "claug/cli/preview.h"
#include "claug/cli/experiment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "claug/model/confusion.h"
#include "claug/report/report.h"
#include "claug/cli/samples.h"
#include "claug/tune/tuned_net.h"

char *experiment_out_dir(const char *out) {
    if (out) {
        char *results = xasprintf("%s/results.json", out);
        bool taken = access(results, F_OK) == 0;
        free(results);
        if (taken) die(EXIT_USAGE, "--out %s already holds a run (results.json); choose another directory", out);
        if (!make_dirs(out)) die(EXIT_USAGE, "--out %s: cannot create the directory: %s", out, strerror(errno));
        return xstrdup(out);
    }
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    if (!make_dirs("runs")) die(EXIT_USAGE, "cannot create the directory runs/: %s", strerror(errno));
    for (int i = 1;; i++) {
        char *dir = i == 1 ? xasprintf("runs/%s", stamp) : xasprintf("runs/%s-%d", stamp, i);
        /* mkdir fails on an existing directory: a run never lands in another's. */
        if (mkdir(dir, 0777) == 0) return dir;
        if (errno != EEXIST) die(EXIT_USAGE, "cannot create %s: %s", dir, strerror(errno));
        free(dir);
    }
}

static void train_one(trainer *t, net *n, const train_config *c, history *h, const char *title) {
    if (!c->quiet) printf("\n%s\n", title);
    /* Both runs start from the same weights and a fresh optimizer. */
    net_init_params(n, c->seed);
    history_init(h, h->name, c->epochs, t->nsubset, c->batch_size);
    trainer_fit(t, c, h);
}

int experiment_run(clrt *rt, const dataset *ds, const experiment_config *c) {
    char *dir = experiment_out_dir(c->out);
    bool quiet = c->train.quiet;
    char *samples = xasprintf("%s/samples.png", dir), *augmented_png = xasprintf("%s/augmented.png", dir);
    if (!samples_run(rt, ds, 5, samples, quiet))
        die(EXIT_USAGE, "--out %s: cannot write %s: %s", dir, samples, strerror(errno));

    tuning tu;
    char tuned[2600], details[1024];
    net *n = open_tuned_net(rt, c->model, 1, ds->rows, ds->cols, NUM_CLASSES, c->train.batch_size, &tu, tuned,
                            sizeof tuned);
    tuning_describe(details, sizeof details, &tu);
    char *tuning_line = xasprintf("%s. %s", tuned, details);
    if (!quiet) printf("Tuning: %s\n", tuned);
    if (!quiet) net_summary(n, stdout);
    trainer t;
    trainer_init(&t, rt, n, ds, c->train.train_size, c->train.seed);
    char *aug = aug_config_describe(&c->train.aug);
    if (!quiet)
        printf("Training on %d images, validating on %u; augmentation: %s\n", t.nsubset, ds->test_images.count, aug);

    history plain = {.name = "plain"}, augmented = {.name = "augmented"};
    /* (NUM_CLASSES, NUM_CLASSES) each: the last validation's, from the predictions it left */
    int plain_confusion[NUM_CLASSES * NUM_CLASSES], augmented_confusion[NUM_CLASSES * NUM_CLASSES];
    if (c->plain) {
        train_config pc = c->train;
        aug_config_default(&pc.aug);
        train_one(&t, n, &pc, &plain, "Without augmentation");
        trainer_confusion(&t, plain_confusion);
    }
    if (c->augmented) {
        train_one(&t, n, &c->train, &augmented, "With augmentation");
        trainer_confusion(&t, augmented_confusion);
        augment_preview(rt, ds->train_images.data, ds->train_labels.data, (int)ds->train_images.count, ds->rows,
                        ds->cols, &c->train.aug, c->train.seed, 0, 5, augmented_png, NULL, true);
    }

    char desc[1024], date[32];
    clrt_describe(desc, sizeof desc, &rt->dev);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    report r = {
        .command_line = c->command,
        .device = desc,
        .device_name = rt->dev.name,
        .device_vendor = rt->dev.vendor,
        .device_type = clrt_type_name(rt->dev.type),
        .driver = rt->dev.driver,
        .platform = rt->dev.platform_name,
        .opencl_c = rt->dev.c_version,
        .compute_units = rt->dev.compute_units,
        .tuning = tuning_line,
        .model = n->spec,
        .parameters = n->param_count,
        .epochs = c->train.epochs,
        .batch_size = c->train.batch_size,
        .train_size = t.nsubset,
        .test_size = (int)ds->test_images.count,
        .lr = c->train.lr,
        .seed = c->train.seed,
        .augmentation = aug,
        .version = CLAUG_VERSION,
        .commit = CLAUG_GIT_COMMIT,
        .date = date,
        .plain = c->plain ? &plain : NULL,
        .augmented = c->augmented ? &augmented : NULL,
        .samples_png = "samples.png",
        .augmented_png = c->augmented ? "augmented.png" : NULL,
        .plain_confusion = c->plain ? plain_confusion : NULL,
        .augmented_confusion = c->augmented ? augmented_confusion : NULL,
    };
    char err[1024];
    if (!report_write(&r, dir, err, sizeof err)) die(EXIT_USAGE, "%s", err);
    printf("\n");
    report_print_table(&r, stdout);
    printf("\nReport: %s/report.md (results.json, history CSVs, curves.svg, confusion.svg, samples.png%s)\n", dir,
           c->augmented ? ", augmented.png" : "");

    history_free(&plain);
    history_free(&augmented);
    free(aug);
    free(tuning_line);
    trainer_release(&t);
    net_free(n);
    free(samples);
    free(augmented_png);
    free(dir);
    return 0;
}
