/* The tuning record: defaults, the text file (strict parser, checksum), loading it (validated by
 * use, on the search's problems) and applying it, descriptions. */
#define _POSIX_C_SOURCE 200809L
#include "claug/tune/tuning.h"

#include <clblast_c.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/model/net.h"
#include "claug/util/strbuf.h"
#include "claug/tune/clblast_params.h"
#include "claug/tune/search.h"

/* v2 added the model; a v1 file holds the seed model's tuning, the only one `claug tune` made. */
static const char file_magic[] = "claug tuning v2", file_magic_v1[] = "claug tuning v1";
/* Tuned tiles are checked on the seed model's convolutions at this batch: their correctness
 * does not depend on it, and the plain-C reference is slow. */
enum { CHECK_CONV_BATCH = 2 };
static const uint64_t CHECK_SEED = 1;

/* The run's layers, parsed; dies on a model the caller has not already checked. */
static layer *parse_model(const char *model, int c, int h, int w, int classes, int *nl, char **canonical) {
    layer *L;
    char err[512];
    if (!model_parse(model, c, h, w, classes, &L, nl, canonical, err, sizeof err)) die(EXIT_USAGE, "%s", err);
    return L;
}


void tuning_default(tuning *t, const clrt *rt) {
    memset(t, 0, sizeof *t);
    conv_tuning_default(&t->conv, rt);
}

/* ---- the file ------------------------------------------------------------------------------ */

/* What the file is for: a tuning measured under another driver says nothing about this one. */
static uint64_t device_hash(const clrt_devinfo *d) {
    const char *parts[] = {d->name, d->vendor, d->driver, d->platform_version};
    uint64_t h = FNV64_INIT;
    for (size_t i = 0; i < 4; i++) h = fnv64(h, parts[i], strlen(parts[i]) + 1);
    return h;
}

char *tuning_path(const clrt *rt) {
    if (!rt->cache_dir) return NULL;
    return xasprintf("%s/tuning-%016" PRIx64 ".txt", rt->cache_dir, device_hash(&rt->dev));
}

/* The conv_tuning fields are conv_tunables' (ops/conv.h), in its order, keyed "conv.<name>". */

char *tuning_format(const tuning *t, const clrt_devinfo *d) {
    strbuf b = {0};
    sb_printf(&b, "%s\ndevice = %s\nvendor = %s\ndriver = %s\nplatform_version = %s\nbatch_size = %d\nmodel = %s\n",
              file_magic, d->name, d->vendor, d->driver, d->platform_version, t->batch_size, t->model);
    sb_printf(&b, "conv.local_tiles = %d\n", t->conv.local_tiles ? 1 : 0);
    conv_tuning conv = t->conv;
    for (int i = 0; i < CONV_NTUNABLES; i++)
        sb_printf(&b, "conv.%s = %d\n", conv_tunables[i].name, *conv_tunable_field(&conv, &conv_tunables[i]));
    sb_printf(&b, "clblast.min_indirect_size = %zu\n", t->gemm.min_indirect);
    for (int k = 0; k < t->gemm.nkernels; k++) {
        const clblast_params *p = &t->gemm.kernels[k];
        for (int i = 0; i < p->n; i++) sb_printf(&b, "clblast.%s.%s = %zu\n", p->kernel, p->names[i], p->values[i]);
    }
    uint64_t sum = fnv64(FNV64_INIT, b.data, b.len);
    sb_printf(&b, "checksum = %016" PRIx64 "\n", sum);
    return sb_take(&b);
}

bool tuning_save(const tuning *t, const clrt *rt, const char *path) {
    char *text = tuning_format(t, &rt->dev);
    bool ok = write_file(path, text, strlen(text));
    free(text);
    return ok;
}

static bool valid_param_name(const char *s) {
    if (!*s || strlen(s) >= sizeof((clblast_params *)0)->names[0]) return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
    return true;
}

bool conv_tuning_check(const conv_tuning *t, const clrt *rt, char *err, size_t errlen) {
    conv_tuning copy = *t;
    for (int i = 0; i < CONV_NTUNABLES; i++) {
        const conv_tunable *u = &conv_tunables[i];
        int v = *conv_tunable_field(&copy, u);
        if (v < u->lo || v > u->hi) {
            snprintf(err, errlen, "conv.%s = %d is outside [%d, %d]", u->name, v, u->lo, u->hi);
            return false;
        }
    }
    if ((size_t)t->lws > rt->dev.max_wg) {
        snprintf(err, errlen, "work-group size %d exceeds the device's %zu", t->lws, rt->dev.max_wg);
        return false;
    }
    if (t->tm % t->rm || t->tn % t->rn) {
        snprintf(err, errlen, "local tiles %dx%d are not multiples of %dx%d", t->tm, t->tn, t->rm, t->rn);
        return false;
    }
    size_t wg = (size_t)(t->tm / t->rm) * (size_t)(t->tn / t->rn);
    size_t local = sizeof(float) * ((size_t)t->kc * (t->tm + t->tn) + t->tm + t->kc);
    if (t->local_tiles && (wg > rt->dev.max_wg || local > rt->dev.local_mem)) {
        snprintf(err, errlen,
                 "local tiles need %zu work-items and %zu bytes of local memory; the device has %zu and %lu", wg, local,
                 rt->dev.max_wg, (unsigned long)rt->dev.local_mem);
        return false;
    }
    return true;
}

/* Where the parser is, for its messages. */
typedef struct {
    tuning *t;
    const clrt *rt;
    char *err;
    size_t errlen;
    int line;
    bool seen_local_tiles, seen_conv[CONV_NTUNABLES], seen_min_indirect, seen_batch, seen_model;
    int seen_header;
} parser;

/* The message for the line being parsed; a and b (quoted text from the file) cut to 120 bytes. */
static bool fail(parser *p, const char *fmt, const char *a, const char *b) {
    char ca[121], cb[121], msg[512];
    snprintf(ca, sizeof ca, "%.120s", a);
    snprintf(cb, sizeof cb, "%.120s", b);
    snprintf(msg, sizeof msg, fmt, ca, cb);
    snprintf(p->err, p->errlen, "line %d: %s", p->line, msg);
    return false;
}

static bool parse_header(parser *p, const char *key, const char *value) {
    const clrt_devinfo *d = &p->rt->dev;
    const char *keys[] = {"device", "vendor", "driver", "platform_version"};
    const char *mine[] = {d->name, d->vendor, d->driver, d->platform_version};
    for (int i = 0; i < 4; i++) {
        if (strcmp(key, keys[i]) != 0) continue;
        if (p->seen_header & (1 << i)) return fail(p, "%s given twice%s", key, "");
        p->seen_header |= 1 << i;
        if (strcmp(value, mine[i]) != 0) return fail(p, "made for %s '%s', not this one", key, value);
        return true;
    }
    return fail(p, "unknown key '%s'%s", key, "");
}

static bool parse_clblast(parser *p, const char *key, const char *value) {
    gemm_tuning *g = &p->t->gemm;
    size_t v;
    if (strcmp(key, "clblast.min_indirect_size") == 0) {
        if (p->seen_min_indirect) return fail(p, "%s given twice%s", key, "");
        p->seen_min_indirect = true;
        /* Up to 2^21, whose cube still fits 64 bits (CLBlast compares m*n*k with it). */
        if (!parse_size(value, 0, (size_t)1 << 21, &v))
            return fail(p, "%s = '%s' is not a number from 0 to 2097152", key, value);
        g->min_indirect = v;
        return true;
    }
    const char *kernels[] = {"XgemmDirect", "Xgemm"};
    for (int k = 0; k < 2; k++) {
        size_t kl = strlen(kernels[k]);
        if (strncmp(key + 8, kernels[k], kl) != 0 || key[8 + kl] != '.') continue;
        const char *name = key + 8 + kl + 1;
        if (!valid_param_name(name)) return fail(p, "bad parameter name in '%s'%s", key, "");
        if (!parse_size(value, 0, 4096, &v)) return fail(p, "%s = '%s' is not a number from 0 to 4096", key, value);
        int slot = 0;
        while (slot < g->nkernels && strcmp(g->kernels[slot].kernel, kernels[k]) != 0) slot++;
        if (slot == g->nkernels) {
            if (slot == CLBLAST_MAX_KERNELS) return fail(p, "too many CLBlast kernels at '%s'%s", key, "");
            g->nkernels++;
            snprintf(g->kernels[slot].kernel, sizeof g->kernels[slot].kernel, "%s", kernels[k]);
        }
        clblast_params *cp = &g->kernels[slot];
        for (int i = 0; i < cp->n; i++)
            if (strcmp(cp->names[i], name) == 0) return fail(p, "%s given twice%s", key, "");
        if (cp->n == CLBLAST_MAX_PARAMS) return fail(p, "too many parameters at '%s'%s", key, "");
        snprintf(cp->names[cp->n], sizeof cp->names[cp->n], "%s", name);
        cp->values[cp->n++] = v;
        return true;
    }
    return fail(p, "unknown key '%s'%s", key, "");
}

static bool parse_line(parser *p, const char *key, const char *value) {
    size_t v;
    if (strcmp(key, "batch_size") == 0) {
        if (p->seen_batch) return fail(p, "%s given twice%s", key, "");
        p->seen_batch = true;
        if (!parse_size(value, 1, 8192, &v)) return fail(p, "%s = '%s' is not a batch size", key, value);
        p->t->batch_size = (int)v;
        return true;
    }
    if (strcmp(key, "model") == 0) {
        if (p->seen_model) return fail(p, "%s given twice%s", key, "");
        p->seen_model = true;
        /* MODEL_SEED is written canonically (test_model checks it). */
        if (strcmp(value, MODEL_SEED) != 0) return fail(p, "model '%s' is not the seed model, the only one `claug tune` searches%s", value, "");
        snprintf(p->t->model, sizeof p->t->model, "%s", value);
        return true;
    }
    if (strcmp(key, "conv.local_tiles") == 0) {
        if (p->seen_local_tiles) return fail(p, "%s given twice%s", key, "");
        p->seen_local_tiles = true;
        if (!parse_size(value, 0, 1, &v)) return fail(p, "%s = '%s' is not 0 or 1", key, value);
        p->t->conv.local_tiles = v == 1;
        return true;
    }
    for (int i = 0; i < CONV_NTUNABLES; i++) {
        if (strncmp(key, "conv.", 5) != 0 || strcmp(key + 5, conv_tunables[i].name) != 0) continue;
        if (p->seen_conv[i]) return fail(p, "%s given twice%s", key, "");
        p->seen_conv[i] = true;
        if (!parse_size(value, 0, 1 << 20, &v)) return fail(p, "%s = '%s' is not a number", key, value);
        *conv_tunable_field(&p->t->conv, &conv_tunables[i]) = (int)v;
        return true;
    }
    if (strncmp(key, "clblast.", 8) == 0) return parse_clblast(p, key, value);
    return parse_header(p, key, value);
}

bool tuning_parse(tuning *t, const char *text, const clrt *rt, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    parser p = {.t = t, .rt = rt, .err = err, .errlen = errlen};
    /* The checksum line is the last; it covers every byte before it. */
    const char *sum_line = NULL;
    for (const char *s = strstr(text, "\nchecksum = "); s; s = strstr(s + 1, "\nchecksum = ")) sum_line = s + 1;
    if (!sum_line) {
        snprintf(err, errlen, "no checksum line (truncated?)");
        return false;
    }
    char want[32];
    snprintf(want, sizeof want, "checksum = %016" PRIx64 "\n", fnv64(FNV64_INIT, text, (size_t)(sum_line - text)));
    if (strcmp(sum_line, want) != 0) {
        snprintf(err, errlen, "the checksum does not match the contents (corrupt, truncated or edited)");
        return false;
    }
    size_t ml = strlen(file_magic);
    bool v1 = strncmp(text, file_magic_v1, ml) == 0;
    if ((!v1 && strncmp(text, file_magic, ml) != 0) || text[ml] != '\n') {
        snprintf(err, errlen, "not a claug tuning file (first line is not '%s')", file_magic);
        return false;
    }
    if (v1) {
        snprintf(t->model, sizeof t->model, "%s", MODEL_SEED);
        p.seen_model = true;
    }
    p.line = 1;
    for (const char *s = text + ml + 1; s < sum_line;) {
        p.line++;
        const char *end = strchr(s, '\n'), *eq = strstr(s, " = ");
        if (!eq || eq > end) return fail(&p, "expected 'key = value', got '%.60s'%s", s, "");
        char key[64], value[512];
        if ((size_t)(eq - s) >= sizeof key || (size_t)(end - eq - 3) >= sizeof value)
            return fail(&p, "line too long%s%s", "", "");
        snprintf(key, sizeof key, "%.*s", (int)(eq - s), s);
        snprintf(value, sizeof value, "%.*s", (int)(end - eq - 3), eq + 3);
        if (!parse_line(&p, key, value)) return false;
        s = end + 1;
    }
    bool conv_complete = p.seen_local_tiles;
    for (int i = 0; i < CONV_NTUNABLES; i++) conv_complete &= p.seen_conv[i];
    if (p.seen_header != 15 || !p.seen_batch || !p.seen_model || !conv_complete || !p.seen_min_indirect) {
        snprintf(err, errlen,
                 "keys missing (device, vendor, driver, platform_version, batch_size, model, every conv.* "
                 "and clblast.min_indirect_size are required)");
        return false;
    }
    char why[256];
    if (!conv_tuning_check(&t->conv, rt, why, sizeof why)) {
        snprintf(err, errlen, "convolution: %s", why);
        return false;
    }
    return true;
}

/* ---- loading and applying ---------------------------------------------------------------------- */

/* Set while CLBlast runs parameters other than its own. */
static bool clblast_overridden;
/* CLBlast's own parameters, read before the first override (claug opens one device a process). */
static gemm_tuning clblast_own;
static bool clblast_own_read;

/* Reads CLBlast's own parameters of the kernels a tuning may override, and its routing. */
static int read_clblast_own(const clrt *rt) {
    if (clblast_own_read) return CLBlastSuccess;
    gemm_tuning g = {.nkernels = 2};
    const char *kernels[] = {"XgemmDirect", "Xgemm"};
    for (int k = 0; k < 2; k++) {
        clblast_params *p = &g.kernels[k];
        snprintf(p->kernel, sizeof p->kernel, "%s", kernels[k]);
        int st = clblast_retrieve_params(rt->dev.device, kernels[k], CLBLAST_MAX_PARAMS, sizeof p->names[0],
                                         p->names[0], p->values, &p->n);
        if (st != CLBlastSuccess) return st;
    }
    enum { MAXN = 4, NAMELEN = 32 };
    char names[MAXN * NAMELEN];
    size_t values[MAXN];
    int n = 0;
    int st = clblast_retrieve_params(rt->dev.device, "GemmRoutine", MAXN, NAMELEN, names, values, &n);
    if (st != CLBlastSuccess) return st;
    for (int i = 0; i < n && i < MAXN; i++)
        if (strcmp(names + i * NAMELEN, "XGEMM_MIN_INDIRECT_SIZE") == 0) g.min_indirect = values[i];
    clblast_own = g;
    clblast_own_read = true;
    return CLBlastSuccess;
}

int gemm_tuning_apply(const clrt *rt, const gemm_tuning *g) {
    /* Nothing is overridden unless the way back is known. */
    int own = g->nkernels || g->min_indirect ? read_clblast_own(rt) : CLBlastSuccess;
    if (own != CLBlastSuccess) return own;
    for (int k = 0; k < g->nkernels; k++) {
        const clblast_params *p = &g->kernels[k];
        const char *names[CLBLAST_MAX_PARAMS];
        for (int i = 0; i < p->n; i++) names[i] = p->names[i];
        int st = CLBlastOverrideParameters(rt->dev.device, p->kernel, CLBlastPrecisionSingle, (size_t)p->n, names,
                                           p->values);
        if (st != CLBlastSuccess) return st;
        clblast_overridden = true;
    }
    if (!g->min_indirect) return CLBlastSuccess;
    const char *name[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    int st =
        CLBlastOverrideParameters(rt->dev.device, "GemmRoutine", CLBlastPrecisionSingle, 1, name, &g->min_indirect);
    if (st == CLBlastSuccess) clblast_overridden = true;
    return st;
}

bool tune_clblast_overridden(void) { return clblast_overridden; }

int gemm_tuning_restore(const clrt *rt) {
    if (!clblast_overridden) return CLBlastSuccess;
    /* The same values as CLBlast's own give the same programs: back to the defaults. */
    int st = gemm_tuning_apply(rt, &clblast_own);
    if (st == CLBlastSuccess) clblast_overridden = false;
    return st;
}

static bool gemm_is_default(const gemm_tuning *g) { return g->nkernels == 0 && g->min_indirect == 0; }

void gemm_tuning_describe(char *buf, size_t len, const gemm_tuning *g) {
    if (gemm_is_default(g)) {
        snprintf(buf, len, "CLBlast's defaults");
        return;
    }
    strbuf b = {0};
    for (int k = 0; k < g->nkernels; k++) {
        const clblast_params *p = &g->kernels[k];
        sb_printf(&b, "%s%s", k ? "; " : "", p->kernel);
        for (int i = 0; i < p->n; i++) sb_printf(&b, " %s=%zu", p->names[i], p->values[i]);
    }
    if (g->min_indirect == 1)
        sb_printf(&b, "; every GEMM indirect");
    else if (g->min_indirect)
        sb_printf(&b, "; direct below m*n*k = %zu^3", g->min_indirect);
    char *s = sb_take(&b);
    snprintf(buf, len, "%s", s);
    free(s);
}

void tuning_describe(char *buf, size_t len, const tuning *t) {
    char conv[256], gemm[512];
    conv_tuning_describe(conv, sizeof conv, &t->conv);
    gemm_tuning_describe(gemm, sizeof gemm, &t->gemm);
    snprintf(buf, len, "convolution: %s; dense layers %s; CLBlast: %s", conv,
             t->conv.dense ? "as 1x1 convolutions" : "through CLBlast", gemm);
}

/* The run's layers of one kind, split by whether the file was tuned at their shape. */
typedef struct {
    layer_kind kind;
    strbuf tuned, untuned; /* "conv2d, conv2d_1" */
    int ntuned, nuntuned;
} family;

static bool same_shape(const layer *a, const layer *b) {
    return a->kind == b->kind && a->c == b->c && a->h == b->h && a->w == b->w && a->oc == b->oc &&
           a->size == b->size && a->relu == b->relu;
}

/* A layer's shape counts as tuned when the file's model has one like it and the batch is the
 * file's: the search timed nothing else. */
static void split_layers(family *f, const layer *run, int nrun, const layer *file, int nfile, bool same_batch) {
    for (int i = 0; i < nrun; i++) {
        if (run[i].kind != f->kind) continue;
        bool tuned = false;
        for (int j = 0; j < nfile && same_batch && !tuned; j++) tuned = same_shape(&run[i], &file[j]);
        strbuf *b = tuned ? &f->tuned : &f->untuned;
        sb_printf(b, "%s%s", b->len ? ", " : "", run[i].name);
        tuned ? f->ntuned++ : f->nuntuned++;
    }
}

/* The file's tiles built and run on the seed model's convolutions; false with a warning. */
static bool conv_trial(clrt *rt, const conv_tuning *ct, const char *path) {
    int nl;
    layer *L = model_layers(MODEL_SEED, &nl, NULL);
    tune_conv_problem *p = tune_conv_problem_new(rt, L, nl, CHECK_CONV_BATCH, CHECK_SEED, ct->dense);
    free(L);
    bool fwd_ok, dw_ok;
    double worst;
    char why[2048], d[256];
    bool built = tune_conv_check(p, ct, &fwd_ok, &dw_ok, &worst, why, sizeof why);
    tune_conv_problem_free(p);
    if (built && fwd_ok && dw_ok) return true;
    if (built)
        snprintf(why, sizeof why, "their results differ from the plain-C reference (worst error %.3g x the tolerance)",
                 worst);
    conv_tuning_describe(d, sizeof d, ct);
    warn("ignoring the convolution parameters of the tuning file %s (%s): %s; using the defaults (run `claug tune` "
         "again)",
         path, d, why);
    return false;
}

/* The file's CLBlast parameters applied and run on the seed model's GEMMs at the batch; on
 * failure CLBlast is put back to its own parameters and false returned with a warning. */
static bool gemm_trial(clrt *rt, const gemm_tuning *g, int batch, const char *path) {
    int nl;
    layer *L = model_layers(MODEL_SEED, &nl, NULL);
    tune_gemm_problem *p = tune_gemm_problem_new(rt, L, nl, batch, CHECK_SEED);
    free(L);
    double worst;
    int st = tune_gemm_check(p, g, &worst);
    tune_gemm_problem_free(p);
    if (st == CLBlastSuccess && worst <= 1) return true;
    char d[1024], why[256];
    gemm_tuning_describe(d, sizeof d, g);
    if (st != CLBlastSuccess)
        snprintf(why, sizeof why, "CLBlast refused or could not run them (%s)", clblast_status_name(st));
    else
        snprintf(why, sizeof why, "their results differ from the plain-C reference (worst error %.3g x the tolerance)",
                 worst);
    warn("ignoring the CLBlast parameters of the tuning file %s (%s): %s; using CLBlast's defaults (run `claug tune` "
         "again)",
         path, d, why);
    CLBLAST_CHECK(gemm_tuning_restore(rt));
    return false;
}

/* One family's part of tuning_load's line. */
static void family_state(char *buf, size_t len, const family *f, const tuning *file, const char *path, bool used,
                         bool is_default, bool failed, int batch) {
    if (!file->from_file)
        snprintf(buf, len, "default parameters (run `claug tune`)");
    else if (f->ntuned + f->nuntuned == 0)
        snprintf(buf, len, "not used by this model");
    else if (used && is_default)
        snprintf(buf, len, "default parameters (the fastest in `claug tune`, %s)", path);
    else if (used)
        snprintf(buf, len, "tuned (%s): %s", path, f->tuned.data);
    else if (failed)
        snprintf(buf, len, "default parameters (those of %s failed their check)", path);
    else
        /* One build serves every layer of the kind: a layer at a tuned shape runs the defaults too. */
        snprintf(buf, len,
                 "default parameters (%s was tuned at batch %d for the seed model; this run at batch %d has layers "
                 "at tuned shapes: %s; at others: %s%s)",
                 path, file->batch_size, batch, f->ntuned ? f->tuned.data : "none", f->untuned.data,
                 batch != file->batch_size ? "; `claug tune --batch-size` tunes for another batch" : "");
}

void tuning_load(clrt *rt, const char *model, int c, int h, int w, int classes, int batch, tuning *t, char *desc,
                 size_t desclen) {
    tuning_default(t, rt);
    char *path = tuning_path(rt);
    size_t len = 0;
    char rerr[1024];
    char *text = path ? read_file(path, MAX_TEXT_FILE, &len, rerr, sizeof rerr) : NULL;
    /* No file is the untuned state, not a problem to warn about. */
    if (path && !text && errno != ENOENT) warn("cannot read the tuning file %s; using the default parameters", rerr);
    tuning f;
    tuning_default(&f, rt);
    if (text) {
        char err[512];
        if (strlen(text) != len) snprintf(err, sizeof err, "it holds a NUL byte");
        if (strlen(text) == len && tuning_parse(&f, text, rt, err, sizeof err))
            f.from_file = true;
        else
            warn("ignoring the tuning file %s: %s; using the default parameters (run `claug tune` to replace it)", path,
                 err);
    }
    t->from_file = f.from_file;
    t->batch_size = f.batch_size;
    snprintf(t->model, sizeof t->model, "%s", f.model);

    family fam[2] = {{.kind = LAYER_CONV}, {.kind = LAYER_DENSE}};
    int nrun, nfile = 0;
    char *canonical;
    layer *run = parse_model(model, c, h, w, classes, &nrun, &canonical), *file = NULL;
    free(canonical);
    if (f.from_file) {
        file = model_layers(f.model, &nfile, &canonical);
        free(canonical);
    }
    for (int i = 0; i < 2; i++) split_layers(&fam[i], run, nrun, file, nfile, batch == f.batch_size);
    /* A family takes the file's parameters when all its layers are at tuned shapes and they pass
     * their trial; parameters equal to the defaults need none. */
    bool usable[2], failed[2] = {false, false};
    for (int i = 0; i < 2; i++) usable[i] = f.from_file && fam[i].ntuned > 0 && fam[i].nuntuned == 0;
    bool conv_default = memcmp(&f.conv, &t->conv, sizeof f.conv) == 0;
    if (usable[0] && !conv_default) {
        failed[0] = !conv_trial(rt, &f.conv, path);
        if (!failed[0]) t->conv = f.conv;
    }
    bool gemm_default = gemm_is_default(&f.gemm);
    if (usable[1] && !gemm_default) {
        failed[1] = !gemm_trial(rt, &f.gemm, batch, path);
        if (!failed[1]) t->gemm = f.gemm;
    }
    char state[2][1600];
    for (int i = 0; i < 2; i++)
        family_state(state[i], sizeof state[i], &fam[i], &f, path, usable[i] && !failed[i],
                     i == 0 ? conv_default : gemm_default, failed[i], batch);
    snprintf(desc, desclen, "convolution %s; CLBlast %s", state[0], state[1]);
    for (int i = 0; i < 2; i++) free(fam[i].tuned.data), free(fam[i].untuned.data);
    free(run);
    free(file);
    free(text);
    free(path);
}
