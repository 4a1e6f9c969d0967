/* The pieces every SVG chart of the reports shares: text (escaped for XML) and axis ticks. */
#ifndef CLAUG_SVG_H
#define CLAUG_SVG_H

#include "claug/util/strbuf.h"

/* 1, 2, 2.5 or 5 times a power of ten, near span / target. */
double svg_nice_step(double span, int target);
/* s as XML character data: markup characters escaped, malformed UTF-8 as U+FFFD. */
void svg_escaped(strbuf *b, const char *s);
/* <text x y text-anchor="anchor" extra>s</text>; extra holds further attributes (or ""). */
void svg_text(strbuf *b, double x, double y, const char *anchor, const char *extra, const char *s);
/* A tick's label: v with as many decimals as step needs ("0.25"), no "-0". */
void svg_tick_label(char *buf, size_t n, double v, double step);

#endif
