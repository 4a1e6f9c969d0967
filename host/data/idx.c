#include "claug/data/idx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "claug/util/util.h"

/* zlib's message without the "path: " it puts in front (our messages name the file already). */
static const char *zlib_message(gzFile f) {
    int code;
    const char *m = gzerror(f, &code), *sep = strstr(m, ": ");
    return sep ? sep + 2 : m;
}

/* Reads up to `want` bytes; returns the count, or -1 with a zlib message in *msg. */
static long read_some(gzFile f, uint8_t *dst, size_t want, const char **msg) {
    size_t got = 0;
    while (got < want) {
        unsigned chunk = want - got > (1u << 30) ? 1u << 30 : (unsigned)(want - got);
        int r = gzread(f, dst + got, chunk);
        if (r < 0) {
            *msg = zlib_message(f);
            return -1;
        }
        if (r == 0) {
            /* End of input: a gzip stream cut short reports Z_BUF_ERROR here. */
            int code;
            gzerror(f, &code);
            if (code != Z_OK) {
                *msg = zlib_message(f);
                return -1;
            }
            break;
        }
        got += (size_t)r;
    }
    return (long)got;
}

bool idx_read(const char *path, uint32_t magic, idx_array *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *what = magic == IDX_IMAGES ? "images" : "labels";
    /* gzopen would wait forever on a FIFO and call a directory an I/O error. */
    if (!check_regular_file(path, err, errlen)) return false;
    gzFile f = gzopen(path, "rb");
    if (!f) return fail_with(err, errlen, path, "cannot open: %s", errno ? strerror(errno) : "out of memory");
    gzbuffer(f, 1 << 18);

    bool ok = false;
    uint8_t *data = NULL;
    const char *zmsg = "";
    int ndims = magic == IDX_IMAGES ? 3 : 1;
    uint8_t head[16];
    size_t head_len = 4 + 4 * (size_t)ndims;
    long got = read_some(f, head, head_len, &zmsg);
    if (got < 0) {
        fail_with(err, errlen, path, "corrupt or truncated gzip data (%s)", zmsg);
        goto done;
    }
    if (got == 0) {
        fail_with(err, errlen, path, "file is empty (expected an IDX file of %s)", what);
        goto done;
    }
    if (got < 4 || get_be32(head) != magic) {
        uint32_t m = got >= 4 ? get_be32(head) : 0;
        if (m == IDX_IMAGES || m == IDX_LABELS)
            fail_with(err, errlen, path, "holds %s (magic 0x%08x), expected %s (magic 0x%08x)",
                 m == IDX_IMAGES ? "images" : "labels", m, what, magic);
        else
            fail_with(err, errlen, path, "not an IDX file of %s: magic number is 0x%08x, expected 0x%08x", what, m, magic);
        goto done;
    }
    if ((size_t)got < head_len) {
        fail_with(err, errlen, path, "truncated header: %ld of %zu bytes", got, head_len);
        goto done;
    }
    uint32_t count = get_be32(head + 4);
    uint32_t rows = ndims == 3 ? get_be32(head + 8) : 1, cols = ndims == 3 ? get_be32(head + 12) : 1;
    if (count == 0 || count > IDX_MAX_COUNT) {
        fail_with(err, errlen, path, "header claims %u %s; expected 1 to %d", count, what, IDX_MAX_COUNT);
        goto done;
    }
    if (rows == 0 || cols == 0 || rows > IDX_MAX_SIDE || cols > IDX_MAX_SIDE) {
        fail_with(err, errlen, path, "header claims %ux%u images; each side must be 1 to %d", rows, cols, IDX_MAX_SIDE);
        goto done;
    }
    /* The bounds above keep the product far from overflow. */
    _Static_assert((unsigned long long)IDX_MAX_COUNT * IDX_MAX_SIDE * IDX_MAX_SIDE < SIZE_MAX / 2, "IDX bounds");
    size_t total = (size_t)count * rows * cols;
    /* Grow with the data actually read, so a lying header cannot make us allocate its claim. */
    size_t cap = total < ((size_t)1 << 24) ? total : (size_t)1 << 24, have = 0;
    data = xmalloc(cap);
    for (;;) {
        long r = read_some(f, data + have, cap - have, &zmsg);
        if (r < 0) {
            fail_with(err, errlen, path, "corrupt or truncated gzip data after %zu of %zu payload bytes (%s)", have, total, zmsg);
            goto done;
        }
        have += (size_t)r;
        if (have < cap || cap == total) break;
        cap = cap * 2 < total ? cap * 2 : total;
        data = xrealloc(data, cap);
    }
    if (have < total) {
        fail_with(err, errlen, path, "truncated: the header promises %u %s (%zu bytes of data), the file holds %zu",
             count, what, total, have);
        goto done;
    }
    uint8_t extra;
    long more = read_some(f, &extra, 1, &zmsg);
    if (more != 0) {
        if (more < 0)
            fail_with(err, errlen, path, "corrupt gzip data after the payload (%s)", zmsg);
        else
            fail_with(err, errlen, path, "the payload is longer than the header's %u %s (%zu bytes)", count, what, total);
        goto done;
    }
    out->count = count;
    out->rows = rows;
    out->cols = cols;
    out->data = data;
    data = NULL;
    ok = true;
done:
    free(data);
    gzclose(f);
    return ok;
}

void idx_free(idx_array *a) {
    free(a->data);
    memset(a, 0, sizeof *a);
}
