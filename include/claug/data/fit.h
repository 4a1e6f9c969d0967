/* Keras' ImageDataGenerator.fit on the host: the training set's featurewise statistics and its
 * ZCA whitening matrix, with the symmetric eigensolver that needs. */
#ifndef CLAUG_FIT_H
#define CLAUG_FIT_H

#include <stdint.h>

#include "augment_params.h" /* cl/: aug_config */

/* Keras' datagen.fit on the training images images[subset[0 .. n)] ((count, P) uint8, scaled
 * by 1/255 as the gather does; subset NULL: the first n), on the host: sets
 * c->featurewise_mean and c->featurewise_std (one channel: scalars) and, when c->zca_whitening,
 * returns datagen.zca_whitening_matrix, (P, P) row-major floats, which the caller frees; NULL
 * otherwise. The sums are exact (integers), the rest in double. */
float *aug_fit(aug_config *c, const uint8_t *images, const int *subset, int n, int P);
/* The eigenvalues (ascending, into w (n)) and unit eigenvectors (row k of a for w[k], over a)
 * of the symmetric (n, n) matrix a: Householder reduction to tridiagonal form, then the implicit
 * QL method (EISPACK's tred2 and tql2, as JAMA writes them), on the transposed matrix so that
 * every O(n^3) loop runs along rows. */
void sym_eigen(double *a /* (n, n) */, double *w /* (n) */, int n);

#endif
