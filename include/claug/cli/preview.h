/* `claug augment`'s picture and dump (also the report's augmented.png). */
#ifndef CLAUG_PREVIEW_H
#define CLAUG_PREVIEW_H

#include "claug/data/augment.h"

/* `claug augment`: the original training image `index` and n augmentations of it (those of
 * epochs 0 .. n-1, standardized with datagen.fit's statistics of all `count` images) in one
 * PNG; with dump_dir, also per augmented image its parameters as JSON (Keras' names) and its
 * pixels as raw little-endian float32, and with ZCA the matrix (zca.f32). Bad paths exit
 * EXIT_USAGE. */
void augment_preview(clrt *rt, const uint8_t *images, const uint8_t *labels, int count, int H, int W,
                     const aug_config *c, uint64_t seed, int index, int n, const char *png_path, const char *dump_dir,
                     bool quiet);

#endif
