/* The network's input pipeline (model/prep): datagen.fit's statistics and the ZCA product on the
 * device against the C reference followed by x @ W in double, for training batches (random
 * transform, then standardize) and test batches (standardize alone, as Keras' standardize does
 * at evaluation); no configuration is the plain gather, bit for bit. */
/* ctest: labels=kernel timeout=60 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/data/dataset.h"
#include "claug/model/prep.h"
#include "tol.h"

enum { N = 4096, FIT = 3000, B = 32 };

static clrt *rt;

/* prep_batch's batch of order[0 .. B) (B, P) floats, caller frees. */
static float *device(prep *p, augmenter *a, batcher *g, const devset *d, const int *order, bool train, uint32_t epoch) {
    size_t P = (size_t)d->rows * d->cols;
    cl_mem ob = clrt_alloc(rt, B * sizeof(int)), x = clrt_alloc(rt, B * P * sizeof(float)),
           y = clrt_alloc(rt, B * sizeof(int));
    clrt_write(rt, ob, 0, B * sizeof(int), order);
    prep_batch(p, a, g, x, y, d, ob, 0, B, train, 9, epoch, "test");
    float *out = xmalloc(B * P * sizeof *out);
    clrt_read(rt, x, 0, B * P * sizeof *out, out);
    CL_CHECK(clReleaseMemObject(ob));
    CL_CHECK(clReleaseMemObject(x));
    CL_CHECK(clReleaseMemObject(y));
    return out;
}

/* The reference: ref_augment_image with the training configuration's draw (train) or none,
 * then, with ZCA, x @ W in double. gain (B, P) gets how much standardize's product can enlarge
 * an error of the transformed pixels (the row sums of |W|; 1 without ZCA). */
static float *reference(const prep *p, const uint8_t *pixels, const int *order, int H, int W, bool train,
                        uint32_t epoch, float *gain) {
    size_t P = (size_t)H * W;
    float *out = xmalloc(B * P * sizeof *out), *x = xmalloc(P * sizeof *x);
    const aug_config *c = train ? &p->train : &p->test;
    for (int b = 0; b < B; b++) {
        aug_params q = aug_draw(c, 9, epoch, (uint32_t)order[b], H, W);
        ref_augment_image(x, pixels + (size_t)order[b] * P, H, W, c, &q);
        for (size_t i = 0; i < P; i++) {
            double acc = p->zca_matrix ? 0 : x[i], g = 0;
            for (size_t j = 0; p->zca_matrix && j < P; j++) {
                acc += (double)x[j] * p->zca_matrix[j * P + i];
                g += fabs(p->zca_matrix[j * P + i]);
            }
            out[b * P + i] = (float)acc;
            gain[b * P + i] = p->zca_matrix ? (float)g : 1.0f;
        }
    }
    free(x);
    return out;
}

/* |got - want| / gain: the error in the units of the transformed pixels. */
static double worst_scaled(const float *got, const float *want, const float *gain, size_t n) {
    double w = 0;
    for (size_t i = 0; i < n; i++) w = fmax(w, fabs((double)got[i] - want[i]) / gain[i]);
    return w;
}

int main(void) {
    dataset ds;
    char err[512];
    if (!dataset_load(&ds, dataset_default_dir(), err, sizeof err)) die(1, "%s", err);
    rt = clrt_open(NULL, NULL);
    int H = ds.rows, W = ds.cols, P = H * W;
    idx_array im = {N, (uint32_t)H, (uint32_t)W, ds.train_images.data}, lb = {N, 1, 1, ds.train_labels.data};
    devset d;
    devset_upload(&d, rt, &im, &lb);
    augmenter a;
    batcher g;
    augment_init(&a, rt);
    batcher_init(&g, rt);
    int order[B];
    for (int b = 0; b < B; b++) order[b] = (b * 389 + 17) % N;
    float *gain = xmalloc((size_t)B * P * sizeof *gain);

    /* None: the plain gather. */
    aug_config c;
    aug_config_default(&c);
    prep p;
    prep_init(&p, rt, &c, ds.train_images.data, NULL, FIT, P);
    float *got = device(&p, &a, &g, &d, order, true, 0), *want = xmalloc((size_t)B * P * sizeof *want);
    for (int b = 0; b < B; b++) ref_normalize(want + (size_t)b * P, ds.train_images.data + (size_t)order[b] * P, P);
    check_same("no configuration: the gather", got, want, (size_t)B * P * sizeof *got);
    CHECK(p.zca == NULL && p.raw == NULL, "no configuration allocates nothing");
    free(got);
    free(want);
    prep_release(&p);

    /* A rotation, samplewise and featurewise, then ZCA (and Keras' implications). */
    const struct {
        const char *what;
        int samplewise, featurewise, zca;
    } cases[] = {{"samplewise", 1, 0, 0}, {"featurewise", 0, 1, 0}, {"zca", 0, 0, 1}, {"samplewise + zca", 1, 0, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        aug_config_default(&c);
        c.rotation_range = 25;
        c.channel_shift_range = 0.1f;
        c.samplewise_std_normalization = cases[k].samplewise;
        c.featurewise_std_normalization = cases[k].featurewise;
        c.zca_whitening = cases[k].zca;
        aug_config_imply(&c);
        prep_init(&p, rt, &c, ds.train_images.data, NULL, FIT, P);
        CHECK(!c.featurewise_center || p.train.featurewise_mean > 0.2f, "%s: mean %g", cases[k].what,
              p.train.featurewise_mean);
        CHECK(p.test.rotation_range == 0 && p.test.channel_shift_range == 0 &&
                  p.test.samplewise_center == p.train.samplewise_center &&
                  p.test.featurewise_mean == p.train.featurewise_mean && p.test.zca_whitening == p.train.zca_whitening,
              "%s: the test configuration is not the standardization alone", cases[k].what);
        for (int train = 1; train >= 0; train--) {
            got = device(&p, &a, &g, &d, order, train, 3);
            want = reference(&p, ds.train_images.data, order, H, W, train, 3, gain);
            double e = worst_scaled(got, want, gain, (size_t)B * P);
            printf("%-18s %s batch: largest |device - reference| / gain %.2e\n", cases[k].what,
                   train ? "training" : "test", e);
            CHECK(e <= TOL_STANDARDIZE_ATOL, "%s %s: error %g", cases[k].what, train ? "training" : "test", e);
            free(got);
            free(want);
        }
        prep_release(&p);
    }

    free(gain);
    batcher_release(&g);
    augment_release(&a);
    devset_release(&d);
    clrt_close(rt);
    dataset_free(&ds);
    return check_done("test_prep");
}
