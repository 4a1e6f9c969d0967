#include "claug/util/json_read.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/util/strbuf.h"

/* Deeper nesting than any file claug writes, far shallower than the stack allows. */
enum { MAX_DEPTH = 64 };

typedef struct {
    const char *s;
    size_t len, pos;
    int depth;
    char *err;
    size_t errlen;
} parser;

/* Records the first error, at the current position, as line and column. */
static CLAUG_PRINTF(2, 3) bool fail(parser *p, const char *fmt, ...) {
    int line = 1, col = 1;
    for (size_t i = 0; i < p->pos && i < p->len; i++) {
        if (p->s[i] == '\n') line++, col = 1;
        else col++;
    }
    int n = snprintf(p->err, p->errlen, "line %d, column %d: ", line, col);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

static int peek(const parser *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

static void skip_ws(parser *p) {
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos])) p->pos++;
}

static bool literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return fail(p, "unexpected character");
    p->pos += n;
    return true;
}

static bool digits(parser *p) {
    size_t start = p->pos;
    while (peek(p) >= '0' && peek(p) <= '9') p->pos++;
    return p->pos > start;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, checked before strtod sees it: strtod alone
 * would also take hex, "inf" and a leading '+'. */
static bool number(parser *p, double *out) {
    size_t start = p->pos;
    if (peek(p) == '-') p->pos++;
    if (peek(p) == '0') p->pos++;
    else if (!digits(p)) return fail(p, "expected a digit");
    if (peek(p) == '.') {
        p->pos++;
        if (!digits(p)) return fail(p, "expected a digit after the decimal point");
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-') p->pos++;
        if (!digits(p)) return fail(p, "expected a digit in the exponent");
    }
    char buf[128];
    size_t n = p->pos - start;
    if (n >= sizeof buf) return fail(p, "number too long");
    memcpy(buf, p->s + start, n);
    buf[n] = 0;
    *out = strtod(buf, NULL);
    if (!isfinite(*out)) return fail(p, "number out of range");
    return true;
}

static int hex4(parser *p) {
    if (p->len - p->pos < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p->s[p->pos + (size_t)i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    p->pos += 4;
    return v;
}

static void put_utf8(strbuf *b, unsigned cp) {
    if (cp < 0x80) {
        sb_putc(b, (char)cp);
    } else if (cp < 0x800) {
        sb_putc(b, (char)(0xC0 | cp >> 6));
        sb_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        sb_putc(b, (char)(0xE0 | cp >> 12));
        sb_putc(b, (char)(0x80 | (cp >> 6 & 0x3F)));
        sb_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        sb_putc(b, (char)(0xF0 | cp >> 18));
        sb_putc(b, (char)(0x80 | (cp >> 12 & 0x3F)));
        sb_putc(b, (char)(0x80 | (cp >> 6 & 0x3F)));
        sb_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* \uXXXX, or a surrogate pair of two; the backslash and 'u' are consumed. */
static bool unicode_escape(parser *p, strbuf *b) {
    int hi = hex4(p);
    if (hi < 0) return fail(p, "expected four hex digits after \\u");
    unsigned cp = (unsigned)hi;
    if (hi >= 0xDC00 && hi <= 0xDFFF) return fail(p, "lone low surrogate \\u%04X", (unsigned)hi);
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        int lo = -1;
        if (p->len - p->pos >= 2 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
            p->pos += 2;
            lo = hex4(p);
        }
        if (lo < 0xDC00 || lo > 0xDFFF) return fail(p, "high surrogate \\u%04X without its low half", (unsigned)hi);
        cp = 0x10000 + (((unsigned)hi - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
    }
    if (cp == 0) return fail(p, "\\u0000 is not supported");
    put_utf8(b, cp);
    return true;
}

static bool string(parser *p, char **out) {
    p->pos++; /* the opening quote */
    strbuf b = {0};
    for (;;) {
        int c = peek(p);
        if (c < 0) {
            free(sb_take(&b));
            return fail(p, "unterminated string");
        }
        if (c == '"') break;
        bool ok = true;
        if (c < 0x20) {
            ok = fail(p, "control character 0x%02x in a string", (unsigned)c);
        } else if (c == '\\') {
            int e = p->pos + 1 < p->len ? (unsigned char)p->s[p->pos + 1] : 0;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *at = e ? strchr(from, e) : NULL;
            if (e == 'u') {
                p->pos += 2;
                ok = unicode_escape(p, &b);
            } else if (at) {
                p->pos += 2;
                sb_putc(&b, to[at - from]);
            } else {
                ok = fail(p, "unknown escape");
            }
        } else {
            /* The text ends with a NUL (read_file), so utf8_length never reads past it. */
            int n = utf8_length(p->s + p->pos);
            if (n <= 0 || p->pos + (size_t)n > p->len) ok = fail(p, "malformed UTF-8");
            else {
                sb_append_n(&b, p->s + p->pos, (size_t)n);
                p->pos += (size_t)n;
            }
        }
        if (!ok) {
            free(sb_take(&b));
            return false;
        }
    }
    p->pos++;
    *out = sb_take(&b);
    return true;
}

static bool value(parser *p, json_value *v);

static json_value *grow(json_value *v) {
    v->items = xrealloc(v->items, (size_t)(v->count + 1) * sizeof *v->items);
    memset(&v->items[v->count], 0, sizeof *v->items);
    return &v->items[v->count];
}

/* The members of an array or object; the opening bracket is consumed. */
static bool members(parser *p, json_value *v, char close) {
    skip_ws(p);
    if (peek(p) == close) {
        p->pos++;
        return true;
    }
    for (;;) {
        skip_ws(p);
        if (v->type == JSON_OBJECT) {
            char *key;
            if (peek(p) != '"') return fail(p, "expected a key in quotes");
            size_t at = p->pos;
            if (!string(p, &key)) return false;
            for (int i = 0; i < v->count; i++)
                if (strcmp(v->keys[i], key) == 0) {
                    p->pos = at;
                    free(key);
                    return fail(p, "duplicate key");
                }
            v->keys = xrealloc(v->keys, (size_t)(v->count + 1) * sizeof *v->keys);
            v->keys[v->count] = key;
            skip_ws(p);
            if (peek(p) != ':') {
                grow(v), v->count++; /* owned, so freed with v */
                return fail(p, "expected ':'");
            }
            p->pos++;
        }
        json_value *item = grow(v);
        v->count++;
        if (!value(p, item)) return false;
        skip_ws(p);
        int c = peek(p);
        if (c != close && c != ',') return fail(p, "expected ',' or '%c'", close);
        p->pos++;
        if (c == close) return true;
    }
}

static bool value(parser *p, json_value *v) {
    skip_ws(p);
    int c = peek(p);
    if (c == '{' || c == '[') {
        if (++p->depth > MAX_DEPTH) return fail(p, "nested more than %d deep", MAX_DEPTH);
        p->pos++;
        v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
        bool ok = members(p, v, c == '{' ? '}' : ']');
        p->depth--;
        return ok;
    }
    if (c == '"') {
        v->type = JSON_STRING;
        return string(p, &v->string);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        v->type = JSON_NUMBER;
        return number(p, &v->number);
    }
    v->boolean = c == 't';
    v->type = c == 'n' ? JSON_NULL : JSON_BOOL;
    if (c == 't' || c == 'f' || c == 'n') return literal(p, c == 't' ? "true" : c == 'f' ? "false" : "null");
    return fail(p, c < 0 ? "unexpected end of the text" : "unexpected character");
}

static void release(json_value *v) {
    for (int i = 0; i < v->count; i++) {
        release(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

json_value *json_parse(const char *text, size_t len, char *err, size_t errlen) {
    parser p = {text, len, 0, 0, err, errlen};
    json_value *v = xcalloc(1, sizeof *v);
    bool ok;
    if (memchr(text, 0, len)) {
        p.pos = (size_t)((const char *)memchr(text, 0, len) - text);
        ok = fail(&p, "NUL byte in the text");
    } else {
        ok = value(&p, v);
        skip_ws(&p);
        if (ok && p.pos < len) ok = fail(&p, "text after the end of the JSON value");
    }
    if (!ok) {
        json_value_free(v);
        return NULL;
    }
    return v;
}

void json_value_free(json_value *v) {
    if (!v) return;
    release(v);
    free(v);
}

const json_value *json_member(const json_value *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    for (int i = 0; i < v->count; i++)
        if (strcmp(v->keys[i], key) == 0) return &v->items[i];
    return NULL;
}
