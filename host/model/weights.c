#include "claug/model/weights.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "claug/model/npz.h"

static const char magic[8] = {'C', 'L', 'A', 'U', 'G', 'W', 'T', 'S'};
enum { VERSION = 1, MAX_MODEL = 4096, MAX_TENSORS = 1024, MAX_RANK = 4 };
/* 256 Mi parameters: far more than any model string builds on a 28x28 input, and a bound on what
 * is read before the header can be checked. */
#define MAX_FILE ((size_t)1 << 30)

int weights_describe(weights_desc *d, const layer *L, int nl) {
    int k = 0;
    for (int i = 0; i < nl; i++) {
        const layer *l = &L[i];
        if (!l->params) continue;
        weights_desc *t = &d[k++];
        snprintf(t->name, sizeof t->name, "%s/kernel", l->name);
        t->rank = layer_types[l->kind].kernel_rank;
        t->dims[0] = l->oc, t->dims[1] = l->c, t->dims[2] = t->dims[3] = l->size; /* cut to the rank */
        t->count = (size_t)(l->params - l->oc);
        t->offset = l->w_off;
        t->layer = i;
        t->kernel = true;
        t = &d[k++];
        snprintf(t->name, sizeof t->name, "%s/bias", l->name);
        t->rank = 1;
        t->dims[0] = l->oc;
        t->count = (size_t)l->oc;
        t->offset = l->b_off;
        t->layer = i;
        t->kernel = false;
    }
    return k;
}

typedef struct {
    uint8_t *p;
    size_t n, cap;
} out_buf;

static void put(out_buf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) b->p = xrealloc(b->p, b->cap = 2 * (b->n + n));
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_u32(out_buf *b, uint32_t v) {
    uint8_t x[4];
    put_le32(x, v);
    put(b, x, 4);
}

bool weights_save(net *n, const char *path, char *err, size_t errlen) {
    weights_desc *d = xcalloc((size_t)n->nl * 2, sizeof *d);
    int nt = weights_describe(d, n->L, n->nl);
    float *params = xmalloc(n->nparams * sizeof *params);
    net_read_params(n, params);
    out_buf b = {0};
    put(&b, magic, 8);
    put_u32(&b, VERSION);
    put_u32(&b, (uint32_t)strlen(n->spec));
    put(&b, n->spec, strlen(n->spec));
    put_u32(&b, (uint32_t)n->in_c);
    put_u32(&b, (uint32_t)n->in_h);
    put_u32(&b, (uint32_t)n->in_w);
    put_u32(&b, (uint32_t)n->classes);
    put_u32(&b, (uint32_t)nt);
    for (int i = 0; i < nt; i++) {
        put_u32(&b, (uint32_t)strlen(d[i].name));
        put(&b, d[i].name, strlen(d[i].name));
        put_u32(&b, (uint32_t)d[i].rank);
        for (int r = 0; r < d[i].rank; r++) put_u32(&b, (uint32_t)d[i].dims[r]);
        for (size_t j = 0; j < d[i].count; j++) {
            uint32_t bits;
            memcpy(&bits, &params[d[i].offset + j], 4);
            put_u32(&b, bits);
        }
    }
    put_u32(&b, (uint32_t)crc32(0L, b.p, (uInt)b.n));
    bool ok = write_file(path, b.p, b.n);
    if (!ok) fail_with(err, errlen, path, "cannot write the weights: %s", strerror(errno));
    free(b.p);
    free(params);
    free(d);
    return ok;
}

/* A bounds-checked reader over the file's bytes. */
typedef struct {
    const uint8_t *p;
    size_t n, at;
} in_buf;

static bool get_u32(in_buf *b, uint32_t *v) {
    if (b->n - b->at < 4) return false;
    *v = get_le32(b->p + b->at);
    b->at += 4;
    return true;
}

static bool get_bytes(in_buf *b, void *dst, size_t n) {
    if (b->n - b->at < n) return false;
    memcpy(dst, b->p + b->at, n);
    b->at += n;
    return true;
}

bool weights_read(weights_file *f, const char *path, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    size_t len;
    uint8_t *data = (uint8_t *)read_file(path, MAX_FILE, &len, err, errlen);
    if (!data) return false;
    bool ok = false;
    if (npz_is_zip(data, len)) {
        ok = npz_parse(f, data, len, path, err, errlen);
        goto done;
    }
    if (len < 8 || memcmp(data, magic, 8) != 0) {
        fail_with(err, errlen, path, "not a claug weights file (no CLAUGWTS header) and not a NumPy .npz (zip)");
        goto done;
    }
    if (len < 16) {
        fail_with(err, errlen, path, "truncated (%zu bytes)", len);
        goto done;
    }
    if (get_le32(data + 8) != VERSION) {
        fail_with(err, errlen, path, "unsupported format version %u (this claug reads version %d)", get_le32(data + 8), VERSION);
        goto done;
    }
    if (get_le32(data + len - 4) != (uint32_t)crc32(0L, data, (uInt)(len - 4))) {
        fail_with(err, errlen, path, "corrupt or truncated: the CRC-32 does not match the contents");
        goto done;
    }
    in_buf b = {data, len - 4, 12};
    uint32_t mlen, dims[4], nt;
    if (!get_u32(&b, &mlen) || mlen == 0 || mlen > MAX_MODEL) {
        fail_with(err, errlen, path, "bad model string length");
        goto done;
    }
    f->model = xcalloc(mlen + 1, 1);
    if (!get_bytes(&b, f->model, mlen) || !get_u32(&b, &dims[0]) || !get_u32(&b, &dims[1]) || !get_u32(&b, &dims[2]) ||
        !get_u32(&b, &dims[3]) || !get_u32(&b, &nt)) {
        fail_with(err, errlen, path, "truncated header");
        goto done;
    }
    if (dims[0] == 0 || dims[0] > 4096 || dims[1] == 0 || dims[1] > 4096 || dims[2] == 0 || dims[2] > 4096 ||
        dims[3] == 0 || dims[3] > 65536 || nt > MAX_TENSORS) {
        fail_with(err, errlen, path, "implausible header (input %ux%ux%u, %u classes, %u tensors)", dims[0], dims[1], dims[2],
             dims[3], nt);
        goto done;
    }
    f->c = (int)dims[0], f->h = (int)dims[1], f->w = (int)dims[2], f->classes = (int)dims[3];
    f->t = xcalloc(nt ? nt : 1, sizeof *f->t);
    for (uint32_t i = 0; i < nt; i++) {
        weights_tensor *t = &f->t[i];
        uint32_t nlen, rank;
        if (!get_u32(&b, &nlen) || nlen == 0 || nlen >= sizeof t->name || !get_bytes(&b, t->name, nlen) ||
            !get_u32(&b, &rank) || rank == 0 || rank > MAX_RANK) {
            fail_with(err, errlen, path, "tensor %u: bad name or rank", i);
            goto done;
        }
        t->rank = (int)rank;
        t->count = 1;
        for (uint32_t r = 0; r < rank; r++) {
            uint32_t d;
            if (!get_u32(&b, &d) || d == 0 || d > (1u << 24)) {
                fail_with(err, errlen, path, "tensor %s: bad dimension", t->name);
                goto done;
            }
            t->dims[r] = (int)d;
            /* Checked against the bytes left at every factor, so the product cannot wrap. */
            if (d > (b.n - b.at) / 4 / t->count) {
                fail_with(err, errlen, path, "tensor %s: its dimensions hold more values than the %zu bytes that remain",
                          t->name, b.n - b.at);
                goto done;
            }
            t->count *= d;
        }
        t->data = xmalloc(t->count * sizeof *t->data);
        for (size_t j = 0; j < t->count; j++) {
            uint32_t bits = get_le32(b.p + b.at + 4 * j);
            memcpy(&t->data[j], &bits, 4);
        }
        b.at += 4 * t->count;
        f->ntensors++;
    }
    if (b.at != b.n) {
        fail_with(err, errlen, path, "%zu unexpected bytes after the last tensor", b.n - b.at);
        goto done;
    }
    ok = true;
done:
    free(data);
    if (!ok) weights_free(f);
    return ok;
}

/* "dense/kernel (128, 800)" */
void weights_shape_text(char *buf, size_t len, const char *name, int rank, const int *dims) {
    int o = snprintf(buf, len, "%s (", name);
    for (int r = 0; r < rank && o > 0 && (size_t)o < len; r++) o += snprintf(buf + o, len - (size_t)o, r ? ", %d" : "%d", dims[r]);
    if (o > 0 && (size_t)o < len) snprintf(buf + o, len - (size_t)o, ")");
}

bool weights_match(const weights_file *f, const layer *L, int nl, const char *spec, const char *path, char *err,
                   size_t errlen) {
    weights_desc *d = xcalloc((size_t)nl * 2, sizeof *d);
    int nt = weights_describe(d, L, nl);
    bool ok = nt == f->ntensors;
    if (!ok) fail_with(err, errlen, path, "holds %d tensors, model '%s' has %d", f->ntensors, spec, nt);
    for (int i = 0; ok && i < nt; i++) {
        const weights_tensor *t = &f->t[i];
        ok = strcmp(t->name, d[i].name) == 0 && t->rank == d[i].rank &&
             memcmp(t->dims, d[i].dims, (size_t)t->rank * sizeof(int)) == 0;
        if (!ok) {
            char have[64], want[64];
            weights_shape_text(have, sizeof have, t->name, t->rank, t->dims);
            weights_shape_text(want, sizeof want, d[i].name, d[i].rank, d[i].dims);
            fail_with(err, errlen, path, "tensor %d is %s but model '%s' expects %s", i, have, spec, want);
        }
    }
    free(d);
    return ok;
}

bool weights_apply(net *n, const weights_file *f, const char *path, char *err, size_t errlen) {
    if (f->c != n->in_c || f->h != n->in_h || f->w != n->in_w || f->classes != n->classes)
        return fail_with(err, errlen, path, "made for %dx%dx%d inputs and %d classes, not %dx%dx%d and %d", f->c, f->h, f->w,
                    f->classes, n->in_c, n->in_h, n->in_w, n->classes);
    if (!weights_match(f, n->L, n->nl, n->spec, path, err, errlen)) return false;
    weights_desc *d = xcalloc((size_t)n->nl * 2, sizeof *d);
    int nt = weights_describe(d, n->L, n->nl);
    float *params = xcalloc(n->nparams, sizeof *params);
    for (int i = 0; i < nt; i++) memcpy(params + d[i].offset, f->t[i].data, d[i].count * sizeof(float));
    net_write_params(n, params);
    free(params);
    free(d);
    return true;
}

void weights_free(weights_file *f) {
    for (int i = 0; i < f->ntensors; i++) free(f->t[i].data);
    free(f->t);
    free(f->model);
    memset(f, 0, sizeof *f);
}
