/* The .npz of Keras' names and layouts (model/npz.h): the layout maps between claug's tensors and
 * Keras', the .npy header (NumPy's format.py: magic, version, a Python dict literal padded to 64
 * bytes), and the archive through util/zip. */
#include "claug/model/npz.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/model/net.h"
#include "claug/util/strbuf.h"
#include "claug/util/zip.h"

enum { MAX_RANK = 8, MAX_MODEL = 4096, ALIGN = 64 /* NumPy's ARRAY_ALIGN */ };
/* As for the weights file: a bound on the arrays, and on what a member may inflate to. */
#define MAX_BYTES ((size_t)1 << 30)

static const char model_key[] = "model", shape_key[] = "input_shape";

bool npz_is_zip(const uint8_t *data, size_t len) {
    return len >= 4 && data[0] == 'P' && data[1] == 'K' && ((data[2] == 3 && data[3] == 4) || (data[2] == 5 && data[3] == 6));
}

/* ---- the layouts ------------------------------------------------------------------------------- */

/* What dense layer i takes, as Keras' Flatten sees it, (c, h, w): the input of the flatten before
 * it, or the output of the convolution or pooling it follows directly (Keras then needs a Flatten
 * between them), a vector after another dense; dropout and relu layers keep the shape. The
 * model's input (c, h, w) for a first layer. */
static void dense_input(const layer *L, int i, int c, int h, int w, int *ic, int *ih, int *iw) {
    int j = i - 1;
    while (j >= 0 && (L[j].kind == LAYER_DROPOUT || L[j].kind == LAYER_RELU)) j--;
    if (j < 0) *ic = c, *ih = h, *iw = w;
    else if (L[j].kind == LAYER_FLATTEN) *ic = L[j].c, *ih = L[j].h, *iw = L[j].w;
    else *ic = L[j].oc, *ih = L[j].oh, *iw = L[j].ow;
}

/* Keras' shape of tensor d: a convolution kernel (out, in, kh, kw) is (kh, kw, in, out), a dense
 * kernel (units, in) is (in, units), a bias is the same. Returns the rank. */
static int keras_dims(int *dims, const weights_desc *d) {
    if (d->rank == 4) dims[0] = d->dims[2], dims[1] = d->dims[3], dims[2] = d->dims[1], dims[3] = d->dims[0];
    else if (d->rank == 2) dims[0] = d->dims[1], dims[1] = d->dims[0];
    else dims[0] = d->dims[0];
    return d->rank;
}

/* to[j]: where claug's element j of tensor d lies in Keras' layout. claug's dense inputs are
 * (c, h, w) as its activations, Keras' Flatten gives (h, w, c). */
static size_t *keras_order(const weights_desc *d, const layer *L, int c, int h, int w) {
    size_t *to = xmalloc(d->count * sizeof *to);
    const layer *l = &L[d->layer];
    if (d->rank == 4) {
        size_t O = (size_t)d->dims[0], I = (size_t)d->dims[1], K = (size_t)d->dims[2];
        for (size_t o = 0; o < O; o++)
            for (size_t i = 0; i < I; i++)
                for (size_t y = 0; y < K; y++)
                    for (size_t x = 0; x < K; x++) to[((o * I + i) * K + y) * K + x] = ((y * K + x) * I + i) * O + o;
    } else if (d->rank == 2) {
        int ic, ih, iw;
        dense_input(L, d->layer, c, h, w, &ic, &ih, &iw);
        size_t U = (size_t)l->oc, N = (size_t)l->c, C = (size_t)ic, H = (size_t)ih, W = (size_t)iw;
        for (size_t u = 0; u < U; u++)
            for (size_t ch = 0; ch < C; ch++)
                for (size_t y = 0; y < H; y++)
                    for (size_t x = 0; x < W; x++) to[u * N + (ch * H + y) * W + x] = ((y * W + x) * C + ch) * U + u;
    } else {
        for (size_t j = 0; j < d->count; j++) to[j] = j;
    }
    return to;
}

/* ---- .npy -------------------------------------------------------------------------------------- */

/* NumPy's header for an array of that dtype and shape: the dict as numpy writes it, padded with
 * blanks so that the data starts at a multiple of 64, version 1.0. */
static void npy_header(strbuf *b, const char *descr, int rank, const int *dims) {
    strbuf h = {0};
    sb_printf(&h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int r = 0; r < rank; r++) sb_printf(&h, r ? ", %d" : "%d", dims[r]);
    sb_append(&h, rank == 1 ? ",), }" : "), }");
    while ((10 + h.len + 1) % ALIGN) sb_putc(&h, ' ');
    sb_putc(&h, '\n');
    sb_append_n(b, "\x93NUMPY\x01\x00", 8);
    sb_putc(b, (char)(h.len & 0xFF));
    sb_putc(b, (char)(h.len >> 8));
    sb_append_n(b, h.data, h.len);
    free(sb_take(&h));
}

static void put_word(strbuf *b, uint32_t v) {
    uint8_t x[4];
    put_le32(x, v);
    sb_append_n(b, (const char *)x, 4);
}

/* One array of an archive being read. */
typedef struct {
    char key[256];         /* the member's name without ".npy" */
    char descr[32];
    int rank;
    uint64_t dims[MAX_RANK];
    const uint8_t *values; /* into bytes */
    size_t nvalues;        /* elements */
    uint8_t *bytes;        /* the member, owned */
    bool used;
} npy_array;

typedef struct {
    const char *s, *end;
} cursor;

static void skip_blanks(cursor *c) {
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n')) c->s++;
}

static bool take(cursor *c, char ch) {
    skip_blanks(c);
    if (c->s >= c->end || *c->s != ch) return false;
    c->s++;
    return true;
}

static bool take_word(cursor *c, const char *w) {
    skip_blanks(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->s) < n || memcmp(c->s, w, n) != 0) return false;
    c->s += n;
    return true;
}

/* A Python string literal without escapes, in single or double quotes. */
static bool take_string(cursor *c, char *out, size_t cap) {
    skip_blanks(c);
    if (c->s >= c->end || (*c->s != '\'' && *c->s != '"')) return false;
    char q = *c->s++;
    size_t n = 0;
    while (c->s < c->end && *c->s != q) {
        if (*c->s == '\\' || n + 1 >= cap) return false;
        out[n++] = *c->s++;
    }
    out[n] = 0;
    if (c->s >= c->end) return false;
    c->s++; /* the closing quote */
    return true;
}

static bool take_uint(cursor *c, uint64_t *v) {
    skip_blanks(c);
    if (c->s >= c->end || *c->s < '0' || *c->s > '9') return false;
    for (*v = 0; c->s < c->end && *c->s >= '0' && *c->s <= '9'; c->s++) {
        if (*v > (UINT64_MAX - 9) / 10) return false;
        *v = *v * 10 + (uint64_t)(*c->s - '0');
    }
    return true;
}

/* "(3, 3, 1, 32)", "(32,)", "()". */
static bool take_shape(cursor *c, npy_array *a) {
    if (!take(c, '(')) return false;
    a->rank = 0;
    if (take(c, ')')) return true;
    for (;;) {
        if (a->rank == MAX_RANK || !take_uint(c, &a->dims[a->rank])) return false;
        a->rank++;
        if (take(c, ')')) return true;
        if (!take(c, ',')) return false;
        if (take(c, ')')) return true;
    }
}

/* Bytes per element of the dtypes the archive may hold. */
static size_t item_size(const char *descr) {
    if (strcmp(descr, "<f4") == 0 || strcmp(descr, "<i4") == 0) return 4;
    if (strcmp(descr, "<i8") == 0) return 8;
    int n;
    if (descr[0] == '<' && descr[1] == 'U' && parse_int(descr + 2, 1, MAX_MODEL, &n)) return 4 * (size_t)n;
    return 0;
}

static bool say(char *why, size_t len, const char *fmt, ...) CLAUG_PRINTF(3, 4);
static bool say(char *why, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return false;
}

/* The header's dict: its three keys in any order, each once, a trailing comma allowed. */
static bool npy_dict(cursor *c, npy_array *a, bool *fortran) {
    bool have[3] = {false, false, false};
    if (!take(c, '{')) return false;
    while (!take(c, '}')) {
        char key[32];
        if (!take_string(c, key, sizeof key) || !take(c, ':')) return false;
        int k = strcmp(key, "descr") == 0 ? 0 : strcmp(key, "fortran_order") == 0 ? 1 : strcmp(key, "shape") == 0 ? 2 : -1;
        if (k < 0 || have[k]) return false;
        have[k] = true;
        bool ok = k == 0   ? take_string(c, a->descr, sizeof a->descr)
                  : k == 1 ? take_word(c, "False") || (*fortran = take_word(c, "True"))
                           : take_shape(c, a);
        if (!ok) return false;
        if (!take(c, ',')) {
            if (!take(c, '}')) return false;
            break;
        }
    }
    skip_blanks(c);
    return c->s == c->end && have[0] && have[1] && have[2];
}

/* Parses member a->bytes (len bytes) as a .npy into a; false with the reason in why. */
static bool npy_parse(npy_array *a, size_t len, char *why, size_t whylen) {
    const uint8_t *p = a->bytes;
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0) return say(why, whylen, "not a .npy array (no \\x93NUMPY magic)");
    if (p[6] < 1 || p[6] > 3 || p[7] != 0)
        return say(why, whylen, ".npy format version %u.%u (this claug reads 1.0 to 3.0)", p[6], p[7]);
    size_t start = p[6] == 1 ? 10 : 12;
    if (len < start) return say(why, whylen, "truncated .npy header");
    size_t hlen = p[6] == 1 ? (size_t)(p[8] | p[9] << 8) : get_le32(p + 8);
    if (hlen > len - start) return say(why, whylen, "truncated .npy header");
    cursor c = {(const char *)p + start, (const char *)p + start + hlen};
    bool fortran = false;
    if (!npy_dict(&c, a, &fortran))
        return say(why, whylen, "bad .npy header (expected {'descr': ..., 'fortran_order': ..., 'shape': (...)})");
    if (fortran) return say(why, whylen, "fortran_order is True (claug reads C order only)");
    size_t item = item_size(a->descr);
    if (!item) return say(why, whylen, "dtype '%s' (claug reads '<f4', '<i4', '<i8' and '<U')", a->descr);
    size_t data = len - start - hlen, n = 1;
    bool empty = false, more = false; /* more: than the data could hold, a claim and not an array */
    for (int r = 0; r < a->rank; r++) empty |= a->dims[r] == 0;
    for (int r = 0; !empty && !more && r < a->rank; r++) more = a->dims[r] > data || (n *= (size_t)a->dims[r]) > data;
    if (empty) n = 0;
    if (more) return say(why, whylen, "its shape needs more than the member's %zu bytes of data", data);
    if (n * item != data)
        return say(why, whylen, "its shape needs %zu bytes of data, the member has %zu", n * item, data);
    a->values = p + start + hlen;
    a->nvalues = n;
    return true;
}

static void array_shape_text(char *buf, size_t len, const npy_array *a) {
    int dims[MAX_RANK];
    for (int r = 0; r < a->rank; r++) dims[r] = a->dims[r] > 1u << 30 ? -1 : (int)a->dims[r];
    weights_shape_text(buf, len, a->key, a->rank, dims);
}

/* ---- writing ----------------------------------------------------------------------------------- */

bool npz_save(const weights_file *f, const char *from, const char *path, char *err, size_t errlen) {
    layer *L;
    int nl;
    char *canon, why[512];
    if (!model_parse(f->model, f->c, f->h, f->w, f->classes, &L, &nl, &canon, why, sizeof why))
        return fail_with(err, errlen, from, "its model does not parse: %s", why);
    bool ok = weights_match(f, L, nl, canon, from, err, errlen);
    int n = f->ntensors;
    strbuf *bodies = xcalloc((size_t)n + 2, sizeof *bodies);
    char **names = xcalloc((size_t)n + 2, sizeof *names);
    weights_desc *d = xcalloc((size_t)nl * 2 + 1, sizeof *d);
    weights_describe(d, L, nl);
    for (int i = 0; ok && i < n; i++) {
        int dims[4];
        npy_header(&bodies[i], "<f4", keras_dims(dims, &d[i]), dims);
        size_t *to = keras_order(&d[i], L, f->c, f->h, f->w);
        float *keras = xmalloc(d[i].count * sizeof *keras);
        for (size_t j = 0; j < d[i].count; j++) keras[to[j]] = f->t[i].data[j];
        for (size_t j = 0; j < d[i].count; j++) {
            uint32_t bits;
            memcpy(&bits, &keras[j], 4);
            put_word(&bodies[i], bits);
        }
        free(keras);
        free(to);
        names[i] = xasprintf("%s.npy", d[i].name);
    }
    if (ok) {
        char descr[32];
        snprintf(descr, sizeof descr, "<U%zu", strlen(canon));
        npy_header(&bodies[n], descr, 0, NULL);
        for (const char *s = canon; *s; s++) put_word(&bodies[n], (uint8_t)*s);
        names[n] = xasprintf("%s.npy", model_key);
        npy_header(&bodies[n + 1], "<i4", 1, (int[]){3});
        put_word(&bodies[n + 1], (uint32_t)f->h);
        put_word(&bodies[n + 1], (uint32_t)f->w);
        put_word(&bodies[n + 1], (uint32_t)f->c);
        names[n + 1] = xasprintf("%s.npy", shape_key);
        zip_entry *e = xcalloc((size_t)n + 2, sizeof *e);
        for (int i = 0; i < n + 2; i++) e[i] = (zip_entry){names[i], bodies[i].data, bodies[i].len};
        size_t len;
        uint8_t *zip = zip_build(e, n + 2, &len);
        if (!zip) ok = fail_with(err, errlen, path, "the arrays exceed what a zip without zip64 holds (4 GiB)");
        else if (!write_file(path, zip, len)) ok = fail_with(err, errlen, path, "cannot write the .npz: %s", strerror(errno));
        free(zip);
        free(e);
    }
    for (int i = 0; i < n + 2; i++) {
        free(sb_take(&bodies[i]));
        free(names[i]);
    }
    free(bodies);
    free(names);
    free(d);
    free(L);
    free(canon);
    return ok;
}

/* ---- reading ----------------------------------------------------------------------------------- */

static npy_array *find(npy_array *a, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].key, key) == 0) return &a[i];
    return NULL;
}

/* The model string of array `model`: a 0-d '<U' array of ASCII (NUL-padded, as NumPy pads). */
static bool read_model(weights_file *f, npy_array *a, const char *path, char *err, size_t errlen) {
    if (a->descr[1] != 'U' || a->rank != 0)
        return fail_with(err, errlen, path, "array '%s' must be a 0-d unicode string ('<U'), not dtype '%s' of rank %d",
                         model_key, a->descr, a->rank);
    size_t n = item_size(a->descr) / 4;
    f->model = xcalloc(n + 1, 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t ch = get_le32(a->values + 4 * i);
        if (ch == 0) break;
        if (ch < 0x20 || ch > 0x7E)
            return fail_with(err, errlen, path, "array '%s' holds a character (U+%04X) no model string has", model_key, ch);
        f->model[i] = (char)ch;
    }
    a->used = true;
    return true;
}

/* (height, width, channels) of array `input_shape`. */
static bool read_input_shape(weights_file *f, npy_array *a, const char *path, char *err, size_t errlen) {
    bool wide = strcmp(a->descr, "<i8") == 0;
    if ((!wide && strcmp(a->descr, "<i4") != 0) || a->rank != 1 || a->dims[0] != 3)
        return fail_with(err, errlen, path, "array '%s' must be 3 integers (height, width, channels), not dtype '%s' of rank %d",
                         shape_key, a->descr, a->rank);
    int64_t v[3];
    for (int i = 0; i < 3; i++) {
        uint64_t lo = get_le32(a->values + (wide ? 8 : 4) * i), hi = wide ? get_le32(a->values + 8 * i + 4) : 0;
        v[i] = (int64_t)(wide ? lo | hi << 32 : (uint64_t)(int64_t)(int32_t)lo);
        if (v[i] < 1 || v[i] > 4096)
            return fail_with(err, errlen, path, "array '%s' = (%lld, ...): each of height, width and channels must be 1 to 4096",
                             shape_key, (long long)v[i]);
    }
    f->h = (int)v[0], f->w = (int)v[1], f->c = (int)v[2];
    a->used = true;
    return true;
}

/* Tensor d of the model from its array in Keras' layout, into f->t[f->ntensors]. */
static bool read_tensor(weights_file *f, npy_array *arrays, int na, const weights_desc *d, const layer *L,
                        const char *path, char *err, size_t errlen) {
    npy_array *a = find(arrays, na, d->name);
    if (!a) return fail_with(err, errlen, path, "no array '%s', which model '%s' has", d->name, f->model);
    a->used = true;
    if (strcmp(a->descr, "<f4") != 0)
        return fail_with(err, errlen, path, "array '%s' has dtype '%s', not '<f4' (float32, little-endian)", d->name,
                         a->descr);
    int dims[4], rank = keras_dims(dims, d);
    bool same = a->rank == rank;
    for (int r = 0; same && r < rank; r++) same = a->dims[r] == (uint64_t)dims[r];
    if (!same) {
        char have[96], want[96];
        array_shape_text(have, sizeof have, a);
        weights_shape_text(want, sizeof want, d->name, rank, dims);
        return fail_with(err, errlen, path, "array %s, but model '%s' expects %s (Keras' layout)", have, f->model, want);
    }
    weights_tensor *t = &f->t[f->ntensors];
    snprintf(t->name, sizeof t->name, "%s", d->name);
    t->rank = d->rank;
    memcpy(t->dims, d->dims, sizeof t->dims);
    t->count = d->count;
    t->data = xmalloc(t->count * sizeof *t->data);
    size_t *to = keras_order(d, L, f->c, f->h, f->w);
    for (size_t j = 0; j < t->count; j++) {
        uint32_t bits = get_le32(a->values + 4 * to[j]);
        memcpy(&t->data[j], &bits, 4);
    }
    free(to);
    f->ntensors++;
    return true;
}

/* The arrays of the archive, each checked as a .npy, keys unique. */
static bool read_arrays(npy_array **out, int *count, const uint8_t *data, size_t len, const char *path, char *err,
                        size_t errlen) {
    zip_archive z;
    char why[512];
    *out = NULL;
    *count = 0;
    if (!zip_open(&z, data, len, why, sizeof why)) return fail_with(err, errlen, path, "corrupt .npz: %s", why);
    npy_array *a = xcalloc(z.count ? (size_t)z.count : 1, sizeof *a);
    bool ok = true;
    size_t total = 0;
    int n = 0;
    for (int i = 0; ok && i < z.count; i++) {
        const char *name = z.m[i].name;
        size_t nlen = strlen(name);
        if (nlen <= 4 || strcmp(name + nlen - 4, ".npy") != 0) {
            ok = fail_with(err, errlen, path, "member '%s' is not a .npy array", name);
            break;
        }
        npy_array *x = &a[n];
        memcpy(x->key, name, nlen - 4);
        if (find(a, n, x->key)) {
            ok = fail_with(err, errlen, path, "array '%s' appears twice", x->key);
            break;
        }
        size_t blen;
        if (!zip_extract(&z, i, MAX_BYTES - total, &x->bytes, &blen, why, sizeof why)) {
            ok = fail_with(err, errlen, path, "corrupt .npz: %s", why);
            break;
        }
        n++;
        total += blen;
        if (!npy_parse(x, blen, why, sizeof why)) ok = fail_with(err, errlen, path, "array '%s': %s", x->key, why);
    }
    zip_close(&z);
    *out = a;
    *count = n;
    return ok;
}

bool npz_parse(weights_file *f, const uint8_t *data, size_t len, const char *path, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    npy_array *a;
    int na;
    layer *L = NULL;
    int nl = 0;
    char *canon = NULL, why[512];
    bool ok = read_arrays(&a, &na, data, len, path, err, errlen);
    npy_array *model = ok ? find(a, na, model_key) : NULL, *shape = ok ? find(a, na, shape_key) : NULL;
    if (ok && (!model || !shape))
        ok = fail_with(err, errlen, path, "no array '%s' (%s), which every claug .npz has", !model ? model_key : shape_key,
                       !model ? "the model string" : "height, width, channels");
    ok = ok && read_model(f, model, path, err, errlen) && read_input_shape(f, shape, path, err, errlen);
    if (ok && !model_parse(f->model, f->c, f->h, f->w, 0, &L, &nl, &canon, why, sizeof why))
        ok = fail_with(err, errlen, path, "array '%s': %s", model_key, why);
    if (ok) {
        f->classes = L[nl - 1].oc;
        weights_desc *d = xcalloc((size_t)nl * 2 + 1, sizeof *d);
        int nt = weights_describe(d, L, nl);
        f->t = xcalloc((size_t)nt + 1, sizeof *f->t);
        for (int i = 0; ok && i < nt; i++) ok = read_tensor(f, a, na, &d[i], L, path, err, errlen);
        free(d);
    }
    for (int i = 0; ok && i < na; i++)
        if (!a[i].used) ok = fail_with(err, errlen, path, "unexpected array '%s' (not a tensor of model '%s')", a[i].key, f->model);
    for (int i = 0; i < na; i++) free(a[i].bytes);
    free(a);
    free(L);
    free(canon);
    if (!ok) weights_free(f);
    return ok;
}
