/* Zip (PKWARE APPNOTE 6.3): stored members written, stored and deflated members read. The
 * central directory is the authority for names, sizes and offsets; a local header only says
 * where its member's data starts (its sizes may be zip64 placeholders, as np.savez writes them). */
#include "claug/util/zip.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "claug/util/util.h"

enum {
    LOCAL_SIG = 0x04034b50, CENTRAL_SIG = 0x02014b50, END_SIG = 0x06054b50,
    END64_SIG = 0x06064b50, LOCATOR64_SIG = 0x07064b50,
    LOCAL_LEN = 30, CENTRAL_LEN = 46, END_LEN = 22, END64_LEN = 56, LOCATOR64_LEN = 20,
    MAX_MEMBERS = 4096,
    VERSION = 20,     /* 2.0: deflate, folders; what a stored member needs */
    DOS_DATE = 0x21,  /* 1980-01-01, the earliest date zip can say */
    FLAG_ENCRYPTED = 0x41, /* traditional and strong encryption */
};

static uint16_t get_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t get_le64(const uint8_t *p) { return get_le32(p) | (uint64_t)get_le32(p + 4) << 32; }

static bool why_not(char *why, size_t len, const char *fmt, ...) CLAUG_PRINTF(3, 4);
static bool why_not(char *why, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return false;
}

/* ---- writing --------------------------------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t n;
} out_buf;

static void put16(out_buf *b, uint16_t v) {
    b->p[b->n++] = (uint8_t)v;
    b->p[b->n++] = (uint8_t)(v >> 8);
}

static void put32(out_buf *b, uint32_t v) {
    put_le32(b->p + b->n, v);
    b->n += 4;
}

static void put_bytes(out_buf *b, const void *data, size_t n) {
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
}

/* The fields a local header and a central directory entry share, from "version needed" on. */
static void put_common(out_buf *b, const zip_entry *e, uint32_t crc) {
    put16(b, VERSION);
    put16(b, 0); /* flags */
    put16(b, 0); /* stored */
    put16(b, 0); /* time 00:00 */
    put16(b, DOS_DATE);
    put32(b, crc);
    put32(b, (uint32_t)e->len); /* compressed: stored */
    put32(b, (uint32_t)e->len);
    put16(b, (uint16_t)strlen(e->name));
}

uint8_t *zip_build(const zip_entry *e, int n, size_t *len) {
    *len = 0;
    uint64_t total = END_LEN;
    for (int i = 0; i < n; i++) {
        size_t name = strlen(e[i].name);
        if (name > 0xFFFF || e[i].len > 0xFFFFFFFFu) return NULL;
        total += LOCAL_LEN + CENTRAL_LEN + 2 * (uint64_t)name + e[i].len;
    }
    if (n > 0xFFFF || total > 0xFFFFFFFFu) return NULL;
    out_buf b = {xmalloc((size_t)total), 0};
    uint32_t *crc = xcalloc(n ? (size_t)n : 1, sizeof *crc), *offset = xcalloc(n ? (size_t)n : 1, sizeof *offset);
    for (int i = 0; i < n; i++) {
        crc[i] = (uint32_t)crc32(0L, e[i].data, (uInt)e[i].len);
        offset[i] = (uint32_t)b.n;
        put32(&b, LOCAL_SIG);
        put_common(&b, &e[i], crc[i]);
        put16(&b, 0); /* extra */
        put_bytes(&b, e[i].name, strlen(e[i].name));
        put_bytes(&b, e[i].data, e[i].len);
    }
    uint32_t central = (uint32_t)b.n;
    for (int i = 0; i < n; i++) {
        put32(&b, CENTRAL_SIG);
        put16(&b, VERSION); /* made by: MS-DOS attributes, version 2.0 */
        put_common(&b, &e[i], crc[i]);
        put16(&b, 0); /* extra */
        put16(&b, 0); /* comment */
        put16(&b, 0); /* disk */
        put16(&b, 0); /* internal attributes */
        put32(&b, 0); /* external attributes */
        put32(&b, offset[i]);
        put_bytes(&b, e[i].name, strlen(e[i].name));
    }
    uint32_t central_len = (uint32_t)b.n - central;
    put32(&b, END_SIG);
    put16(&b, 0);
    put16(&b, 0);
    put16(&b, (uint16_t)n);
    put16(&b, (uint16_t)n);
    put32(&b, central_len);
    put32(&b, central);
    put16(&b, 0); /* comment */
    free(crc);
    free(offset);
    *len = b.n;
    return b.p;
}

/* ---- reading --------------------------------------------------------------------------------- */

/* The end of central directory record: the last signature that leaves room for its comment. */
static bool find_end(const uint8_t *d, size_t len, size_t *at) {
    if (len < END_LEN) return false;
    size_t lowest = len - END_LEN > 0xFFFF ? len - END_LEN - 0xFFFF : 0;
    for (size_t i = len - END_LEN + 1; i-- > lowest;)
        if (get_le32(d + i) == END_SIG && i + END_LEN + get_le16(d + i + 20) == len) {
            *at = i;
            return true;
        }
    return false;
}

/* The zip64 end record, when the classic one says its fields overflowed. */
static bool read_end64(const uint8_t *d, size_t end, uint64_t *count, uint64_t *cd_len, uint64_t *cd_off, char *why,
                       size_t whylen) {
    if (end < LOCATOR64_LEN || get_le32(d + end - LOCATOR64_LEN) != LOCATOR64_SIG)
        return why_not(why, whylen, "the end record's fields are saturated but there is no zip64 locator");
    uint64_t at = get_le64(d + end - LOCATOR64_LEN + 8);
    if (at > end - LOCATOR64_LEN || end - LOCATOR64_LEN - at < END64_LEN || get_le32(d + at) != END64_SIG)
        return why_not(why, whylen, "the zip64 locator points outside the archive");
    if (get_le32(d + at + 16) != 0 || get_le32(d + at + 20) != 0 || get_le64(d + at + 24) != get_le64(d + at + 32))
        return why_not(why, whylen, "a multi-disk archive (not supported)");
    *count = get_le64(d + at + 32);
    *cd_len = get_le64(d + at + 40);
    *cd_off = get_le64(d + at + 48);
    return true;
}

/* Fields of a central entry that hold 0xFFFFFFFF take their values from its zip64 extra field
 * (id 1), in the order uncompressed size, compressed size, local header offset. */
static bool zip64_fields(const uint8_t *extra, size_t len, uint64_t *usize, uint64_t *csize, uint64_t *offset) {
    for (size_t i = 0; i + 4 <= len;) {
        uint16_t id = get_le16(extra + i), n = get_le16(extra + i + 2);
        if (n > len - i - 4) return false;
        if (id == 1) {
            const uint8_t *f = extra + i + 4;
            uint64_t *fields[3] = {usize, csize, offset};
            size_t used = 0;
            for (int k = 0; k < 3; k++) {
                if (*fields[k] != 0xFFFFFFFFu) continue;
                if (n - used < 8) return false;
                *fields[k] = get_le64(f + used);
                used += 8;
            }
            return true;
        }
        i += 4 + (size_t)n;
    }
    return *usize != 0xFFFFFFFFu && *csize != 0xFFFFFFFFu && *offset != 0xFFFFFFFFu;
}

bool zip_open(zip_archive *z, const uint8_t *data, size_t len, char *why, size_t whylen) {
    memset(z, 0, sizeof *z);
    size_t end;
    if (!find_end(data, len, &end)) return why_not(why, whylen, "truncated or not a zip archive (no end of central directory)");
    if (get_le16(data + end + 4) != 0 || get_le16(data + end + 6) != 0 || get_le16(data + end + 8) != get_le16(data + end + 10))
        return why_not(why, whylen, "a multi-disk archive (not supported)");
    uint64_t count = get_le16(data + end + 10), cd_len = get_le32(data + end + 12), cd_off = get_le32(data + end + 16);
    if ((count == 0xFFFF || cd_len == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) &&
        !read_end64(data, end, &count, &cd_len, &cd_off, why, whylen))
        return false;
    if (cd_off > end || cd_len > end - cd_off) return why_not(why, whylen, "the central directory lies outside the archive");
    if (count > MAX_MEMBERS) return why_not(why, whylen, "%llu members (at most %d)", (unsigned long long)count, MAX_MEMBERS);
    z->data = data;
    z->len = len;
    z->m = xcalloc(count ? (size_t)count : 1, sizeof *z->m);
    const uint8_t *c = data + cd_off;
    size_t left = (size_t)cd_len;
    for (uint64_t i = 0; i < count; i++) {
        zip_member *m = &z->m[i];
        if (left < CENTRAL_LEN || get_le32(c) != CENTRAL_SIG) {
            zip_close(z);
            return why_not(why, whylen, "central directory entry %llu is truncated or corrupt", (unsigned long long)i);
        }
        size_t name = get_le16(c + 28), extra = get_le16(c + 30), comment = get_le16(c + 32);
        if (left - CENTRAL_LEN < name + extra + comment || name == 0 || name >= sizeof m->name ||
            memchr(c + CENTRAL_LEN, 0, name)) {
            zip_close(z);
            return why_not(why, whylen, "central directory entry %llu has a bad name", (unsigned long long)i);
        }
        memcpy(m->name, c + CENTRAL_LEN, name);
        uint16_t flags = get_le16(c + 8);
        m->method = get_le16(c + 10);
        m->crc = get_le32(c + 16);
        m->csize = get_le32(c + 20);
        m->usize = get_le32(c + 24);
        uint64_t local = get_le32(c + 42);
        bool ok = false;
        if (flags & FLAG_ENCRYPTED)
            why_not(why, whylen, "member '%s' is encrypted", m->name);
        else if (m->method != 0 && m->method != 8)
            why_not(why, whylen, "member '%s' uses compression method %u (only stored and deflate are read)", m->name,
                    m->method);
        else if (!zip64_fields(c + CENTRAL_LEN + name, extra, &m->usize, &m->csize, &local))
            why_not(why, whylen, "member '%s' has a bad zip64 extra field", m->name);
        else if (local > cd_off || cd_off - local < LOCAL_LEN + name || get_le32(data + local) != LOCAL_SIG ||
                 get_le16(data + local + 26) != name || memcmp(data + local + LOCAL_LEN, m->name, name) != 0)
            why_not(why, whylen, "member '%s': its local header is missing or does not match the central directory",
                    m->name);
        else {
            m->data_offset = local + LOCAL_LEN + name + get_le16(data + local + 28);
            ok = m->data_offset <= cd_off && m->csize <= cd_off - m->data_offset &&
                 (m->method != 0 || m->csize == m->usize);
            if (!ok) why_not(why, whylen, "member '%s' is truncated or its sizes are inconsistent", m->name);
        }
        if (!ok) {
            zip_close(z);
            return false;
        }
        c += CENTRAL_LEN + name + extra + comment;
        left -= CENTRAL_LEN + name + extra + comment;
        z->count++;
    }
    return true;
}

bool zip_extract(const zip_archive *z, int i, size_t max, uint8_t **out, size_t *len, char *why, size_t whylen) {
    const zip_member *m = &z->m[i];
    *out = NULL;
    *len = 0;
    if (m->usize > max)
        return why_not(why, whylen, "member '%s' holds %llu bytes (at most %zu)", m->name, (unsigned long long)m->usize, max);
    /* Deflate expands at most 1032-fold: a larger claim is corrupt, and is not allocated. */
    if (m->method == 8 && m->usize / 1032 > m->csize)
        return why_not(why, whylen, "member '%s' claims %llu bytes, more than its %llu compressed bytes can hold", m->name,
                       (unsigned long long)m->usize, (unsigned long long)m->csize);
    size_t n = (size_t)m->usize;
    const uint8_t *src = z->data + m->data_offset;
    uint8_t *buf = xmalloc(n + 1);
    if (m->method == 0) {
        memcpy(buf, src, n);
    } else {
        /* One byte of room beyond the stated size: a stream that fills it says more than it claims. */
        z_stream s;
        memset(&s, 0, sizeof s);
        if (inflateInit2(&s, -MAX_WBITS) != Z_OK) die(EXIT_NOMEM, "zlib: cannot start inflating");
        s.next_in = (Bytef *)src;
        s.avail_in = (uInt)m->csize;
        s.next_out = buf;
        s.avail_out = (uInt)(n + 1);
        int rc = inflate(&s, Z_FINISH);
        size_t got = s.total_out;
        inflateEnd(&s);
        if (rc != Z_STREAM_END || got != n) {
            free(buf);
            return why_not(why, whylen, "member '%s': corrupt deflate data (%s)", m->name,
                           rc == Z_STREAM_END ? "its size differs from the central directory's" : "the stream is damaged or cut short");
        }
    }
    if ((uint32_t)crc32(0L, buf, (uInt)n) != m->crc) {
        free(buf);
        return why_not(why, whylen, "member '%s' is corrupt: its CRC-32 does not match", m->name);
    }
    *out = buf;
    *len = n;
    return true;
}

void zip_close(zip_archive *z) {
    free(z->m);
    memset(z, 0, sizeof *z);
}
