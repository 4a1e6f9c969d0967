/* npz_parse on the input as an .npz, as it is and rebuilt from its stored members with their
 * CRC-32s made right: without that, nearly every mutation of a member stops at the CRC check and
 * the .npy and layout code behind it would go untested. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claug/model/npz.h"
#include "claug/util/zip.h"

static void check(const uint8_t *data, size_t size) {
    weights_file f;
    char err[512];
    if (!npz_parse(&f, data, size, "fuzz.npz", err, sizeof err)) {
        if (f.model || f.t || f.ntensors) abort(); /* a refused file leaves nothing behind */
        return;
    }
    if (!f.model || f.c < 1 || f.h < 1 || f.w < 1 || f.classes < 1 || (f.ntensors && !f.t)) abort();
    /* Each tensor's count is its dimensions' product, and its values came from the archive. */
    for (int i = 0; i < f.ntensors; i++) {
        const weights_tensor *t = &f.t[i];
        if (t->rank < 1 || t->rank > 4 || !t->data) abort();
        size_t n = 1;
        for (int r = 0; r < t->rank; r++)
            if (t->dims[r] < 1 || __builtin_mul_overflow(n, (size_t)t->dims[r], &n)) abort();
        if (n != t->count) abort();
    }
    weights_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check(data, size);
    zip_archive z;
    char why[256];
    if (!zip_open(&z, data, size, why, sizeof why)) return 0;
    zip_entry *e = calloc((size_t)z.count + 1, sizeof *e);
    if (!e) abort();
    int n = 0;
    for (int i = 0; i < z.count; i++)
        if (z.m[i].method == 0) e[n++] = (zip_entry){z.m[i].name, data + z.m[i].data_offset, (size_t)z.m[i].csize};
    size_t len;
    uint8_t *rebuilt = zip_build(e, n, &len);
    if (rebuilt) check(rebuilt, len);
    free(rebuilt);
    free(e);
    zip_close(&z);
    return 0;
}
