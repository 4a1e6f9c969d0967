/* The experiment's report: results.json, history CSVs, curves.svg, report.md, and the
 * tutorial's table on the terminal. */
#ifndef CLAUG_REPORT_H
#define CLAUG_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "claug/model/history.h"

typedef struct {
    /* what ran */
    const char *command_line; /* a command that reproduces the run */
    const char *device;       /* clrt_describe() line */
    const char *device_name, *device_vendor, *device_type, *driver, *platform, *opencl_c;
    unsigned compute_units;
    const char *tuning; /* whether the kernels ran tuned (`claug tune`) or default parameters, and which */
    const char *model; /* layer string */
    long parameters;
    int epochs, batch_size, train_size, test_size;
    double lr;
    uint64_t seed;
    const char *augmentation; /* e.g. "rotation_range=10", as ImageDataGenerator arguments */
    const char *version, *commit, *date;
    /* what came out; either may be NULL (--plain-only, --augment-only) */
    const history *plain, *augmented;
    const char *samples_png, *augmented_png; /* file names inside the run directory, or NULL */
    /* the confusion matrices of each run's last validation (NUM_CLASSES x NUM_CLASSES, rows the
     * true class; model/confusion.h), or NULL */
    const int *plain_confusion, *augmented_confusion;
} report;

/* Writes results.json, history-plain.csv, history-augmented.csv (for the runs present),
 * curves.svg, confusion.svg (when a run has its matrix) and report.md into dir (which exists). False with a message naming the file on
 * failure. */
bool report_write(const report *r, const char *dir, char *err, size_t errlen);
/* The tutorial's table, both columns (a missing run shows "-"), plus seconds per epoch and
 * images per second. */
void report_print_table(const report *r, FILE *f);

/* Pieces, exposed for the tests. */
/* An SVG of loss and accuracy per epoch, train and validation, for the runs given. */
char *plot_curves_svg(const history *plain, const history *augmented);
/* confusion.svg: the matrices given (either may be NULL, not both) side by side. */
char *plot_confusion_svg(const int *plain, const int *augmented);
char *report_json(const report *r);
char *report_markdown(const report *r);

/* Writes text (which it frees) to dir/name atomically; false with a message naming the file. */
bool report_write_text(const char *dir, const char *name, char *text, char *err, size_t errlen);

#endif
