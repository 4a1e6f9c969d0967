/* Augmentation parameters, shared by the host (C11, #include "augment_params.h") and the
 * kernels (OpenCL C, prepended to augment.cl after philox.h): the configuration
 * (ImageDataGenerator's arguments), the drawing of one image's random parameters, and the affine
 * map they define. Both sides run the same float operations in the same order (no contraction
 * into fma, only + - * and exact conversions), so they compute the same bits. */
#ifndef CLAUG_AUGMENT_PARAMS_H
#define CLAUG_AUGMENT_PARAMS_H

#ifdef __OPENCL_C_VERSION__
#pragma OPENCL FP_CONTRACT OFF
#define AUG_FN static inline
#define AUG_FLOORF floor
#else
#include <math.h>

#include "philox.h"
/* GCC contracts nothing in ISO C mode (-std=c11, which CMake sets); clang needs telling. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
#define AUG_FN static inline
#define AUG_FLOORF floorf
#endif

enum { AUG_FILL_NEAREST = 0, AUG_FILL_CONSTANT = 1, AUG_FILL_REFLECT = 2, AUG_FILL_WRAP = 3, AUG_FILL_COUNT = 4 };

/* ImageDataGenerator's arguments, under Keras' names and with Keras' meanings, and once fitted
 * (aug_fit) the generator's dataset-wide statistics. The kernel takes the per-image ones as
 * scalar arguments. */
typedef struct {
    float rotation_range;     /* degrees: theta ~ U(-r, r) */
    float width_shift_range;  /* horizontal shift tx ~ U(-F, F), times W when F < 1 */
    float height_shift_range; /* vertical shift ty ~ U(-F, F), times H when F < 1 */
    float shear_range;        /* degrees */
    float zoom_lo, zoom_hi;   /* zx, zy ~ U(lo, hi) independently; 1, 1 = off */
    int horizontal_flip, vertical_flip;
    float brightness_lo, brightness_hi; /* factor ~ U(lo, hi); 0, 0 = off */
    int fill_mode;                      /* AUG_FILL_* */
    float cval;                         /* fill value of AUG_FILL_CONSTANT, in [0, 1] like the pixels */
    float channel_shift_range;          /* intensity ~ U(-R, R), in pixel units ([0, 1]) */
    int interpolation_order;            /* 0 nearest, 1 bilinear (the default) */
    /* Keras' standardize, after the random transform, in its order: */
    int samplewise_center, samplewise_std_normalization; /* per image: - mean, / (std + 1e-6) */
    int featurewise_center, featurewise_std_normalization; /* the training set's: - mean, / (std + 1e-6) */
    int zca_whitening;                                     /* x @ W (model/prep: a GEMM on the device) */
    float zca_epsilon;                                     /* Keras' default 1e-6 */
    /* datagen.mean and datagen.std as datagen.fit computes them (one channel: scalars); 0 and 1
     * until aug_fit sets them. */
    float featurewise_mean, featurewise_std;
} aug_config;

/* One image's drawn parameters, ImageDataGenerator.get_random_transform's dictionary, in
 * Keras' (x, y) = (column, row) convention: tx shifts columns, ty rows, in pixels; zx scales
 * columns, zy rows. */
typedef struct {
    float theta; /* degrees, counter-clockwise for theta > 0 (np.rot90's way) */
    float tx, ty;
    float shear; /* degrees */
    float zx, zy;
    int flip_h, flip_v;
    float brightness;
    float channel_shift; /* channel_shift_intensity, 0 when the range is 0 */
} aug_params;

/* aug_params as a row of floats (the kernel's optional explicit-parameter buffer). */
enum {
    AUG_P_THETA, AUG_P_TX, AUG_P_TY, AUG_P_SHEAR, AUG_P_ZX, AUG_P_ZY, AUG_P_FLIP_H, AUG_P_FLIP_V, AUG_P_BRIGHTNESS,
    AUG_P_CHANNEL_SHIFT, AUG_NPARAMS
};

/* U(lo, hi) from u in [0, 1). */
AUG_FN float aug_lerp(float lo, float hi, float u) { return lo + (hi - lo) * u; }

/* U(-F, F) in pixels: F < 1 is a fraction of `size`, as Keras reads the shift ranges. */
AUG_FN float aug_shift(float range, int size, float u) {
    if (range == 0.0f) return 0.0f;
    float t = aug_lerp(-range, range, u);
    return range < 1.0f ? t * (float)size : t;
}

/* The parameters of image `index` in `epoch`. Uniform k of the 12 drawn from
 * claug_random4(seed, CLAUG_STREAM_AUGMENT, epoch, index, j) is word k % 4 of draw j = k / 4:
 *   0 theta, 1 tx (columns, from width_shift_range), 2 ty (rows, from height_shift_range),
 *   3 shear, 4 zx, 5 zy, 6 flip_h, 7 flip_v, 8 brightness, 9 channel shift, 10..11 unused.
 * (Keras draws tx from height_shift_range times the rows, its long-standing bug; claug keeps
 * the documented meaning, width -> horizontal.)
 * Each parameter owns its uniform, so turning one option on or off does not change the others'
 * values. A range of 0 draws nothing: the parameter is exactly 0 (1 for zoom and brightness). */
AUG_FN aug_params aug_draw(const aug_config *c, philox_u64 seed, philox_u32 epoch, philox_u32 index, int H, int W) {
    float u[12];
    for (philox_u32 j = 0; j < 3; j++) {
        philox4 r = claug_random4(seed, CLAUG_STREAM_AUGMENT, epoch, index, j);
        for (int k = 0; k < 4; k++) u[4 * j + k] = claug_uniform(r.v[k]);
    }
    aug_params p;
    p.theta = c->rotation_range != 0.0f ? aug_lerp(-c->rotation_range, c->rotation_range, u[0]) : 0.0f;
    p.tx = aug_shift(c->width_shift_range, W, u[1]);
    p.ty = aug_shift(c->height_shift_range, H, u[2]);
    p.shear = c->shear_range != 0.0f ? aug_lerp(-c->shear_range, c->shear_range, u[3]) : 0.0f;
    int zoom = c->zoom_lo != 1.0f || c->zoom_hi != 1.0f;
    p.zx = zoom ? aug_lerp(c->zoom_lo, c->zoom_hi, u[4]) : 1.0f;
    p.zy = zoom ? aug_lerp(c->zoom_lo, c->zoom_hi, u[5]) : 1.0f;
    p.flip_h = c->horizontal_flip && u[6] < 0.5f;
    p.flip_v = c->vertical_flip && u[7] < 0.5f;
    int bright = c->brightness_lo != 0.0f || c->brightness_hi != 0.0f;
    p.brightness = bright ? aug_lerp(c->brightness_lo, c->brightness_hi, u[8]) : 1.0f;
    float cs = c->channel_shift_range;
    p.channel_shift = cs != 0.0f ? aug_lerp(-cs, cs, u[9]) : 0.0f;
    return p;
}

/* sin and cos of an angle in degrees, by the same + - * on host and device (library sin/cos
 * differ between them by an ulp). The angle is reduced to r in [-45, 45] degrees plus a
 * quadrant k; for |deg| <= 360 (aug_config_check's bound) both subtractions of whole multiples
 * of 360 and 90 are exact, so a multiple of 90 degrees gives exactly 0 and +-1, and a rotation
 * by it is an exact permutation of the pixels. Taylor series to x^9 / x^10 on |x| <= pi/4:
 * truncation below 2e-9, under float rounding. */
AUG_FN void aug_sincos_deg(float deg, float *s, float *c) {
    float t = deg - 360.0f * AUG_FLOORF(deg * (1.0f / 360.0f)); /* [0, 360] up to rounding */
    int k = (int)AUG_FLOORF(t * (1.0f / 90.0f) + 0.5f);
    float x = (t - 90.0f * (float)k) * 0.017453292519943295f, x2 = x * x;
    float sr = x + x * x2 * (-1.0f / 6.0f + x2 * (1.0f / 120.0f + x2 * (-1.0f / 5040.0f + x2 * (1.0f / 362880.0f))));
    float cr = 1.0f + x2 * (-0.5f + x2 * (1.0f / 24.0f + x2 * (-1.0f / 720.0f + x2 * (1.0f / 40320.0f + x2 * (-1.0f / 3628800.0f)))));
    /* Quadrant q: (s, c) = (sr, cr), (cr, -sr), (-sr, -cr), (-cr, sr). Selects, not a switch:
     * oclgrind 21.10 took the default branch of `switch (k & 3)` for k = 4 (q = 0), so the
     * kernel could not be checked under it. */
    int q = k & 3;
    float a = q & 1 ? cr : sr, b = q & 1 ? sr : cr;
    *s = q & 2 ? -a : a;
    *c = (q + 1) & 2 ? -b : b;
}

/* 2x3 affine maps [a b e; c d f] as (a, b, e, c, d, f): out = A @ B. */
AUG_FN void aug_compose(float out[6], const float A[6], const float B[6]) {
    float r[6];
    r[0] = A[0] * B[0] + A[1] * B[3];
    r[1] = A[0] * B[1] + A[1] * B[4];
    r[2] = A[0] * B[2] + A[1] * B[5] + A[2];
    r[3] = A[3] * B[0] + A[4] * B[3];
    r[4] = A[3] * B[1] + A[4] * B[4];
    r[5] = A[3] * B[2] + A[4] * B[5] + A[5];
    for (int i = 0; i < 6; i++) out[i] = r[i];
}

/* The output -> input map of Keras' apply_affine_transform, as scipy.ndimage.affine_transform
 * uses it: input (r, c) = (m0 r_out + m1 c_out + m2, m3 r_out + m4 c_out + m5). Keras builds
 *   M = T(o) @ R(theta) @ Shift(tx, ty) @ Shear(shear) @ Zoom(zx, zy) @ T(-o)
 * in (x, y) = (column, row) coordinates, with o = (H / 2 - 0.5, W / 2 - 0.5) from
 * transform_matrix_offset_center(M, h, w) (o_x from the height: the centre is exact for square
 * images, and Keras' own for the others), then swaps the axes, M' = P M P, for scipy's (row,
 * column) arrays. Multiplying by an identity factor is exact, so skipping it (as Keras does)
 * changes nothing. */
AUG_FN void aug_matrix(float m[6], const aug_params *p, int H, int W) {
    float s, c, ss, cs;
    aug_sincos_deg(p->theta, &s, &c);
    aug_sincos_deg(p->shear, &ss, &cs);
    float ox = (float)H * 0.5f - 0.5f, oy = (float)W * 0.5f - 0.5f;
    float rot[6] = {c, -s, 0.0f, s, c, 0.0f};
    float shift[6] = {1.0f, 0.0f, p->tx, 0.0f, 1.0f, p->ty};
    float shear[6] = {1.0f, -ss, 0.0f, 0.0f, cs, 0.0f};
    float zoom[6] = {p->zx, 0.0f, 0.0f, 0.0f, p->zy, 0.0f};
    float to_centre[6] = {1.0f, 0.0f, ox, 0.0f, 1.0f, oy};
    float from_centre[6] = {1.0f, 0.0f, -ox, 0.0f, 1.0f, -oy};
    /* Keras' association: ((R @ Shift) @ Shear) @ Zoom, then (T(o) @ that) @ T(-o). */
    float xy[6];
    aug_compose(xy, rot, shift);
    aug_compose(xy, xy, shear);
    aug_compose(xy, xy, zoom);
    aug_compose(xy, to_centre, xy);
    aug_compose(xy, xy, from_centre);
    /* P M P: [a b e; c d f] in (x, y) is [d c f; b a e] in (row, column). */
    m[0] = xy[4];
    m[1] = xy[3];
    m[2] = xy[5];
    m[3] = xy[1];
    m[4] = xy[0];
    m[5] = xy[2];
}

#endif
