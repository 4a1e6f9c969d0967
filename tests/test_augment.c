/* Augmentation: the device kernel gather_augment against the plain-C reference and against exact
 * permutations computed here from Keras' conventions (a quarter turn counter-clockwise, tx along
 * the columns, the shear's column offset, zoom about Keras' centre); the channel shift and the
 * standardization against their definitions; the parameter draws against their documented
 * definition; batch-size independence; `claug augment` (bad options, --dump). */
/* ctest: labels=kernel,e2e timeout=60 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/data/augment.h"
#include "claug/data/batch.h"
#include "claug/data/dataset.h"
#include "tol.h"

static clrt *rt;
static augmenter aug;
static batcher bat;

/* Images on the host (for the references) and on the device. */
typedef struct {
    const uint8_t *pixels; /* (count, H, W) */
    const uint8_t *labels; /* (count) */
    int count, H, W;
    devset d;
} imageset;

static imageset set_make(const uint8_t *pixels, const uint8_t *labels, int count, int H, int W) {
    imageset s = {pixels, labels, count, H, W, {0}};
    idx_array im = {(uint32_t)count, (uint32_t)H, (uint32_t)W, (uint8_t *)pixels};
    idx_array lb = {(uint32_t)count, 1, 1, (uint8_t *)labels};
    devset_upload(&s.d, rt, &im, &lb);
    return s;
}

/* The kernel's batch for order[0 .. B): (B, H * W) floats (caller frees); labels into y_out
 * when given. params NULL: drawn from (seed, epoch). */
static float *device_batch(const imageset *s, const int *order, int B, const aug_config *c, uint64_t seed,
                           uint32_t epoch, const aug_params *params, int *y_out) {
    size_t P = (size_t)s->H * s->W;
    cl_mem ob = clrt_alloc(rt, (size_t)B * sizeof(int)), x = clrt_alloc(rt, (size_t)B * P * sizeof(float)),
           y = clrt_alloc(rt, (size_t)B * sizeof(int));
    clrt_write(rt, ob, 0, (size_t)B * sizeof(int), order);
    if (params)
        augment_gather_params(&aug, x, y, &s->d, ob, 0, B, c, params, "test");
    else
        augment_gather(&aug, x, y, &s->d, ob, 0, B, c, seed, epoch, "test");
    float *out = xmalloc((size_t)B * P * sizeof *out);
    clrt_read(rt, x, 0, (size_t)B * P * sizeof *out, out);
    if (y_out) clrt_read(rt, y, 0, (size_t)B * sizeof(int), y_out);
    CL_CHECK(clReleaseMemObject(ob));
    CL_CHECK(clReleaseMemObject(x));
    CL_CHECK(clReleaseMemObject(y));
    return out;
}

/* The reference's batch, the same way. */
static float *ref_batch(const imageset *s, const int *order, int B, const aug_config *c, uint64_t seed, uint32_t epoch,
                        const aug_params *params) {
    size_t P = (size_t)s->H * s->W;
    float *out = xmalloc((size_t)B * P * sizeof *out);
    for (int b = 0; b < B; b++) {
        aug_params p = params ? params[b] : aug_draw(c, seed, epoch, (uint32_t)order[b], s->H, s->W);
        ref_augment_image(out + b * P, s->pixels + (size_t)order[b] * P, s->H, s->W, c, &p);
    }
    return out;
}

static aug_params identity_params(void) {
    aug_params p = {0};
    p.zx = p.zy = p.brightness = 1.0f;
    return p;
}

/* Pseudo-random indices into [0, count), distinct when count is a power of two >= n. */
static void pick(int *order, int n, int count, uint64_t seed) {
    for (int i = 0; i < n; i++) order[i] = (int)(((uint64_t)i * 7919u + seed * 104729u) % (uint64_t)count);
}

/* (1) No augmentation reproduces the gather, bit for bit, whatever the fill mode. */
static void test_identity(const imageset *s) {
    enum { B = 32 };
    int order[B], y_aug[B], y_plain[B];
    pick(order, B, s->count, 1);
    size_t P = (size_t)s->H * s->W;
    cl_mem ob = clrt_alloc(rt, sizeof order), x = clrt_alloc(rt, B * P * sizeof(float)), y = clrt_alloc(rt, sizeof order);
    clrt_write(rt, ob, 0, sizeof order, order);
    batcher_gather(&bat, x, y, &s->d, ob, 0, B);
    float *plain = xmalloc(B * P * sizeof *plain), *want = xmalloc(B * P * sizeof *want);
    clrt_read(rt, x, 0, B * P * sizeof *plain, plain);
    clrt_read(rt, y, 0, sizeof y_plain, y_plain);
    for (int b = 0; b < B; b++) ref_normalize(want + b * P, s->pixels + (size_t)order[b] * P, (int)P);
    for (int mode = 0; mode < AUG_FILL_COUNT; mode++) {
        aug_config c;
        aug_config_default(&c);
        c.fill_mode = mode;
        c.cval = 0.5f;
        CHECK(!aug_config_active(&c), "fill mode alone is no augmentation");
        float *got = device_batch(s, order, B, &c, 42, 3, NULL, y_aug), *ref = ref_batch(s, order, B, &c, 42, 3, NULL);
        char what[64];
        snprintf(what, sizeof what, "identity %s: kernel = gather", aug_fill_mode_name(mode));
        check_same(what, got, plain, B * P * sizeof *got);
        snprintf(what, sizeof what, "identity %s: reference = normalize", aug_fill_mode_name(mode));
        check_same(what, ref, want, B * P * sizeof *ref);
        check_same("identity: labels", y_aug, y_plain, sizeof y_aug);
        free(got);
        free(ref);
    }
    check_same("gather = normalize", plain, want, B * P * sizeof *plain);
    free(plain);
    free(want);
    CL_CHECK(clReleaseMemObject(ob));
    CL_CHECK(clReleaseMemObject(x));
    CL_CHECK(clReleaseMemObject(y));
}

/* Pixel (r, c) of an axis pair extended by the fill mode, from the modes' definitions; -1 when
 * it lies outside under constant. */
static int extend_def(int i, int n, int mode) {
    if (i >= 0 && i < n) return i;
    switch (mode) {
    case AUG_FILL_NEAREST: return i < 0 ? 0 : n - 1;
    case AUG_FILL_WRAP: return (int)(((long)i % n + n) % n);
    case AUG_FILL_REFLECT: {
        int k = (int)(((long)i % (2 * n) + 2 * n) % (2 * n)); /* abcd dcba repeats */
        return k < n ? k : 2 * n - 1 - k;
    }
    default: return -1;
    }
}

/* Compares kernel and reference, run with explicit parameters, with an expected image given
 * as source pixel indices (-1: cval), bit for bit. */
static void check_permutation(const char *what, const imageset *s, int index, const aug_config *c, const aug_params *p,
                              const int *src /* (H * W) */) {
    size_t P = (size_t)s->H * s->W;
    const uint8_t *img = s->pixels + (size_t)index * P;
    float *want = xmalloc(P * sizeof *want);
    for (size_t i = 0; i < P; i++) {
        if (src[i] < 0)
            want[i] = c->cval;
        else
            ref_normalize(&want[i], &img[src[i]], 1);
    }
    float *got = device_batch(s, &index, 1, c, 0, 0, p, NULL), *ref = ref_batch(s, &index, 1, c, 0, 0, p);
    char name[96];
    snprintf(name, sizeof name, "%s (kernel)", what);
    check_same(name, got, want, P * sizeof *got);
    snprintf(name, sizeof name, "%s (reference)", what);
    check_same(name, ref, want, P * sizeof *ref);
    free(want);
    free(got);
    free(ref);
}

/* (2) Exact permutations: quarter turns, flips, whole-pixel shifts under every fill mode. */
static void test_permutations(const imageset *square, const imageset *odd) {
    aug_config c;
    aug_config_default(&c);
    int index = 17 % square->count, N = square->H;
    int *src = xmalloc((size_t)(square->H * square->W > odd->H * odd->W ? square->H * square->W : odd->H * odd->W) *
                       sizeof *src);
    /* Rotation by theta = 90 k: counter-clockwise, as np.rot90: out(r, c) = in(c, N-1-r) applied
     * k times (Keras' c_in = cos c' - sin r', r_in = sin c' + cos r' about the centre). */
    const float angles[] = {90, -90, 180, 270, -270, 360, -360, 0};
    for (size_t a = 0; a < sizeof angles / sizeof angles[0]; a++) {
        int turns = ((int)angles[a] / 90 % 4 + 4) % 4;
        for (int r = 0; r < N; r++)
            for (int col = 0; col < N; col++) {
                int rr = r, cc = col;
                for (int t = 0; t < turns; t++) {
                    int nr = cc, nc = N - 1 - rr;
                    rr = nr;
                    cc = nc;
                }
                src[r * N + col] = rr * N + cc;
            }
        aug_params p = identity_params();
        p.theta = angles[a];
        char what[64];
        snprintf(what, sizeof what, "rotation %g", (double)angles[a]);
        check_permutation(what, square, index, &c, &p, src);
    }
    /* Flips on an odd, non-square image. */
    for (int f = 1; f < 4; f++) {
        aug_params p = identity_params();
        p.flip_h = f & 1;
        p.flip_v = f >> 1;
        for (int r = 0; r < odd->H; r++)
            for (int col = 0; col < odd->W; col++)
                src[r * odd->W + col] = (p.flip_v ? odd->H - 1 - r : r) * odd->W + (p.flip_h ? odd->W - 1 - col : col);
        char what[64];
        snprintf(what, sizeof what, "flip h=%d v=%d", p.flip_h, p.flip_v);
        check_permutation(what, odd, 1, &c, &p, src);
    }
    /* Whole-pixel shifts: the input is read at (r + ty, c + tx), tx along the columns, beyond
     * the edges by the mode; large ones go around more than one period. shifts[k] = (rows,
     * columns). */
    const int shifts[][2] = {{3, -2}, {-5, 4}, {31, -45}, {0, 28}, {-60, 13}};
    const imageset *sets[2] = {square, odd};
    for (int mode = 0; mode < AUG_FILL_COUNT; mode++)
        for (size_t k = 0; k < sizeof shifts / sizeof shifts[0]; k++)
            for (int si = 0; si < 2; si++) {
                const imageset *s = sets[si];
                c.fill_mode = mode;
                c.cval = 0.375f;
                aug_params p = identity_params();
                p.ty = (float)shifts[k][0];
                p.tx = (float)shifts[k][1];
                for (int r = 0; r < s->H; r++)
                    for (int col = 0; col < s->W; col++) {
                        int rr = extend_def(r + shifts[k][0], s->H, mode), cc = extend_def(col + shifts[k][1], s->W, mode);
                        src[r * s->W + col] = rr < 0 || cc < 0 ? -1 : rr * s->W + cc;
                    }
                char what[64];
                snprintf(what, sizeof what, "shift %d,%d %s %dx%d", shifts[k][0], shifts[k][1], aug_fill_mode_name(mode),
                         s->H, s->W);
                check_permutation(what, s, si ? 2 : index, &c, &p, src);
            }
    free(src);
}

/* (2b) Exact pixels of the other factors, on an odd square image (centre (4, 4): every sample
 * lands on a pixel) and an odd non-square one, under every fill mode: the shear's sign and axis
 * (Keras' x_in = x - sin(s) y, y_in = cos(s) y, about the centre), zoom by 2 on either axis,
 * Keras' centre of a non-square image (o_x = H / 2 - 0.5 along the columns, from the height, as
 * transform_matrix_offset_center(M, h, w) computes it), and the order of the factors (a quarter
 * turn after a shift: R @ Shift). */
static void test_exact_factors(const imageset *sq, const imageset *odd) {
    enum { N = 9 };
    CHECK(sq->H == N && sq->W == N, "the square set is %dx%d", sq->H, sq->W);
    int *src = xmalloc((size_t)N * N * sizeof *src);
    struct {
        const char *what;
        const imageset *s;
        aug_params p;
        int mode;
    } cases[] = {
        {"shear 90", sq, {.shear = 90}, 0},
        {"shear -90", sq, {.shear = -90}, 0},
        {"shear 180", sq, {.shear = 180}, 0},
        {"zoom zx 2", sq, {.zx = 2, .zy = 1}, 0},
        {"zoom zy 2", sq, {.zx = 1, .zy = 2}, 0},
        {"zoom 2", sq, {.zx = 2, .zy = 2}, 0},
        {"zoom zx 2 9x7", odd, {.zx = 2, .zy = 1}, 0},
        {"zoom zy 3 9x7", odd, {.zx = 1, .zy = 3}, 0},
        {"rotation 90 after shift 2,-1", sq, {.theta = 90, .tx = 2, .ty = -1, .zx = 1, .zy = 1}, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int mode = 0; mode < AUG_FILL_COUNT; mode++) {
            const imageset *s = cases[k].s;
            aug_params p = cases[k].p;
            if (p.zx == 0.0f) p.zx = p.zy = 1.0f;
            p.brightness = 1.0f;
            aug_config c;
            aug_config_default(&c);
            c.fill_mode = mode;
            c.cval = 0.625f;
            /* Keras' centre: o_x (columns) from the height, o_y (rows) from the width. */
            int ox = s->H / 2, oy = s->W / 2; /* H / 2 - 0.5 for odd H: (H - 1) / 2 */
            for (int r = 0; r < s->H; r++)
                for (int col = 0; col < s->W; col++) {
                    int x = col - ox, y = r - oy, xi, yi; /* centred (x, y) = (column, row) */
                    if (p.shear != 0.0f) {
                        int sn = p.shear == 90.0f ? 1 : p.shear == -90.0f ? -1 : 0, cs = p.shear == 180.0f ? -1 : 0;
                        xi = x - sn * y;
                        yi = cs * y;
                    } else if (p.theta != 0.0f) { /* R(90) (x + tx, y + ty) */
                        xi = -(y + (int)p.ty);
                        yi = x + (int)p.tx;
                    } else {
                        xi = (int)p.zx * x;
                        yi = (int)p.zy * y;
                    }
                    int rr = extend_def(yi + oy, s->H, mode), cc = extend_def(xi + ox, s->W, mode);
                    src[r * s->W + col] = rr < 0 || cc < 0 ? -1 : rr * s->W + cc;
                }
            char what[64];
            snprintf(what, sizeof what, "%s %s", cases[k].what, aug_fill_mode_name(mode));
            check_permutation(what, s, 0, &c, &p, src);
        }
    free(src);
}

/* (2c) The channel shift on an identity transform: x + s clipped to the image's own minimum and
 * maximum (Keras' apply_channel_shift on one channel), then the brightness, from the definition;
 * and nearest interpolation of whole-pixel shifts equals the bilinear one. */
static void test_channel_shift(const imageset *s) {
    size_t P = (size_t)s->H * s->W;
    const float shifts[] = {0.25f, -0.4f, 1.0f, -1.0f};
    for (size_t k = 0; k < sizeof shifts / sizeof shifts[0]; k++) {
        int index = (int)(5 + 3 * k) % s->count;
        const uint8_t *img = s->pixels + (size_t)index * P;
        aug_config c;
        aug_config_default(&c);
        aug_params p = identity_params();
        p.channel_shift = shifts[k];
        p.brightness = 1.5f;
        float *want = xmalloc(P * sizeof *want), lo = 1, hi = 0;
        ref_normalize(want, img, (int)P);
        for (size_t i = 0; i < P; i++) {
            lo = want[i] < lo ? want[i] : lo;
            hi = want[i] > hi ? want[i] : hi;
        }
        for (size_t i = 0; i < P; i++) {
            float v = fminf(fmaxf(want[i] + p.channel_shift, lo), hi) * p.brightness;
            want[i] = fminf(fmaxf(v, 0.0f), 1.0f);
        }
        float *got = device_batch(s, &index, 1, &c, 0, 0, &p, NULL), *ref = ref_batch(s, &index, 1, &c, 0, 0, &p);
        char what[64];
        snprintf(what, sizeof what, "channel shift %g (kernel)", (double)shifts[k]);
        check_same(what, got, want, P * sizeof *got);
        snprintf(what, sizeof what, "channel shift %g (reference)", (double)shifts[k]);
        check_same(what, ref, want, P * sizeof *ref);
        free(want);
        free(got);
        free(ref);
    }
    for (int mode = 0; mode < AUG_FILL_COUNT; mode++) {
        aug_config c;
        aug_config_default(&c);
        c.fill_mode = mode;
        c.cval = 0.5f;
        aug_params p = identity_params();
        p.tx = -3;
        p.ty = 7;
        int index = 3;
        float *bilinear = device_batch(s, &index, 1, &c, 0, 0, &p, NULL);
        c.interpolation_order = 0;
        float *nearest = device_batch(s, &index, 1, &c, 0, 0, &p, NULL);
        char what[64];
        snprintf(what, sizeof what, "nearest = bilinear on whole pixels, %s", aug_fill_mode_name(mode));
        check_same(what, nearest, bilinear, P * sizeof *nearest);
        free(bilinear);
        free(nearest);
    }
}

/* (2d) Standardization on an identity transform: samplewise gives each image mean 0 and standard
 * deviation 1 (within 1e-6 of it: the + 1e-6); featurewise is (x - mean) / (std + 1e-6) with the
 * configuration's statistics; both against the reference too. */
static void test_standardize(const imageset *s) {
    enum { B = 8 };
    int order[B];
    pick(order, B, s->count, 21);
    size_t P = (size_t)s->H * s->W;
    aug_config c;
    aug_config_default(&c);
    c.samplewise_center = c.samplewise_std_normalization = 1;
    float *got = device_batch(s, order, B, &c, 3, 1, NULL, NULL), *ref = ref_batch(s, order, B, &c, 3, 1, NULL);
    check_close("samplewise: kernel = reference", got, ref, B * P, TOL_STANDARDIZE_ATOL, TOL_STANDARDIZE_RTOL);
    double worst = 0;
    for (int b = 0; b < B; b++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < P; i++) sum += got[b * P + i];
        for (size_t i = 0; i < P; i++) sq += (got[b * P + i] - sum / P) * (got[b * P + i] - sum / P);
        worst = fmax(worst, fmax(fabs(sum / P), fabs(sqrt(sq / P) - 1)));
    }
    printf("samplewise: largest |mean| or |std - 1| %.2g\n", worst);
    CHECK(worst < 1e-4, "samplewise standardization leaves mean or std off by %g", worst);
    free(got);
    free(ref);

    aug_config_default(&c);
    c.featurewise_center = c.featurewise_std_normalization = 1;
    c.featurewise_mean = 0.3f;
    c.featurewise_std = 0.25f;
    c.rotation_range = 20; /* standardization follows the transform */
    got = device_batch(s, order, B, &c, 3, 1, NULL, NULL);
    ref = ref_batch(s, order, B, &c, 3, 1, NULL);
    check_close("featurewise: kernel = reference", got, ref, B * P, TOL_STANDARDIZE_ATOL, TOL_STANDARDIZE_RTOL);
    aug_config plain = c;
    plain.featurewise_center = plain.featurewise_std_normalization = 0;
    float *raw = device_batch(s, order, B, &plain, 3, 1, NULL, NULL);
    for (size_t i = 0; i < B * P; i++) raw[i] = (raw[i] - 0.3f) / (0.25f + 1e-6f);
    check_close("featurewise: (x - mean) / (std + 1e-6)", got, raw, B * P, TOL_STANDARDIZE_ATOL, TOL_STANDARDIZE_RTOL);
    free(raw);
    free(got);
    free(ref);
}

/* (2, drawn) With only a flip enabled, each kernel image is the original or its mirror, as the
 * drawn flag says, and both occur. */
static void test_drawn_flips(const imageset *s) {
    enum { B = 64 };
    int order[B];
    pick(order, B, s->count, 5);
    size_t P = (size_t)s->H * s->W;
    for (int axis = 0; axis < 2; axis++) {
        aug_config c;
        aug_config_default(&c);
        if (axis) c.vertical_flip = 1; else c.horizontal_flip = 1;
        float *got = device_batch(s, order, B, &c, 9, 4, NULL, NULL), *want = xmalloc(P * sizeof *want);
        int flipped = 0, wrong = 0;
        for (int b = 0; b < B; b++) {
            aug_params p = aug_draw(&c, 9, 4, (uint32_t)order[b], s->H, s->W);
            int f = axis ? p.flip_v : p.flip_h;
            flipped += f;
            const uint8_t *img = s->pixels + (size_t)order[b] * P;
            for (int r = 0; r < s->H; r++)
                for (int col = 0; col < s->W; col++) {
                    int rr = f && axis ? s->H - 1 - r : r, cc = f && !axis ? s->W - 1 - col : col;
                    ref_normalize(&want[r * s->W + col], &img[rr * s->W + cc], 1);
                }
            wrong += memcmp(got + b * P, want, P * sizeof *want) != 0;
        }
        printf("drawn %s flips: %d of %d flipped, %d wrong\n", axis ? "vertical" : "horizontal", flipped, B, wrong);
        CHECK(wrong == 0, "%d images are neither the original nor the drawn mirror", wrong);
        CHECK(flipped > B / 4 && flipped < 3 * B / 4, "flip drawn %d times of %d", flipped, B);
        free(got);
        free(want);
    }
}

/* The draw follows its documented definition: uniform k = word k % 4 of draw k / 4. */
static void test_draw_definition(void) {
    aug_config c;
    aug_config_default(&c);
    c.rotation_range = 25;
    c.width_shift_range = 0.2f;   /* fraction of W */
    c.height_shift_range = 3.5f;  /* pixels */
    c.shear_range = 12;
    c.zoom_lo = 0.75f;
    c.zoom_hi = 1.5f;
    c.horizontal_flip = c.vertical_flip = 1;
    c.brightness_lo = 0.5f;
    c.brightness_hi = 1.25f;
    c.channel_shift_range = 0.125f;
    int H = 9, W = 7, mismatches = 0;
    for (uint32_t index = 0; index < 200; index++) {
        float u[12];
        for (uint32_t j = 0; j < 3; j++) {
            philox4 r = claug_random4(1234, CLAUG_STREAM_AUGMENT, 6, index, j);
            for (int k = 0; k < 4; k++) u[4 * j + k] = claug_uniform(r.v[k]);
        }
        aug_params p = aug_draw(&c, 1234, 6, index, H, W);
        mismatches += p.theta != -25.0f + 50.0f * u[0];
        mismatches += p.tx != (-0.2f + 0.4f * u[1]) * (float)W; /* width -> horizontal, claug's meaning */
        mismatches += p.ty != -3.5f + 7.0f * u[2];
        mismatches += p.shear != -12.0f + 24.0f * u[3];
        mismatches += p.zx != 0.75f + 0.75f * u[4] || p.zy != 0.75f + 0.75f * u[5];
        mismatches += p.flip_h != (u[6] < 0.5f) || p.flip_v != (u[7] < 0.5f);
        mismatches += p.brightness != 0.5f + 0.75f * u[8];
        mismatches += p.channel_shift != -0.125f + 0.25f * u[9];
        /* Turning the other options off changes nothing of one's value; a zero range draws nothing. */
        aug_config only = c;
        only.rotation_range = only.height_shift_range = only.shear_range = 0;
        only.zoom_lo = only.zoom_hi = 1;
        only.horizontal_flip = 0;
        only.brightness_lo = only.brightness_hi = 0;
        only.channel_shift_range = 0;
        aug_params q = aug_draw(&only, 1234, 6, index, H, W);
        mismatches += q.tx != p.tx || q.flip_v != p.flip_v;
        mismatches += q.theta != 0.0f || q.ty != 0.0f || q.shear != 0.0f || q.zx != 1.0f || q.zy != 1.0f ||
                      q.flip_h != 0 || q.brightness != 1.0f || q.channel_shift != 0.0f;
    }
    printf("draw definition: %d mismatches in 200 draws\n", mismatches);
    CHECK(mismatches == 0, "aug_draw departs from its definition %d times", mismatches);
}

/* Configuration helpers: defaults, activity, checks, the Keras-style description. */
static void test_config(void) {
    aug_config c;
    aug_config_default(&c);
    char err[256] = "", *d = aug_config_describe(&c);
    CHECK(!aug_config_active(&c) && strcmp(d, "none") == 0, "default: active %d, '%s'", aug_config_active(&c), d);
    CHECK(aug_config_check(&c, err, sizeof err), "default rejected: %s", err);
    free(d);
    c.rotation_range = 10;
    c.fill_mode = AUG_FILL_CONSTANT;
    c.brightness_lo = c.brightness_hi = 1; /* on, but the identity */
    d = aug_config_describe(&c);
    CHECK(aug_config_active(&c) && strcmp(d, "rotation_range=10, brightness_range=[1, 1], fill_mode='constant'") == 0,
          "describe: '%s'", d);
    free(d);
    c.rotation_range = 0;
    CHECK(!aug_config_active(&c), "brightness 1,1 and a fill mode change no image");
    c.zoom_lo = 1.2f;
    c.zoom_hi = 0.8f;
    CHECK(!aug_config_check(&c, err, sizeof err) && strstr(err, "--zoom-range"), "zoom LO > HI: '%s'", err);
    for (int m = 0; m < AUG_FILL_COUNT; m++)
        CHECK(aug_fill_mode_parse(aug_fill_mode_name(m)) == m, "fill mode %d does not round-trip", m);
    CHECK(aug_fill_mode_parse("mirror") == -1, "unknown fill mode accepted");
}

/* (3) Random settings, all options, every fill mode, both interpolations: kernel = reference
 * within 1e-5 (nearest: bit for bit but where a coordinate is within an ulp of a half pixel). */
static void test_random(const imageset *s, int n_images) {
    enum { B = 32 };
    for (int run = 0; run < 2 * AUG_FILL_COUNT; run++) {
        int mode = run % AUG_FILL_COUNT, interp = run < AUG_FILL_COUNT;
        aug_config c;
        aug_config_default(&c);
        c.rotation_range = 40;
        /* A fraction on one axis and pixels on the other, both ways round. */
        c.width_shift_range = mode & 1 ? 0.15f : 2.5f;
        c.height_shift_range = mode & 1 ? 2.5f : 0.15f;
        c.shear_range = 20;
        c.zoom_lo = 0.7f;
        c.zoom_hi = 1.3f;
        c.horizontal_flip = c.vertical_flip = 1;
        c.brightness_lo = 0.6f;
        c.brightness_hi = 1.4f;
        c.channel_shift_range = mode & 2 ? 0.3f : 0.0f;
        c.fill_mode = mode;
        c.cval = 0.25f;
        c.interpolation_order = interp;
        size_t P = (size_t)s->H * s->W;
        int n = n_images < s->count ? n_images : s->count;
        float *got = xmalloc((size_t)n * P * sizeof *got), *want = xmalloc((size_t)n * P * sizeof *want);
        int order[B];
        for (int first = 0; first < n; first += B) {
            int b = n - first < B ? n - first : B;
            pick(order, b, s->count, (uint64_t)first + 11);
            uint32_t epoch = (uint32_t)(first / B);
            float *g = device_batch(s, order, b, &c, 77, epoch, NULL, NULL), *w = ref_batch(s, order, b, &c, 77, epoch, NULL);
            memcpy(got + first * P, g, b * P * sizeof *g);
            memcpy(want + first * P, w, b * P * sizeof *w);
            free(g);
            free(w);
        }
        char what[64];
        snprintf(what, sizeof what, "random fill %s, %s %dx%d x%d", aug_fill_mode_name(mode),
                 interp ? "bilinear" : "nearest", s->H, s->W, n);
        if (interp) {
            check_close(what, got, want, (size_t)n * P, TOL_AUGMENT_ATOL, TOL_AUGMENT_RTOL);
        } else { /* a tie's pixel may go either way: a handful in the whole set, no more */
            size_t differ = 0;
            for (size_t i = 0; i < (size_t)n * P; i++) differ += got[i] != want[i];
            printf("%s: %zu of %zu pixels differ (coordinates at a half pixel)\n", what, differ, (size_t)n * P);
            CHECK(differ * 10000 <= (size_t)n * P, "%s: %zu pixels differ", what, differ);
        }
        free(got);
        free(want);
    }
}

/* (4) The same (seed, epoch, index) gives the same image in a batch of 32 and alone. */
static void test_batch_independence(const imageset *s) {
    enum { B = 32 };
    aug_config c;
    aug_config_default(&c);
    c.rotation_range = 30;
    c.width_shift_range = c.height_shift_range = 0.1f;
    c.shear_range = 10;
    c.zoom_lo = 0.8f;
    c.zoom_hi = 1.2f;
    c.horizontal_flip = 1;
    c.brightness_lo = 0.7f;
    c.brightness_hi = 1.3f;
    c.fill_mode = AUG_FILL_REFLECT;
    int order[B], y_all[B], y_one[B];
    pick(order, B, s->count, 3);
    size_t P = (size_t)s->H * s->W;
    float *all = device_batch(s, order, B, &c, 5, 2, NULL, y_all), *one = xmalloc(B * P * sizeof *one);
    for (int b = 0; b < B; b++) {
        float *x = device_batch(s, &order[b], 1, &c, 5, 2, NULL, &y_one[b]);
        memcpy(one + b * P, x, P * sizeof *x);
        free(x);
    }
    check_same("batch 32 = batch 1 (images)", all, one, B * P * sizeof *all);
    check_same("batch 32 = batch 1 (labels)", y_all, y_one, sizeof y_all);
    for (int b = 0; b < B; b++) CHECK(y_all[b] == s->labels[order[b]], "label of batch image %d", b);
    free(all);
    free(one);
}

/* (5) Bad values exit 2 naming the flag. */
static void test_bad_options(void) {
    const char *file = scratch_dir("augment-bad");
    char *blocked = xasprintf("%s/file", file), *under = xasprintf("%s/file/sub", file), *png = xasprintf("%s/x.png", under);
    if (!write_file(blocked, "x", 1)) die(1, "cannot write %s", blocked);
    struct {
        const char *args[8], *flag;
    } cases[] = {
        {{"augment", "--rotation-range", "-5"}, "--rotation-range"},
        {{"augment", "--rotation-range", "abc"}, "--rotation-range"},
        {{"augment", "--rotation-range"}, "--rotation-range"},
        {{"augment", "--width-shift-range", "-0.1"}, "--width-shift-range"},
        {{"augment", "--height-shift-range", "nan"}, "--height-shift-range"},
        {{"augment", "--shear-range", "-1"}, "--shear-range"},
        {{"augment", "--zoom-range", "1.5"}, "--zoom-range"},
        {{"augment", "--zoom-range", "0,2"}, "--zoom-range"},
        {{"augment", "--zoom-range", "1.2,0.8"}, "--zoom-range"},
        {{"augment", "--zoom-range", "1,x"}, "--zoom-range"},
        {{"augment", "--brightness-range", "1.5,0.5"}, "--brightness-range"},
        {{"augment", "--brightness-range", "0.5"}, "--brightness-range"},
        {{"augment", "--brightness-range", "-1,1"}, "--brightness-range"},
        {{"augment", "--fill-mode", "mirror"}, "--fill-mode"},
        {{"augment", "--cval", "2"}, "--cval"},
        {{"augment", "--cval", "x"}, "--cval"},
        {{"augment", "--horizontal-flip=1"}, "--horizontal-flip"},
        {{"augment", "--channel-shift-range", "-0.1"}, "--channel-shift-range"},
        {{"augment", "--channel-shift-range", "2"}, "--channel-shift-range"},
        {{"augment", "--channel-shift-range", "x"}, "--channel-shift-range"},
        {{"augment", "--interpolation", "cubic"}, "--interpolation"},
        {{"augment", "--interpolation", ""}, "--interpolation"},
        {{"augment", "--zca-epsilon", "0"}, "--zca-epsilon"},
        {{"augment", "--zca-epsilon", "-1"}, "--zca-epsilon"},
        {{"augment", "--samplewise-center=1"}, "--samplewise-center"},
        {{"augment", "--zca-whitening=yes"}, "--zca-whitening"},
        {{"samples", "--featurewise-center"}, "--featurewise-center"},
        {{"augment", "-i", "-1"}, "--index"},
        {{"augment", "-i", "60000", "-o", png}, "--index"},
        {{"augment", "-n", "0"}, "-n"},
        {{"samples", "--rotation-range", "5"}, "--rotation-range"},
        {{"augment", "-q", "-o", png}, "-o"},
        {{"augment", "-q", "-o", "/dev/null/x.png", "--dump", under}, "--dump"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *err = NULL;
        int rc = run_claug(NULL, &err, cases[i].args);
        CHECK(rc == 2 && strstr(err, cases[i].flag), "claug %s %s %s: exit %d, want 2 naming %s; stderr: %s",
              cases[i].args[0], cases[i].args[1], cases[i].args[2] ? cases[i].args[2] : "", rc, cases[i].flag, err);
        free(err);
    }
    printf("bad options: %zu cases\n", sizeof cases / sizeof cases[0]);
    free(blocked);
    free(under);
    free(png);
}

/* (5b) `claug augment` with no augmentation option draws the tutorial's rotation; any option,
 * even an explicit zero range, replaces that default. */
static void test_default_augmentation(void) {
    char *png = xasprintf("%s/default.png", scratch_dir("augment-default"));
    struct {
        const char *args[8], *want;
    } cases[] = {
        {{"augment", "-n", "1", "-o", png}, "augmentation: rotation_range=10)"},
        {{"augment", "-n", "1", "-o", png, "--rotation-range", "0"}, "augmentation: none)"},
        {{"augment", "-n", "1", "-o", png, "--shear-range", "5"}, "augmentation: shear_range=5)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, *err = NULL;
        int rc = run_claug(&out, &err, cases[i].args);
        CHECK(rc == 0 && strstr(out, cases[i].want), "claug augment case %zu: exit %d, stdout lacks '%s':\n%s%s", i, rc,
              cases[i].want, out, err);
        free(out);
        free(err);
    }
    free(png);
}

/* A number after "key": in a JSON text; NAN if missing. */
static double json_number(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *at = strstr(json, pat);
    if (!at) return NAN;
    at += strlen(pat);
    if (strncmp(at, "true", 4) == 0) return 1;
    if (strncmp(at, "false", 5) == 0) return 0;
    if (strncmp(at, "null", 4) == 0) return NAN;
    return strtod(at, NULL);
}

static float *read_f32(const char *path, size_t n) {
    size_t len = 0;
    char *raw = slurp(path, &len);
    CHECK(raw && len == 4 * n, "%s: %zu bytes, want %zu", path, raw ? len : 0, 4 * n);
    float *x = xcalloc(n, sizeof *x);
    for (size_t i = 0; raw && len == 4 * n && i < n; i++) {
        uint32_t u = get_le32((const uint8_t *)raw + 4 * i);
        memcpy(&x[i], &u, 4);
    }
    free(raw);
    return x;
}

/* (6) `claug augment --dump`: the dumped parameters are the host's draws, the dumped pixels the
 * reference's image for them. */
static void test_dump(const dataset *ds) {
    const char *dir = scratch_dir("augment-dump");
    char *png = xasprintf("%s/aug.png", dir), *dump = xasprintf("%s/dump", dir);
    const char *args[] = {"augment", "-q", "-i", "123", "-n", "4", "--seed", "7", "--rotation-range", "35",
                          "--width-shift-range", "0.1", "--height-shift-range", "3", "--shear-range", "15",
                          "--zoom-range", "0.25", "--horizontal-flip", "--vertical-flip", "--brightness-range",
                          "0.7,1.3", "--channel-shift-range", "0.2", "--fill-mode", "wrap", "-o", png, "--dump", dump,
                          NULL};
    char *err = NULL;
    int rc = run_claug(NULL, &err, args);
    CHECK(rc == 0, "claug augment --dump: exit %d: %s", rc, err);
    free(err);
    aug_config c;
    aug_config_default(&c);
    c.rotation_range = 35;
    c.width_shift_range = 0.1f;
    c.height_shift_range = 3;
    c.shear_range = 15;
    c.zoom_lo = 0.75f;
    c.zoom_hi = 1.25f;
    c.horizontal_flip = c.vertical_flip = 1;
    c.brightness_lo = 0.7f;
    c.brightness_hi = 1.3f;
    c.channel_shift_range = 0.2f;
    c.fill_mode = AUG_FILL_WRAP;
    int H = ds->rows, W = ds->cols, P = H * W, index = 123;
    const uint8_t *img = ds->train_images.data + (size_t)index * P;

    size_t len = 0;
    char *head = slurp(png, &len);
    CHECK(head && len > 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", png);
    free(head);
    char *path = xasprintf("%s/original.f32", dump);
    float *orig = read_f32(path, (size_t)P), *want = xmalloc((size_t)P * sizeof *want);
    ref_normalize(want, img, P);
    check_same("dump: original", orig, want, (size_t)P * sizeof *orig);
    free(path);
    int param_mismatch = 0;
    for (int k = 1; k <= 4; k++) {
        path = xasprintf("%s/aug-%d.json", dump, k);
        char *json = slurp(path, NULL);
        CHECK(json != NULL, "%s missing", path);
        free(path);
        if (!json) continue;
        aug_params p = aug_draw(&c, 7, (uint32_t)(k - 1), (uint32_t)index, H, W), q;
        q.theta = (float)json_number(json, "theta");
        q.tx = (float)json_number(json, "tx");
        q.ty = (float)json_number(json, "ty");
        q.shear = (float)json_number(json, "shear");
        q.zx = (float)json_number(json, "zx");
        q.zy = (float)json_number(json, "zy");
        q.flip_h = json_number(json, "flip_horizontal") != 0;
        q.flip_v = json_number(json, "flip_vertical") != 0;
        q.brightness = (float)json_number(json, "brightness");
        q.channel_shift = (float)json_number(json, "channel_shift_intensity");
        param_mismatch += memcmp(&p, &q, sizeof p) != 0;
        CHECK(json_number(json, "index") == index && json_number(json, "epoch") == k - 1 &&
                  json_number(json, "seed") == 7 && strstr(json, "\"shape\": [28, 28]") &&
                  strstr(json, "\"fill_mode\": \"wrap\"") && json_number(json, "cval") == 0 &&
                  json_number(json, "interpolation_order") == 1 && isnan(json_number(json, "mean")) &&
                  strstr(json, "\"zca_whitening_matrix\": null"),
              "aug-%d.json: wrong keys: %s", k, json);
        free(json);
        path = xasprintf("%s/aug-%d.f32", dump, k);
        float *got = read_f32(path, (size_t)P);
        ref_augment_image(want, img, H, W, &c, &q);
        char what[64];
        snprintf(what, sizeof what, "dump: aug-%d (theta %.1f)", k, (double)q.theta);
        check_close(what, got, want, (size_t)P, TOL_AUGMENT_ATOL, TOL_AUGMENT_RTOL);
        free(got);
        free(path);
    }
    CHECK(param_mismatch == 0, "%d dumped parameter sets differ from the host's draws", param_mismatch);
    free(orig);
    free(want);
    free(png);
    free(dump);
}

int main(void) {
    dataset ds;
    char err[512];
    if (!dataset_load(&ds, dataset_default_dir(), err, sizeof err)) die(1, "%s", err);
    rt = clrt_open(NULL, NULL);
    augment_init(&aug, rt);
    batcher_init(&bat, rt);

    /* The first 4096 training images; and 5 odd, non-square random images. */
    enum { N = 4096, OH = 9, OW = 7, ON = 5 };
    imageset fm = set_make(ds.train_images.data, ds.train_labels.data, N, ds.rows, ds.cols);
    uint8_t odd_pixels[ON * OH * OW], odd_labels[ON] = {1, 2, 3, 4, 5};
    float noise[ON * OH * OW];
    fill_uniform(noise, ON * OH * OW, 8, 0, 256);
    for (int i = 0; i < ON * OH * OW; i++) odd_pixels[i] = (uint8_t)noise[i];
    imageset odd = set_make(odd_pixels, odd_labels, ON, OH, OW);
    enum { SN = 9 };
    uint8_t sq_pixels[SN * SN], sq_label[1] = {7};
    fill_uniform(noise, SN * SN, 12, 0, 256);
    for (int i = 0; i < SN * SN; i++) sq_pixels[i] = (uint8_t)noise[i];
    imageset sq = set_make(sq_pixels, sq_label, 1, SN, SN);

    test_identity(&fm);
    test_identity(&odd);
    test_permutations(&fm, &odd);
    test_permutations(&sq, &odd);
    test_exact_factors(&sq, &odd);
    test_channel_shift(&fm);
    test_standardize(&fm);
    test_drawn_flips(&fm);
    test_drawn_flips(&odd);
    test_draw_definition();
    test_config();
    test_random(&fm, test_tiny() ? 64 : 1024);
    test_random(&odd, ON);
    test_batch_independence(&fm);
    /* The command-line cases run the same kernel in child processes, where a simulator's
     * reports would go to the captured stderr or overwrite this process's log. */
    if (!test_tiny()) {
        test_bad_options();
        test_default_augmentation();
        test_dump(&ds);
    }

    devset_release(&fm.d);
    devset_release(&odd.d);
    devset_release(&sq.d);
    batcher_release(&bat);
    augment_release(&aug);
    clrt_close(rt);
    dataset_free(&ds);
    return check_done("test_augment");
}
