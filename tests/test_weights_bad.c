/* Bad weight files: truncated, corrupted, foreign or for another model, each exits 2 with a
 * message naming the file and the problem; `eval` without --weights exits 2. */
/* ctest: labels=e2e timeout=60 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "short_train.h"

int main(void) {
    const char *dir = scratch_dir("weights-bad");
    char *good = xasprintf("%s/good.weights", dir);
    free(short_train(good, NULL));
    size_t la = 0;
    char *wa = slurp(good, &la);
    CHECK(wa != NULL, "%s was not written", good);

    struct {
        const char *name, *phrase;
        size_t len;
        int flip; /* byte to corrupt, or -1 */
        bool fix_crc;
    } bad[] = {
        {"truncated.weights", "corrupt or truncated", la / 2, -1, false},
        {"flipped.weights", "CRC-32 does not match", la, (int)(la / 2), false},
        {"magic.weights", "not a claug weights file", la, 0, false},
        {"short.weights", "truncated", 10, -1, false},
        {"mismatch.weights", "expects", la, -2, true},
    };
    for (size_t i = 0; wa && i < sizeof bad / sizeof bad[0]; i++) {
        char *p = xasprintf("%s/%s", dir, bad[i].name), *copy = xmalloc(la);
        memcpy(copy, wa, la);
        if (bad[i].flip >= 0) copy[bad[i].flip] ^= 0x10;
        if (bad[i].flip == -2) { /* dense128 -> dense127: a valid model whose tensors do not fit */
            char *m = strstr(copy + 16, "dense128");
            if (m) m[7] = '7';
        }
        if (bad[i].fix_crc) put_le32((uint8_t *)copy + la - 4, (uint32_t)crc32(0L, (const uint8_t *)copy, (uInt)(la - 4)));
        write_file(p, copy, bad[i].len);
        char *out, *err;
        int rc = run_claug(&out, &err, (const char *[]){"eval", "--weights", p, NULL});
        CHECK(rc == EXIT_USAGE && strstr(err, p) && strstr(err, bad[i].phrase), "%s: exit %d, want 2 and '%s': %s",
              bad[i].name, rc, bad[i].phrase, err);
        printf("  %-18s -> exit %d: %s", bad[i].name, rc, err);
        free(out);
        free(err);
        free(copy);
        free(p);
    }
    char *out, *err;
    int rc = run_claug(&out, &err, (const char *[]){"eval", NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, "--weights"), "eval without --weights: exit %d: %s", rc, err);
    free(out);
    free(err);
    free(wa);
    free(good);
    return check_done("test_weights_bad");
}
