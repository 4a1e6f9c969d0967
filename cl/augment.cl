/* Data augmentation fused with the batch gather (built as "philox.h augment_params.h augment.cl").
 *
 * One work-group per batch image: its first work-item draws the image's parameters and builds
 * the affine map once, into local memory; then the group resamples the image's pixels. Each
 * output pixel reads the affine output at the flipped position (the flips come after the
 * affine, as in Keras), samples the input bilinearly at the mapped coordinate (scipy's
 * affine_transform with order=1), scales by 1/255 like gather_batch, then multiplies by the
 * brightness factor and clips to [0, 1] (PIL's enhancer saturates). */

/* Index i of an axis of n pixels, the image extended by the fill mode:
 *   nearest   aaaa|abcd|dddd   clamp
 *   reflect   dcba|abcd|dcba   half-sample symmetric, period 2n
 *   wrap      abcd|abcd|abcd   period n
 *   constant  clamp: a sample outside the image is cval without reading pixels, so only the
 *             zero-weight neighbour of a coordinate exactly on the last pixel gets here. */
static inline int aug_extend(int i, int n, int mode) {
    if ((uint)i < (uint)n) return i; /* inside: skips the divisions below */
    if (mode == AUG_FILL_WRAP) {
        i %= n;
        return i < 0 ? i + n : i;
    }
    if (mode == AUG_FILL_REFLECT) {
        int p = 2 * n;
        i %= p;
        if (i < 0) i += p;
        return i < n ? i : p - 1 - i;
    }
    return clamp(i, 0, n - 1);
}

enum { PLAN_M = 0, PLAN_BRIGHTNESS = 6, PLAN_FLIP_H = 7, PLAN_FLIP_V = 8, PLAN_SIZE = 9 };

__kernel void gather_augment(__global float *x,            /* (B, H * W) */
                             __global int *y,              /* (B) */
                             __global const uchar *images, /* (count, H * W) */
                             __global const uchar *labels, /* (count) */
                             __global const int *order,    /* (n) dataset indices */
                             __global const float *given,  /* (B, AUG_NPARAMS), or NULL: draw */
                             int first, int B, int H, int W, uint seed_lo, uint seed_hi, uint epoch,
                             float rotation_range, float width_shift_range, float height_shift_range,
                             float shear_range, float zoom_lo, float zoom_hi, int horizontal_flip,
                             int vertical_flip, float brightness_lo, float brightness_hi, int fill_mode,
                             float cval)
{
    __local float plan[PLAN_SIZE]; /* the affine map (6), brightness, flips (0 or 1) */
    int b = get_group_id(0);
    if (b >= B) return; /* the whole group */
    int src = order[first + b];

    if (get_local_id(0) == 0) {
        aug_params p;
        if (given) {
            __global const float *g = given + b * AUG_NPARAMS;
            p.theta = g[AUG_P_THETA];
            p.tx = g[AUG_P_TX];
            p.ty = g[AUG_P_TY];
            p.shear = g[AUG_P_SHEAR];
            p.zx = g[AUG_P_ZX];
            p.zy = g[AUG_P_ZY];
            p.flip_h = g[AUG_P_FLIP_H] != 0.0f;
            p.flip_v = g[AUG_P_FLIP_V] != 0.0f;
            p.brightness = g[AUG_P_BRIGHTNESS];
        } else {
            aug_config c = {rotation_range, width_shift_range, height_shift_range, shear_range,
                            zoom_lo, zoom_hi, horizontal_flip, vertical_flip,
                            brightness_lo, brightness_hi, fill_mode, cval};
            p = aug_draw(&c, ((ulong)seed_hi << 32) | seed_lo, epoch, (uint)src, H, W);
        }
        float m[6];
        aug_matrix(m, &p, H, W);
        for (int k = 0; k < 6; k++) plan[PLAN_M + k] = m[k];
        plan[PLAN_BRIGHTNESS] = p.brightness;
        plan[PLAN_FLIP_H] = (float)p.flip_h;
        plan[PLAN_FLIP_V] = (float)p.flip_v;
        y[b] = labels[src];
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    float m0 = plan[0], m1 = plan[1], m2 = plan[2], m3 = plan[3], m4 = plan[4], m5 = plan[5];
    float brightness = plan[PLAN_BRIGHTNESS];
    int flip_h = plan[PLAN_FLIP_H] != 0.0f, flip_v = plan[PLAN_FLIP_V] != 0.0f;
    int P = H * W;
    __global const uchar *img = images + (size_t)src * P;
    __global float *out = x + (size_t)b * P;
    for (int i = get_local_id(0); i < P; i += get_local_size(0)) {
        int r = i / W, c = i - r * W;
        float ro = (float)(flip_v ? H - 1 - r : r), co = (float)(flip_h ? W - 1 - c : c);
        float fr = m0 * ro + m1 * co + m2, fc = m3 * ro + m4 * co + m5;
        float v;
        if (fill_mode == AUG_FILL_CONSTANT && (fr < 0.0f || fr > (float)(H - 1) || fc < 0.0f || fc > (float)(W - 1))) {
            v = cval;
        } else {
            float r0 = floor(fr), c0 = floor(fc), wr = fr - r0, wc = fc - c0;
            int ra = aug_extend((int)r0, H, fill_mode) * W, rb = aug_extend((int)r0 + 1, H, fill_mode) * W;
            int ca = aug_extend((int)c0, W, fill_mode), cb = aug_extend((int)c0 + 1, W, fill_mode);
            float top = (1.0f - wc) * (float)img[ra + ca] + wc * (float)img[ra + cb];
            float bottom = (1.0f - wc) * (float)img[rb + ca] + wc * (float)img[rb + cb];
            v = ((1.0f - wr) * top + wr * bottom) * (1.0f / 255.0f);
        }
        out[i] = clamp(v * brightness, 0.0f, 1.0f);
    }
}
