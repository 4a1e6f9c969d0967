/* IDX reader: generated good files (plain and gzip) read back exactly; every malformed case is
 * refused with a message naming the file and the problem; the CLI exits 2 on such data. */
/* ctest: labels=host,e2e timeout=60 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "claug/data/dataset.h"
#include "claug/data/idx.h"

static const char *dir;

static char *path_of(const char *name) { return xasprintf("%s/%s", dir, name); }

static void write_raw(const char *name, const void *data, size_t n) {
    char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    CHECK(f && fwrite(data, 1, n, f) == n, "cannot write %s", p);
    if (f) fclose(f);
    free(p);
}

static void write_gz(const char *name, const void *data, size_t n) {
    char *p = path_of(name);
    gzFile f = gzopen(p, "wb");
    CHECK(f && gzwrite(f, data, (unsigned)n) == (int)n, "cannot write %s", p);
    if (f) gzclose(f);
    free(p);
}

/* An IDX file in memory: header (magic, count[, rows, cols]) then payload bytes. */
static uint8_t *make_idx(uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols, size_t payload, size_t *len) {
    int dims = magic == IDX_IMAGES ? 3 : 1;
    *len = 4 + 4 * (size_t)dims + payload;
    uint8_t *b = xcalloc(*len, 1);
    put_be32(b, magic);
    put_be32(b + 4, count);
    if (dims == 3) {
        put_be32(b + 8, rows);
        put_be32(b + 12, cols);
    }
    for (size_t i = 0; i < payload; i++) b[4 + 4 * dims + i] = (uint8_t)((i * 7 + 3) % 10);
    return b;
}

/* Reads `name` expecting failure with a message holding the file name and `phrase`. */
static void expect_error(const char *name, uint32_t magic, const char *phrase) {
    char *p = path_of(name), err[512] = "";
    idx_array a;
    bool ok = idx_read(p, magic, &a, err, sizeof err);
    CHECK(!ok, "%s: read succeeded, expected an error about '%s'", name, phrase);
    CHECK(strstr(err, p) != NULL, "%s: message does not name the file: %s", name, err);
    CHECK(strstr(err, phrase) != NULL, "%s: message lacks '%s': %s", name, phrase, err);
    CHECK(a.data == NULL && a.count == 0, "%s: output not empty after an error", name);
    printf("  %-22s -> %s\n", name, err);
    free(p);
}

static void test_good(void) {
    size_t n;
    uint8_t *img = make_idx(IDX_IMAGES, 3, 5, 4, 3 * 5 * 4, &n);
    write_raw("good-images", img, n);
    write_gz("good-images.gz", img, n);
    for (int gz = 0; gz < 2; gz++) {
        char *p = path_of(gz ? "good-images.gz" : "good-images"), err[512];
        idx_array a;
        bool ok = idx_read(p, IDX_IMAGES, &a, err, sizeof err);
        CHECK(ok, "%s: %s", p, err);
        if (ok) {
            CHECK(a.count == 3 && a.rows == 5 && a.cols == 4, "dims %u %u %u", a.count, a.rows, a.cols);
            check_same(gz ? "gzip images payload" : "plain images payload", a.data, img + 16, 60);
            idx_free(&a);
        }
        free(p);
    }
    free(img);
}

static void test_bad(void) {
    size_t n;
    uint8_t *img = make_idx(IDX_IMAGES, 4, 6, 6, 4 * 36, &n);
    write_gz("truncated-payload.gz", img, n - 10);
    expect_error("truncated-payload.gz", IDX_IMAGES, "truncated");
    write_gz("truncated-header.gz", img, 9);
    expect_error("truncated-header.gz", IDX_IMAGES, "truncated header");
    write_gz("trailing.gz", img, n); /* the header says 4 images; add bytes after them */
    {
        uint8_t *more = xcalloc(n + 5, 1);
        memcpy(more, img, n);
        write_gz("trailing.gz", more, n + 5);
        free(more);
    }
    expect_error("trailing.gz", IDX_IMAGES, "longer than the header");

    /* A gzip stream cut in the middle, and one with flipped bytes. */
    {
        char *p = path_of("cut.gz");
        write_gz("cut.gz", img, n);
        size_t len;
        char *z = slurp(p, &len);
        write_raw("cut.gz", z, len / 2);
        expect_error("cut.gz", IDX_IMAGES, "gzip");
        for (size_t i = 12; i < len - 8; i += 3) z[i] ^= 0x5a;
        write_raw("corrupt.gz", z, len);
        expect_error("corrupt.gz", IDX_IMAGES, "gzip");
        free(z);
        free(p);
    }
    write_raw("empty.gz", "", 0);
    expect_error("empty.gz", IDX_IMAGES, "empty");
    write_raw("garbage.gz", "this is not a gzip nor an IDX file\n", 35);
    expect_error("garbage.gz", IDX_IMAGES, "not an IDX file");
    expect_error("missing.gz", IDX_IMAGES, "cannot open");

    uint8_t *lab = make_idx(IDX_LABELS, 4, 0, 0, 4, &n);
    write_gz("labels.gz", lab, n);
    expect_error("labels.gz", IDX_IMAGES, "expected images");
    free(lab);

    /* Lying headers: refused without allocating what they claim. */
    uint8_t *huge = make_idx(IDX_IMAGES, 0xFFFFFFFFu, 28, 28, 100, &n);
    write_gz("huge-count.gz", huge, n);
    expect_error("huge-count.gz", IDX_IMAGES, "header claims");
    free(huge);
    huge = make_idx(IDX_IMAGES, 10, 100000, 28, 100, &n);
    write_gz("huge-side.gz", huge, n);
    expect_error("huge-side.gz", IDX_IMAGES, "each side");
    free(huge);
    huge = make_idx(IDX_IMAGES, IDX_MAX_COUNT, 4096, 4096, 100, &n); /* plausible header, tiny payload */
    write_gz("huge-claim.gz", huge, n);
    expect_error("huge-claim.gz", IDX_IMAGES, "truncated");
    free(huge);
    huge = make_idx(IDX_IMAGES, 0, 28, 28, 0, &n);
    write_gz("zero-count.gz", huge, n);
    expect_error("zero-count.gz", IDX_IMAGES, "header claims 0");
    free(huge);
    free(img);
}

/* A data directory whose files are good except one. */
static const char *make_dataset(const char *sub, int bad) {
    static char d[1024];
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    make_dirs(d);
    size_t n;
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                            "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++) {
        bool images = i % 2 == 0;
        uint32_t count = i < 2 ? 12 : 6;
        if (bad == 1 && i == 1) count = 11; /* label count differs from image count */
        uint8_t *b = images ? make_idx(IDX_IMAGES, count, 28, 28, (size_t)count * 784, &n)
                            : make_idx(IDX_LABELS, count, 0, 0, count, &n);
        if (bad == 2 && i == 3) b[8 + 2] = 12; /* label 12 */
        if (bad == 3 && i == 2) n -= 100;      /* truncated test images */
        char *p = xasprintf("%s/%s", d, names[i]);
        gzFile f = gzopen(p, "wb");
        gzwrite(f, b, (unsigned)n);
        gzclose(f);
        free(p);
        free(b);
    }
    return d;
}

static void test_dataset(void) {
    char err[1024];
    dataset ds;
    const char *d = make_dataset("ds-good", 0);
    CHECK(dataset_load(&ds, d, err, sizeof err), "good dataset: %s", err);
    dataset_free(&ds);
    const struct {
        int bad;
        const char *file, *phrase;
    } cases[] = {{1, "train-labels", "holds 11 labels but"},
                 {2, "t10k-labels", "label 12 at index 2"},
                 {3, "t10k-images", "truncated"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char sub[32];
        snprintf(sub, sizeof sub, "ds-bad%d", cases[i].bad);
        d = make_dataset(sub, cases[i].bad);
        CHECK(!dataset_load(&ds, d, err, sizeof err), "bad dataset %d loaded", cases[i].bad);
        CHECK(strstr(err, cases[i].file) && strstr(err, cases[i].phrase), "dataset %d: message '%s'", cases[i].bad, err);
        /* The command line: exit 2 with the message, never a crash. */
        char *out, *errs;
        int rc = run_claug(&out, &errs, (const char *[]){"samples", "--data", d, "-o", sink_path("idx"), NULL});
        CHECK(rc == EXIT_USAGE, "claug samples on bad data %d: exit %d, want 2", cases[i].bad, rc);
        CHECK(strstr(errs, cases[i].phrase) != NULL, "claug samples: stderr lacks '%s': %s", cases[i].phrase, errs);
        printf("  claug samples --data %s -> exit %d\n", sub, rc);
        free(out);
        free(errs);
    }
    char *errs;
    int rc = run_claug(NULL, &errs, (const char *[]){"samples", "--data", "/nonexistent/dir", NULL});
    CHECK(rc == EXIT_USAGE && strstr(errs, "/nonexistent/dir/train-images-idx3-ubyte.gz") &&
              strstr(errs, "dataset-fashion-mnist"),
          "missing data dir: exit %d, %s", rc, errs);
    free(errs);
}

static void test_fashion_mnist(void) {
    /* The real data set, as Debian installs it: counts, shape, and the tutorial's labels. */
    char err[1024];
    dataset ds;
    double t0 = now_seconds();
    bool ok = dataset_load(&ds, dataset_default_dir(), err, sizeof err);
    CHECK(ok, "Fashion-MNIST: %s", err);
    if (!ok) return;
    printf("  Fashion-MNIST loaded in %.3f s\n", now_seconds() - t0);
    CHECK(ds.train_images.count == 60000 && ds.test_images.count == 10000 && ds.rows == 28 && ds.cols == 28,
          "shape %u %u %d %d", ds.train_images.count, ds.test_images.count, ds.rows, ds.cols);
    const uint8_t want[5] = {9, 2, 1, 1, 6};
    check_same("first test labels = [9 2 1 1 6]", ds.test_labels.data, want, 5);
    dataset_free(&ds);
}

int main(void) {
    dir = scratch_dir("idx");
    test_good();
    test_bad();
    test_dataset();
    test_fashion_mnist();
    return check_done("test_idx");
}
