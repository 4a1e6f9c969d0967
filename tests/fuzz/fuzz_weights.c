/* weights_read on the input as a file, as it is and with its last four bytes replaced by the
 * right CRC-32: without that, nearly every mutation stops at the CRC check and the parser
 * behind it would go untested. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "claug/util/util.h"
#include "claug/model/weights.h"
#include "fuzz_file.h"

static void check(const uint8_t *data, size_t size) {
    weights_file f;
    char err[512];
    if (!weights_read(&f, fuzz_write_file(data, size), err, sizeof err)) return;
    if (!f.model || f.ntensors < 0 || (f.ntensors && !f.t)) abort();
    /* Each tensor's count is the product of its dimensions, exactly (no wrap), and its values
     * came from the file. */
    for (int i = 0; i < f.ntensors; i++) {
        const weights_tensor *t = &f.t[i];
        if (t->rank < 1 || t->rank > 4) abort();
        size_t n = 1;
        for (int r = 0; r < t->rank; r++)
            if (t->dims[r] < 1 || __builtin_mul_overflow(n, (size_t)t->dims[r], &n)) abort();
        if (n != t->count || n > size / 4 || !t->data) abort();
    }
    weights_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check(data, size);
    if (size < 4) return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed) abort();
    memcpy(fixed, data, size);
    put_le32(fixed + size - 4, (uint32_t)crc32(0L, fixed, (uInt)(size - 4)));
    if (memcmp(fixed, data, size) != 0) check(fixed, size);
    free(fixed);
    return 0;
}
