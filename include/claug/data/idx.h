/* IDX files (the MNIST format), gzip-compressed or plain, fully validated. */
#ifndef CLAUG_IDX_H
#define CLAUG_IDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { IDX_LABELS = 0x00000801, IDX_IMAGES = 0x00000803 };

/* Sanity bounds: a header that claims more is refused before anything is allocated. */
enum { IDX_MAX_COUNT = 10000000, IDX_MAX_SIDE = 4096 };

typedef struct {
    uint32_t count;      /* images or labels */
    uint32_t rows, cols; /* 1 x 1 for labels */
    uint8_t *data;       /* count * rows * cols bytes */
} idx_array;

/* Reads `path`, which must hold an IDX file of `magic` (IDX_LABELS or IDX_IMAGES). On failure
 * returns false and writes into err a message that names the file and what is wrong; *out is
 * then empty. Allocation follows the bytes actually read, never a header's claim alone. */
bool idx_read(const char *path, uint32_t magic, idx_array *out, char *err, size_t errlen);
void idx_free(idx_array *a);

#endif
