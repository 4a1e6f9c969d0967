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

/* Saves the network's parameters; false with a message naming the file on failure. */
bool weights_save(net *n, const char *path, char *err, size_t errlen);
/* Reads and checks a weights file (magic, version, CRC, every length against the file's size);
 * false with a message naming the file and the problem. */
bool weights_read(weights_file *f, const char *path, char *err, size_t errlen);
/* Copies a file's tensors into a network built from the file's model string; false with a
 * message when a tensor's name or shape does not match. */
bool weights_apply(net *n, const weights_file *f, const char *path, char *err, size_t errlen);
void weights_free(weights_file *f);

#endif
