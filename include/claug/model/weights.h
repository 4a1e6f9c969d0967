/* The weights file written by `claug train --save` and read by `claug eval --weights`.
 *
 * Format (all integers unsigned 32-bit little-endian, floats IEEE-754 binary32 little-endian):
 *   magic "CLAUGWTS" (8 bytes), format version (1),
 *   model string length L, the canonical model string (L bytes, no terminator),
 *   input channels, height, width, classes,
 *   tensor count T, then T tensors: name length, name (e.g. "conv2d_1/kernel"), rank R,
 *   R dimensions, then the values in row-major order,
 *   and last the CRC-32 (zlib's) of every byte before it.
 * Convolution kernels are (out channels, in channels, height, width); dense kernels are
 * (units, inputs); biases are (units). Written atomically (temporary file + rename). */
#ifndef CLAUG_WEIGHTS_H
#define CLAUG_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>

#include "claug/model/net.h"

typedef struct {
    char name[64];
    int rank, dims[4];
    size_t count;
    float *data;
} weights_tensor;

typedef struct {
    char *model;
    int c, h, w, classes;
    int ntensors;
    weights_tensor *t;
} weights_file;

/* One tensor of a model, in claug's layout: each layer with parameters has its kernel, then its
 * bias, in layer order (the order of the file). */
typedef struct {
    char name[64];        /* "conv2d_1/kernel" */
    int rank, dims[4];    /* kernel (out, in, size, size) cut to the kernel's rank; bias (out) */
    size_t count, offset; /* floats; offset in the parameter buffer (0 before net_create) */
    int layer;            /* index in the layers */
    bool kernel;          /* else the bias */
} weights_desc;

/* Fills d (room for 2 nl) with the tensors of layers L; returns their count. */
int weights_describe(weights_desc *d, const layer *L, int nl);
/* Whether f's tensors are, in order, those of layers L (model `spec`): names and shapes; false
 * with a message naming the file and the first tensor that differs. */
bool weights_match(const weights_file *f, const layer *L, int nl, const char *spec, const char *path, char *err,
                   size_t errlen);

/* Saves the network's parameters; false with a message naming the file on failure. */
bool weights_save(net *n, const char *path, char *err, size_t errlen);
/* Reads and checks a weights file (magic, version, CRC, every length against the file's size),
 * or a NumPy .npz of Keras' names and layouts (model/npz.h), told apart by their first bytes;
 * false with a message naming the file and the problem. */
bool weights_read(weights_file *f, const char *path, char *err, size_t errlen);
/* Copies a file's tensors into a network built from the file's model string; false with a
 * message when a tensor's name or shape does not match. */
bool weights_apply(net *n, const weights_file *f, const char *path, char *err, size_t errlen);
void weights_free(weights_file *f);
/* "dense/kernel (128, 800)", for messages. */
void weights_shape_text(char *buf, size_t len, const char *name, int rank, const int *dims);

#endif
