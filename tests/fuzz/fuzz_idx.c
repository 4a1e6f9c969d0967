/* idx_read on the input as a file, read both as images and as labels. The input is the file
 * itself: gzip-compressed or plain, as zlib's gzopen takes either. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claug/data/idx.h"
#include "fuzz_file.h"

static volatile uint8_t sink;

static void check(const char *path, uint32_t magic, const uint8_t *data, size_t size) {
    idx_array a;
    char err[512];
    if (!idx_read(path, magic, &a, err, sizeof err)) return;
    /* What idx.h promises of a file it accepts. */
    if (a.count < 1 || a.count > IDX_MAX_COUNT || a.rows < 1 || a.rows > IDX_MAX_SIDE || a.cols < 1 ||
        a.cols > IDX_MAX_SIDE || (magic == IDX_LABELS && (a.rows != 1 || a.cols != 1)))
        abort();
    size_t total = (size_t)a.count * a.rows * a.cols, head = magic == IDX_IMAGES ? 16 : 8;
    bool plain = size < 2 || data[0] != 0x1f || data[1] != 0x8b;
    if (plain) {
        /* A plain file is exactly the header and the payload it declares. */
        if (size != head + total || memcmp(a.data, data + head, total) != 0) abort();
    } else {
        /* Every byte touched: a buffer shorter than the header's claim shows as an ASan report. */
        for (size_t i = 0; i < total; i++) sink = a.data[i];
    }
    idx_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write_file(data, size);
    check(path, IDX_IMAGES, data, size);
    check(path, IDX_LABELS, data, size);
    return 0;
}
