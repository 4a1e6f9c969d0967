#define _XOPEN_SOURCE 700 /* readlink, realpath */
#include "claug/data/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "claug/util/util.h"

const char *const class_names[NUM_CLASSES] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

const char *dataset_default_dir(void) {
    const char *env = getenv("CLAUG_DATA");
    if (env && *env) return env;
    /* A bundle made with `make bundle DATA=1` carries the files in share/fashion-mnist beside bin/. */
    static char bundled[4096];
    ssize_t n = readlink("/proc/self/exe", bundled, sizeof bundled - 64);
    if (n > 0) bundled[n] = 0;
    char *slash = n > 0 ? strrchr(bundled, '/') : NULL;
    if (slash) {
        strcpy(slash, "/../share/fashion-mnist");
        char *probe = xasprintf("%s/t10k-labels-idx1-ubyte.gz", bundled), *real = realpath(bundled, NULL);
        bool there = access(probe, F_OK) == 0 && real && strlen(real) < sizeof bundled;
        if (there) strcpy(bundled, real); /* messages name the file without bin/.. */
        free(probe);
        free(real);
        if (there) return bundled;
    }
    return "/usr/share/datasets/fashion-mnist";
}

/* The .gz file, or the uncompressed one when only that exists. */
static char *data_path(const char *dir, const char *base) {
    char *gz = xasprintf("%s/%s.gz", dir, base);
    char *plain = xasprintf("%s/%s", dir, base);
    if (access(gz, F_OK) != 0 && access(plain, F_OK) == 0) {
        free(gz);
        return plain;
    }
    free(plain);
    return gz;
}

static bool load_pair(idx_array *images, idx_array *labels, const char *dir, const char *img_base,
                      const char *lab_base, char *err, size_t errlen) {
    char *ip = data_path(dir, img_base), *lp = data_path(dir, lab_base);
    bool ok = idx_read(ip, IDX_IMAGES, images, err, errlen) && idx_read(lp, IDX_LABELS, labels, err, errlen);
    if (ok && images->count != labels->count) {
        snprintf(err, errlen, "%s holds %u labels but %s holds %u images", lp, labels->count, ip, images->count);
        ok = false;
    }
    for (uint32_t i = 0; ok && i < labels->count; i++)
        if (labels->data[i] >= NUM_CLASSES) {
            snprintf(err, errlen, "%s: label %u at index %u is not a class (0 to %d)", lp, labels->data[i], i,
                     NUM_CLASSES - 1);
            ok = false;
        }
    free(ip);
    free(lp);
    return ok;
}

bool dataset_load(dataset *ds, const char *dir, char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    bool ok = load_pair(&ds->train_images, &ds->train_labels, dir, "train-images-idx3-ubyte",
                        "train-labels-idx1-ubyte", err, errlen) &&
              load_pair(&ds->test_images, &ds->test_labels, dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                        err, errlen);
    if (ok && (ds->train_images.rows != ds->test_images.rows || ds->train_images.cols != ds->test_images.cols)) {
        snprintf(err, errlen, "%s: training images are %ux%u but test images are %ux%u", dir, ds->train_images.rows,
                 ds->train_images.cols, ds->test_images.rows, ds->test_images.cols);
        ok = false;
    }
    if (!ok) {
        dataset_free(ds);
        return false;
    }
    ds->rows = (int)ds->train_images.rows;
    ds->cols = (int)ds->train_images.cols;
    return true;
}

void dataset_load_or_die(dataset *ds, const char *dir) {
    char err[1024];
    if (!dataset_load(ds, dir, err, sizeof err))
        die(EXIT_USAGE, "--data %s: %s\n(Fashion-MNIST comes from the Debian package dataset-fashion-mnist; "
                        "--data DIR or $CLAUG_DATA points elsewhere.)", dir, err);
}

unsigned long dataset_fingerprint(const dataset *ds) {
    const idx_array *parts[] = {&ds->train_images, &ds->train_labels, &ds->test_images, &ds->test_labels};
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const uint8_t *p = parts[i]->data;
        /* crc32 takes at most 4 GiB - 1 bytes per call. */
        for (size_t left = (size_t)parts[i]->count * parts[i]->rows * parts[i]->cols; left;) {
            uInt n = left > (1u << 30) ? (1u << 30) : (uInt)left;
            crc = crc32(crc, p, n);
            p += n;
            left -= n;
        }
    }
    return crc;
}

void dataset_free(dataset *ds) {
    idx_free(&ds->train_images);
    idx_free(&ds->train_labels);
    idx_free(&ds->test_images);
    idx_free(&ds->test_labels);
}
