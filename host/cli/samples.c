#include "claug/cli/samples.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/data/batch.h"
#include "claug/report/canvas.h"

enum { SCALE = 4, PAD = 14, TEXT_SCALE = 2 };

bool samples_png(const char *path, const float *images, const uint8_t *labels, int n, int rows, int cols) {
    int cell = cols * SCALE;
    for (int i = 0; i < n; i++) {
        int tw = canvas_text_width(class_names[labels[i]], TEXT_SCALE);
        if (tw > cell) cell = tw;
    }
    int text_h = FONT_H * TEXT_SCALE;
    canvas c = canvas_new(PAD + n * (cell + PAD), PAD + rows * SCALE + PAD + text_h + PAD, 255);
    for (int i = 0; i < n; i++) {
        int x = PAD + i * (cell + PAD);
        canvas_image(&c, x + (cell - cols * SCALE) / 2, PAD, images + (size_t)i * rows * cols, cols, rows, SCALE);
        const char *name = class_names[labels[i]];
        canvas_text(&c, x + (cell - canvas_text_width(name, TEXT_SCALE)) / 2, PAD + rows * SCALE + PAD, name,
                    TEXT_SCALE, (const uint8_t[3]){0, 0, 0});
    }
    bool ok = canvas_write_png(&c, path);
    canvas_free(&c);
    return ok;
}

static void print_labels(const char *title, const uint8_t *labels, int n, bool names) {
    printf("%s [", title);
    for (int i = 0; i < n; i++) printf(i ? " %u" : "%u", labels[i]);
    printf("]");
    if (names) {
        printf("  (");
        for (int i = 0; i < n; i++) printf(i ? ", %s" : "%s", class_names[labels[i]]);
        printf(")");
    }
    printf("\n");
}

bool samples_run(clrt *rt, const dataset *ds, int n, const char *path, bool quiet) {
    if ((uint32_t)n > ds->train_images.count) n = (int)ds->train_images.count;
    int P = ds->rows * ds->cols;
    /* Normalise on the device, through the same gather as training, so the picture shows what
     * the network sees. */
    devset d;
    devset_upload(&d, rt, &ds->train_images, &ds->train_labels);
    batcher b;
    batcher_init(&b, rt);
    int *order = xmalloc((size_t)n * sizeof *order);
    for (int i = 0; i < n; i++) order[i] = i;
    cl_mem order_buf = clrt_alloc(rt, (size_t)n * sizeof *order), x = clrt_alloc(rt, (size_t)n * P * sizeof(float)),
           y = clrt_alloc(rt, (size_t)n * sizeof(int));
    clrt_write(rt, order_buf, 0, (size_t)n * sizeof *order, order);
    batcher_gather(&b, x, y, &d, order_buf, 0, n);
    float *images = xmalloc((size_t)n * P * sizeof *images);
    clrt_read(rt, x, 0, (size_t)n * P * sizeof *images, images);

    print_labels("Train labels:", ds->train_labels.data, n, true);
    int nt = ds->test_labels.count < 5 ? (int)ds->test_labels.count : 5;
    print_labels("Labels:", ds->test_labels.data, nt, false);
    bool ok = samples_png(path, images, ds->train_labels.data, n, ds->rows, ds->cols);
    int e = errno;
    if (ok && !quiet) printf("Wrote %s (the first %d training images)\n", path, n);

    free(images);
    free(order);
    CL_CHECK(clReleaseMemObject(order_buf));
    CL_CHECK(clReleaseMemObject(x));
    CL_CHECK(clReleaseMemObject(y));
    batcher_release(&b);
    devset_release(&d);
    errno = e;
    return ok;
}
