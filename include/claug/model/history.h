/* What one training leaves behind: per-epoch metrics and timings, with Keras' metric names. */
#ifndef CLAUG_HISTORY_H
#define CLAUG_HISTORY_H

#include <stdbool.h>

typedef struct {
    double loss, accuracy;         /* training, averaged over the epoch's samples */
    double val_loss, val_accuracy; /* on the test set after the epoch */
    double train_seconds;          /* wall clock of the epoch's training steps */
    double val_seconds;            /* wall clock of its validation */
    double images_per_second;      /* training images / train_seconds */
} epoch_metrics;

typedef struct {
    const char *name;      /* "plain" or "augmented" */
    int epochs;            /* epochs completed, entries in `epoch` */
    epoch_metrics *epoch;  /* (capacity) */
    int capacity;
    int train_images;      /* images per epoch */
    int batch_size;
} history;

/* `capacity`: the epochs expected; the history grows past it when more are added. */
void history_init(history *h, const char *name, int capacity, int train_images, int batch_size);
void history_free(history *h);
void history_add(history *h, const epoch_metrics *m);
/* Keras CSVLogger's file: header "epoch,accuracy,loss,val_accuracy,val_loss", epochs from 0.
 * Written atomically; false (errno set) on failure. */
bool history_write_csv(const history *h, const char *path);
/* Median seconds per training epoch (robust to a slow first epoch). */
double history_median_epoch_seconds(const history *h);

#endif
