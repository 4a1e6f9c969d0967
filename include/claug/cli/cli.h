/* Command line: subcommands, their options (one table), --help, validation with exit code 2. */
#ifndef CLAUG_CLI_H
#define CLAUG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "augment_params.h" /* cl/: aug_config */
#include "claug/model/train.h"

typedef enum { CMD_NONE = -1, CMD_DEVICES, CMD_SAMPLES, CMD_AUGMENT, CMD_TRAIN, CMD_EVAL, CMD_RUN, CMD_BENCH, CMD_TUNE, CMD_STUDY, CMD_EXPORT, CMD_COUNT } claug_cmd;

typedef struct {
    claug_cmd cmd;
    /* common */
    const char *device;     /* -d/--device; NULL: $CLAUG_DEVICE or the default */
    const char *data_dir;   /* --data */
    const char *kernel_dir; /* --kernels */
    bool quiet;
    uint64_t seed;
    /* samples */
    int count;          /* -n */
    const char *output; /* -o; NULL: the command's default */
    /* augment */
    int index;             /* -i */
    const char *dump_dir;  /* --dump */
    const char *fill_mode; /* --fill-mode, parsed into aug.fill_mode */
    const char *interpolation; /* --interpolation, parsed into aug.interpolation_order */
    aug_config aug;        /* the augmentation options (augment, train) */
    /* train, eval */
    int epochs, batch_size, train_size;
    double lr;
    const char *model;   /* --model; NULL: seed */
    const char *save;    /* --save FILE */
    const char *csv;     /* --csv FILE */
    const char *checkpoint; /* --checkpoint FILE */
    const char *resume;     /* --resume FILE */
    const char *weights; /* --weights FILE */
    bool profile;
    /* run */
    const char *out; /* --out DIR */
    bool augment_only, plain_only;
    /* bench */
    const char *json;   /* --json FILE */
    const char *svg;    /* --svg FILE: the roofline, or with --compare the devices side by side */
    int repeats;        /* --repeats */
    bool compare;       /* --compare: the arguments are result files */
    const char **files; /* (nfiles) the arguments after the command; freed by the caller */
    int nfiles;
    /* study */
    const char *sizes;   /* --sizes LIST, checked by the study */
    int seeds;           /* --seeds */
    int steps;           /* --steps: optimizer steps per cell (epochs 0: by this rule) */
    int max_epochs;      /* --max-epochs: the rule's cap */
    bool list;           /* --list */
    const char *shard;   /* --shard I/N or slurm */
    const char *collect; /* --collect DIR */
    /* tune */
    bool quick; /* --quick: a tiny candidate list */
} claug_opts;

/* The accepted learning rates (--lr). */
#define LR_MIN 1e-10
#define LR_MAX 10.0

typedef enum { CLI_OK, CLI_HELP, CLI_VERSION, CLI_NO_COMMAND, CLI_BAD } cli_status;

/* Parses argv into *o without printing or exiting: CLI_BAD with the message (naming the flag)
 * in err, CLI_HELP / CLI_VERSION when asked for them, CLI_NO_COMMAND when no command is given.
 * o->files is allocated (or NULL) whatever the result; the caller frees it. */
cli_status cli_parse_args(int argc, char **argv, claug_opts *o, char *err, size_t errlen);
/* The training settings of the options (train, run, study); no checkpoint. */
train_config cli_train_config(const claug_opts *o);

/* cli_parse_args for main: bad usage exits EXIT_USAGE with the message; --help and --version
 * print and exit 0. */
void cli_parse(int argc, char **argv, claug_opts *o);

#endif
