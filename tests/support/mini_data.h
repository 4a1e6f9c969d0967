/* A small Fashion-MNIST for tests that train many times (tests/scripts/mini_data.sh). */
#ifndef CLAUG_MINI_DATA_H
#define CLAUG_MINI_DATA_H

/* Writes the first ntrain training and ntest test images of the real data set into a scratch
 * directory named `name` and returns its path (static storage). */
const char *mini_data(const char *name, int ntrain, int ntest);

#endif
