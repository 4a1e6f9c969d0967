/* A small streaming JSON writer: the caller says what comes next (begin, key, value, end);
 * commas, two-space indentation and string escaping are done here. Output is always valid
 * JSON: non-finite numbers are written as null, malformed UTF-8 as U+FFFD. */
#ifndef CLAUG_JSON_H
#define CLAUG_JSON_H

#include <stdbool.h>

#include "claug/util/strbuf.h"

typedef struct {
    strbuf *out;
    int depth;
    bool first;     /* the open container has no member yet */
    bool after_key; /* a key was written; its value comes next */
    int inline_at;  /* > 0: the depth of the one-line array being written */
} json_writer;

void json_init(json_writer *w, strbuf *out);
void json_object_begin(json_writer *w);
void json_object_end(json_writer *w);
void json_array_begin(json_writer *w);
/* An array on one line, "[28, 28]", for a short tuple; json_array_end closes it. */
void json_array_begin_inline(json_writer *w);
void json_array_end(json_writer *w);
/* Writes an object member's key; returns w so the value can follow in one expression:
 * json_number(json_key(w, "lr"), 0.001). */
json_writer *json_key(json_writer *w, const char *key);
void json_string(json_writer *w, const char *s); /* NULL writes null */
void json_number(json_writer *w, double v);      /* shortest form that reads back exactly */
void json_float(json_writer *w, float v);        /* 9 significant digits, which read back as v */
void json_int(json_writer *w, long long v);
void json_uint(json_writer *w, unsigned long long v);
void json_bool(json_writer *w, bool v);
void json_null(json_writer *w);

#endif
