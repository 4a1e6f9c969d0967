#include "claug/model/checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "claug/util/strbuf.h"

static const char magic[8] = {'C', 'L', 'A', 'U', 'G', 'C', 'K', 'P'};
enum { VERSION = 1, MAX_KEY = 1 << 16, METRICS = 7 };
/* Three copies of the parameters: the weights file's 1 GiB bound, three times. */
#define MAX_FILE ((size_t)3 << 30)

char *checkpoint_key(const net *n, const train_config *c, int train_images, unsigned long data_fingerprint) {
    char *aug = aug_config_describe(&c->aug);
    /* %.17g: the learning rate exactly, so two rates that train differently never share a key. */
    char *key = xasprintf("model=%s; seed=%llu; images=%d; batch_size=%d; lr=%.17g; augmentation=%s; data=%08lx",
                          n->spec, (unsigned long long)c->seed, train_images, c->batch_size, c->lr, aug,
                          data_fingerprint);
    free(aug);
    return key;
}

static void put_u32(strbuf *b, uint32_t v) {
    uint8_t x[4];
    put_le32(x, v);
    sb_append_n(b, (const char *)x, 4);
}

static void put_u64(strbuf *b, uint64_t v) {
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_floats(strbuf *b, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], 4);
        put_u32(b, bits);
    }
}

/* The metrics of an epoch, in the order of the format. */
static double *metric(epoch_metrics *m, int i) {
    double *f[METRICS] = {&m->loss, &m->accuracy, &m->val_loss, &m->val_accuracy, &m->train_seconds, &m->val_seconds,
                          &m->images_per_second};
    return f[i];
}

bool checkpoint_save(net *n, const history *h, const char *key, const char *path, char *err, size_t errlen) {
    size_t P = n->nparams;
    float *state = xmalloc(3 * P * sizeof *state); /* params, m, v */
    net_read_params(n, state);
    net_read_moments(n, state + P, state + 2 * P);
    strbuf b = {0};
    sb_append_n(&b, magic, 8);
    put_u32(&b, VERSION);
    put_u32(&b, (uint32_t)strlen(key));
    sb_append_n(&b, key, strlen(key));
    put_u64(&b, P);
    put_u64(&b, (uint64_t)n->step);
    put_u32(&b, (uint32_t)h->epochs);
    for (int e = 0; e < h->epochs; e++)
        for (int i = 0; i < METRICS; i++) {
            uint64_t bits;
            memcpy(&bits, metric(&h->epoch[e], i), 8);
            put_u64(&b, bits);
        }
    put_floats(&b, state, 3 * P);
    put_u32(&b, (uint32_t)crc32(0L, (const Bytef *)b.data, (uInt)b.len));
    bool ok = write_file(path, b.data, b.len);
    if (!ok) fail_with(err, errlen, path, "cannot write the checkpoint: %s", strerror(errno));
    free(b.data);
    free(state);
    return ok;
}

static uint64_t get_le64(const uint8_t *p) { return get_le32(p) | (uint64_t)get_le32(p + 4) << 32; }

/* "; "-separated fields of a and b: the first that differs, as "seed=1" and "seed=42". */
static void first_difference(const char *a, const char *b, char *da, char *db, size_t len) {
    for (;;) {
        size_t la = strcspn(a, ";"), lb = strcspn(b, ";");
        if (la != lb || memcmp(a, b, la) != 0 || !a[la] || !b[lb]) {
            snprintf(da, len, "%.*s", (int)la, a);
            snprintf(db, len, "%.*s", (int)lb, b);
            return;
        }
        a += la + (a[la + 1] == ' ' ? 2 : 1);
        b += lb + (b[lb + 1] == ' ' ? 2 : 1);
    }
}

bool checkpoint_load(net *n, history *h, const char *key, const char *path, char *err, size_t errlen) {
    size_t len;
    uint8_t *d = (uint8_t *)read_file(path, MAX_FILE, &len, err, errlen);
    if (!d) return false;
    bool ok = false;
    size_t P = n->nparams, at = 16;
    if (len < 8 || memcmp(d, magic, 8) != 0) {
        fail_with(err, errlen, path, "not a claug checkpoint (no CLAUGCKP header)");
        goto done;
    }
    if (len < 20 || get_le32(d + len - 4) != (uint32_t)crc32(0L, d, (uInt)(len - 4))) {
        fail_with(err, errlen, path, "corrupt or truncated: the CRC-32 does not match the contents");
        goto done;
    }
    if (get_le32(d + 8) != VERSION) {
        fail_with(err, errlen, path, "unsupported checkpoint version %u (this claug reads version %d)", get_le32(d + 8),
                  VERSION);
        goto done;
    }
    len -= 4;
    uint32_t klen = get_le32(d + 12);
    if (klen > MAX_KEY || len - at < (size_t)klen + 20) {
        fail_with(err, errlen, path, "truncated header");
        goto done;
    }
    char *have = xasprintf("%.*s", (int)klen, (const char *)d + at);
    at += klen;
    if (strcmp(have, key) != 0) {
        char da[512], db[512];
        first_difference(have, key, da, db, sizeof da);
        fail_with(err, errlen, path, "belongs to another training (%s; this one has %s)", da, db);
        free(have);
        goto done;
    }
    free(have);
    uint64_t count = get_le64(d + at), step = get_le64(d + at + 8);
    uint32_t epochs = get_le32(d + at + 16);
    at += 20;
    if (count != P) {
        fail_with(err, errlen, path, "holds %llu parameters, the model has %zu", (unsigned long long)count, P);
        goto done;
    }
    if (epochs > (len - at) / (METRICS * 8) || len - at != (size_t)epochs * METRICS * 8 + 3 * P * 4) {
        fail_with(err, errlen, path, "its size does not match %u epochs and %zu parameters", epochs, P);
        goto done;
    }
    for (uint32_t e = 0; e < epochs; e++) {
        epoch_metrics m;
        for (int i = 0; i < METRICS; i++, at += 8) {
            uint64_t bits = get_le64(d + at);
            memcpy(metric(&m, i), &bits, 8);
        }
        history_add(h, &m);
    }
    float *state = xmalloc(3 * P * sizeof *state);
    for (size_t i = 0; i < 3 * P; i++, at += 4) {
        uint32_t bits = get_le32(d + at);
        memcpy(&state[i], &bits, 4);
    }
    net_write_params(n, state);
    net_write_moments(n, state + P, state + 2 * P);
    n->step = (long)step;
    free(state);
    ok = true;
done:
    free(d);
    return ok;
}
