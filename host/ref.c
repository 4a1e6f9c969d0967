#include "claug/ref.h"

void ref_normalize(float *x, const uint8_t *pixels, int P) {
    for (int i = 0; i < P; i++) x[i] = (float)pixels[i] * (1.0f / 255.0f);
}
