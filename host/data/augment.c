#include "claug/data/augment.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "claug/util/util.h"

static const char *const fill_mode_names[AUG_FILL_COUNT] = {
    [AUG_FILL_NEAREST] = "nearest", [AUG_FILL_CONSTANT] = "constant", [AUG_FILL_REFLECT] = "reflect",
    [AUG_FILL_WRAP] = "wrap"};

int aug_fill_mode_parse(const char *name) {
    for (int m = 0; m < AUG_FILL_COUNT; m++)
        if (strcmp(name, fill_mode_names[m]) == 0) return m;
    return -1;
}

const char *aug_fill_mode_name(int mode) { return mode >= 0 && mode < AUG_FILL_COUNT ? fill_mode_names[mode] : "?"; }

int aug_interpolation_parse(const char *name) {
    return strcmp(name, "nearest") == 0 ? 0 : strcmp(name, "bilinear") == 0 ? 1 : -1;
}

void aug_config_default(aug_config *c) {
    memset(c, 0, sizeof *c);
    c->zoom_lo = c->zoom_hi = 1.0f;
    c->fill_mode = AUG_FILL_NEAREST;
    c->interpolation_order = 1;
    c->zca_epsilon = 1e-6f;
    c->featurewise_std = 1.0f;
}

void aug_config_imply(aug_config *c) {
    if (c->zca_whitening) {
        c->featurewise_center = 1;
        c->featurewise_std_normalization = 0;
    }
    if (c->featurewise_std_normalization) c->featurewise_center = 1;
    if (c->samplewise_std_normalization) c->samplewise_center = 1;
}

bool aug_config_brightness_on(const aug_config *c) { return c->brightness_lo != 0.0f || c->brightness_hi != 0.0f; }

bool aug_config_standardizes(const aug_config *c) {
    return c->samplewise_center || c->samplewise_std_normalization || aug_config_needs_fit(c);
}

bool aug_config_needs_fit(const aug_config *c) {
    return c->featurewise_center || c->featurewise_std_normalization || c->zca_whitening;
}

bool aug_config_active(const aug_config *c) {
    return c->rotation_range != 0.0f || c->width_shift_range != 0.0f || c->height_shift_range != 0.0f ||
           c->shear_range != 0.0f || c->zoom_lo != 1.0f || c->zoom_hi != 1.0f || c->horizontal_flip ||
           c->vertical_flip || (aug_config_brightness_on(c) && (c->brightness_lo != 1.0f || c->brightness_hi != 1.0f)) ||
           c->channel_shift_range != 0.0f || aug_config_standardizes(c);
}

aug_config aug_config_eval(const aug_config *c) {
    aug_config e = *c;
    e.rotation_range = e.width_shift_range = e.height_shift_range = e.shear_range = 0.0f;
    e.zoom_lo = e.zoom_hi = 1.0f;
    e.horizontal_flip = e.vertical_flip = 0;
    e.brightness_lo = e.brightness_hi = 0.0f;
    e.channel_shift_range = 0.0f;
    return e;
}

/* The bounds keep every sampling coordinate far inside int range (images are at most
 * IDX_MAX_SIDE pixels a side) and the angle reduction of aug_sincos_deg exact. */
static const float MAX_ANGLE = 360.0f, MAX_SHIFT = 1000.0f, MAX_FACTOR = 100.0f, MAX_EPSILON = 1e6f;

bool aug_config_check(const aug_config *c, char *err, size_t errlen) {
    /* Written as !(in range) so that NaN fails too. */
    if (!(c->rotation_range >= 0.0f && c->rotation_range <= MAX_ANGLE))
        snprintf(err, errlen, "--rotation-range %g: must be from 0 to %g degrees", c->rotation_range, MAX_ANGLE);
    else if (!(c->width_shift_range >= 0.0f && c->width_shift_range <= MAX_SHIFT))
        snprintf(err, errlen, "--width-shift-range %g: must be from 0 to %g (below 1 a fraction of the width, else pixels)",
                 c->width_shift_range, MAX_SHIFT);
    else if (!(c->height_shift_range >= 0.0f && c->height_shift_range <= MAX_SHIFT))
        snprintf(err, errlen, "--height-shift-range %g: must be from 0 to %g (below 1 a fraction of the height, else pixels)",
                 c->height_shift_range, MAX_SHIFT);
    else if (!(c->shear_range >= 0.0f && c->shear_range <= MAX_ANGLE))
        snprintf(err, errlen, "--shear-range %g: must be from 0 to %g degrees", c->shear_range, MAX_ANGLE);
    else if (!(c->zoom_lo > 0.0f && c->zoom_lo <= c->zoom_hi && c->zoom_hi <= MAX_FACTOR))
        snprintf(err, errlen, "--zoom-range %g,%g: needs 0 < LO <= HI <= %g (a single Z means 1-Z,1+Z)", c->zoom_lo, c->zoom_hi, MAX_FACTOR);
    else if (!(c->brightness_lo >= 0.0f && c->brightness_lo <= c->brightness_hi && c->brightness_hi <= MAX_FACTOR))
        snprintf(err, errlen, "--brightness-range %g,%g: needs 0 <= LO <= HI <= %g", c->brightness_lo, c->brightness_hi,
                 MAX_FACTOR);
    else if (!(c->fill_mode >= 0 && c->fill_mode < AUG_FILL_COUNT))
        snprintf(err, errlen, "--fill-mode: unknown mode %d", c->fill_mode);
    else if (!(c->cval >= 0.0f && c->cval <= 1.0f))
        snprintf(err, errlen, "--cval %g: must be from 0 to 1 (pixels are scaled to [0, 1])", c->cval);
    else if (!(c->channel_shift_range >= 0.0f && c->channel_shift_range <= 1.0f))
        snprintf(err, errlen, "--channel-shift-range %g: must be from 0 to 1 (pixels are scaled to [0, 1])",
                 c->channel_shift_range);
    else if (!(c->interpolation_order == 0 || c->interpolation_order == 1))
        snprintf(err, errlen, "--interpolation: unknown order %d", c->interpolation_order);
    else if (!(c->zca_epsilon > 0.0f && c->zca_epsilon <= MAX_EPSILON))
        snprintf(err, errlen, "--zca-epsilon %g: must be above 0 and at most %g", c->zca_epsilon, MAX_EPSILON);
    else
        return true;
    return false;
}

/* Appends ", " (unless first) and a formatted item to buf, truncating at its end. */
static CLAUG_PRINTF(3, 4) void append_item(char *buf, size_t cap, const char *fmt, ...) {
    size_t n = strlen(buf);
    if (n && n + 2 < cap) {
        memcpy(buf + n, ", ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

char *aug_config_describe(const aug_config *c) {
    if (!aug_config_active(c)) return xstrdup("none");
    char buf[1024] = "";
    if (c->rotation_range != 0.0f) append_item(buf, sizeof buf, "rotation_range=%g", c->rotation_range);
    if (c->width_shift_range != 0.0f) append_item(buf, sizeof buf, "width_shift_range=%g", c->width_shift_range);
    if (c->height_shift_range != 0.0f) append_item(buf, sizeof buf, "height_shift_range=%g", c->height_shift_range);
    if (c->shear_range != 0.0f) append_item(buf, sizeof buf, "shear_range=%g", c->shear_range);
    if (c->zoom_lo != 1.0f || c->zoom_hi != 1.0f)
        append_item(buf, sizeof buf, "zoom_range=[%g, %g]", c->zoom_lo, c->zoom_hi);
    if (c->horizontal_flip) append_item(buf, sizeof buf, "horizontal_flip=True");
    if (c->vertical_flip) append_item(buf, sizeof buf, "vertical_flip=True");
    if (aug_config_brightness_on(c))
        append_item(buf, sizeof buf, "brightness_range=[%g, %g]", c->brightness_lo, c->brightness_hi);
    if (c->fill_mode != AUG_FILL_NEAREST) append_item(buf, sizeof buf, "fill_mode='%s'", aug_fill_mode_name(c->fill_mode));
    if (c->cval != 0.0f) append_item(buf, sizeof buf, "cval=%g", c->cval);
    if (c->channel_shift_range != 0.0f) append_item(buf, sizeof buf, "channel_shift_range=%g", c->channel_shift_range);
    if (c->interpolation_order != 1) append_item(buf, sizeof buf, "interpolation_order=%d", c->interpolation_order);
    const struct {
        int on;
        const char *name;
    } flags[] = {{c->samplewise_center, "samplewise_center"},
                 {c->samplewise_std_normalization, "samplewise_std_normalization"},
                 {c->featurewise_center, "featurewise_center"},
                 {c->featurewise_std_normalization, "featurewise_std_normalization"},
                 {c->zca_whitening, "zca_whitening"}};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (flags[i].on) append_item(buf, sizeof buf, "%s=True", flags[i].name);
    if (c->zca_whitening && c->zca_epsilon != 1e-6f) append_item(buf, sizeof buf, "zca_epsilon=%g", c->zca_epsilon);
    return xstrdup(buf);
}

enum { GATHER_AUGMENT };

void augment_init(augmenter *a, clrt *rt) {
    clrt_kernels_init(&a->ks, rt, "philox.h augment_params.h augment.cl", NULL,
                      (const char *const[]){[GATHER_AUGMENT] = "gather_augment", NULL});
}

void augment_release(augmenter *a) { clrt_kernels_release(&a->ks); }

/* given: (B, AUG_NPARAMS) explicit parameters, or NULL to draw them from (seed, epoch). */
static void launch(augmenter *a, cl_mem x, cl_mem y, const devset *d, cl_mem order, int first, int B,
                   const aug_config *c, cl_mem given, uint64_t seed, uint32_t epoch, const char *tag) {
    /* One work-group per image (wg_1d, a power of two); the kernel's pixel loops stride by it. */
    size_t wg = a->ks.rt->wg_1d;
    KARGS(a->ks.k[GATHER_AUGMENT], ARG_MEM(x), ARG_MEM(y), ARG_MEM(d->images), ARG_MEM(d->labels), ARG_MEM(order),
          ARG_MEM(given), ARG_LOCAL(wg * sizeof(float)), ARG_INT(first), ARG_INT(B), ARG_INT(d->rows),
          ARG_INT(d->cols), ARG_UINT((uint32_t)seed), ARG_UINT((uint32_t)(seed >> 32)), ARG_UINT(epoch),
          ARG_FLOAT(c->rotation_range), ARG_FLOAT(c->width_shift_range), ARG_FLOAT(c->height_shift_range),
          ARG_FLOAT(c->shear_range), ARG_FLOAT(c->zoom_lo), ARG_FLOAT(c->zoom_hi), ARG_INT(c->horizontal_flip),
          ARG_INT(c->vertical_flip), ARG_FLOAT(c->brightness_lo), ARG_FLOAT(c->brightness_hi), ARG_INT(c->fill_mode),
          ARG_FLOAT(c->cval), ARG_FLOAT(c->channel_shift_range), ARG_INT(c->interpolation_order),
          ARG_INT(c->samplewise_center), ARG_INT(c->samplewise_std_normalization), ARG_INT(c->featurewise_center),
          ARG_INT(c->featurewise_std_normalization), ARG_FLOAT(c->featurewise_mean), ARG_FLOAT(c->featurewise_std));
    clrt_launch(a->ks.rt, a->ks.k[GATHER_AUGMENT], 1, (size_t[]){(size_t)B * wg}, (size_t[]){wg}, tag);
}

void augment_gather(augmenter *a, cl_mem x, cl_mem y, const devset *d, cl_mem order, int first, int B,
                    const aug_config *c, uint64_t seed, uint32_t epoch, const char *tag) {
    launch(a, x, y, d, order, first, B, c, NULL, seed, epoch, tag);
}

void augment_gather_params(augmenter *a, cl_mem x, cl_mem y, const devset *d, cl_mem order, int first, int B,
                           const aug_config *c, const aug_params *params, const char *tag) {
    float *rows = xmalloc((size_t)B * AUG_NPARAMS * sizeof *rows); /* (B, AUG_NPARAMS) */
    for (int b = 0; b < B; b++) {
        float *g = rows + (size_t)b * AUG_NPARAMS;
        const aug_params *p = &params[b];
        g[AUG_P_THETA] = p->theta;
        g[AUG_P_TX] = p->tx;
        g[AUG_P_TY] = p->ty;
        g[AUG_P_SHEAR] = p->shear;
        g[AUG_P_ZX] = p->zx;
        g[AUG_P_ZY] = p->zy;
        g[AUG_P_FLIP_H] = (float)p->flip_h;
        g[AUG_P_FLIP_V] = (float)p->flip_v;
        g[AUG_P_BRIGHTNESS] = p->brightness;
        g[AUG_P_CHANNEL_SHIFT] = p->channel_shift;
    }
    size_t bytes = (size_t)B * AUG_NPARAMS * sizeof *rows;
    cl_mem given = clrt_alloc(a->ks.rt, bytes);
    clrt_write(a->ks.rt, given, 0, bytes, rows); /* blocking: rows can go */
    launch(a, x, y, d, order, first, B, c, given, 0, 0, tag);
    CL_CHECK(clReleaseMemObject(given)); /* OpenCL keeps it until the kernel has run */
    free(rows);
}

/* The pixel that index i of an axis of n pixels reads under the fill mode, folding the index
 * back into the image one reflection or one period at a time. Constant mode clamps: only the
 * zero-weight neighbour of a coordinate on the last pixel falls outside there. */
static int ref_fold(int i, int n, int mode) {
    switch (mode) {
    case AUG_FILL_REFLECT:
        while (i < 0 || i >= n) i = i < 0 ? -1 - i : 2 * n - 1 - i;
        return i;
    case AUG_FILL_WRAP:
        while (i < 0) i += n;
        while (i >= n) i -= n;
        return i;
    default: return i < 0 ? 0 : i >= n ? n - 1 : i;
    }
}

/* The input sampled at (r, c) in [0, 1] units, bilinearly (order 1) or at the nearest pixel,
 * floor(coordinate + 0.5) (order 0), as scipy's affine_transform; scipy's 'constant'
 * interpolates nothing beyond the edges: a coordinate outside [0, n - 1] on either axis is cval. */
static float ref_sample(const uint8_t *img /* (H, W) */, int H, int W, float r, float c, const aug_config *cfg) {
    if (cfg->fill_mode == AUG_FILL_CONSTANT && !(r >= 0.0f && r <= (float)(H - 1) && c >= 0.0f && c <= (float)(W - 1)))
        return cfg->cval;
    if (cfg->interpolation_order == 0) {
        int rr = ref_fold((int)floorf(r + 0.5f), H, cfg->fill_mode);
        int cc = ref_fold((int)floorf(c + 0.5f), W, cfg->fill_mode);
        return (float)img[rr * W + cc] * (1.0f / 255.0f);
    }
    int r0 = (int)floorf(r), c0 = (int)floorf(c);
    float fr = r - (float)r0, fc = c - (float)c0;
    float wr[2] = {1.0f - fr, fr}, wc[2] = {1.0f - fc, fc};
    float sum = 0.0f;
    for (int dr = 0; dr < 2; dr++)
        for (int dc = 0; dc < 2; dc++)
            sum += wr[dr] * wc[dc] *
                   (float)img[ref_fold(r0 + dr, H, cfg->fill_mode) * W + ref_fold(c0 + dc, W, cfg->fill_mode)];
    return sum * (1.0f / 255.0f);
}

static void ref_swap(float *a, float *b) {
    float t = *a;
    *a = *b;
    *b = t;
}

static float ref_clip(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Keras' apply_transform (affine, channel shift, flips, brightness), then its standardize but
 * for ZCA, one whole-image pass at a time; the reductions in double. */
void ref_augment_image(float *out, const uint8_t *img, int H, int W, const aug_config *c, const aug_params *p) {
    int P = H * W;
    float m[6];
    aug_matrix(m, p, H, W);
    for (int r = 0; r < H; r++)
        for (int col = 0; col < W; col++) {
            float fr = m[0] * (float)r + m[1] * (float)col + m[2], fc = m[3] * (float)r + m[4] * (float)col + m[5];
            out[r * W + col] = ref_sample(img, H, W, fr, fc, c);
        }
    if (p->channel_shift != 0.0f) { /* apply_channel_shift: clipped to the image's own range */
        float lo = out[0], hi = out[0];
        for (int i = 1; i < P; i++) {
            lo = out[i] < lo ? out[i] : lo;
            hi = out[i] > hi ? out[i] : hi;
        }
        for (int i = 0; i < P; i++) out[i] = ref_clip(out[i] + p->channel_shift, lo, hi);
    }
    if (p->flip_h)
        for (int r = 0; r < H; r++)
            for (int col = 0; col < W / 2; col++) ref_swap(&out[r * W + col], &out[r * W + W - 1 - col]);
    if (p->flip_v)
        for (int r = 0; r < H / 2; r++)
            for (int col = 0; col < W; col++) ref_swap(&out[r * W + col], &out[(H - 1 - r) * W + col]);
    for (int i = 0; i < P; i++) out[i] = ref_clip(out[i] * p->brightness, 0.0f, 1.0f);
    double sum = 0.0, sq = 0.0;
    for (int i = 0; i < P; i++) sum += out[i];
    float mean = (float)(sum / P);
    for (int i = 0; i < P; i++) sq += ((double)out[i] - mean) * ((double)out[i] - mean);
    float sd = (float)sqrt(sq / P);
    for (int i = 0; i < P; i++) {
        float v = out[i];
        if (c->samplewise_center) v -= mean;
        if (c->samplewise_std_normalization) v /= sd + 1e-6f;
        if (c->featurewise_center) v -= c->featurewise_mean;
        if (c->featurewise_std_normalization) v /= c->featurewise_std + 1e-6f;
        out[i] = v;
    }
}
