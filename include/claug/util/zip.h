/* The zip container, as far as NumPy's .npz needs it: a writer of stored (uncompressed) members,
 * and a reader of stored and deflated members (zlib), with zip64 sizes and offsets in the central
 * directory (NumPy's np.savez writes zip64 local headers). No encryption, no multi-disk
 * archives. Knows nothing of what the members hold. */
#ifndef CLAUG_ZIP_H
#define CLAUG_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- writing ---- */

typedef struct {
    const char *name;
    const void *data;
    size_t len;
} zip_entry;

/* The whole archive of n stored members, in that order, dated 1980-01-01 so that the same
 * contents give the same bytes. NULL (with *len 0) when it would exceed what zip's 32-bit
 * sizes and offsets hold (4 GiB). */
uint8_t *zip_build(const zip_entry *e, int n, size_t *len);

/* ---- reading ---- */

typedef struct {
    char name[256];
    uint16_t method;            /* 0 stored, 8 deflate */
    uint32_t crc;
    uint64_t csize, usize;      /* compressed and uncompressed bytes */
    uint64_t data_offset;       /* of the member's data, past its local header */
} zip_member;

typedef struct {
    const uint8_t *data; /* the archive's bytes, owned by the caller */
    size_t len;
    int count;
    zip_member *m; /* (count) in central directory order */
} zip_archive;

/* Reads the central directory of the len bytes at data (kept, not copied), checking every
 * offset and size against the archive: false with the reason in why. At most 4096 members. */
bool zip_open(zip_archive *z, const uint8_t *data, size_t len, char *why, size_t whylen);
/* Member i's contents (malloc'd, *len bytes), inflated when deflated and checked against its
 * size and CRC-32; false with the reason in why, or when it is larger than max bytes. */
bool zip_extract(const zip_archive *z, int i, size_t max, uint8_t **out, size_t *len, char *why, size_t whylen);
void zip_close(zip_archive *z);

#endif
