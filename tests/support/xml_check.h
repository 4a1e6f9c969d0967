/* A small XML reader for the tests: checks well-formedness (one root, balanced tags, quoted
 * attributes without duplicates, only the predefined and numeric entities, no raw '<' or '&'
 * in text, no forbidden control characters) and returns the elements in document order. */
#ifndef CLAUG_XML_CHECK_H
#define CLAUG_XML_CHECK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *name;
    int parent; /* index into xml_doc.elems, -1 for the root */
    int nattrs;
    char **attr_names, **attr_values; /* values with entities decoded */
    char *text;                       /* the element's own character data, decoded */
} xml_elem;

typedef struct {
    int count;
    xml_elem *elems;
} xml_doc;

bool xml_parse(xml_doc *d, const char *text, char *err, size_t errlen);
void xml_free(xml_doc *d);
/* The attribute's value, or NULL. */
const char *xml_attr(const xml_elem *e, const char *name);
/* True when element i lies inside element ancestor. */
bool xml_within(const xml_doc *d, int i, int ancestor);

#endif
