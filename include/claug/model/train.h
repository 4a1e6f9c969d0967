/* Fitting and evaluation: the epoch loop (shuffle, gather or augment, forward, loss, backward,
 * Adam), validation after every epoch, Keras-style progress, metrics read back once per epoch
 * or per progress refresh, never per layer or per batch. */
#ifndef CLAUG_TRAIN_H
#define CLAUG_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "claug/data/augment.h"
#include "claug/data/batch.h"
#include "claug/data/dataset.h"
#include "claug/model/history.h"
#include "claug/model/net.h"
#include "claug/model/prep.h"

typedef struct train_config {
    int epochs, batch_size;
    double lr;
    uint64_t seed;
    int train_size;     /* 0: the whole training set */
    aug_config aug;     /* inactive: plain training */
    bool quiet;         /* no progress lines */
    bool profile;       /* per-kernel time split after each epoch, from OpenCL events */
    const char *checkpoint; /* NULL, or the checkpoint file written at each epoch's end */
} train_config;

typedef struct {
    clrt *rt;
    net *n;
    const dataset *ds;
    devset train, test; /* uploaded once */
    batcher gather;
    augmenter aug;
    prep prep;          /* the current training's augmentation and standardization (datagen.fit's) */
    int *subset;        /* the training images used, sorted */
    int nsubset;
    int *order_host;    /* (nsubset) the epoch's order */
    cl_mem order;       /* (nsubset) int */
    cl_mem test_order;  /* (test count) int, identity */
    cl_mem losses;      /* (max(nsubset, test count)) per-sample loss */
    cl_mem correct;     /* (same) per-sample 1 or 0 */
    cl_mem predicted;   /* (test count) int: the last evaluation's predicted classes (model/confusion.h) */
    cl_mem sums[2];     /* (2) each: metrics_sum's outputs, for two checkpoints in flight */
} trainer;

/* Uploads the data set, chooses the --train-size subset (class-balanced, by the seed). */
void trainer_init(trainer *t, clrt *rt, net *n, const dataset *ds, int train_size, uint64_t seed);
void trainer_release(trainer *t);

/* A class-balanced subset of `want` of the `count` labels' images (want/10 per class, the
 * first want%10 classes one more), chosen by the seed; sorted. Returns the number chosen. */
int choose_subset(int *out, const uint8_t *labels, int count, int want, uint64_t seed);
/* The epoch's permutation of `n` items (Fisher-Yates with Philox draws). */
void shuffle_order(int *order, int n, uint64_t seed, uint32_t epoch);

/* Trains from epoch h->epochs (0, or the epochs a checkpoint restored) to c->epochs from the
 * network's current weights and optimizer state, appending each epoch's metrics to h, and
 * writing c->checkpoint (if set) at each epoch's end. Prints "Epoch i/N" and the progress line
 * unless quiet. */
void trainer_fit(trainer *t, const train_config *c, history *h);
/* The checkpoint key (checkpoint.h) of training t's network with c on t's subset and data. */
char *trainer_checkpoint_key(const trainer *t, const train_config *c);
/* Loss and accuracy on the test set (its predictions stay on the device: model/confusion.h). */
void trainer_evaluate(trainer *t, int batch_size, double *loss, double *accuracy);

#endif
