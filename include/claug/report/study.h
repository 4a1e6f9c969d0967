/* The summary of `claug study`, made from its cells' results alone (so it is the same however
 * the cells were computed: in one process, after interruptions, in shards): per size and arm
 * the mean and sd of the final metrics, per size the paired differences augmented - plain
 * with 95% intervals and paired t-tests, per class too, one sentence per size; written as
 * summary.json, summary.csv, report.md and study.svg, and printed as a table. */
#ifndef CLAUG_STUDY_REPORT_H
#define CLAUG_STUDY_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "claug/data/dataset.h"
#include "claug/report/stats.h"

/* One cell's final metrics (fractions, as Keras reports them). */
typedef struct {
    int size;
    bool augmented;
    uint64_t seed;
    double loss, accuracy, val_loss, val_accuracy;
    double class_accuracy[NUM_CLASSES]; /* validation accuracy per class */
} study_result;

typedef struct {
    const char *model, *augmentation, *command;
    int nsizes;
    const int *sizes, *epochs; /* (nsizes) ascending; epochs per size */
    int nseeds;
    const uint64_t *seeds;     /* (nseeds) */
    const study_result *results; /* (nresults) at most one per (size, arm, seed), any order */
    int nresults;
    const char *const *missing; /* (nmissing) the missing cells' names */
    int nmissing;
    const char *const *devices; /* (ndevices) the devices the cells ran on, each once */
    int ndevices;
} study_summary;

/* The metrics summarised, in this order everywhere. */
enum { STUDY_VAL_ACCURACY, STUDY_VAL_LOSS, STUDY_ACCURACY, STUDY_LOSS, STUDY_METRICS };
extern const char *const study_metric_names[STUDY_METRICS];

/* Statistics of one size: per arm (0 plain, 1 augmented) and the paired differences. */
typedef struct {
    sample_stats arm[2][STUDY_METRICS];
    sample_stats diff[STUDY_METRICS];
    sample_stats class_diff[NUM_CLASSES]; /* validation accuracy per class */
} study_size_stats;

void study_size_stats_of(const study_summary *s, int size_index, study_size_stats *out);
/* "augmentation lowers validation loss by 0.21 (95% CI 0.15 to 0.27, p = 0.003); no detectable
 * change in validation accuracy (-0.3 pp, 95% CI -1.1 to 0.5, p = 0.41)" */
char *study_sentence(const study_size_stats *st);

char *study_summary_json(const study_summary *s);
char *study_summary_csv(const study_summary *s);
char *study_summary_markdown(const study_summary *s);
/* Validation accuracy and loss against training-set size (log axis), both arms, with 95%
 * intervals of the means as error bars. */
char *plot_study_svg(const study_summary *s);
void study_print_table(const study_summary *s, FILE *f);
/* Writes the four files into dir; false with a message naming the file. */
bool study_summary_write(const study_summary *s, const char *dir, char *err, size_t errlen);

#endif
