/* Fashion-MNIST on the host: the four IDX files of a directory, checked against each other. */
#ifndef CLAUG_DATASET_H
#define CLAUG_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "claug/data/idx.h"

/* Fashion-MNIST's geometry, for code that sizes the model before (or without) loading the data:
 * one grey channel of 28 x 28, 10 classes. */
enum { IMAGE_CHANNELS = 1, IMAGE_SIDE = 28, NUM_CLASSES = 10 };
extern const char *const class_names[NUM_CLASSES];

typedef struct {
    idx_array train_images, train_labels; /* (60000, 28, 28), (60000) */
    idx_array test_images, test_labels;   /* (10000, 28, 28), (10000) */
    int rows, cols;
} dataset;

/* $CLAUG_DATA, else share/fashion-mnist beside the binary's bin/ when it holds the files (a
 * bundle made with DATA=1), else /usr/share/datasets/fashion-mnist (dataset-fashion-mnist). */
const char *dataset_default_dir(void);
/* Loads train-images-idx3-ubyte(.gz) and the three others from `dir`. On any problem returns
 * false with a message naming the file and what is wrong. */
bool dataset_load(dataset *ds, const char *dir, char *err, size_t errlen);
/* dataset_load, or exit EXIT_USAGE with its message. */
void dataset_load_or_die(dataset *ds, const char *dir);
/* The CRC-32 of the images and labels of both sets: which data a result was computed on. */
unsigned long dataset_fingerprint(const dataset *ds);
void dataset_free(dataset *ds);

#endif
