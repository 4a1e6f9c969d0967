#define _POSIX_C_SOURCE 200809L
#include "json_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/util/util.h"

typedef struct {
    const char *s, *start;
    const char *error;
    int depth;
} reader;

enum { MAX_DEPTH = 64 };

static bool fail(reader *r, const char *what) {
    if (!r->error) r->error = what;
    return false;
}

static void skip_ws(reader *r) {
    while (*r->s == ' ' || *r->s == '\t' || *r->s == '\n' || *r->s == '\r') r->s++;
}

static bool literal(reader *r, const char *word) {
    size_t n = strlen(word);
    if (strncmp(r->s, word, n) != 0) return fail(r, "unknown literal");
    r->s += n;
    return true;
}

static bool digits(reader *r) {
    if (*r->s < '0' || *r->s > '9') return fail(r, "digit expected");
    while (*r->s >= '0' && *r->s <= '9') r->s++;
    return true;
}

static bool number(reader *r, jv *v) {
    const char *begin = r->s;
    if (*r->s == '-') r->s++;
    if (*r->s == '0') r->s++;
    else if (!digits(r)) return false;
    if (*r->s == '.') {
        r->s++;
        if (!digits(r)) return false;
    }
    if (*r->s == 'e' || *r->s == 'E') {
        r->s++;
        if (*r->s == '+' || *r->s == '-') r->s++;
        if (!digits(r)) return false;
    }
    char *text = xasprintf("%.*s", (int)(r->s - begin), begin);
    v->type = JV_NUMBER;
    v->number = strtod(text, NULL);
    free(text);
    return true;
}

static void put_utf8(char **out, uint32_t cp) {
    unsigned char *o = (unsigned char *)*out;
    if (cp < 0x80) *o++ = (unsigned char)cp;
    else if (cp < 0x800) {
        *o++ = (unsigned char)(0xC0 | cp >> 6);
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xE0 | cp >> 12);
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | cp >> 18);
        *o++ = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *out = (char *)o;
}

static bool hex4(reader *r, uint32_t *cp) {
    *cp = 0;
    for (int i = 0; i < 4; i++) {
        char c = *r->s;
        if (c) r->s++;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return fail(r, "bad \\u escape");
        *cp = *cp << 4 | (uint32_t)d;
    }
    return true;
}

/* Decodes one raw UTF-8 character by value (not by byte table): its code point must need
 * exactly the bytes used, and be no surrogate and at most U+10FFFF. */
static bool raw_utf8(reader *r, uint32_t *cp) {
    const unsigned char *p = (const unsigned char *)r->s;
    int n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : p[0] >= 0x80 ? 0 : 1;
    if (n == 0 || p[0] >= 0xF8) return fail(r, "malformed UTF-8");
    *cp = n == 1 ? p[0] : p[0] & (0x7Fu >> n);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return fail(r, "malformed UTF-8");
        *cp = *cp << 6 | (p[i] & 0x3Fu);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (*cp < least[n] || (*cp >= 0xD800 && *cp <= 0xDFFF) || *cp > 0x10FFFF) return fail(r, "malformed UTF-8");
    r->s += n;
    return true;
}

static bool string(reader *r, char **out) {
    if (*r->s != '"') return fail(r, "string expected");
    r->s++;
    char *buf = xmalloc(strlen(r->s) + 1), *o = buf; /* decoding never lengthens text */
    for (;;) {
        unsigned char c = (unsigned char)*r->s;
        uint32_t cp;
        if (c == '"') {
            r->s++;
            break;
        }
        if (c == 0) goto bad;
        if (c < 0x20) {
            fail(r, "control character in string");
            goto bad;
        }
        if (c == '\\') {
            char e = r->s[1];
            r->s += 2;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *at = e ? strchr(from, e) : NULL;
            if (at) *o++ = to[at - from];
            else if (e == 'u') {
                if (!hex4(r, &cp)) goto bad;
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail(r, "lone low surrogate");
                    goto bad;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (r->s[0] != '\\' || r->s[1] != 'u') {
                        fail(r, "lone high surrogate");
                        goto bad;
                    }
                    r->s += 2;
                    if (!hex4(r, &lo)) goto bad;
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        fail(r, "bad surrogate pair");
                        goto bad;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (cp == 0) {
                    fail(r, "\\u0000 is not supported by this reader");
                    goto bad;
                }
                put_utf8(&o, cp);
            } else {
                fail(r, "bad escape");
                goto bad;
            }
        } else {
            if (!raw_utf8(r, &cp)) goto bad;
            put_utf8(&o, cp);
        }
    }
    *o = 0;
    *out = buf;
    return true;
bad:
    free(buf);
    return fail(r, "bad string");
}

static bool value(reader *r, jv *v);

static bool members(reader *r, jv *v, bool object) {
    char close = object ? '}' : ']';
    r->s++;
    skip_ws(r);
    if (*r->s == close) {
        r->s++;
        return true;
    }
    for (;;) {
        v->items = xrealloc(v->items, (size_t)(v->count + 1) * sizeof *v->items);
        memset(&v->items[v->count], 0, sizeof *v->items);
        if (object) {
            v->keys = xrealloc(v->keys, (size_t)(v->count + 1) * sizeof *v->keys);
            v->keys[v->count] = NULL;
        }
        v->count++;
        skip_ws(r);
        if (object) {
            if (!string(r, &v->keys[v->count - 1])) return false;
            for (int i = 0; i < v->count - 1; i++)
                if (strcmp(v->keys[i], v->keys[v->count - 1]) == 0) return fail(r, "duplicate key");
            skip_ws(r);
            if (*r->s != ':') return fail(r, "':' expected");
            r->s++;
        }
        if (!value(r, &v->items[v->count - 1])) return false;
        skip_ws(r);
        if (*r->s == close) {
            r->s++;
            return true;
        }
        if (*r->s != ',') return fail(r, "',' or end of container expected");
        r->s++;
    }
}

static bool value(reader *r, jv *v) {
    skip_ws(r);
    switch (*r->s) {
    case 'n': v->type = JV_NULL; return literal(r, "null");
    case 't': v->type = JV_BOOL; v->boolean = true; return literal(r, "true");
    case 'f': v->type = JV_BOOL; return literal(r, "false");
    case '"': v->type = JV_STRING; return string(r, &v->string);
    case '[':
    case '{': {
        bool object = *r->s == '{';
        v->type = object ? JV_OBJECT : JV_ARRAY;
        if (++r->depth > MAX_DEPTH) return fail(r, "nested too deeply");
        bool ok = members(r, v, object);
        r->depth--;
        return ok;
    }
    default:
        if (*r->s == '-' || (*r->s >= '0' && *r->s <= '9')) return number(r, v);
        return fail(r, "value expected");
    }
}

static void jv_clear(jv *v) {
    for (int i = 0; i < v->count; i++) {
        jv_clear(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

void jv_free(jv *v) {
    if (!v) return;
    jv_clear(v);
    free(v);
}

jv *jv_parse(const char *text, char *err, size_t errlen) {
    reader r = {text, text, NULL, 0};
    jv *v = xcalloc(1, sizeof *v);
    bool ok = value(&r, v);
    if (ok) {
        skip_ws(&r);
        if (*r.s) ok = fail(&r, "text after the document");
    }
    if (!ok) {
        snprintf(err, errlen, "%s at byte %td", r.error, r.s - r.start);
        jv_free(v);
        return NULL;
    }
    return v;
}

const jv *jv_path(const jv *v, const char *path) {
    char *copy = xstrdup(path), *save = NULL;
    for (char *step = strtok_r(copy, ".", &save); step && v; step = strtok_r(NULL, ".", &save)) {
        const jv *next = NULL;
        if (v->type == JV_OBJECT) {
            for (int i = 0; i < v->count && !next; i++)
                if (strcmp(v->keys[i], step) == 0) next = &v->items[i];
        } else if (v->type == JV_ARRAY) {
            char *end;
            long i = strtol(step, &end, 10);
            if (!*end && i >= 0 && i < v->count) next = &v->items[i];
        }
        v = next;
    }
    free(copy);
    return v;
}
