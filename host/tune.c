/* The tuning record: defaults, the text file (strict parser, checksum), loading and applying it,
 * descriptions, and `claug tune` itself (both searches, the before/after table, the file). The
 * searches are tune_conv.c and tune_gemm.c. */
#define _POSIX_C_SOURCE 200809L
#include "claug/tune.h"

#include <clblast_c.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/strbuf.h"

static const char file_magic[] = "claug tuning v1";

void tuning_default(tuning *t, const clrt *rt) {
    memset(t, 0, sizeof *t);
    conv_tuning_default(&t->conv, rt);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tune_median(double *s, int n) {
    if (n <= 0) return 0;
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
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

/* The conv_tuning fields, in file order. */
typedef struct {
    const char *key;
    size_t offset;
    int lo, hi;
} conv_field;
#define CONV_FIELD(f, lo, hi)                                                                                          \
    { "conv." #f, offsetof(conv_tuning, f), lo, hi }
static const conv_field conv_fields[] = {
    CONV_FIELD(tp, 1, 16),    CONV_FIELD(cb, 1, 16),    CONV_FIELD(wt, 1, 16),  CONV_FIELD(wcb, 1, 16),
    CONV_FIELD(kfast, 1, 15), CONV_FIELD(lws, 1, 4096), CONV_FIELD(tm, 1, 512), CONV_FIELD(tn, 1, 512),
    CONV_FIELD(kc, 1, 512),   CONV_FIELD(rm, 1, 64),    CONV_FIELD(rn, 1, 64),  CONV_FIELD(splits, 0, 65536),
};
#undef CONV_FIELD
enum { NCONV_FIELDS = sizeof conv_fields / sizeof conv_fields[0] };

static int *conv_int(conv_tuning *t, const conv_field *f) { return (int *)((char *)t + f->offset); }

char *tuning_format(const tuning *t, const clrt_devinfo *d) {
    strbuf b = {0};
    sb_printf(&b, "%s\ndevice = %s\nvendor = %s\ndriver = %s\nplatform_version = %s\nbatch_size = %d\n", file_magic,
              d->name, d->vendor, d->driver, d->platform_version, t->batch_size);
    sb_printf(&b, "conv.local_tiles = %d\n", t->conv.local_tiles ? 1 : 0);
    for (int i = 0; i < NCONV_FIELDS; i++)
        sb_printf(&b, "%s = %d\n", conv_fields[i].key, *conv_int((conv_tuning *)&t->conv, &conv_fields[i]));
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
    bool ok = write_file_atomic(path, text, strlen(text));
    free(text);
    return ok;
}

/* A whole decimal number in [lo, hi], nothing else. */
static bool parse_size(const char *s, size_t lo, size_t hi, size_t *out) {
    if (!*s) return false;
    size_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > hi) return false;
        v = v * 10 + (size_t)(*s - '0');
    }
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool valid_param_name(const char *s) {
    if (!*s || strlen(s) >= sizeof((clblast_params *)0)->names[0]) return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
    return true;
}

bool conv_tuning_check(const conv_tuning *t, const clrt *rt, char *err, size_t errlen) {
    for (int i = 0; i < NCONV_FIELDS; i++) {
        int v = *conv_int((conv_tuning *)t, &conv_fields[i]);
        if (v < conv_fields[i].lo || v > conv_fields[i].hi) {
            snprintf(err, errlen, "%s = %d is outside [%d, %d]", conv_fields[i].key, v, conv_fields[i].lo,
                     conv_fields[i].hi);
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
    bool seen_local_tiles, seen_conv[NCONV_FIELDS], seen_min_indirect, seen_batch;
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
    if (strcmp(key, "conv.local_tiles") == 0) {
        if (p->seen_local_tiles) return fail(p, "%s given twice%s", key, "");
        p->seen_local_tiles = true;
        if (!parse_size(value, 0, 1, &v)) return fail(p, "%s = '%s' is not 0 or 1", key, value);
        p->t->conv.local_tiles = v == 1;
        return true;
    }
    for (int i = 0; i < NCONV_FIELDS; i++) {
        if (strcmp(key, conv_fields[i].key) != 0) continue;
        if (p->seen_conv[i]) return fail(p, "%s given twice%s", key, "");
        p->seen_conv[i] = true;
        if (!parse_size(value, 0, 1 << 20, &v)) return fail(p, "%s = '%s' is not a number", key, value);
        *conv_int(&p->t->conv, &conv_fields[i]) = (int)v;
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
    if (strncmp(text, file_magic, ml) != 0 || text[ml] != '\n') {
        snprintf(err, errlen, "not a claug tuning file (first line is not '%s')", file_magic);
        return false;
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
    for (int i = 0; i < NCONV_FIELDS; i++) conv_complete &= p.seen_conv[i];
    if (p.seen_header != 15 || !p.seen_batch || !conv_complete || !p.seen_min_indirect) {
        snprintf(err, errlen,
                 "keys missing (device, vendor, driver, platform_version, batch_size, every conv.* "
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

/* Set once this process has passed any override: CLBlast cannot go back to its defaults. */
static bool clblast_overridden;

int gemm_tuning_apply(const clrt *rt, const gemm_tuning *g) {
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
    snprintf(buf, len, "convolution: %s; CLBlast: %s", conv, gemm);
}

void tuning_load(clrt *rt, tuning *t, char *desc, size_t desclen) {
    tuning_default(t, rt);
    char *path = tuning_path(rt);
    size_t len = 0;
    char *text = path ? read_file(path, &len) : NULL;
    if (path && !text && errno != ENOENT)
        warn("cannot read the tuning file %s: %s; using the default parameters", path, strerror(errno));
    if (text) {
        tuning f;
        char err[512];
        if (strlen(text) != len) snprintf(err, sizeof err, "it holds a NUL byte");
        if (strlen(text) == len && tuning_parse(&f, text, rt, err, sizeof err)) {
            *t = f;
            t->from_file = true;
        } else {
            warn("ignoring the tuning file %s: %s; using the default parameters (run `claug tune` to replace it)", path,
                 err);
        }
    }
    bool gemm_tuned = t->from_file;
    if (t->from_file) {
        int st = gemm_tuning_apply(rt, &t->gemm);
        if (st != CLBlastSuccess) {
            warn("CLBlast refused the parameters of %s (%s); using its defaults (run `claug tune` again)", path,
                 clblast_status_name(st));
            memset(&t->gemm, 0, sizeof t->gemm);
            gemm_tuned = false;
        }
    }
    char conv_state[1200], gemm_state[1200];
    const char *untuned = "default parameters (run `claug tune`)";
    conv_tuning def;
    conv_tuning_default(&def, rt);
    if (t->from_file && memcmp(&def, &t->conv, sizeof def) != 0)
        snprintf(conv_state, sizeof conv_state, "tuned (%s)", path);
    else if (t->from_file)
        snprintf(conv_state, sizeof conv_state, "default parameters (the fastest in `claug tune`, %s)", path);
    else
        snprintf(conv_state, sizeof conv_state, "%s", untuned);
    if (gemm_tuned && !gemm_is_default(&t->gemm))
        snprintf(gemm_state, sizeof gemm_state, "tuned (%s)", path);
    else if (gemm_tuned)
        snprintf(gemm_state, sizeof gemm_state, "default parameters (the fastest in `claug tune`, %s)", path);
    else
        snprintf(gemm_state, sizeof gemm_state, "%s", untuned);
    snprintf(desc, desclen, "convolution %s; CLBlast %s", conv_state, gemm_state);
    free(text);
    free(path);
}

/* ---- `claug tune` -------------------------------------------------------------------------------- */

static const char *pass_name[3] = {"forward", "input gradient", "weight gradient"};

static void print_conv_result(const conv_tune_result *r, int rounds) {
    printf("\nConvolution, before (defaults) -> after (tuned), median device time of %d interleaved runs:\n", rounds);
    double before = 0, after = 0;
    for (int l = 0; l < r->nlayers; l++)
        for (int k = 0; k < 3; k++) {
            if (r->t_before[l][k] <= 0) continue; /* the first layer has no input gradient */
            char name[80];
            snprintf(name, sizeof name, "%s %s", r->layer[l], pass_name[k]);
            printf("  %-34s %9.3f ms -> %9.3f ms  x%.2f\n", name, 1e3 * r->t_before[l][k], 1e3 * r->t_after[l][k],
                   r->t_after[l][k] > 0 ? r->t_before[l][k] / r->t_after[l][k] : 0.0);
            before += r->t_before[l][k];
            after += r->t_after[l][k];
        }
    printf("  %-34s %9.3f ms -> %9.3f ms  x%.2f\n", "total", 1e3 * before, 1e3 * after,
           after > 0 ? before / after : 0.0);
    char d[256];
    conv_tuning_describe(d, sizeof d, &r->before);
    printf("  before: %s\n", d);
    conv_tuning_describe(d, sizeof d, &r->after);
    printf("  after:  %s%s\n", d, memcmp(&r->before, &r->after, sizeof r->after) ? "" : " (the defaults were kept)");
    printf("  %d candidates checked against the reference, %d rejected\n", r->tried, r->rejected);
}

static void print_gemm_result(const gemm_tune_result *r) {
    printf("\nCLBlast SGEMM, before (%s) -> after (%s), median device time:\n",
           r->baseline_default ? "defaults" : "the parameters this process had", r->defaults_kept ? "kept" : "tuned");
    double before = 0, after = 0;
    for (int i = 0; i < r->nshapes; i++) {
        const dense_gemm_shape *s = &r->shape[i];
        char name[96];
        snprintf(name, sizeof name, "%s (%zux%zux%zu %c%c)", s->name, s->m, s->n, s->k, s->ta ? 'T' : 'N',
                 s->tb ? 'T' : 'N');
        double flops = 2.0 * s->m * s->n * s->k;
        printf("  %-44s %8.3f ms (%5.1f GFLOP/s) -> %8.3f ms (%5.1f GFLOP/s)\n", name, 1e3 * r->t_before[i],
               r->t_before[i] > 0 ? flops / r->t_before[i] * 1e-9 : 0.0, 1e3 * r->t_after[i],
               r->t_after[i] > 0 ? flops / r->t_after[i] * 1e-9 : 0.0);
        before += r->t_before[i];
        after += r->t_after[i];
    }
    printf("  %-44s %8.3f ms -> %8.3f ms  x%.2f\n", "total", 1e3 * before, 1e3 * after,
           after > 0 ? before / after : 0.0);
    char d[1024];
    gemm_tuning_describe(d, sizeof d, &r->after);
    printf("  after: %s\n  %d candidates checked against the reference, %d rejected\n", d, r->tried, r->rejected);
}

void tune_run(clrt *rt, const tune_config *c, bool quick, const conv_space *conv_override,
              const gemm_candidate *gemm_override, int ngemm_override, tuning *out, char **saved) {
    tuning_default(out, rt);
    out->batch_size = c->batch_size;
    *saved = NULL;
    char *path = tuning_path(rt);
    if (path && !can_create(path)) die(EXIT_USAGE, "cannot create the tuning file %s: %s", path, strerror(errno));
    printf("Tuning for batch %d on this device; every candidate is checked against the plain-C reference before "
           "it is timed.\n",
           c->batch_size);

    conv_space cs;
    if (conv_override)
        cs = *conv_override;
    else
        conv_space_default(&cs, rt, quick);
    tune_conv_problem *cp = tune_conv_problem_new(rt, c->batch_size, c->seed);
    conv_tune_result cr;
    tune_conv(cp, &cs, c, &cr);
    tune_conv_problem_free(cp);
    out->conv = cr.after;
    print_conv_result(&cr, 2 * c->rounds);

    if (!(gemm_override && ngemm_override == 0)) {
        gemm_candidate list[TUNE_MAX_CANDIDATES];
        const gemm_candidate *gc = gemm_override;
        int n = ngemm_override;
        if (!gc) n = gemm_candidates_default(list, TUNE_MAX_CANDIDATES, rt, quick), gc = list;
        tune_gemm_problem *gp = tune_gemm_problem_new(rt, c->batch_size, c->seed);
        gemm_tune_result gr;
        tune_gemm(gp, gc, n, c, &gr);
        tune_gemm_problem_free(gp);
        out->gemm = gr.after;
        print_gemm_result(&gr);
    }

    if (!path) {
        warn("no cache directory ($XDG_CACHE_HOME or $HOME): the tuning is not saved");
        return;
    }
    if (!tuning_save(out, rt, path)) die(EXIT_USAGE, "cannot write the tuning file %s: %s", path, strerror(errno));
    printf("\nSaved to %s; `claug train`, `run`, `eval` and `bench` on this device use it.\n", path);
    *saved = path;
}
