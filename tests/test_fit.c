/* datagen.fit on the host: the symmetric eigensolver against its definition (A v = lambda v,
 * orthonormal vectors, ascending values, a known spectrum), the featurewise statistics against
 * a direct double computation, and the ZCA matrix against what whitening means: symmetric, and
 * W C W = diag(lambda / (sqrt(lambda) + epsilon / sqrt(n))^2) ~ I on the data's covariance C
 * computed here from the images, with the thin SVD's null directions dropped when n < P. */
/* ctest: labels=host timeout=60 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "claug/data/augment.h"
#include "claug/data/fit.h"
#include "philox.h"

static double rnd(uint64_t seed, uint32_t i) { return claug_uniform(claug_random4(seed, 9, i, 0, 0).v[0]); }

/* Eigen-decompositions of random symmetric matrices and of one with a known spectrum. */
static void test_eigen(void) {
    const int sizes[] = {1, 2, 5, 33, 120};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int n = sizes[t];
        double *a = xmalloc((size_t)n * n * sizeof *a), *v = xmalloc((size_t)n * n * sizeof *v),
               *w = xmalloc((size_t)n * sizeof *w);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rnd(t, (uint32_t)(i * n + j)) * 2 - 1;
        if (n == 5) /* repeated eigenvalues: the identity plus a rank-one term */
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) a[i * n + j] = (i == j) + 0.5;
        for (int i = 0; i < n * n; i++) v[i] = a[i];
        sym_eigen(v, w, n);
        double resid = 0, ortho = 0, scale = 0;
        int sorted = 1;
        for (int i = 0; i < n * n; i++) scale = fmax(scale, fabs(a[i]));
        for (int k = 0; k < n; k++) {
            sorted &= k == 0 || w[k - 1] <= w[k];
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int j = 0; j < n; j++) av += a[i * n + j] * v[k * n + j];
                resid = fmax(resid, fabs(av - w[k] * v[k * n + i]));
            }
            for (int l = 0; l < n; l++) {
                double d = 0;
                for (int i = 0; i < n; i++) d += v[k * n + i] * v[l * n + i];
                ortho = fmax(ortho, fabs(d - (k == l)));
            }
        }
        printf("eigen %3d: |A v - lambda v| %.1e, |V V^T - I| %.1e%s\n", n, resid, ortho, sorted ? "" : ", NOT SORTED");
        CHECK(resid <= 1e-12 * n * (scale + 1) && ortho <= 1e-12 * n && sorted, "eigen %d: residual %g, orthogonality %g",
              n, resid, ortho);
        if (n == 5) {
            double want[5] = {1, 1, 1, 1, 3.5};
            for (int k = 0; k < n; k++)
                CHECK(fabs(w[k] - want[k]) < 1e-12, "eigenvalue %d: %.17g, want %g", k, w[k], want[k]);
        }
        free(a);
        free(v);
        free(w);
    }
}

/* Images (n, P) of independent pixels with different spreads, so that the covariance is well
 * conditioned (of rank n when n < P). */
static uint8_t *images_make(int n, int P, uint64_t seed) {
    uint8_t *x = xmalloc((size_t)n * P);
    for (int k = 0; k < n; k++)
        for (int i = 0; i < P; i++) {
            double spread = 40 + 200.0 * i / P, u = rnd(seed, (uint32_t)(k * P + i));
            x[(size_t)k * P + i] = (uint8_t)(127.5 + (u - 0.5) * spread);
        }
    return x;
}

/* Keras' fit, directly: the statistics in double from the pixels, then C = X'^T X' / n of
 * X' = (x - mean) / (std + 1e-6) as the flags say. */
static void direct(double *mean, double *sd, double *cov /* (P, P) */, const uint8_t *x, const int *subset, int n,
                   int P, const aug_config *c) {
    double s = 0, q = 0;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < P; i++) s += x[(size_t)subset[k] * P + i] / 255.0;
    *mean = s / ((double)n * P);
    for (int k = 0; k < n; k++)
        for (int i = 0; i < P; i++) q += pow(x[(size_t)subset[k] * P + i] / 255.0 - *mean, 2);
    *sd = sqrt(q / ((double)n * P));
    double m = c->featurewise_center ? (double)c->featurewise_mean : 0;
    double d = c->featurewise_std_normalization ? (double)(c->featurewise_std + 1e-6f) : 1;
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++) {
            double acc = 0;
            for (int k = 0; k < n; k++)
                acc += (x[(size_t)subset[k] * P + i] / 255.0 - m) * (x[(size_t)subset[k] * P + j] / 255.0 - m);
            cov[i * P + j] = acc / n / (d * d);
        }
}

static void test_fit(int n, int P, int zca, int std_norm) {
    int count = n + 7, *subset = xmalloc((size_t)n * sizeof *subset);
    uint8_t *x = images_make(count, P, (uint64_t)n);
    for (int k = 0; k < n; k++) subset[k] = (k * 5 + 3) % count; /* distinct: 5 is prime to count */
    aug_config c;
    aug_config_default(&c);
    c.featurewise_center = 1;
    c.featurewise_std_normalization = std_norm;
    c.zca_whitening = zca;
    c.zca_epsilon = 1e-6f;
    float *w = aug_fit(&c, x, subset, n, P);
    double mean, sd, *cov = xmalloc((size_t)P * P * sizeof *cov);
    direct(&mean, &sd, cov, x, subset, n, P, &c);
    printf("fit n=%d P=%d: mean %.9g (direct %.9g), std %.9g (direct %.9g)\n", n, P, c.featurewise_mean, mean,
           c.featurewise_std, sd);
    CHECK(fabs(c.featurewise_mean - mean) <= 1e-7 && (!std_norm || fabs(c.featurewise_std - sd) <= 1e-7),
          "fit n=%d: mean %g / %g, std %g / %g", n, c.featurewise_mean, mean, c.featurewise_std, sd);
    CHECK((w != NULL) == (zca != 0), "fit n=%d: a ZCA matrix %s", n, w ? "without --zca-whitening" : "missing");
    if (w) {
        /* W C W: the identity on the kept directions, within what epsilon and float rounding of W
         * leave; with n < P, rank n (P - n eigenvalues of W C W are 0). */
        double asym = 0, *wcw = xcalloc((size_t)P * P, sizeof *wcw), *t = xcalloc((size_t)P * P, sizeof *t);
        for (int i = 0; i < P; i++)
            for (int j = 0; j < P; j++) asym = fmax(asym, fabs(w[i * P + j] - w[j * P + i]));
        for (int i = 0; i < P; i++)
            for (int k = 0; k < P; k++)
                for (int j = 0; j < P; j++) t[i * P + j] += w[i * P + k] * cov[k * P + j];
        for (int i = 0; i < P; i++)
            for (int k = 0; k < P; k++)
                for (int j = 0; j < P; j++) wcw[i * P + j] += t[i * P + k] * w[k * P + j];
        double trace = 0, off = 0;
        for (int i = 0; i < P; i++) trace += wcw[i * P + i];
        for (int i = 0; i < P * P; i++) off = fmax(off, fabs(wcw[i] - (n >= P && i % (P + 1) == 0)));
        printf("zca n=%d P=%d: |W - W^T| %.1e, trace(W C W) %.6f (want %d)%s\n", n, P, asym, trace, n < P ? n : P,
               n >= P ? "" : " (rank n)");
        CHECK(asym == 0, "zca: W is not symmetric (%g)", asym);
        CHECK(fabs(trace - (n < P ? n : P)) < 1e-3, "zca n=%d: trace(W C W) = %g", n, trace);
        if (n >= P) CHECK(off < 1e-3, "zca n=%d: W C W departs from I by %g", n, off);
        free(wcw);
        free(t);
    }
    free(w);
    free(cov);
    free(x);
    free(subset);
}

int main(void) {
    test_eigen();
    test_fit(500, 30, 0, 1);
    test_fit(700, 40, 1, 0);
    test_fit(12, 40, 1, 0);
    test_fit(900, 25, 1, 1); /* claug's options never combine these (Keras drops the std), aug_fit does */
    return check_done("test_fit");
}
