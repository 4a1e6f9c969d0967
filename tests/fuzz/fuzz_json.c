/* json_parse on the input (NUL-terminated, as read_file leaves it). A tree it returns must keep
 * json_read.h's promises. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claug/util/json_read.h"

/* Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool valid_utf8(const unsigned char *s) {
    while (*s) {
        unsigned c = *s++, n, min;
        if (c < 0x80) continue;
        if ((c & 0xe0) == 0xc0) n = 1, c &= 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0) n = 2, c &= 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0) n = 3, c &= 0x07, min = 0x10000;
        else return false;
        for (unsigned i = 0; i < n; i++, s++) {
            if ((*s & 0xc0) != 0x80) return false;
            c = c << 6 | (*s & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
    }
    return true;
}

static void walk(const json_value *v, int depth) {
    if (depth > 64) abort();
    switch (v->type) {
    case JSON_NULL:
    case JSON_BOOL: break;
    case JSON_NUMBER:
        if (!isfinite(v->number)) abort();
        break;
    case JSON_STRING:
        if (!v->string || !valid_utf8((const unsigned char *)v->string)) abort();
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        if (v->count < 0 || (v->count && !v->items)) abort();
        for (int i = 0; i < v->count; i++) {
            if (v->type == JSON_OBJECT) {
                if (!v->keys[i] || !valid_utf8((const unsigned char *)v->keys[i])) abort();
                for (int j = 0; j < i; j++)
                    if (strcmp(v->keys[i], v->keys[j]) == 0) abort();
            }
            walk(&v->items[i], depth + 1);
        }
        break;
    default: abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = 0;
    char err[512];
    json_value *v = json_parse(text, size, err, sizeof err);
    if (v) {
        walk(v, 0);
        json_value_free(v);
    }
    free(text);
    return 0;
}
