/* The dataset on the device: uploaded once, then gathered batch by batch by index. */
#ifndef CLAUG_BATCH_H
#define CLAUG_BATCH_H

#include "claug/runtime/clrt.h"
#include "claug/data/idx.h"

#include <stdint.h>

typedef struct {
    cl_mem images; /* (count, P) uint8 */
    cl_mem labels; /* (count) uint8 */
    int count, rows, cols;
} devset;

/* Uploads images and labels (blocking, once). */
void devset_upload(devset *d, clrt *rt, const idx_array *images, const idx_array *labels);
void devset_release(devset *d);

typedef struct { clrt_kernels ks; } batcher; /* of cl/data.cl */

void batcher_init(batcher *b, clrt *rt);
void batcher_release(batcher *b);
/* x[0..B) = images[order[first + i]] / 255 and y[i] = labels[order[first + i]]. */
void batcher_gather(batcher *b, cl_mem x /* (B, P) */, cl_mem y /* (B) int */, const devset *d,
                    cl_mem order /* (n) int */, int first, int B);

/* The plain-C reference of the gather's scaling, one image: uint8 -> float in [0, 1]. */
void ref_normalize(float *x, const uint8_t *pixels, int P);

#endif
