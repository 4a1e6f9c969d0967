#include "claug/cli/cli.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/data/augment.h"
#include "claug/util/util.h"

typedef struct {
    const char *name, *args, *summary;
} cmd_def;

static const cmd_def commands[CMD_COUNT] = {
    [CMD_DEVICES] = {"devices", "", "list OpenCL platforms and devices, with the P:D index for --device"},
    [CMD_SAMPLES] = {"samples", "[-n 5] [-o samples.png]",
                     "print the first training and test labels and draw the first training images"},
    [CMD_AUGMENT] = {"augment", "[-i INDEX] [-n 5] [-o augmented.png] [--dump DIR] [augmentation options]",
                     "draw a training image and its augmentations of epochs 1..n, made by the device kernel"},
    [CMD_TRAIN] = {"train", "[--epochs 10] [--model seed] [--save FILE] [augmentation options]",
                   "train one model on the device (augmented when any augmentation option is given)"},
    [CMD_EVAL] = {"eval", "--weights FILE",
                  "evaluate saved weights (or an .npz from export) on the test set: accuracy per class, confusion matrix"},
    [CMD_EXPORT] = {"export", "--weights FILE -o MODEL.npz",
                    "write saved weights as a NumPy .npz under Keras' layer names and in Keras' layouts, for "
                    "`layer.set_weights` (README)"},
    [CMD_RUN] = {"run", "[--epochs 10] [--out DIR] [augmentation options]",
                 "the experiment: train without and with augmentation (default --rotation-range 10) from the same "
                 "initial weights, compare, and write a report"},
    [CMD_BENCH] = {"bench", "[--batch-size 32] [--repeats 10] [--json FILE] [--svg FILE] | --compare A.json B.json ... [--svg FILE]",
                   "benchmark the device: FP32 peak, memory and cache bandwidth, each layer forward and backward "
                   "on the roofline, SGEMM, "
                   "augmentation, training step, kernel builds; or compare saved results"},
    [CMD_STUDY] = {"study",
                   "[--sizes 1000,5000,60000] [--seeds 4] [--steps 3750] [--out study] [augmentation options] "
                   "[--list | --shard I/N | --shard slurm | --collect DIR]",
                   "answer the tutorial's question with statistics: train training-set sizes x {plain, augmented} x "
                   "seeds (paired: both arms of a seed share initial weights, subset and order), one file per cell, "
                   "resumable, shardable; summarise with confidence intervals and paired t-tests"},
    [CMD_TUNE] = {"tune", "[--batch-size 32] [--quick]",
                  "search the convolution kernels' tiles and work-group sizes and CLBlast's GEMM parameters on the "
                  "device, check each against the reference, and store the fastest for training and bench"},
};

#define ALL_CMDS ((1u << CMD_COUNT) - 1)
#define CMD(c) (1u << (c))
/* The commands that take the augmentation options. */
#define AUG_CMDS (CMD(CMD_AUGMENT) | CMD(CMD_TRAIN) | CMD(CMD_RUN) | CMD(CMD_STUDY))
/* The commands that train. */
#define TRAIN_CMDS (CMD(CMD_TRAIN) | CMD(CMD_RUN) | CMD(CMD_STUDY))

typedef enum {
    K_FLAG,  /* bool */
    K_IFLAG, /* int set to 1 (fields shared with OpenCL, which has no bool arguments) */
    K_INT,
    K_SEED,
    K_STR,
    K_FLOAT, /* finite float */
    K_DOUBLE, /* finite double */
    K_PAIR,  /* "LO,HI": the float at offset and the one that follows it */
    K_ZOOM   /* K_PAIR, or "Z" for 1-Z,1+Z (Keras' zoom_range) */
} opt_kind;

typedef struct {
    const char *lname;
    char sname;
    opt_kind kind;
    size_t offset;
    unsigned cmds;
    const char *metavar, *help;
    long lo, hi; /* K_INT bounds */
} opt_def;

#define OFF(f) offsetof(claug_opts, f)
static const opt_def options[] = {
    {"device", 'd', K_STR, OFF(device), ALL_CMDS & ~CMD(CMD_EXPORT), "SPEC",
     "OpenCL device: P:D from `claug devices`, cpu, gpu, or part of the device, platform or vendor name "
     "(default: $CLAUG_DEVICE, else the first GPU, else the first device)", 0, 0},
    {"data", 0, K_STR, OFF(data_dir), ALL_CMDS & ~CMD(CMD_DEVICES) & ~CMD(CMD_BENCH) & ~CMD(CMD_TUNE) & ~CMD(CMD_EXPORT), "DIR",
     "Fashion-MNIST directory (default: $CLAUG_DATA, else /usr/share/datasets/fashion-mnist)", 0, 0},
    {"kernels", 0, K_STR, OFF(kernel_dir), ALL_CMDS & ~CMD(CMD_DEVICES) & ~CMD(CMD_EXPORT), "DIR",
     "load the OpenCL sources from DIR instead of those built in (default: $CLAUG_KERNELS)", 0, 0},
    {"seed", 0, K_SEED, OFF(seed), ALL_CMDS & ~CMD(CMD_DEVICES) & ~CMD(CMD_EXPORT), "N",
     "seed of every random draw: initialisation, shuffling, dropout, augmentation (default 42)", 0, 0},
    {"quiet", 'q', K_FLAG, OFF(quiet), ALL_CMDS, NULL, "print only results and errors", 0, 0},
    {NULL, 'n', K_INT, OFF(count), CMD(CMD_SAMPLES) | CMD(CMD_AUGMENT), "N", "how many images (default 5)", 1, 100},
    {"output", 'o', K_STR, OFF(output), CMD(CMD_SAMPLES) | CMD(CMD_AUGMENT) | CMD(CMD_EXPORT), "FILE",
     "the file to write: samples' and augment's PNG (default samples.png, augmented.png), export's .npz", 0, 0},
    {"index", 'i', K_INT, OFF(index), CMD(CMD_AUGMENT), "INDEX", "training image to augment (default 0)", 0, INT_MAX},
    {"dump", 0, K_STR, OFF(dump_dir), CMD(CMD_AUGMENT), "DIR",
     "also write to DIR each augmentation's parameters (aug-K.json) and pixels (aug-K.f32, original.f32: "
     "float32 little-endian)", 0, 0},
    {"epochs", 0, K_INT, OFF(epochs), TRAIN_CMDS, "N",
     "epochs to train (default 10; study: the same N at every size instead of the --steps rule)", 1, 100000},
    {"batch-size", 0, K_INT, OFF(batch_size), TRAIN_CMDS | CMD(CMD_EVAL) | CMD(CMD_BENCH) | CMD(CMD_TUNE), "N",
     "images per step (default 32)", 1, 8192},
    {"lr", 0, K_DOUBLE, OFF(lr), TRAIN_CMDS, "X", "Adam's learning rate (default 0.001)", 0, 0},
    {"train-size", 0, K_INT, OFF(train_size), TRAIN_CMDS & ~CMD(CMD_STUDY), "N",
     "train on a class-balanced subset of N images chosen by the seed (default: all)", 1, 10000000},
    {"model", 0, K_STR, OFF(model), TRAIN_CMDS, "SPEC",
     "seed, seed-dropout, or a layer string like \"conv32x3,relu,maxpool2,flatten,dense10,softmax\" (default seed)",
     0, 0},
    {"save", 0, K_STR, OFF(save), CMD(CMD_TRAIN), "FILE", "write the trained weights to FILE", 0, 0},
    {"csv", 0, K_STR, OFF(csv), CMD(CMD_TRAIN), "FILE",
     "write the history (Keras CSVLogger columns: epoch,accuracy,loss,val_accuracy,val_loss) to FILE", 0, 0},
    {"checkpoint", 0, K_STR, OFF(checkpoint), CMD(CMD_TRAIN), "FILE",
     "write the training state (weights, Adam's moments and step, epochs done) to FILE at each epoch's end", 0, 0},
    {"resume", 0, K_STR, OFF(resume), CMD(CMD_TRAIN), "FILE",
     "continue the training of checkpoint FILE (same options) up to --epochs, bit-identical to an uninterrupted "
     "one; keeps checkpointing into FILE unless --checkpoint says otherwise", 0, 0},
    {"profile", 0, K_FLAG, OFF(profile), TRAIN_CMDS & ~CMD(CMD_STUDY), NULL,
     "after each epoch, print the device time per layer from OpenCL profiling events", 0, 0},
    {"weights", 0, K_STR, OFF(weights), CMD(CMD_EVAL) | CMD(CMD_EXPORT), "FILE",
     "weights written by `claug train --save`, or an .npz written by `claug export` (or by NumPy, same arrays)", 0, 0},
    {"out", 0, K_STR, OFF(out), CMD(CMD_RUN) | CMD(CMD_STUDY), "DIR",
     "where the report goes (run: default runs/<date-time>/, never an existing run's directory; study: default "
     "study/, where the same command resumes)", 0, 0},
    {"sizes", 0, K_STR, OFF(sizes), CMD(CMD_STUDY), "LIST",
     "training-set sizes, comma-separated, each a class-balanced subset (default 1000,5000,60000)", 0, 0},
    {"seeds", 0, K_INT, OFF(seeds), CMD(CMD_STUDY), "N",
     "seeds per size and arm: --seed, --seed + 1, ... (default 4)", 1, 1000},
    {"steps", 0, K_INT, OFF(steps), CMD(CMD_STUDY), "S",
     "optimizer steps per cell: epochs = ceil(S x batch size / size), at most --max-epochs (default 3750: two "
     "epochs of the full set)", 1, 100000000},
    {"max-epochs", 0, K_INT, OFF(max_epochs), CMD(CMD_STUDY), "N", "the cap of the --steps rule (default 30)", 1,
     100000},
    {"list", 0, K_FLAG, OFF(list), CMD(CMD_STUDY), NULL, "print the cells (index, size, arm, seed, epochs) and exit",
     0, 0},
    {"shard", 0, K_STR, OFF(shard), CMD(CMD_STUDY), "I/N|slurm",
     "run only the cells whose index is I mod N (slurm: I and N from SLURM_ARRAY_TASK_ID and "
     "SLURM_ARRAY_TASK_COUNT); the summary is left to --collect", 0, 0},
    {"collect", 0, K_STR, OFF(collect), CMD(CMD_STUDY), "DIR",
     "write DIR's summary from the cells present, naming the missing ones (no training)", 0, 0},
    {"augment-only", 0, K_FLAG, OFF(augment_only), CMD(CMD_RUN), NULL, "only the run with augmentation", 0, 0},
    {"plain-only", 0, K_FLAG, OFF(plain_only), CMD(CMD_RUN), NULL, "only the run without augmentation", 0, 0},
    {"json", 0, K_STR, OFF(json), CMD(CMD_BENCH), "FILE", "also write the results to FILE as JSON", 0, 0},
    {"svg", 0, K_STR, OFF(svg), CMD(CMD_BENCH), "FILE",
     "also draw the results to FILE (SVG): the roofline; with --compare, the items of the devices side by side "
     "(the roofline of one file)", 0, 0},
    {"repeats", 0, K_INT, OFF(repeats), CMD(CMD_BENCH), "N",
     "timed runs of each item after the warm-up at least, more (up to 5 N) until their spread is small; the median, "
     "spread and standard deviation are reported (default 10)", 1, 10000},
    {"compare", 0, K_FLAG, OFF(compare), CMD(CMD_BENCH), NULL,
     "compare the JSON files given as arguments (from `claug bench --json`) in one table", 0, 0},
    {"quick", 0, K_FLAG, OFF(quick), CMD(CMD_TUNE), NULL,
     "a tiny candidate list and few runs: checks the machinery, tunes little", 0, 0},
    /* ImageDataGenerator's arguments, under Keras' names. */
    {"rotation-range", 0, K_FLOAT, OFF(aug.rotation_range), AUG_CMDS, "D", "rotate by U(-D, D) degrees (default 0; `run` and `augment` use 10 when given no augmentation option)", 0, 0},
    {"width-shift-range", 0, K_FLOAT, OFF(aug.width_shift_range), AUG_CMDS, "F",
     "shift columns by U(-F, F) times the width if F < 1, else pixels (default 0)", 0, 0},
    {"height-shift-range", 0, K_FLOAT, OFF(aug.height_shift_range), AUG_CMDS, "F",
     "shift rows by U(-F, F) times the height if F < 1, else pixels (default 0)", 0, 0},
    {"shear-range", 0, K_FLOAT, OFF(aug.shear_range), AUG_CMDS, "D", "shear by U(-D, D) degrees (default 0)", 0, 0},
    {"zoom-range", 0, K_ZOOM, OFF(aug.zoom_lo), AUG_CMDS, "Z|LO,HI",
     "zoom rows and columns each by U(LO, HI); Z means 1-Z,1+Z (default 1,1: off)", 0, 0},
    {"horizontal-flip", 0, K_IFLAG, OFF(aug.horizontal_flip), AUG_CMDS, NULL, "flip columns with probability 0.5", 0, 0},
    {"vertical-flip", 0, K_IFLAG, OFF(aug.vertical_flip), AUG_CMDS, NULL, "flip rows with probability 0.5", 0, 0},
    {"brightness-range", 0, K_PAIR, OFF(aug.brightness_lo), AUG_CMDS, "LO,HI",
     "multiply by U(LO, HI), clipped to [0, 1] (default off)", 0, 0},
    {"fill-mode", 0, K_STR, OFF(fill_mode), AUG_CMDS, "MODE",
     "outside the image: nearest (default), constant, reflect or wrap", 0, 0},
    {"cval", 0, K_FLOAT, OFF(aug.cval), AUG_CMDS, "V", "the fill of --fill-mode constant, in [0, 1] (default 0)", 0, 0},
    {"interpolation", 0, K_STR, OFF(interpolation), AUG_CMDS, "MODE",
     "resampling of the affine transform: bilinear (default; Keras' interpolation_order=1) or nearest (0)", 0, 0},
    {"channel-shift-range", 0, K_FLOAT, OFF(aug.channel_shift_range), AUG_CMDS, "R",
     "add U(-R, R) to the image, clipped to its own minimum and maximum, in [0, 1] pixel units (default 0)", 0, 0},
    {"samplewise-center", 0, K_IFLAG, OFF(aug.samplewise_center), AUG_CMDS, NULL, "subtract each image's mean", 0, 0},
    {"samplewise-std-normalization", 0, K_IFLAG, OFF(aug.samplewise_std_normalization), AUG_CMDS, NULL,
     "divide each image by its standard deviation + 1e-6 (implies --samplewise-center)", 0, 0},
    {"featurewise-center", 0, K_IFLAG, OFF(aug.featurewise_center), AUG_CMDS, NULL,
     "subtract the training set's mean (datagen.fit), from training and test images", 0, 0},
    {"featurewise-std-normalization", 0, K_IFLAG, OFF(aug.featurewise_std_normalization), AUG_CMDS, NULL,
     "divide by the training set's standard deviation + 1e-6 (implies --featurewise-center)", 0, 0},
    {"zca-whitening", 0, K_IFLAG, OFF(aug.zca_whitening), AUG_CMDS, NULL,
     "ZCA-whiten with the training set's matrix (implies --featurewise-center, drops "
     "--featurewise-std-normalization, as in Keras)", 0, 0},
    {"zca-epsilon", 0, K_FLOAT, OFF(aug.zca_epsilon), AUG_CMDS, "E", "ZCA's epsilon (default 1e-6)", 0, 0},
};
#define NOPTS (sizeof options / sizeof options[0])
_Static_assert(offsetof(aug_config, zoom_hi) == offsetof(aug_config, zoom_lo) + sizeof(float), "K_ZOOM: HI follows LO");
_Static_assert(offsetof(aug_config, brightness_hi) == offsetof(aug_config, brightness_lo) + sizeof(float),
               "K_PAIR: HI follows LO");

static void print_option(FILE *f, const opt_def *d) {
    char left[64];
    if (d->lname && d->sname)
        snprintf(left, sizeof left, "-%c, --%s%s%s", d->sname, d->lname, d->metavar ? " " : "", d->metavar ? d->metavar : "");
    else if (d->lname)
        snprintf(left, sizeof left, "    --%s%s%s", d->lname, d->metavar ? " " : "", d->metavar ? d->metavar : "");
    else
        snprintf(left, sizeof left, "-%c%s%s", d->sname, d->metavar ? " " : "", d->metavar ? d->metavar : "");
    fprintf(f, "  %-26s %s\n", left, d->help);
}

static void usage(FILE *f, claug_cmd cmd) {
    if (cmd == CMD_NONE) {
        fprintf(f, "claug %s: train a CNN on Fashion-MNIST without and with data augmentation, on any OpenCL device\n\n"
                   "usage: claug [-d SPEC] COMMAND [options]\n\ncommands:\n", CLAUG_VERSION);
        for (int c = 0; c < CMD_COUNT; c++) fprintf(f, "  %-10s %s\n", commands[c].name, commands[c].summary);
        fprintf(f, "\n`claug COMMAND --help` lists a command's options. Exit codes: 0 success, 2 bad usage or input,\n"
                   "3 OpenCL or device failure, 4 out of host memory.\n");
        return;
    }
    fprintf(f, "usage: claug %s %s\n%s\n\noptions:\n", commands[cmd].name, commands[cmd].args, commands[cmd].summary);
    for (size_t i = 0; i < NOPTS; i++)
        if (options[i].cmds & CMD(cmd)) print_option(f, &options[i]);
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

/* Where a parse stands: the options so far and, once something is wrong, the message. */
typedef struct {
    claug_opts *o;
    char *err;
    size_t errlen;
    cli_status status; /* when the parse stops early without an error */
} parser;

static CLAUG_PRINTF(2, 3) bool bad(parser *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    return false;
}

static const opt_def *find_option(const char *arg, const char **inline_value) {
    *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (size_t i = 0; i < NOPTS; i++)
            if (options[i].lname && strlen(options[i].lname) == len && strncmp(options[i].lname, name, len) == 0) {
                if (eq) *inline_value = eq + 1;
                return &options[i];
            }
        return NULL;
    }
    for (size_t i = 0; i < NOPTS; i++)
        if (options[i].sname && options[i].sname == arg[1]) {
            if (arg[2]) *inline_value = arg + 2;
            return &options[i];
        }
    return NULL;
}

static bool takes_value(const opt_def *d) { return d->kind != K_FLAG && d->kind != K_IFLAG; }

/* A finite float at *s, which moves past it; false if there is none. */
static bool parse_float(const char **s, float *out) {
    double x;
    const char *end = parse_double_prefix(*s, &x);
    if (!end || fabs(x) > 3e38) return false;
    *out = (float)x;
    *s = end;
    return true;
}

/* "LO,HI", or with `single` also "Z" for 1-Z,1+Z. */
static bool parse_pair(const char *v, bool single, float *lo, float *hi) {
    float a, b;
    if (!parse_float(&v, &a)) return false;
    if (!*v && single) {
        *lo = 1.0f - a;
        *hi = 1.0f + a;
        return true;
    }
    if (*v++ != ',' || !parse_float(&v, &b) || *v) return false;
    *lo = a;
    *hi = b;
    return true;
}

static bool set_value(parser *p, const opt_def *d, const char *flag, const char *v) {
    void *dst = (char *)p->o + d->offset;
    switch (d->kind) {
    case K_FLAG: *(bool *)dst = true; return true;
    case K_IFLAG: *(int *)dst = 1; return true;
    case K_FLOAT: {
        const char *s = v;
        if (!parse_float(&s, dst) || *s) return bad(p, "%s expects a number, got '%s'", flag, v);
        return true;
    }
    case K_DOUBLE:
        if (!parse_double(v, dst)) return bad(p, "%s expects a number, got '%s'", flag, v);
        return true;
    case K_PAIR:
    case K_ZOOM:
        if (!parse_pair(v, d->kind == K_ZOOM, dst, (float *)((char *)dst + sizeof(float))))
            return bad(p, "%s expects %s, got '%s'", flag, d->kind == K_ZOOM ? "Z or LO,HI" : "LO,HI (two numbers)", v);
        return true;
    case K_STR:
        if (!*v) return bad(p, "%s needs a value", flag);
        *(const char **)dst = v;
        return true;
    case K_INT:
        if (!parse_int(v, (int)d->lo, (int)d->hi, dst))
            return bad(p, "%s expects a whole number from %ld to %ld, got '%s'", flag, d->lo, d->hi, v);
        return true;
    case K_SEED:
        if (!parse_u64(v, dst)) return bad(p, "%s expects a whole number from 0 to 18446744073709551615, got '%s'", flag, v);
        return true;
    }
    return true;
}

static bool check_augmentation(parser *p, bool aug_given) {
    claug_opts *o = p->o;
    if (o->fill_mode && (o->aug.fill_mode = aug_fill_mode_parse(o->fill_mode)) < 0)
        return bad(p, "--fill-mode '%s': expected nearest, constant, reflect or wrap", o->fill_mode);
    if (o->interpolation && (o->aug.interpolation_order = aug_interpolation_parse(o->interpolation)) < 0)
        return bad(p, "--interpolation '%s': expected nearest or bilinear", o->interpolation);
    aug_config_imply(&o->aug);
    char err[256];
    if (!aug_config_check(&o->aug, err, sizeof err)) return bad(p, "%s", err);
    /* The tutorial's augmentation, when the experiment or its picture is given no option (an
     * explicit `--rotation-range 0` is kept: it asks for none). */
    if ((o->cmd == CMD_RUN || o->cmd == CMD_AUGMENT || o->cmd == CMD_STUDY) && !aug_given) o->aug.rotation_range = 10;
    return true;
}

static bool check_training(parser *p) {
    claug_opts *o = p->o;
    /* Outside this range Adam's float steps either vanish against the weights (below) or throw
     * them far outside any useful scale at once (above): training does nothing or diverges. */
    if (!(o->lr >= LR_MIN && o->lr <= LR_MAX))
        return bad(p, "--lr expects a learning rate from %g to %g, got %g", LR_MIN, LR_MAX, o->lr);
    if (o->augment_only && o->plain_only) return bad(p, "--augment-only and --plain-only exclude each other");
    if ((o->cmd == CMD_EVAL || o->cmd == CMD_EXPORT) && !o->weights)
        return bad(p, "%s needs --weights FILE", o->cmd == CMD_EVAL ? "eval" : "export");
    if (o->cmd == CMD_EXPORT && !o->output) return bad(p, "export needs -o FILE (the .npz to write)");
    if (o->epochs == 0 && o->cmd != CMD_STUDY) o->epochs = 10;
    if (o->collect && (o->out || o->shard || o->list))
        return bad(p, "--collect DIR takes no --out, --shard or --list: it only reads DIR");
    return true;
}

static bool check_bench(parser *p) {
    claug_opts *o = p->o;
    if (o->cmd != CMD_BENCH) return true;
    if (!o->compare && o->nfiles) return bad(p, "unexpected argument '%s' (files are for --compare)", o->files[0]);
    if (o->compare && !o->nfiles) return bad(p, "--compare needs one or more JSON files from `claug bench --json`");
    if (o->compare && o->json) return bad(p, "--compare and --json exclude each other");
    return true;
}

static void defaults(claug_opts *o) {
    memset(o, 0, sizeof *o);
    o->cmd = CMD_NONE;
    o->seed = 42;
    o->count = 5;
    o->epochs = 0; /* 10, or the study's --steps rule (check_training) */
    o->seeds = 4;
    o->steps = 3750;
    o->max_epochs = 30;
    o->batch_size = 32;
    o->lr = 0.001;
    o->repeats = 10;
    aug_config_default(&o->aug);
}

/* The command is the first argument that is neither an option nor an option's value, so global
 * options may stand before or after it. *at gets its index, or -1 when there is none. */
static bool find_command(parser *p, int argc, char **argv, int *at) {
    *at = -1;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            const char *iv;
            const opt_def *d = find_option(argv[i], &iv);
            if (d && takes_value(d) && !iv) i++;
            continue;
        }
        for (int c = 0; c < CMD_COUNT; c++)
            if (strcmp(argv[i], commands[c].name) == 0) p->o->cmd = (claug_cmd)c;
        if (p->o->cmd == CMD_NONE) return bad(p, "unknown command '%s'", argv[i]);
        *at = i;
        return true;
    }
    return true;
}

static bool parse(parser *p, int argc, char **argv) {
    claug_opts *o = p->o;
    int cmd_at;
    if (!find_command(p, argc, argv, &cmd_at)) return false;
    bool aug_given = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (i == cmd_at) continue;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "--version") == 0) {
            p->status = arg[2] == 'v' ? CLI_VERSION : CLI_HELP;
            return true;
        }
        if (arg[0] != '-' || !arg[1]) {
            /* Only `bench --compare` takes arguments (checked once all options are seen). */
            if (o->cmd != CMD_BENCH) return bad(p, "unexpected argument '%s'", arg);
            if (!o->files) o->files = xcalloc((size_t)argc, sizeof *o->files);
            o->files[o->nfiles++] = arg;
            continue;
        }
        const char *value;
        const opt_def *d = find_option(arg, &value);
        if (!d) return bad(p, "unknown option '%s'", arg);
        char flag[64];
        if (arg[1] == '-' || !d->lname)
            snprintf(flag, sizeof flag, "%s%s", d->lname ? "--" : "-", d->lname ? d->lname : (char[]){d->sname, 0});
        else
            snprintf(flag, sizeof flag, "-%c/--%s", d->sname, d->lname);
        if (o->cmd != CMD_NONE && !(d->cmds & CMD(o->cmd)))
            return bad(p, "option %s does not apply to `%s`", flag, commands[o->cmd].name);
        if (!takes_value(d)) {
            if (value) return bad(p, "%s takes no value", flag);
        } else if (!value) {
            if (i + 1 >= argc) return bad(p, "%s needs a value", flag);
            value = argv[++i];
        }
        if (!set_value(p, d, flag, value)) return false;
        aug_given |= d->cmds == AUG_CMDS;
    }
    if (o->cmd == CMD_NONE) {
        p->status = CLI_NO_COMMAND;
        return true;
    }
    return check_augmentation(p, aug_given) && check_training(p) && check_bench(p);
}

train_config cli_train_config(const claug_opts *o) {
    return (train_config){.epochs = o->epochs,
                          .batch_size = o->batch_size,
                          .lr = o->lr,
                          .seed = o->seed,
                          .train_size = o->train_size,
                          .aug = o->aug,
                          .quiet = o->quiet,
                          .profile = o->profile};
}

cli_status cli_parse_args(int argc, char **argv, claug_opts *o, char *err, size_t errlen) {
    defaults(o);
    parser p = {o, err, errlen, CLI_OK};
    err[0] = 0;
    return parse(&p, argc, argv) ? p.status : CLI_BAD;
}

void cli_parse(int argc, char **argv, claug_opts *o) {
    char err[1024];
    switch (cli_parse_args(argc, argv, o, err, sizeof err)) {
    case CLI_OK: return;
    case CLI_HELP: usage(stdout, o->cmd); break;
    case CLI_VERSION: printf("claug %s (commit %s)\n", CLAUG_VERSION, CLAUG_GIT_COMMIT); break;
    case CLI_NO_COMMAND: usage(stderr, CMD_NONE); free(o->files); exit(EXIT_USAGE);
    case CLI_BAD:
        free(o->files);
        die(EXIT_USAGE, "%s\n(see `claug %s%s--help`)", err, o->cmd != CMD_NONE ? commands[o->cmd].name : "",
            o->cmd != CMD_NONE ? " " : "");
    }
    free(o->files);
    exit(0);
}
