/* A small strict JSON reader (RFC 8259), for the result files claug reads back (`bench
 * --compare`): one value and nothing after it; no comments, trailing commas, NaN, duplicate
 * keys, raw control characters or malformed UTF-8; \u0000 is refused (strings are C strings);
 * nesting is limited so that a hostile file cannot exhaust the stack. */
#ifndef CLAUG_JSON_READ_H
#define CLAUG_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value {
    json_type type;
    bool boolean;
    double number;            /* finite */
    char *string;             /* decoded UTF-8 */
    int count;                /* members of an array or object */
    struct json_value *items; /* [count] */
    char **keys;              /* [count], objects only */
} json_value;

/* The tree of text[0 .. len) (text[len] must be the NUL that read_file adds), or NULL with "line L, column C: what is wrong" in err. */
json_value *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_value_free(json_value *v);
/* The member `key` of an object; NULL when v is not an object or has no such member. */
const json_value *json_member(const json_value *v, const char *key);

#endif
