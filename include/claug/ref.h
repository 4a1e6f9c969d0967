/* Plain-C references of the OpenCL kernels: straightforward loops in the kernels' argument
 * order (outputs, inputs, sizes), used by the tests and by `claug tune` to check results. */
#ifndef CLAUG_REF_H
#define CLAUG_REF_H

#include <stdint.h>

/* data.cl gather_batch, one image: uint8 -> float in [0, 1]. */
void ref_normalize(float *x, const uint8_t *pixels, int P);

#endif
