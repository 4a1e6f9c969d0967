/* A growing NUL-terminated string, for the text outputs (JSON, SVG, Markdown). */
#ifndef CLAUG_STRBUF_H
#define CLAUG_STRBUF_H

#include <stddef.h>

#include "claug/util/util.h"

typedef struct {
    char *data; /* NUL-terminated once anything was appended; NULL before */
    size_t len, cap;
} strbuf; /* zero-initialise: strbuf b = {0}; */

void sb_putc(strbuf *b, char c);
void sb_append(strbuf *b, const char *s);
void sb_append_n(strbuf *b, const char *s, size_t n);
void sb_printf(strbuf *b, const char *fmt, ...) CLAUG_PRINTF(2, 3);
/* Hands over the string (never NULL; "" when empty) and leaves b empty. */
char *sb_take(strbuf *b);

/* Length of the well-formed UTF-8 sequence starting at s (1 for ASCII, 0 at the terminating
 * NUL), or -1 where s starts a malformed one: text from a command line or a driver is not
 * trusted to be UTF-8, and JSON and XML readers reject malformed text. */
int utf8_length(const char *s);

#endif
