#include "claug/util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void json_init(json_writer *w, strbuf *out) { *w = (json_writer){.out = out, .first = true}; }

/* What precedes every value and key: nothing after a key, else a comma after a sibling and a
 * new indented line inside a container. */
static void separate(json_writer *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first) sb_append(w->out, w->inline_at ? ", " : ",");
    w->first = false;
    if (w->depth > 0 && !w->inline_at) sb_printf(w->out, "\n%*s", 2 * w->depth, "");
}

static void begin(json_writer *w, char open) {
    separate(w);
    sb_putc(w->out, open);
    w->depth++;
    w->first = true;
}

static void end(json_writer *w, char close) {
    if (!w->first && !w->inline_at) sb_printf(w->out, "\n%*s", 2 * (w->depth - 1), "");
    if (w->inline_at == w->depth) w->inline_at = 0;
    w->depth--;
    sb_putc(w->out, close);
    w->first = false;
}

void json_object_begin(json_writer *w) { begin(w, '{'); }
void json_object_end(json_writer *w) { end(w, '}'); }
void json_array_begin(json_writer *w) { begin(w, '['); }
void json_array_end(json_writer *w) { end(w, ']'); }

void json_array_begin_inline(json_writer *w) {
    begin(w, '[');
    if (!w->inline_at) w->inline_at = w->depth;
}

static void quoted(strbuf *b, const char *s) {
    sb_putc(b, '"');
    while (*s) {
        unsigned char c = (unsigned char)*s;
        int n = utf8_length(s);
        if (n < 0) {
            sb_append(b, "\\ufffd");
            s++;
        } else if (c == '"' || c == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
            s++;
        } else if (c < 0x20) {
            const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : c == '\b' ? "\\b"
                                : c == '\f' ? "\\f" : NULL;
            if (named) sb_append(b, named);
            else sb_printf(b, "\\u%04x", c);
            s++;
        } else {
            sb_append_n(b, s, (size_t)n);
            s += n;
        }
    }
    sb_putc(b, '"');
}

json_writer *json_key(json_writer *w, const char *key) {
    separate(w);
    quoted(w->out, key);
    sb_append(w->out, ": ");
    w->after_key = true;
    return w;
}

void json_string(json_writer *w, const char *s) {
    if (!s) {
        json_null(w);
        return;
    }
    separate(w);
    quoted(w->out, s);
}

/* A number as text, or null where JSON has none. */
static void number(json_writer *w, double v, const char *text) {
    if (!isfinite(v)) {
        json_null(w);
        return;
    }
    separate(w);
    sb_append(w->out, text);
}

void json_number(json_writer *w, double v) {
    /* 17 significant digits always read back exactly, but turn 0.001 into
     * 0.0010000000000000000208; take the shortest precision that round-trips. */
    char buf[32];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    number(w, v, buf);
}

void json_float(json_writer *w, float v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", (double)v);
    number(w, v, buf);
}

void json_int(json_writer *w, long long v) {
    separate(w);
    sb_printf(w->out, "%lld", v);
}

void json_uint(json_writer *w, unsigned long long v) {
    separate(w);
    sb_printf(w->out, "%llu", v);
}

void json_bool(json_writer *w, bool v) {
    separate(w);
    sb_append(w->out, v ? "true" : "false");
}

void json_null(json_writer *w) {
    separate(w);
    sb_append(w->out, "null");
}
