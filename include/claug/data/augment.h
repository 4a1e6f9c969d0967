/* Data augmentation on the device with Keras ImageDataGenerator semantics, fused with the batch
 * gather: apply_transform's random transform, then standardize's per-image and featurewise steps
 * (ZCA whitening is model/prep.h's). The random parameters of image i in epoch e come from Philox
 * keyed by (seed, e, i), so they do not depend on the batch size or the device. The drawing of the
 * parameters and the affine matrix are shared C/OpenCL code in cl/augment_params.h; the
 * resampling and the standardization have a plain-C reference here. */
#ifndef CLAUG_AUGMENT_H
#define CLAUG_AUGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "augment_params.h" /* cl/: aug_config, aug_params, fill modes, aug_draw(), aug_matrix() */
#include "claug/data/batch.h"
#include "claug/runtime/clrt.h"

/* Defaults: no augmentation (zoom 1..1, brightness off, fill nearest, cval 0, bilinear,
 * zca_epsilon 1e-6, no standardization). */
void aug_config_default(aug_config *c);
/* ImageDataGenerator's constructor rules: zca_whitening sets featurewise_center and clears
 * featurewise_std_normalization; featurewise_std_normalization sets featurewise_center;
 * samplewise_std_normalization sets samplewise_center. */
void aug_config_imply(aug_config *c);
/* True when any option changes an image. */
bool aug_config_active(const aug_config *c);
/* True when --brightness-range is given (Keras' brightness_range is not None). */
bool aug_config_brightness_on(const aug_config *c);
/* True when any of standardize's options is on (samplewise, featurewise, ZCA). */
bool aug_config_standardizes(const aug_config *c);
/* True when datagen.fit has something to compute (featurewise statistics or ZCA). */
bool aug_config_needs_fit(const aug_config *c);
/* c's standardization without its random transform: what Keras' standardize does to the test
 * set at evaluation. */
aug_config aug_config_eval(const aug_config *c);
/* Range checks; on failure a message naming the flag (--zoom-range ...) and what is wrong. */
bool aug_config_check(const aug_config *c, char *err, size_t errlen);
/* "rotation_range=10, fill_mode='nearest'": the ImageDataGenerator arguments that differ from
 * the defaults ("none" when inactive). Caller frees. */
char *aug_config_describe(const aug_config *c);
/* Parses a --fill-mode name; -1 when unknown. */
int aug_fill_mode_parse(const char *name);
const char *aug_fill_mode_name(int mode);
/* Parses an --interpolation name (nearest: Keras' interpolation_order 0, bilinear: 1) into the
 * order; -1 when unknown. */
int aug_interpolation_parse(const char *name);

typedef struct { clrt_kernels ks; } augmenter; /* of cl/augment.cl */

void augment_init(augmenter *a, clrt *rt);
void augment_release(augmenter *a);
/* Like batcher_gather, with each image transformed: x[b] = augment(images[order[first + b]],
 * params drawn for (seed, epoch, order[first + b])) and y[b] its label. */
void augment_gather(augmenter *a, cl_mem x /* (B, P) */, cl_mem y /* (B) int */, const devset *d,
                    cl_mem order /* (n) int */, int first, int B, const aug_config *c, uint64_t seed, uint32_t epoch,
                    const char *tag);
/* augment_gather with each image's parameters given instead of drawn: params[b] for batch
 * image b (tests: exact permutations on the device). */
void augment_gather_params(augmenter *a, cl_mem x /* (B, P) */, cl_mem y /* (B) int */, const devset *d,
                           cl_mem order /* (n) int */, int first, int B, const aug_config *c,
                           const aug_params *params /* (B) */, const char *tag);

/* Plain-C reference: one image (uint8, (H, W)) -> floats (H, W), given its drawn parameters:
 * the random transform, then standardize's steps but ZCA. */
void ref_augment_image(float *out, const uint8_t *img, int H, int W, const aug_config *c, const aug_params *p);

#endif
