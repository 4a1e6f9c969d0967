/* `claug augment`: what the augmentation does to one training image, drawn by the device kernel
 * exactly as training draws it (augmentation k is that of epoch k - 1, Keras' "Epoch k"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/cli/preview.h"
#include "claug/data/augment.h"
#include "claug/data/dataset.h"
#include "claug/model/prep.h"
#include "claug/report/canvas.h"
#include "claug/util/json.h"

enum { SCALE = 4, PAD = 14, TEXT_SCALE = 2 };

static const uint8_t BLACK[3] = {0, 0, 0}, GREY[3] = {90, 90, 90};

/* The original and the n augmentations (n + 1, H, W) in a row, captioned, under a title. */
static void preview_png(const char *path, const float *pics, int n, int H, int W, const char *title,
                        const char *config) {
    int cell = W * SCALE, text_h = FONT_H * TEXT_SCALE;
    int width = PAD + (n + 1) * (cell + PAD);
    int title_w = PAD + canvas_text_width(title, TEXT_SCALE) + PAD, config_w = PAD + canvas_text_width(config, 1) + PAD;
    if (title_w > width) width = title_w;
    if (config_w > width) width = config_w;
    int top = PAD + text_h + PAD / 2 + FONT_H + PAD;
    canvas c = canvas_new(width, top + H * SCALE + PAD + text_h + PAD, 255);
    canvas_text(&c, PAD, PAD, title, TEXT_SCALE, BLACK);
    canvas_text(&c, PAD, PAD + text_h + PAD / 2, config, 1, GREY);
    for (int k = 0; k <= n; k++) {
        int x = PAD + k * (cell + PAD);
        canvas_image(&c, x, top, pics + (size_t)k * H * W, W, H, SCALE);
        char caption[32];
        if (k == 0)
            snprintf(caption, sizeof caption, "original");
        else
            snprintf(caption, sizeof caption, "epoch %d", k);
        canvas_text(&c, x + (cell - canvas_text_width(caption, TEXT_SCALE)) / 2, top + H * SCALE + PAD, caption,
                    TEXT_SCALE, BLACK);
    }
    bool ok = canvas_write_png(&c, path);
    canvas_free(&c);
    if (!ok) die(EXIT_USAGE, "-o %s: cannot write: %s", path, strerror(errno));
}

static void dump_write(const char *dir, const char *name, const void *data, size_t len) {
    char *path = xasprintf("%s/%s", dir, name);
    if (!write_file(path, data, len)) die(EXIT_USAGE, "--dump %s: cannot write %s: %s", dir, path, strerror(errno));
    free(path);
}

/* Raw little-endian float32: an image (H, W), or the ZCA matrix (P, P). */
static void dump_pixels(const char *dir, const char *name, const float *x, int P) {
    uint8_t *bytes = xmalloc((size_t)P * 4);
    for (int i = 0; i < P; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        put_le32(bytes + 4 * (size_t)i, u);
    }
    dump_write(dir, name, bytes, (size_t)P * 4);
    free(bytes);
}

/* A number, or null when the option that makes it is off (Keras' None). */
static void json_float_or_null(json_writer *w, bool on, float v) {
    if (on)
        json_float(w, v);
    else
        json_null(w);
}

/* The drawn parameters under ImageDataGenerator.get_random_transform's names (the dictionary
 * apply_transform takes, None as null), what keyed them, and the generator's standardization
 * with datagen.fit's statistics (c is fitted). */
static void dump_params(const char *dir, int k, const aug_params *p, const aug_config *c, uint64_t seed, int index,
                        uint32_t epoch, int label, int H, int W) {
    char *config = aug_config_describe(c);
    strbuf b = {0};
    json_writer w;
    json_init(&w, &b);
    json_object_begin(&w);
    json_int(json_key(&w, "index"), index);
    json_uint(json_key(&w, "epoch"), epoch);
    json_uint(json_key(&w, "seed"), seed);
    json_array_begin_inline(json_key(&w, "shape"));
    json_int(&w, H);
    json_int(&w, W);
    json_array_end(&w);
    json_int(json_key(&w, "label"), label);
    json_string(json_key(&w, "class"), class_names[label % NUM_CLASSES]);
    json_string(json_key(&w, "augmentation"), config);
    json_string(json_key(&w, "fill_mode"), aug_fill_mode_name(c->fill_mode));
    json_float(json_key(&w, "cval"), c->cval);
    json_int(json_key(&w, "interpolation_order"), c->interpolation_order);
    const struct {
        const char *key;
        float v;
    } drawn[] = {{"theta", p->theta}, {"tx", p->tx}, {"ty", p->ty}, {"shear", p->shear}, {"zx", p->zx}, {"zy", p->zy}};
    for (size_t i = 0; i < sizeof drawn / sizeof *drawn; i++) json_float(json_key(&w, drawn[i].key), drawn[i].v);
    json_bool(json_key(&w, "flip_horizontal"), p->flip_h);
    json_bool(json_key(&w, "flip_vertical"), p->flip_v);
    json_float_or_null(json_key(&w, "brightness"), aug_config_brightness_on(c), p->brightness);
    json_float_or_null(json_key(&w, "channel_shift_intensity"), c->channel_shift_range != 0.0f, p->channel_shift);
    json_object_begin(json_key(&w, "standardize"));
    json_bool(json_key(&w, "samplewise_center"), c->samplewise_center);
    json_bool(json_key(&w, "samplewise_std_normalization"), c->samplewise_std_normalization);
    json_bool(json_key(&w, "featurewise_center"), c->featurewise_center);
    json_bool(json_key(&w, "featurewise_std_normalization"), c->featurewise_std_normalization);
    json_bool(json_key(&w, "zca_whitening"), c->zca_whitening);
    json_float(json_key(&w, "zca_epsilon"), c->zca_epsilon);
    json_float_or_null(json_key(&w, "mean"), c->featurewise_center, c->featurewise_mean);
    json_float_or_null(json_key(&w, "std"), c->featurewise_std_normalization, c->featurewise_std);
    json_string(json_key(&w, "zca_whitening_matrix"), c->zca_whitening ? "zca.f32" : NULL);
    json_object_end(&w);
    json_object_end(&w);
    sb_putc(&b, '\n');
    char name[32];
    snprintf(name, sizeof name, "aug-%d.json", k);
    dump_write(dir, name, b.data, b.len);
    free(b.data);
    free(config);
}

/* pics (n + 1, H, W): the original, then augmentation k drawn by the device kernel for epoch
 * k - 1 and standardized as training does (pp fitted on the whole training set). The whole
 * training set goes up, so the kernel draws with the image's dataset index as training does. */
static void draw_on_device(float *pics, clrt *rt, prep *pp, const uint8_t *images, const uint8_t *labels, int count,
                           int H, int W, uint64_t seed, int index, int n) {
    int P = H * W;
    devset d = {.count = count, .rows = H, .cols = W};
    d.images = clrt_alloc(rt, (size_t)count * P);
    d.labels = clrt_alloc(rt, (size_t)count);
    clrt_write(rt, d.images, 0, (size_t)count * P, images);
    clrt_write(rt, d.labels, 0, (size_t)count, labels);
    augmenter a;
    batcher g;
    augment_init(&a, rt);
    batcher_init(&g, rt);
    cl_mem order = clrt_alloc(rt, sizeof(int)), x = clrt_alloc(rt, (size_t)P * sizeof(float)),
           y = clrt_alloc(rt, sizeof(int));
    clrt_write(rt, order, 0, sizeof(int), &index);
    ref_normalize(pics, images + (size_t)index * P, P);
    for (int k = 1; k <= n; k++) {
        prep_batch(pp, &a, &g, x, y, &d, order, 0, 1, true, seed, (uint32_t)(k - 1), "augment");
        clrt_read(rt, x, 0, (size_t)P * sizeof(float), pics + (size_t)k * P);
    }
    CL_CHECK(clReleaseMemObject(order));
    CL_CHECK(clReleaseMemObject(x));
    CL_CHECK(clReleaseMemObject(y));
    batcher_release(&g);
    augment_release(&a);
    devset_release(&d);
}

/* Standardized images leave [0, 1]: each is shown stretched over its own range, as Keras'
 * array_to_img(scale=True) shows it. */
static void stretch(float *x /* (P) */, int P) {
    float lo = x[0], hi = x[0];
    for (int i = 1; i < P; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    for (int i = 0; i < P; i++) x[i] = hi > lo ? (x[i] - lo) / (hi - lo) : 0.0f;
}

void augment_preview(clrt *rt, const uint8_t *images, const uint8_t *labels, int count, int H, int W,
                     const aug_config *c, uint64_t seed, int index, int n, const char *png_path, const char *dump_dir,
                     bool quiet) {
    if (index < 0 || index >= count)
        die(EXIT_USAGE, "-i/--index %d: out of range: the training set has %d images (0 to %d)", index, count, count - 1);
    if (dump_dir && !make_dirs(dump_dir)) die(EXIT_USAGE, "--dump %s: cannot write: %s", dump_dir, strerror(errno));
    int P = H * W;
    float *pics = xmalloc((size_t)(n + 1) * P * sizeof *pics); /* (n + 1, H, W): the original, then epochs */
    prep pp; /* datagen.fit on the whole training set */
    prep_init(&pp, rt, c, images, NULL, count, P);
    draw_on_device(pics, rt, &pp, images, labels, count, H, W, seed, index, n);

    int label = labels[index];
    char *config = aug_config_describe(c);
    char *title = xasprintf("%s (training image %d)", class_names[label % NUM_CLASSES], index);
    bool standardized = aug_config_standardizes(c);
    char *config_line = xasprintf("augmentation: %s%s", config, standardized ? " (each shown over its own range)" : "");
    float *shown = xmalloc((size_t)(n + 1) * P * sizeof *shown); /* (n + 1, H, W) */
    memcpy(shown, pics, (size_t)(n + 1) * P * sizeof *shown);
    for (int k = 1; standardized && k <= n; k++) stretch(shown + (size_t)k * P, P);
    preview_png(png_path, shown, n, H, W, title, config_line);
    free(shown);
    if (dump_dir) {
        dump_pixels(dump_dir, "original.f32", pics, P);
        if (pp.zca_matrix) dump_pixels(dump_dir, "zca.f32", pp.zca_matrix, P * P);
        for (int k = 1; k <= n; k++) {
            aug_params p = aug_draw(c, seed, (uint32_t)(k - 1), (uint32_t)index, H, W);
            dump_params(dump_dir, k, &p, &pp.train, seed, index, (uint32_t)(k - 1), label, H, W);
            char name[32];
            snprintf(name, sizeof name, "aug-%d.f32", k);
            dump_pixels(dump_dir, name, pics + (size_t)k * P, P);
        }
    }
    if (!quiet) {
        if (!aug_config_active(c)) printf("Every augmentation range is zero: every augmentation equals the original.\n");
        printf("Wrote %s (training image %d, %s: the original and %d augmentations; augmentation: %s)\n", png_path,
               index, class_names[label % NUM_CLASSES], n, config);
        if (dump_dir) printf("Wrote %d parameter files and %d images to %s\n", n, n + 1, dump_dir);
    }

    free(title);
    free(config_line);
    free(config);
    free(pics);
    prep_release(&pp);
}
