/* The .npz's layouts, without a device: weights whose every value names its place in claug's
 * layout are exported, and each array, read back as bytes, holds at each Keras index the value
 * Keras' layout puts there (convolutions (kh, kw, in, out); dense kernels (in, units), their rows
 * in Flatten's (h, w, c) order wherever the input is an image: after flatten, after a dropout
 * behind it, right after a convolution, as the first layer; a vector after another dense), with
 * a few entries worked out by hand; then the archive reads back to the same tensors. Also what a
 * zip of stored members must hold, byte for byte, and the .npy headers' 64-byte alignment. */
/* ctest: labels=host timeout=60 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "claug/model/net.h"
#include "claug/model/npz.h"
#include "claug/util/zip.h"

/* The value of claug's element (a, b, c, d) of tensor t: its position, readable in decimal. */
static float code(int t, int a, int b, int c, int d) { return (float)(t * 10000 + a * 1000 + b * 100 + c * 10 + d); }

/* Weights for model spec on (c, h, w) inputs whose elements are code(tensor, claug indices). */
static void make(weights_file *f, const char *spec, int c, int h, int w, int classes) {
    layer *L;
    int nl;
    char *canon, err[256];
    CHECK(model_parse(spec, c, h, w, classes, &L, &nl, &canon, err, sizeof err), "%s", err);
    memset(f, 0, sizeof *f);
    f->model = canon, f->c = c, f->h = h, f->w = w, f->classes = classes;
    weights_desc d[32];
    f->ntensors = weights_describe(d, L, nl);
    f->t = xcalloc((size_t)f->ntensors, sizeof *f->t);
    for (int i = 0; i < f->ntensors; i++) {
        weights_tensor *t = &f->t[i];
        memcpy(t->name, d[i].name, sizeof t->name);
        t->rank = d[i].rank;
        memcpy(t->dims, d[i].dims, sizeof t->dims);
        t->count = d[i].count;
        t->data = xmalloc(t->count * sizeof *t->data);
        int D[4] = {1, 1, 1, 1};
        for (int r = 0; r < t->rank; r++) D[4 - t->rank + r] = t->dims[r];
        for (size_t j = 0; j < t->count; j++) {
            int x = (int)(j % D[3]), y = (int)(j / D[3] % D[2]), b = (int)(j / D[3] / D[2] % D[1]),
                a = (int)(j / D[3] / D[2] / D[1]);
            t->data[j] = code(i, a, b, y, x);
        }
    }
    free(L);
}

/* Array `name` of the archive: its header's shape text and its float values (caller frees). */
static float *array(const uint8_t *zip, size_t len, const char *name, char *shape, size_t shape_len, size_t *n) {
    zip_archive z;
    char why[256], member[128];
    snprintf(member, sizeof member, "%s.npy", name);
    *n = 0;
    shape[0] = 0;
    if (!zip_open(&z, zip, len, why, sizeof why)) {
        CHECK(false, "%s", why);
        return NULL;
    }
    float *v = NULL;
    for (int i = 0; i < z.count; i++) {
        if (strcmp(z.m[i].name, member) != 0) continue;
        uint8_t *b;
        size_t blen;
        CHECK(z.m[i].method == 0, "%s is not stored", member);
        if (!zip_extract(&z, i, SIZE_MAX - 1, &b, &blen, why, sizeof why)) break;
        size_t hlen = (size_t)(b[8] | b[9] << 8);
        CHECK(memcmp(b, "\x93NUMPY\x01\x00", 8) == 0 && (10 + hlen) % 64 == 0 && b[10 + hlen - 1] == '\n',
              "%s: header not NumPy 1.0 aligned to 64", member);
        char *h = xmalloc(hlen + 1);
        memcpy(h, b + 10, hlen);
        h[hlen] = 0;
        CHECK(strstr(h, "'descr': '<f4', 'fortran_order': False"), "%s header: %s", member, h);
        const char *s = strstr(h, "'shape': ");
        if (s) snprintf(shape, shape_len, "%.*s", (int)(strchr(s, ')') - s - 9), s + 9);
        free(h);
        *n = (blen - 10 - hlen) / 4;
        v = xmalloc(*n * sizeof *v);
        memcpy(v, b + 10 + hlen, *n * 4); /* the test runs on a little-endian host, as the file is */
        free(b);
    }
    zip_close(&z);
    CHECK(v != NULL, "no array %s", name);
    return v;
}

/* Checks every element of kernel tensor t (claug dims d, rank r) at its Keras index. For a
 * dense kernel, (C, H, W) is the image its input flattens. */
static void check_kernel(const uint8_t *zip, size_t len, const weights_file *f, int t, int C, int H, int W) {
    const weights_tensor *w = &f->t[t];
    char shape[64], want[64];
    size_t n;
    float *k = array(zip, len, w->name, shape, sizeof shape, &n);
    if (!k) return;
    int bad = 0;
    if (w->rank == 4) {
        int O = w->dims[0], I = w->dims[1], K = w->dims[2];
        snprintf(want, sizeof want, "(%d, %d, %d, %d", K, K, I, O);
        for (int y = 0; y < K; y++)
            for (int x = 0; x < K; x++)
                for (int i = 0; i < I; i++)
                    for (int o = 0; o < O; o++) bad += k[((y * K + x) * I + i) * O + o] != code(t, 0, 0, 0, 0) + code(0, o, i, y, x);
    } else {
        int U = w->dims[0], N = w->dims[1];
        CHECK(C * H * W == N, "%s: image %dx%dx%d for %d inputs", w->name, C, H, W, N);
        snprintf(want, sizeof want, "(%d, %d", N, U);
        /* Keras' row r of Flatten over (h, w, c): r = (y W + x) C + c; claug's column (c H + y) W + x. */
        for (int r = 0; r < N; r++) {
            int c = r % C, x = r / C % W, y = r / C / W;
            for (int u = 0; u < U; u++) bad += k[r * U + u] != f->t[t].data[u * N + (c * H + y) * W + x];
        }
    }
    CHECK(strcmp(shape, want) == 0, "%s: shape %s), want %s)", w->name, shape, want);
    CHECK(bad == 0 && n == w->count, "%s: %d of %zu values misplaced", w->name, bad, n);
    printf("  %-16s Keras %s), %zu values in place\n", w->name, want, n);
    free(k);
}

static void round_trip(const uint8_t *zip, size_t len, const weights_file *f) {
    weights_file g;
    char err[512];
    CHECK(npz_parse(&g, zip, len, "x.npz", err, sizeof err), "%s", err);
    if (g.ntensors != f->ntensors) return;
    CHECK(strcmp(g.model, f->model) == 0 && g.c == f->c && g.h == f->h && g.w == f->w && g.classes == f->classes,
          "read back: model '%s' %dx%dx%d %d classes", g.model, g.c, g.h, g.w, g.classes);
    for (int i = 0; i < f->ntensors; i++)
        check_same(f->t[i].name, g.t[i].data, f->t[i].data, f->t[i].count * sizeof(float));
    weights_free(&g);
}

static uint8_t *export(const weights_file *f, size_t *len) {
    char *path = xasprintf("%s/m.npz", scratch_dir("npz-layout")), err[512];
    CHECK(npz_save(f, "m.weights", path, err, sizeof err), "%s", err);
    uint8_t *b = (uint8_t *)slurp(path, len);
    free(path);
    return b;
}

typedef struct {
    const char *spec;
    int c, h, w, classes;
    int images[4][3]; /* per dense layer in order, the (C, H, W) its input flattens */
} model_case;

int main(void) {
    const model_case cases[] = {
        {"conv2x2,relu,flatten,dense3,softmax", 2, 3, 3, 3, {{2, 2, 2}}},
        {"conv2x2,maxpool2,dropout0.5,flatten,dropout0.5,dense4,relu,dense3,softmax", 2, 5, 5, 3, {{2, 2, 2}, {4, 1, 1}}},
        {"conv3x2,dense3,softmax", 2, 3, 4, 3, {{3, 2, 3}}},
        {"dense3,softmax", 2, 2, 3, 3, {{2, 2, 3}}},
    };
    for (size_t m = 0; m < sizeof cases / sizeof cases[0]; m++) {
        const model_case *mc = &cases[m];
        printf("%s on %dx%dx%d:\n", mc->spec, mc->c, mc->h, mc->w);
        weights_file f;
        make(&f, mc->spec, mc->c, mc->h, mc->w, mc->classes);
        size_t len;
        uint8_t *zip = export(&f, &len);
        int dense = 0;
        for (int t = 0; zip && t < f.ntensors; t += 2) {
            const int *img = mc->images[dense];
            check_kernel(zip, len, &f, t, img[0], img[1], img[2]);
            dense += f.t[t].rank == 2;
        }
        if (zip) round_trip(zip, len, &f);
        if (zip && m == 0) {
            /* By hand, the first model: conv2d/kernel (kh 2, kw 2, in 2, out 2) at [0][1][1][0] is claug's
             * (o 0, i 1, y 0, x 1); dense/kernel (8, 3) row 1 is (y 0, x 0, c 1): claug's column 4. */
            char shape[64];
            size_t n;
            float *k = array(zip, len, "conv2d/kernel", shape, sizeof shape, &n);
            CHECK(k && n == 16 && k[((0 * 2 + 1) * 2 + 1) * 2 + 0] == 101.0f, "conv2d/kernel[0][1][1][0] = %g, want 101",
                  k ? (double)k[6] : -1.0);
            free(k);
            k = array(zip, len, "dense/kernel", shape, sizeof shape, &n);
            CHECK(k && n == 24 && k[1 * 3 + 2] == f.t[2].data[2 * 8 + 4] && k[1 * 3 + 2] == 20024.0f,
                  "dense/kernel[1][2] = %g, want claug's (2, 4) = 20024", k ? (double)k[5] : -1.0);
            free(k);
            /* The model string, 0-d '<U', and input_shape (h, w, c) int32. */
            zip_archive z;
            char why[128];
            CHECK(zip_open(&z, zip, len, why, sizeof why), "%s", why);
            int found = 0;
            for (int i = 0; i < z.count; i++) {
                uint8_t *b;
                size_t blen;
                if (strcmp(z.m[i].name, "model.npy") && strcmp(z.m[i].name, "input_shape.npy")) continue;
                if (!zip_extract(&z, i, 1 << 20, &b, &blen, why, sizeof why)) continue;
                size_t hlen = (size_t)(b[8] | b[9] << 8);
                if (strcmp(z.m[i].name, "model.npy") == 0) {
                    char descr[48];
                    snprintf(descr, sizeof descr, "'descr': '<U%zu'", strlen(f.model));
                    CHECK(memmem(b + 10, hlen, descr, strlen(descr)) && memmem(b + 10, hlen, "'shape': ()", 11),
                          "model.npy header: %.*s", (int)hlen, b + 10);
                    CHECK(blen - 10 - hlen == 4 * strlen(f.model) && b[10 + hlen] == 'c' && b[10 + hlen + 1] == 0 &&
                              b[10 + hlen + 4] == 'o',
                          "model.npy is not UTF-32LE '%s'", f.model);
                } else {
                    CHECK(memmem(b + 10, hlen, "'descr': '<i4'", 14) && memmem(b + 10, hlen, "'shape': (3,)", 13) &&
                              blen - 10 - hlen == 12 && get_le32(b + 10 + hlen) == 3 && get_le32(b + 14 + hlen) == 3 &&
                              get_le32(b + 18 + hlen) == 2,
                          "input_shape.npy is not (3, 3, 2) int32");
                }
                found++;
                free(b);
            }
            CHECK(found == 2, "model.npy and input_shape.npy: %d found", found);
            zip_close(&z);
        }
        free(zip);
        weights_free(&f);
    }

    /* A zip of stored members as APPNOTE lays it out: local header, name, data; the central
     * directory; the end record. */
    const zip_entry e[2] = {{"a.npy", "xyz", 3}, {"bb", "", 0}};
    size_t len;
    uint8_t *z = zip_build(e, 2, &len);
    CHECK(len == (30 + 5 + 3) + (30 + 2) + (46 + 5) + (46 + 2) + 22, "zip of 2 members: %zu bytes", len);
    CHECK(get_le32(z) == 0x04034b50 && get_le32(z + 14) == (uint32_t)crc32(0L, (const Bytef *)"xyz", 3) &&
              get_le32(z + 18) == 3 && get_le32(z + 22) == 3 && memcmp(z + 30, "a.npy", 5) == 0 &&
              memcmp(z + 35, "xyz", 3) == 0,
          "first local header");
    CHECK(get_le32(z + 70) == 0x02014b50 && get_le32(z + 70 + 42) == 0 && get_le32(z + 70 + 51 + 42) == 38,
          "central directory offsets");
    CHECK(get_le32(z + len - 22) == 0x06054b50 && get_le32(z + len - 6) == 70 && get_le32(z + len - 10) == 99,
          "end record");
    free(z);
    return check_done("test_npz_layout");
}
