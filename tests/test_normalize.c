/* The batch gather (uint8 -> float / 255 by a shuffled index list) on the device against the
 * plain-C reference, bit for bit. */
/* ctest: labels=kernel timeout=60 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/data/batch.h"
#include "philox.h"

int main(void) {
    enum { COUNT = 37, H = 9, W = 11, P = H * W, B = 13 };
    idx_array images = {COUNT, H, W, xmalloc(COUNT * P)}, labels = {COUNT, 1, 1, xmalloc(COUNT)};
    for (int i = 0; i < COUNT * P; i++) images.data[i] = (uint8_t)(claug_random4(7, 1, (uint32_t)i, 0, 0).v[0] & 255);
    images.data[0] = 0;
    images.data[1] = 255;
    for (int i = 0; i < COUNT; i++) labels.data[i] = (uint8_t)(i % 10);
    int order[COUNT];
    for (int i = 0; i < COUNT; i++) order[i] = (i * 17 + 5) % COUNT; /* a permutation: 17 is prime to 37 */

    clrt *rt = clrt_open(NULL, NULL);
    devset d;
    devset_upload(&d, rt, &images, &labels);
    batcher bt;
    batcher_init(&bt, rt);
    cl_mem order_buf = clrt_alloc(rt, sizeof order), x = clrt_alloc(rt, B * P * sizeof(float)),
           y = clrt_alloc(rt, B * sizeof(int));
    clrt_write(rt, order_buf, 0, sizeof order, order);

    for (int first = 0; first + B <= COUNT; first += 11) {
        batcher_gather(&bt, x, y, &d, order_buf, first, B);
        float got[B * P], want[B * P];
        int gy[B], wy[B];
        clrt_read(rt, x, 0, sizeof got, got);
        clrt_read(rt, y, 0, sizeof gy, gy);
        for (int b = 0; b < B; b++) {
            ref_normalize(want + b * P, images.data + (size_t)order[first + b] * P, P);
            wy[b] = labels.data[order[first + b]];
        }
        check_same("gather_batch images vs ref_normalize", got, want, sizeof got);
        check_same("gather_batch labels", gy, wy, sizeof gy);
    }
    /* The scaling's end points are exact. */
    float e[2];
    ref_normalize(e, images.data, 2);
    CHECK(e[0] == 0.0f && e[1] == 1.0f, "0 -> %g, 255 -> %g", e[0], e[1]);

    CL_CHECK(clReleaseMemObject(order_buf));
    CL_CHECK(clReleaseMemObject(x));
    CL_CHECK(clReleaseMemObject(y));
    batcher_release(&bt);
    devset_release(&d);
    clrt_close(rt);
    idx_free(&images);
    idx_free(&labels);
    return check_done("test_normalize");
}
