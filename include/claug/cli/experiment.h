/* `claug run`, the main job: the tutorial's experiment. Train the model without and with
 * augmentation from the same initial weights, compare, and write the report. */
#ifndef CLAUG_EXPERIMENT_H
#define CLAUG_EXPERIMENT_H

#include <stdbool.h>

#include "claug/runtime/clrt.h"
#include "claug/data/dataset.h"
#include "claug/model/train.h"

typedef struct {
    train_config train;     /* epochs, batch size, lr, seed, train size, augmentation, quiet, profile */
    const char *model;      /* layer string or name */
    const char *out;        /* NULL: runs/<date-time>/ */
    bool plain, augmented;  /* which runs */
    const char *command;    /* the command line that reproduces the run */
} experiment_config;

/* Runs the experiment on rt with the loaded data set, printing progress and the table, and
 * writing the report into the run directory (never an existing run's). Returns 0. */
int experiment_run(clrt *rt, const dataset *ds, const experiment_config *c);

/* The run directory: `out` if given (it must not hold a run already), else
 * runs/<YYYYmmdd-HHMMSS>[-N]/, created. Exits EXIT_USAGE when it cannot be made. */
char *experiment_out_dir(const char *out);

#endif
