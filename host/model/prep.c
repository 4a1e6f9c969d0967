#include "claug/model/prep.h"

#include <stdlib.h>
#include <string.h>

#include "claug/data/fit.h"
#include "claug/util/util.h"

void prep_init(prep *p, clrt *rt, const aug_config *c, const uint8_t *images, const int *subset, int n, int P) {
    memset(p, 0, sizeof *p);
    p->rt = rt;
    p->P = P;
    p->train = *c;
    p->zca_matrix = aug_fit(&p->train, images, subset, n, P);
    p->test = aug_config_eval(&p->train);
    dense_init(&p->dense, rt, NULL); /* the GEMM alone: no bias, no activation */
    if (p->zca_matrix) {
        size_t bytes = (size_t)P * P * sizeof(float);
        p->zca = clrt_alloc(rt, bytes);
        clrt_write(rt, p->zca, 0, bytes, p->zca_matrix);
    }
}

void prep_release(prep *p) {
    if (p->zca) CL_CHECK(clReleaseMemObject(p->zca));
    if (p->raw) CL_CHECK(clReleaseMemObject(p->raw));
    dense_release(&p->dense);
    free(p->zca_matrix);
    memset(p, 0, sizeof *p);
}

void prep_batch(prep *p, augmenter *a, batcher *g, cl_mem x, cl_mem y, const devset *d, cl_mem order, int first,
                int B, bool train, uint64_t seed, uint32_t epoch, const char *tag) {
    const aug_config *c = train ? &p->train : &p->test;
    bool whiten = p->zca != NULL;
    if (whiten && B > p->raw_rows) { /* grown once, to the largest batch */
        if (p->raw) CL_CHECK(clReleaseMemObject(p->raw));
        p->raw = clrt_alloc(p->rt, (size_t)B * p->P * sizeof(float));
        p->raw_rows = B;
    }
    cl_mem dst = whiten ? p->raw : x; /* (B, P) */
    if (aug_config_active(c))
        augment_gather(a, dst, y, d, order, first, B, c, seed, epoch, tag);
    else
        batcher_gather(g, dst, y, d, order, first, B);
    /* Keras' flat_x @ W; W is symmetric, so the layout of its transpose is its own. */
    if (whiten)
        CLBLAST_CHECK(dense_gemm(&p->dense, false, false, (size_t)B, (size_t)p->P, (size_t)p->P, p->raw, p->zca, x, "zca"));
}
