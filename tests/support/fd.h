/* Central finite differences, to check the C references' gradients. */
#ifndef CLAUG_FD_H
#define CLAUG_FD_H

#include <stddef.h>

/* g[i] = (f(x + h e_i) - f(x - h e_i)) / (the step actually taken, after rounding x +- h to
 * float), for i in [0, n); x is restored. f reads x through its context and returns a scalar in
 * double, so that its own rounding stays far below the differences. */
void fd_gradient(float *g, float *x, size_t n, float h, double (*f)(void *ctx), void *ctx);

#endif
