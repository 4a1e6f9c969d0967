/* The network's input batches as ImageDataGenerator's flow makes them: gathered, randomly
 * transformed (training batches) and standardized (all batches), with datagen.fit's statistics
 * computed once on the host from the training images (data/fit.h) and ZCA whitening on the
 * device, a GEMM through CLBlast (ops/dense.h): the one step that needs both data/ and ops/. */
#ifndef CLAUG_PREP_H
#define CLAUG_PREP_H

#include <stdbool.h>
#include <stdint.h>

#include "claug/data/augment.h"
#include "claug/data/batch.h"
#include "claug/ops/dense.h"

typedef struct {
    clrt *rt;
    aug_config train;  /* the configuration, with datagen.fit's statistics */
    aug_config test;   /* its standardization alone: what the test set gets */
    float *zca_matrix; /* (P, P) datagen.zca_whitening_matrix on the host, or NULL */
    cl_mem zca;        /* (P, P) the same on the device, or NULL */
    cl_mem raw;        /* (raw_rows, P) a batch before whitening, or NULL */
    dense_ctx dense;   /* CLBlast's temporary buffer for the whitening GEMM */
    int P, raw_rows;
} prep;

/* Fits c on the training images images[subset[0 .. n)] ((count, P) uint8; subset NULL: the
 * first n) when it needs datagen.fit (aug_fit); uploads the ZCA matrix. */
void prep_init(prep *p, clrt *rt, const aug_config *c, const uint8_t *images, const int *subset, int n, int P);
void prep_release(prep *p);
/* The images order[first .. first + B) of d into x (B, P) and their labels into y (B): with the
 * training configuration's random transform, drawn for (seed, epoch), and its standardization
 * when train; with the test configuration (standardization only) otherwise; by the plain gather
 * g when the configuration does nothing. ZCA whitening, when on: x = raw @ W. */
void prep_batch(prep *p, augmenter *a, batcher *g, cl_mem x, cl_mem y, const devset *d, cl_mem order, int first,
                int B, bool train, uint64_t seed, uint32_t epoch, const char *tag);

#endif
