#include "claug/report/svg.h"

#include <math.h>
#include <stdio.h>

double svg_nice_step(double span, int target) {
    double raw = span / target, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}

/* Decimals that show every multiple of step exactly. */
static int decimals(double step) {
    int d = 0;
    for (double s = step; d < 8 && fabs(s - round(s)) > 1e-6 * s; s *= 10) d++;
    return d;
}

void svg_escaped(strbuf *b, const char *s) {
    while (*s) {
        int n = utf8_length(s);
        unsigned char c = (unsigned char)*s;
        if (n < 0) sb_append(b, "\xEF\xBF\xBD"); /* U+FFFD for a malformed byte */
        else if (c == '&') sb_append(b, "&amp;");
        else if (c == '<') sb_append(b, "&lt;");
        else if (c == '>') sb_append(b, "&gt;");
        else if (c == '"') sb_append(b, "&quot;");
        else if (c == '\'') sb_append(b, "&apos;");
        else if (c < 0x20) sb_putc(b, ' '); /* XML 1.0 forbids most control characters */
        else sb_append_n(b, s, (size_t)n);
        s += n < 0 ? 1 : n;
    }
}

void svg_text(strbuf *b, double x, double y, const char *anchor, const char *extra, const char *s) {
    sb_printf(b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\"%s>", x, y, anchor, extra);
    svg_escaped(b, s);
    sb_append(b, "</text>\n");
}

void svg_tick_label(char *buf, size_t n, double v, double step) {
    if (fabs(v) < 1e-9 * step) v = 0; /* no "-0.00" */
    if (step >= 1e6 || step < 1e-6) snprintf(buf, n, "%.6g", v);
    else snprintf(buf, n, "%.*f", decimals(step), v);
}
