/* claug: subcommand dispatch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/cli/preview.h"
#include "claug/data/augment.h"
#include "claug/bench/bench.h"
#include "claug/report/plot_bench.h"
#include "claug/cli/cli.h"
#include "claug/runtime/clrt.h"
#include "claug/data/dataset.h"
#include "claug/cli/experiment.h"
#include "claug/cli/samples.h"
#include "claug/util/strbuf.h"
#include "claug/model/train.h"
#include "claug/model/checkpoint.h"
#include "claug/cli/study.h"
#include "claug/tune/search.h"
#include "claug/tune/tuned_net.h"
#include "claug/model/weights.h"
#include "claug/model/npz.h"
#include "claug/model/confusion.h"

static clrt *open_device(const claug_opts *o) {
    clrt *rt = clrt_open(o->device, o->kernel_dir);
    if (!o->quiet) {
        char desc[1024];
        clrt_describe(desc, sizeof desc, &rt->dev);
        printf("Device %s\n", desc);
    }
    return rt;
}

static int cmd_devices(const claug_opts *o) {
    clrt_devinfo *devs;
    int n = clrt_list(&devs);
    if (n == 0) {
        /* clrt_open says how to install a driver. */
        clrt_open(NULL, NULL);
        return EXIT_DEVICE;
    }
    if (o->device && clrt_match(devs, n, o->device) < 0) {
        fprintf(stderr, "claug: --device '%s' matches no OpenCL device. The devices are:\n", o->device);
        clrt_print_devices(stderr, devs, n);
        free(devs);
        return EXIT_USAGE;
    }
    clrt_print_devices(stdout, devs, n);
    int def = clrt_match(devs, n, o->device ? o->device : getenv("CLAUG_DEVICE"));
    if (def >= 0) printf("Selected: %d:%d %s\n", devs[def].platform_index, devs[def].device_index, devs[def].name);
    free(devs);
    return 0;
}

static int cmd_samples(const claug_opts *o) {
    dataset ds;
    dataset_load_or_die(&ds, o->data_dir ? o->data_dir : dataset_default_dir());
    clrt *rt = open_device(o);
    const char *path = o->output ? o->output : "samples.png";
    if (!samples_run(rt, &ds, o->count, path, o->quiet))
        die(EXIT_USAGE, "-o %s: cannot write the picture: %s", path, strerror(errno));
    clrt_close(rt);
    dataset_free(&ds);
    return 0;
}

static int cmd_augment(const claug_opts *o) {
    dataset ds;
    dataset_load_or_die(&ds, o->data_dir ? o->data_dir : dataset_default_dir());
    clrt *rt = open_device(o);
    augment_preview(rt, ds.train_images.data, ds.train_labels.data, (int)ds.train_images.count, ds.rows, ds.cols,
                    &o->aug, o->seed, o->index, o->count, o->output ? o->output : "augmented.png", o->dump_dir,
                    o->quiet);
    clrt_close(rt);
    dataset_free(&ds);
    return 0;
}

static void load_data(dataset *ds, const claug_opts *o) {
    dataset_load_or_die(ds, o->data_dir ? o->data_dir : dataset_default_dir());
}

/* --model, or the seed model. */
static const char *model_spec(const claug_opts *o) { return o->model ? o->model : "seed"; }

/* The data, and the training options that depend on it, checked before the device starts. */
static void load_training_data(dataset *ds, const claug_opts *o) {
    load_data(ds, o);
    if (o->train_size > (int)ds->train_images.count)
        die(EXIT_USAGE, "--train-size %d: the training set has %u images", o->train_size, ds->train_images.count);
    layer *L;
    int nl;
    char *canonical, err[512];
    if (!model_parse(model_spec(o), 1, ds->rows, ds->cols, NUM_CLASSES, &L, &nl, &canonical, err, sizeof err))
        die(EXIT_USAGE, "%s", err);
    free(L);
    free(canonical);
}

/* The model with the device's tuning (`claug tune`, or the defaults), announced unless quiet. */
static net *build_net(clrt *rt, const claug_opts *o, const char *model, int c, int h, int w, int classes, int batch) {
    tuning t;
    char desc[2600];
    net *n = open_tuned_net(rt, model, c, h, w, classes, batch, &t, desc, sizeof desc);
    if (!o->quiet) printf("Tuning: %s\n", desc);
    return n;
}

static void print_metrics(const epoch_metrics *m) {
    printf("loss: %.4f - accuracy: %.4f - val_loss: %.4f - val_accuracy: %.4f\n", m->loss, m->accuracy, m->val_loss,
           m->val_accuracy);
}

/* Loads checkpoint `path` into t's network and h, or exits EXIT_USAGE saying why not. */
static void resume_training(trainer *t, const train_config *c, history *h, const char *path) {
    char err[1024], *key = trainer_checkpoint_key(t, c);
    if (!checkpoint_load(t->n, h, key, path, err, sizeof err)) die(EXIT_USAGE, "--resume %s", err);
    free(key);
    if (h->epochs > c->epochs)
        die(EXIT_USAGE, "--resume %s: the checkpoint has %d epochs, more than --epochs %d", path, h->epochs, c->epochs);
    if (!c->quiet) printf("Resuming from %s after epoch %d of %d\n", path, h->epochs, c->epochs);
}

static int cmd_train(const claug_opts *o) {
    dataset ds;
    load_training_data(&ds, o);
    /* Refuse an unwritable --save or --csv now rather than after the training. */
    const char *outputs[3][2] = {{"--save", o->save}, {"--csv", o->csv}, {"--checkpoint", o->checkpoint}};
    for (int i = 0; i < 3; i++)
        if (outputs[i][1] && !can_create(outputs[i][1]))
            die(EXIT_USAGE, "%s %s: cannot create the file: %s", outputs[i][0], outputs[i][1], strerror(errno));
    clrt *rt = open_device(o);
    net *n = build_net(rt, o, model_spec(o), 1, ds.rows, ds.cols, NUM_CLASSES, o->batch_size);
    if (!o->quiet) net_summary(n, stdout);
    net_init_params(n, o->seed);
    trainer t;
    trainer_init(&t, rt, n, &ds, o->train_size, o->seed);
    train_config c = cli_train_config(o);
    c.checkpoint = o->checkpoint ? o->checkpoint : o->resume;
    bool augmented = aug_config_active(&o->aug);
    if (!o->quiet) {
        char *desc = aug_config_describe(&o->aug);
        printf("Training on %d images, validating on %u, augmentation: %s\n", t.nsubset, ds.test_images.count, desc);
        free(desc);
    }
    history h;
    history_init(&h, augmented ? "augmented" : "plain", o->epochs, t.nsubset, o->batch_size);
    if (o->resume) resume_training(&t, &c, &h, o->resume);
    trainer_fit(&t, &c, &h);
    if (o->quiet) print_metrics(&h.epoch[h.epochs - 1]);
    char err[1024];
    if (o->save && !weights_save(n, o->save, err, sizeof err)) die(EXIT_USAGE, "--save %s", err);
    if (o->csv && !history_write_csv(&h, o->csv)) die(EXIT_USAGE, "--csv %s: %s", o->csv, strerror(errno));
    if (!o->quiet) {
        double s = history_median_epoch_seconds(&h);
        printf("Median epoch %.2f s, %.0f images/s%s%s\n", s, t.nsubset / s, o->save ? "; weights saved to " : "",
               o->save ? o->save : "");
    }
    history_free(&h);
    trainer_release(&t);
    net_free(n);
    clrt_close(rt);
    dataset_free(&ds);
    return 0;
}

static int cmd_eval(const claug_opts *o) {
    weights_file f;
    char err[1024];
    if (!weights_read(&f, o->weights, err, sizeof err)) die(EXIT_USAGE, "--weights %s", err);
    dataset ds;
    load_data(&ds, o);
    if (f.c != 1 || f.h != ds.rows || f.w != ds.cols || f.classes != NUM_CLASSES)
        die(EXIT_USAGE, "--weights %s: made for %dx%dx%d inputs and %d classes, the data has 1x%dx%d and %d",
            o->weights, f.c, f.h, f.w, f.classes, ds.rows, ds.cols, NUM_CLASSES);
    clrt *rt = open_device(o);
    net *n = build_net(rt, o, f.model, f.c, f.h, f.w, f.classes, o->batch_size);
    if (!weights_apply(n, &f, o->weights, err, sizeof err)) die(EXIT_USAGE, "--weights %s", err);
    if (!o->quiet) printf("Weights %s, model \"%s\"\n", o->weights, n->spec);
    trainer t;
    trainer_init(&t, rt, n, &ds, 0, o->seed);
    int count = (int)ds.test_images.count, confusion[NUM_CLASSES * NUM_CLASSES];
    double loss, acc, t0 = now_seconds();
    trainer_evaluate(&t, o->batch_size, &loss, &acc);
    trainer_confusion(&t, confusion);
    int steps = (count + o->batch_size - 1) / o->batch_size;
    printf("%d/%d - %.1fs - loss: %.4f - accuracy: %.4f\n\n", steps, steps, now_seconds() - t0, loss, acc);
    confusion_print(stdout, confusion, NUM_CLASSES, class_names);
    trainer_release(&t);
    net_free(n);
    clrt_close(rt);
    dataset_free(&ds);
    weights_free(&f);
    return 0;
}

/* Weights in Keras' names and layouts; no device, no data. */
static int cmd_export(const claug_opts *o) {
    weights_file f;
    char err[1024];
    if (!weights_read(&f, o->weights, err, sizeof err)) die(EXIT_USAGE, "--weights %s", err);
    if (!npz_save(&f, o->weights, o->output, err, sizeof err)) die(EXIT_USAGE, "%s", err);
    if (!o->quiet)
        printf("Wrote %s: the %d tensors of model \"%s\" in Keras' names and layouts, and 'model' and 'input_shape'\n",
               o->output, f.ntensors, f.model);
    weights_free(&f);
    return 0;
}

/* The command line as typed, shell-quoted where needed, with the seed made explicit and without
 * --out (a repetition goes into a run directory of its own). */
static char *command_line(int argc, char **argv, const claug_opts *o) {
    strbuf b = {0};
    sb_append(&b, "claug");
    bool seeded = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--out") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--out=", 6) == 0) continue;
        seeded |= strncmp(a, "--seed", 6) == 0;
        bool plain = *a != 0;
        for (const char *p = a; *p; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=+", *p)) plain = false;
        if (plain) {
            sb_printf(&b, " %s", a);
        } else {
            sb_append(&b, " '");
            for (const char *p = a; *p; p++) sb_append(&b, *p == '\'' ? "'\\''" : (char[]){*p, 0});
            sb_append(&b, "'");
        }
    }
    if (!seeded) sb_printf(&b, " --seed %llu", (unsigned long long)o->seed);
    return sb_take(&b);
}

static int cmd_run(int argc, char **argv, const claug_opts *o) {
    dataset ds;
    load_training_data(&ds, o);
    clrt *rt = open_device(o);
    char *cmd = command_line(argc, argv, o);
    experiment_config c = {
        .train = cli_train_config(o),
        .model = model_spec(o),
        .out = o->out,
        .plain = !o->augment_only,
        .augmented = !o->plain_only,
        .command = cmd,
    };
    int rc = experiment_run(rt, &ds, &c);
    free(cmd);
    clrt_close(rt);
    dataset_free(&ds);
    return rc;
}

/* --svg: the roofline of one result, or the results side by side; drawn before anything is
 * printed, so that a file it cannot draw stops the command at once. */
static char *bench_svg(const char *path, const bench_file *f, int n) {
    char err[512];
    char *svg = plot_bench_svg(f, n, err, sizeof err);
    if (!svg) die(EXIT_USAGE, "--svg %s: %s", path, err);
    return svg;
}

static void write_svg(const char *path, char *svg) {
    if (!write_file(path, svg, strlen(svg))) die(EXIT_USAGE, "--svg %s: cannot write: %s", path, strerror(errno));
    free(svg);
}

static int cmd_bench(const claug_opts *o) {
    if (o->svg && !can_create(o->svg)) die(EXIT_USAGE, "--svg %s: cannot create the file: %s", o->svg, strerror(errno));
    if (o->compare) {
        bench_file *f = bench_files_load(o->files, o->nfiles);
        char *svg = o->svg ? bench_svg(o->svg, f, o->nfiles) : NULL;
        bench_compare(f, o->nfiles);
        if (svg) write_svg(o->svg, svg);
        bench_files_free(f, o->nfiles);
        return 0;
    }
    if (o->json && !can_create(o->json)) die(EXIT_USAGE, "--json %s: cannot create the file: %s", o->json, strerror(errno));
    clrt *rt = open_device(o);
    bench_config c = {.batch_size = o->batch_size, .repeats = o->repeats, .json_path = o->json, .seed = o->seed};
    char *json = bench_run(rt, &c);
    clrt_close(rt);
    if (o->svg) {
        bench_file f;
        bench_file_parse(&f, "the results", json, strlen(json));
        write_svg(o->svg, bench_svg(o->svg, &f, 1));
        json_value_free(f.doc);
    }
    free(json);
    return 0;
}

static int cmd_tune(const claug_opts *o) {
    clrt *rt = open_device(o);
    tune_config c = {.batch_size = o->batch_size, .rounds = o->quick ? 3 : 15, .quiet = o->quiet, .seed = o->seed};
    tuning t;
    char *saved;
    tune_run(rt, &c, o->quick, &t, &saved);
    free(saved);
    clrt_close(rt);
    return 0;
}

int main(int argc, char **argv) {
    claug_opts o;
    cli_parse(argc, argv, &o);
    switch (o.cmd) {
    case CMD_DEVICES: return cmd_devices(&o);
    case CMD_SAMPLES: return cmd_samples(&o);
    case CMD_AUGMENT: return cmd_augment(&o);
    case CMD_TRAIN: return cmd_train(&o);
    case CMD_EVAL: return cmd_eval(&o);
    case CMD_RUN: return cmd_run(argc, argv, &o);
    case CMD_BENCH: {
        int rc = cmd_bench(&o);
        free(o.files);
        return rc;
    }
    case CMD_TUNE: return cmd_tune(&o);
    case CMD_EXPORT: return cmd_export(&o);
    case CMD_STUDY: return study_main(&o);
    default: return EXIT_USAGE;
    }
}
