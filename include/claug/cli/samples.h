/* `claug samples`: the tutorial's first look at the data. */
#ifndef CLAUG_SAMPLES_H
#define CLAUG_SAMPLES_H

#include "claug/runtime/clrt.h"
#include "claug/data/dataset.h"

/* Draws the first n training images (already normalised, (n, rows, cols)), enlarged, each with
 * its class name under it, into a PNG. False (errno set) if the file cannot be written. */
bool samples_png(const char *path, const float *images, const uint8_t *labels, int n, int rows, int cols);

/* Prints the labels and writes the PNG of the first n training images, normalised on the
 * device. False (errno set) if the file cannot be written: the caller names the option. */
bool samples_run(clrt *rt, const dataset *ds, int n, const char *path, bool quiet);

#endif
