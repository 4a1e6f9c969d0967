/* A strict JSON reader for the tests (RFC 8259: no NaN, no trailing commas, no control
 * characters in strings, well-formed UTF-8, no duplicate keys), so a test can both check that
 * a writer's output is valid and read its values back. */
#ifndef CLAUG_JSON_CHECK_H
#define CLAUG_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT } jv_type;

typedef struct jv {
    jv_type type;
    bool boolean;
    double number;
    char *string;     /* decoded UTF-8, for JV_STRING */
    int count;        /* members of an array or object */
    struct jv *items; /* [count] */
    char **keys;      /* [count], objects only */
} jv;

/* The document's tree, or NULL with a message giving the byte offset of the first error. */
jv *jv_parse(const char *text, char *err, size_t errlen);
void jv_free(jv *v);
/* Member by dotted path, array elements by index: "runs.plain.history.2.loss". NULL when any
 * step is missing. */
const jv *jv_path(const jv *v, const char *path);

#endif
