/* The files of `claug study`: DIR/study.json, the plan (every cell's size, arm, seed, epochs and
 * key), and DIR/cells/<name>.json, one cell's result. Both are written here and read back
 * strictly: a file that is corrupt or of another configuration is told apart from a missing one. */
#ifndef CLAUG_STUDY_FILES_H
#define CLAUG_STUDY_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claug/model/history.h"
#include "claug/report/study.h"

/* Seeds are JSON numbers in study.json and the cells: exact below 2^53. */
#define STUDY_MAX_SEED 9007199254740992.0
/* At most this many sizes, and seeds (--seeds' bound), in a study. */
enum { STUDY_MAX_GRID = 1000 };

typedef struct {
    int index, size, epochs;
    bool augmented;
    uint64_t seed;
    char *name; /* "size1000-seed42-plain": the file cells/<name>.json */
    char *key;  /* everything the cell's result depends on */
} cell;

/* What a study is: read from the options (and the data), or back from DIR/study.json. */
typedef struct {
    char *model;        /* canonical model string */
    char *augmentation; /* the augmented arm's, as aug_config_describe writes it */
    int nsizes, *sizes, *epochs;
    int nseeds;
    uint64_t *seeds;
    int batch_size;
    double lr;
    unsigned long data; /* dataset_fingerprint */
    int ncells;
    cell *cells; /* seed-major, then size, then arm: an interrupted study has whole pairs first */
} plan;

const char *study_arm_name(bool augmented);
/* Fills p->cells from the sizes, epochs, seeds and settings (names and keys included). */
void plan_cells(plan *p);
void plan_free(plan *p);
/* study.json's text. */
char *plan_json(const plan *p);
/* The plan of a study.json, refused (false, message naming the file) unless it is exactly what
 * plan_json writes for the plan it describes. */
bool plan_from_json(plan *p, const char *path, char *err, size_t errlen);

/* DIR/cells/<name>.<ext> */
char *cell_path(const char *dir, const cell *c, const char *ext);
/* A cell file's text: the final metrics, the per-class accuracies and confusion matrix
 * ((NUM_CLASSES, NUM_CLASSES), rows true), the history, the device and the configuration. */
char *cell_json(const plan *p, const cell *c, const history *h, const double *class_acc, const int *confusion,
                const char *device, int train_images, int test_images);

typedef enum { CELL_MISSING, CELL_DONE, CELL_BAD } cell_state;
/* Reads the cell file at path into r (and its device into *device, malloc'd); CELL_BAD with the
 * reason in err for a file that is unreadable, corrupt or of another configuration. */
cell_state cell_read(const char *path, const cell *c, study_result *r, char **device, char *err, size_t errlen);

#endif
