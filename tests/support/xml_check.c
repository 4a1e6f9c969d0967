#include "xml_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/util/util.h"

typedef struct {
    const char *s, *start;
    const char *error;
    xml_doc *d;
} reader;

static bool fail(reader *r, const char *what) {
    if (!r->error) r->error = what;
    return false;
}

static bool name_char(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
}

static char *name(reader *r) {
    const char *b = r->s;
    if (!name_char(*r->s, true)) return fail(r, "name expected"), NULL;
    while (name_char(*r->s, false)) r->s++;
    return xasprintf("%.*s", (int)(r->s - b), b);
}

static void skip_ws(reader *r) {
    while (*r->s == ' ' || *r->s == '\t' || *r->s == '\n' || *r->s == '\r') r->s++;
}

/* Character data up to `stop` (exclusive), entities decoded, appended to *out. */
static bool chars(reader *r, char stop, char **out) {
    size_t have = *out ? strlen(*out) : 0;
    *out = xrealloc(*out, have + strlen(r->s) + 1);
    char *o = *out + have;
    while (*r->s && *r->s != stop) {
        unsigned char c = (unsigned char)*r->s;
        if (c == '<') return fail(r, "raw '<' in text or attribute");
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return fail(r, "control character");
        if (c != '&') {
            *o++ = *r->s++;
            continue;
        }
        static const char *const ent[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
        static const char rep[] = "&<>\"'";
        size_t k = 0;
        while (k < 5 && strncmp(r->s, ent[k], strlen(ent[k])) != 0) k++;
        if (k < 5) {
            *o++ = rep[k];
            r->s += strlen(ent[k]);
        } else if (r->s[1] == '#') {
            /* Numeric references are checked, not decoded: the tests compare ASCII text. */
            const char *p = r->s + 2;
            bool hex = *p == 'x';
            p += hex;
            const char *digits = p;
            while ((*p >= '0' && *p <= '9') || (hex && ((*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))) p++;
            if (p == digits || *p != ';') return fail(r, "bad character reference");
            *o++ = '?';
            r->s = p + 1;
        } else return fail(r, "'&' that starts no entity");
    }
    *o = 0;
    if (*r->s != stop) return fail(r, "unexpected end of document");
    return true;
}

static bool misc(reader *r) {
    for (;;) {
        skip_ws(r);
        const char *end;
        if (strncmp(r->s, "<!--", 4) == 0) end = strstr(r->s + 4, "-->");
        else if (strncmp(r->s, "<?", 2) == 0) end = strstr(r->s + 2, "?>");
        else return true;
        if (!end) return fail(r, "unterminated comment or processing instruction");
        r->s = end + (r->s[1] == '!' ? 3 : 2);
    }
}

static bool element(reader *r, int parent);

static bool content(reader *r, int self) {
    for (;;) {
        if (!chars(r, '<', &r->d->elems[self].text)) return false;
        if (strncmp(r->s, "</", 2) == 0) {
            r->s += 2;
            char *n = name(r);
            if (!n) return false;
            bool same = strcmp(n, r->d->elems[self].name) == 0;
            free(n);
            if (!same) return fail(r, "end tag does not match the start tag");
            skip_ws(r);
            if (*r->s != '>') return fail(r, "'>' expected");
            r->s++;
            return true;
        }
        if (strncmp(r->s, "<!--", 4) == 0) {
            if (!misc(r)) return false;
            continue;
        }
        if (!element(r, self)) return false;
    }
}

static bool element(reader *r, int parent) {
    if (*r->s != '<') return fail(r, "'<' expected");
    r->s++;
    xml_doc *d = r->d;
    d->elems = xrealloc(d->elems, (size_t)(d->count + 1) * sizeof *d->elems);
    int self = d->count++;
    xml_elem *e = &d->elems[self];
    memset(e, 0, sizeof *e);
    e->parent = parent;
    e->text = xstrdup("");
    if (!(e->name = name(r))) return false;
    for (;;) {
        e = &d->elems[self];
        bool spaced = *r->s == ' ' || *r->s == '\t' || *r->s == '\n' || *r->s == '\r';
        skip_ws(r);
        if (strncmp(r->s, "/>", 2) == 0) {
            r->s += 2;
            return true;
        }
        if (*r->s == '>') {
            r->s++;
            return content(r, self);
        }
        if (!spaced) return fail(r, "space expected before an attribute");
        char *an = name(r);
        if (!an) return false;
        e->attr_names = xrealloc(e->attr_names, (size_t)(e->nattrs + 1) * sizeof(char *));
        e->attr_values = xrealloc(e->attr_values, (size_t)(e->nattrs + 1) * sizeof(char *));
        e->attr_names[e->nattrs] = an;
        e->attr_values[e->nattrs] = NULL;
        e->nattrs++;
        for (int i = 0; i < e->nattrs - 1; i++)
            if (strcmp(e->attr_names[i], an) == 0) return fail(r, "duplicate attribute");
        skip_ws(r);
        if (*r->s != '=') return fail(r, "'=' expected");
        r->s++;
        skip_ws(r);
        char q = *r->s;
        if (q != '"' && q != '\'') return fail(r, "quoted attribute value expected");
        r->s++;
        if (!chars(r, q, &e->attr_values[e->nattrs - 1])) return false;
        r->s++;
    }
}

bool xml_parse(xml_doc *d, const char *text, char *err, size_t errlen) {
    *d = (xml_doc){0};
    reader r = {text, text, NULL, d};
    bool ok = misc(&r) && element(&r, -1) && misc(&r);
    if (ok && *r.s) ok = fail(&r, "text after the root element");
    if (!ok) snprintf(err, errlen, "%s at byte %td", r.error, r.s - r.start);
    return ok;
}

void xml_free(xml_doc *d) {
    for (int i = 0; i < d->count; i++) {
        xml_elem *e = &d->elems[i];
        for (int a = 0; a < e->nattrs; a++) {
            free(e->attr_names[a]);
            free(e->attr_values[a]);
        }
        free(e->attr_names);
        free(e->attr_values);
        free(e->name);
        free(e->text);
    }
    free(d->elems);
    *d = (xml_doc){0};
}

const char *xml_attr(const xml_elem *e, const char *name) {
    for (int i = 0; i < e->nattrs; i++)
        if (strcmp(e->attr_names[i], name) == 0) return e->attr_values[i];
    return NULL;
}

bool xml_within(const xml_doc *d, int i, int ancestor) {
    for (int p = d->elems[i].parent; p >= 0; p = d->elems[p].parent)
        if (p == ancestor) return true;
    return false;
}
