#include "claug/data/batch.h"

void devset_upload(devset *d, clrt *rt, const idx_array *images, const idx_array *labels) {
    d->count = (int)images->count;
    d->rows = (int)images->rows;
    d->cols = (int)images->cols;
    size_t bytes = (size_t)d->count * (size_t)d->rows * (size_t)d->cols;
    d->images = clrt_alloc(rt, bytes);
    d->labels = clrt_alloc(rt, (size_t)d->count);
    clrt_write(rt, d->images, 0, bytes, images->data);
    clrt_write(rt, d->labels, 0, (size_t)d->count, labels->data);
}

void devset_release(devset *d) {
    if (d->images) CL_CHECK(clReleaseMemObject(d->images));
    if (d->labels) CL_CHECK(clReleaseMemObject(d->labels));
    d->images = d->labels = NULL;
}

enum { GATHER };

void batcher_init(batcher *b, clrt *rt) {
    clrt_kernels_init(&b->ks, rt, "data.cl", NULL, (const char *const[]){[GATHER] = "gather_batch", NULL});
}

void batcher_release(batcher *b) { clrt_kernels_release(&b->ks); }

void batcher_gather(batcher *b, cl_mem x, cl_mem y, const devset *d, cl_mem order, int first, int B) {
    int P = d->rows * d->cols;
    cl_kernel k = b->ks.k[GATHER];
    KARGS(k, ARG_MEM(x), ARG_MEM(y), ARG_MEM(d->images), ARG_MEM(d->labels), ARG_MEM(order), ARG_INT(first),
          ARG_INT(B), ARG_INT(P));
    clrt_launch(b->ks.rt, k, 2, (size_t[]){(size_t)P, (size_t)B}, (size_t[]){b->ks.rt->wg_1d, 1}, "gather");
}

void ref_normalize(float *x, const uint8_t *pixels, int P) {
    for (int i = 0; i < P; i++) x[i] = (float)pixels[i] * (1.0f / 255.0f);
}
