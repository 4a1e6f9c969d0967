/* curves.svg checked as a drawing: parsed as XML, every marker, line vertex and tick label
 * mapped back through the axis ranges each panel declares (data-x-min ... data-y-max) and
 * compared with the histories it was drawn from. */
#ifndef CLAUG_SVG_CHECK_H
#define CLAUG_SVG_CHECK_H

#include "claug/model/history.h"
#include "xml_check.h"

/* Everything about an SVG drawn from these histories (either may be NULL); failures CHECKed. */
void check_svg(const char *svg, const history *plain, const history *augmented, const char *what);

/* Attribute `name` of e as a number; NaN when absent or not wholly a number. */
double svg_attr_num(const xml_elem *e, const char *name);
/* Elements within `parent` (-1: anywhere) named `name` (and of class `cls` when not NULL), in
 * document order: the first max indexes into out; returns how many there are. */
int svg_find(const xml_doc *d, int parent, const char *name, const char *cls, int *out, int max);

#endif
