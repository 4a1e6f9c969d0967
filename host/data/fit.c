/* Keras' datagen.fit: featurewise mean and standard deviation and the ZCA whitening matrix of the
 * training images, and the symmetric eigensolver the ZCA matrix needs. */
#include "claug/data/fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "claug/data/augment.h"
#include "claug/util/util.h"

/* V(a, b) of JAMA's code is u[b * n + a]: the transpose, so that its inner loops, which run down
 * V's columns, run along u's rows. */
#define V(a, b) u[(size_t)(b) * n + (a)]

static void tred2(double *u, double *d, double *e, int n) {
    for (int j = 0; j < n; j++) d[j] = V(n - 1, j);
    for (int i = n - 1; i > 0; i--) {
        double scale = 0.0, h = 0.0;
        for (int k = 0; k < i; k++) scale += fabs(d[k]);
        if (scale == 0.0) {
            e[i] = d[i - 1];
            for (int j = 0; j < i; j++) {
                d[j] = V(i - 1, j);
                V(i, j) = 0.0;
                V(j, i) = 0.0;
            }
        } else {
            for (int k = 0; k < i; k++) {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            double f = d[i - 1], g = sqrt(h);
            if (f > 0) g = -g;
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            for (int j = 0; j < i; j++) e[j] = 0.0;
            for (int j = 0; j < i; j++) {
                f = d[j];
                V(j, i) = f;
                g = e[j] + V(j, j) * f;
                const double *col = &V(0, j);
                for (int k = j + 1; k <= i - 1; k++) {
                    g += col[k] * d[k];
                    e[k] += col[k] * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for (int j = 0; j < i; j++) {
                e[j] /= h;
                f += e[j] * d[j];
            }
            double hh = f / (h + h);
            for (int j = 0; j < i; j++) e[j] -= hh * d[j];
            for (int j = 0; j < i; j++) {
                f = d[j];
                g = e[j];
                double *col = &V(0, j);
                for (int k = j; k <= i - 1; k++) col[k] -= f * e[k] + g * d[k];
                d[j] = V(i - 1, j);
                V(i, j) = 0.0;
            }
        }
        d[i] = h;
    }
    for (int i = 0; i < n - 1; i++) {
        V(n - 1, i) = V(i, i);
        V(i, i) = 1.0;
        double h = d[i + 1];
        if (h != 0.0) {
            double *next = &V(0, i + 1);
            for (int k = 0; k <= i; k++) d[k] = next[k] / h;
            for (int j = 0; j <= i; j++) {
                double g = 0.0, *col = &V(0, j);
                for (int k = 0; k <= i; k++) g += next[k] * col[k];
                for (int k = 0; k <= i; k++) col[k] -= g * d[k];
            }
        }
        for (int k = 0; k <= i; k++) V(k, i + 1) = 0.0;
    }
    for (int j = 0; j < n; j++) {
        d[j] = V(n - 1, j);
        V(n - 1, j) = 0.0;
    }
    V(n - 1, n - 1) = 1.0;
    e[0] = 0.0;
}

static void tql2(double *u, double *d, double *e, int n) {
    for (int i = 1; i < n; i++) e[i - 1] = e[i];
    e[n - 1] = 0.0;
    double f = 0.0, tst1 = 0.0, eps = ldexp(1.0, -52);
    for (int l = 0; l < n; l++) {
        tst1 = fmax(tst1, fabs(d[l]) + fabs(e[l]));
        int m = l;
        while (m < n && fabs(e[m]) > eps * tst1) m++; /* e[n - 1] is 0: m stops at n - 1 */
        if (m > l) {
            do {
                double g = d[l], p = (d[l + 1] - g) / (2.0 * e[l]), r = hypot(p, 1.0);
                if (p < 0) r = -r;
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                double dl1 = d[l + 1], h = g - d[l];
                for (int i = l + 2; i < n; i++) d[i] -= h;
                f += h;
                p = d[m];
                double c = 1.0, c2 = c, c3 = c, el1 = e[l + 1], s = 0.0, s2 = 0.0;
                for (int i = m - 1; i >= l; i--) {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = hypot(p, e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    double *vi = &V(0, i), *vi1 = &V(0, i + 1);
                    for (int k = 0; k < n; k++) {
                        h = vi1[k];
                        vi1[k] = s * vi[k] + c * h;
                        vi[k] = c * vi[k] - s * h;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
            } while (fabs(e[l]) > eps * tst1);
        }
        d[l] += f;
        e[l] = 0.0;
    }
    /* Ascending, each eigenvector (a row of u) with its value. */
    for (int i = 0; i < n - 1; i++) {
        int k = i;
        for (int j = i + 1; j < n; j++)
            if (d[j] < d[k]) k = j;
        if (k == i) continue;
        double p = d[k];
        d[k] = d[i];
        d[i] = p;
        double *a = &V(0, i), *b = &V(0, k);
        for (int j = 0; j < n; j++) {
            p = a[j];
            a[j] = b[j];
            b[j] = p;
        }
    }
}

#undef V

void sym_eigen(double *a, double *w, int n) {
    double *e = xmalloc((size_t)n * sizeof *e);
    /* a is symmetric: it is its own transpose, the layout tred2 works in. */
    tred2(a, w, e, n);
    tql2(a, w, e, n);
    free(e);
}

/* The Gram matrix g (P, P) = sum over the images of p p^T, of the pixels as integers: exact.
 * Blocks of images are transposed to pixel-major 16-bit rows so that each entry is a dot product
 * over the block, short enough for 32-bit sums (BLOCK * 255^2 < 2^31). */
enum { BLOCK = 1024 };
static void gram(int64_t *g /* (P, P) */, const uint8_t *images, const int *subset, int n, int P) {
    int16_t *t = xmalloc((size_t)P * BLOCK * sizeof *t); /* (P, BLOCK) */
    memset(g, 0, (size_t)P * P * sizeof *g);
    for (int first = 0; first < n; first += BLOCK) {
        int nb = n - first < BLOCK ? n - first : BLOCK;
        for (int b = 0; b < nb; b++) {
            const uint8_t *img = images + (size_t)(subset ? subset[first + b] : first + b) * P;
            for (int i = 0; i < P; i++) t[(size_t)i * BLOCK + b] = img[i];
        }
        for (int i = 0; i < P; i++) {
            const int16_t *ti = t + (size_t)i * BLOCK;
            for (int j = i; j < P; j++) {
                const int16_t *tj = t + (size_t)j * BLOCK;
                int32_t s = 0;
                for (int b = 0; b < nb; b++) s += ti[b] * tj[b];
                g[(size_t)i * P + j] += s;
            }
        }
    }
    for (int i = 0; i < P; i++)
        for (int j = 0; j < i; j++) g[(size_t)i * P + j] = g[(size_t)j * P + i];
    free(t);
}

float *aug_fit(aug_config *c, const uint8_t *images, const int *subset, int n, int P) {
    if (!aug_config_needs_fit(c) || n <= 0) return NULL;
    /* np.mean and np.std over every pixel of every image (one channel), from exact sums. */
    uint64_t s1 = 0, s2 = 0;
    int64_t *col = xcalloc((size_t)P, sizeof *col); /* (P) per-pixel sums */
    for (int k = 0; k < n; k++) {
        const uint8_t *img = images + (size_t)(subset ? subset[k] : k) * P;
        for (int i = 0; i < P; i++) {
            s1 += img[i];
            s2 += (uint64_t)img[i] * img[i];
            col[i] += img[i];
        }
    }
    double count = (double)n * P, mean = (double)s1 / count / 255.0;
    double var = (double)s2 / count / (255.0 * 255.0) - mean * mean;
    if (c->featurewise_center) c->featurewise_mean = (float)mean;
    if (c->featurewise_std_normalization) c->featurewise_std = (float)sqrt(var > 0.0 ? var : 0.0);
    if (!c->zca_whitening) {
        free(col);
        return NULL;
    }
    /* Keras whitens the data as fit has left it: x' = (x - m) / (s + 1e-6), the centring and the
     * scaling each only when on. Then with flat_x' (n, P): u, s, _ = svd(flat_x'^T), thin, and
     * W = u diag(sqrt(n) / (s + epsilon)) u^T. The singular values are those of the eigenvalues
     * of C = flat_x'^T flat_x' / n, s = sqrt(n lambda), and the thin SVD keeps min(n, P) of them:
     * the largest. */
    double m = c->featurewise_center ? c->featurewise_mean : 0.0;
    double d = c->featurewise_std_normalization ? (double)(c->featurewise_std + 1e-6f) : 1.0;
    int64_t *g = xmalloc((size_t)P * P * sizeof *g); /* (P, P) */
    gram(g, images, subset, n, P);
    double *cov = xmalloc((size_t)P * P * sizeof *cov), *lambda = xmalloc((size_t)P * sizeof *lambda); /* (P, P), (P) */
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++)
            cov[(size_t)i * P + j] = ((double)g[(size_t)i * P + j] / (255.0 * 255.0) -
                                      m * (double)(col[i] + col[j]) / 255.0 + (double)n * m * m) / ((double)n * d * d);
    free(g);
    free(col);
    sym_eigen(cov, lambda, P);
    double *w = xcalloc((size_t)P * P, sizeof *w); /* (P, P) */
    int keep = n < P ? n : P;
    for (int k = P - keep; k < P; k++) {
        double s = sqrt((double)n * (lambda[k] > 0.0 ? lambda[k] : 0.0));
        double f = sqrt((double)n) / (s + (double)c->zca_epsilon);
        const double *uk = cov + (size_t)k * P;
        for (int i = 0; i < P; i++) {
            double fi = f * uk[i];
            double *wi = w + (size_t)i * P;
            for (int j = 0; j < P; j++) wi[j] += fi * uk[j];
        }
    }
    free(cov);
    free(lambda);
    float *out = xmalloc((size_t)P * P * sizeof *out);
    for (size_t i = 0; i < (size_t)P * P; i++) out[i] = (float)w[i];
    free(w);
    return out;
}
