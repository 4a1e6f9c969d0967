/* Data augmentation fused with the batch gather (built as "philox.h augment_params.h augment.cl"),
 * in the order of Keras' ImageDataGenerator: apply_transform, then standardize.
 *
 * One work-group per batch image: its first work-item draws the image's parameters and builds
 * the affine map once, into local memory; then the group resamples the image's pixels. Each
 * output pixel reads the affine output at the flipped position (the flips come after the
 * affine and the channel shift, as in Keras, and change neither the image's minimum nor its
 * maximum), samples the input at the mapped coordinate (scipy's affine_transform, order=1
 * bilinear or order=0 nearest) and scales by 1/255 like gather_batch. Then the channel shift
 * (Keras' apply_channel_shift: + intensity, clipped to the affine output's own minimum and
 * maximum), the brightness factor clipped to [0, 1] (PIL's enhancer saturates), and Keras'
 * standardize: samplewise (the image's mean and standard deviation), then featurewise (the
 * training set's, from datagen.fit). ZCA whitening, a product with a (P, P) matrix, is the
 * caller's (model/prep.c). The reductions over the image use a tree of fixed shape: the same
 * bits every run. */

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

enum { PLAN_M = 0, PLAN_BRIGHTNESS = 6, PLAN_FLIP_H = 7, PLAN_FLIP_V = 8, PLAN_SHIFT = 9, PLAN_SIZE = 10 };
enum { REDUCE_SUM, REDUCE_MIN, REDUCE_MAX };

/* The work-group's reduction of v (every work-item passes one) through red (one float per
 * work-item; the group's size is a power of two); every work-item gets the result. Reached by
 * the whole group or not at all. */
static float group_reduce(__local float *red, float v, int op) {
    int t = get_local_id(0);
    red[t] = v;
    for (int stride = get_local_size(0) / 2; stride > 0; stride /= 2) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (t < stride) {
            float a = red[t], b = red[t + stride];
            red[t] = op == REDUCE_SUM ? a + b : op == REDUCE_MIN ? fmin(a, b) : fmax(a, b);
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* everyone has read red[0] before red is written again */
    return r;
}

__kernel void gather_augment(__global float *x,            /* (B, H * W) */
                             __global int *y,              /* (B) */
                             __global const uchar *images, /* (count, H * W) */
                             __global const uchar *labels, /* (count) */
                             __global const int *order,    /* (n) dataset indices */
                             __global const float *given,  /* (B, AUG_NPARAMS), or NULL: draw */
                             __local float *red,           /* (work-group size) */
                             int first, int B, int H, int W, uint seed_lo, uint seed_hi, uint epoch,
                             float rotation_range, float width_shift_range, float height_shift_range,
                             float shear_range, float zoom_lo, float zoom_hi, int horizontal_flip,
                             int vertical_flip, float brightness_lo, float brightness_hi, int fill_mode,
                             float cval, float channel_shift_range, int interpolation_order,
                             int samplewise_center, int samplewise_std_normalization, int featurewise_center,
                             int featurewise_std_normalization, float featurewise_mean, float featurewise_std)
{
    __local float plan[PLAN_SIZE]; /* the affine map (6), brightness, flips (0 or 1), channel shift */
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
            p.channel_shift = g[AUG_P_CHANNEL_SHIFT];
        } else {
            /* Only the fields aug_draw reads. */
            aug_config c = {0};
            c.rotation_range = rotation_range;
            c.width_shift_range = width_shift_range;
            c.height_shift_range = height_shift_range;
            c.shear_range = shear_range;
            c.zoom_lo = zoom_lo;
            c.zoom_hi = zoom_hi;
            c.horizontal_flip = horizontal_flip;
            c.vertical_flip = vertical_flip;
            c.brightness_lo = brightness_lo;
            c.brightness_hi = brightness_hi;
            c.channel_shift_range = channel_shift_range;
            p = aug_draw(&c, ((ulong)seed_hi << 32) | seed_lo, epoch, (uint)src, H, W);
        }
        float m[6];
        aug_matrix(m, &p, H, W);
        for (int k = 0; k < 6; k++) plan[PLAN_M + k] = m[k];
        plan[PLAN_BRIGHTNESS] = p.brightness;
        plan[PLAN_FLIP_H] = (float)p.flip_h;
        plan[PLAN_FLIP_V] = (float)p.flip_v;
        plan[PLAN_SHIFT] = p.channel_shift;
        y[b] = labels[src];
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    float m0 = plan[0], m1 = plan[1], m2 = plan[2], m3 = plan[3], m4 = plan[4], m5 = plan[5];
    float brightness = plan[PLAN_BRIGHTNESS], shift = plan[PLAN_SHIFT];
    int flip_h = plan[PLAN_FLIP_H] != 0.0f, flip_v = plan[PLAN_FLIP_V] != 0.0f;
    int P = H * W, t0 = get_local_id(0), step = get_local_size(0);
    __global const uchar *img = images + (size_t)src * P;
    __global float *out = x + (size_t)b * P;
    /* Each work-item rereads only the pixels it wrote itself: no barrier between the passes. */
    float lo = INFINITY, hi = -INFINITY;
    for (int i = t0; i < P; i += step) {
        int r = i / W, c = i - r * W;
        float ro = (float)(flip_v ? H - 1 - r : r), co = (float)(flip_h ? W - 1 - c : c);
        float fr = m0 * ro + m1 * co + m2, fc = m3 * ro + m4 * co + m5;
        float v;
        if (fill_mode == AUG_FILL_CONSTANT && (fr < 0.0f || fr > (float)(H - 1) || fc < 0.0f || fc > (float)(W - 1))) {
            v = cval;
        } else if (interpolation_order == 0) {
            /* scipy's order 0: the pixel at floor(coordinate + 0.5) */
            int rr = aug_extend((int)floor(fr + 0.5f), H, fill_mode);
            int cc = aug_extend((int)floor(fc + 0.5f), W, fill_mode);
            v = (float)img[rr * W + cc] * (1.0f / 255.0f);
        } else {
            float r0 = floor(fr), c0 = floor(fc), wr = fr - r0, wc = fc - c0;
            int ra = aug_extend((int)r0, H, fill_mode) * W, rb = aug_extend((int)r0 + 1, H, fill_mode) * W;
            int ca = aug_extend((int)c0, W, fill_mode), cb = aug_extend((int)c0 + 1, W, fill_mode);
            float top = (1.0f - wc) * (float)img[ra + ca] + wc * (float)img[ra + cb];
            float bottom = (1.0f - wc) * (float)img[rb + ca] + wc * (float)img[rb + cb];
            v = ((1.0f - wr) * top + wr * bottom) * (1.0f / 255.0f);
        }
        lo = fmin(lo, v);
        hi = fmax(hi, v);
        out[i] = shift != 0.0f ? v : clamp(v * brightness, 0.0f, 1.0f);
    }
    /* The whole group reduces, whether it shifts or not: behind `shift != 0` (a value from local
     * memory, uniform in fact but not provably so) PoCL 3.1 now and then gave one work-item a
     * wrong minimum or maximum (test_augment failed 8 runs in 30, with the same wrong pixel). */
    lo = group_reduce(red, lo, REDUCE_MIN);
    hi = group_reduce(red, hi, REDUCE_MAX);
    if (shift != 0.0f)
        for (int i = t0; i < P; i += step) out[i] = clamp(clamp(out[i] + shift, lo, hi) * brightness, 0.0f, 1.0f);
    if (!samplewise_center && !samplewise_std_normalization && !featurewise_center && !featurewise_std_normalization)
        return;
    float mean = 0.0f, sd = 0.0f;
    if (samplewise_center || samplewise_std_normalization) {
        float s = 0.0f;
        for (int i = t0; i < P; i += step) s += out[i];
        mean = group_reduce(red, s, REDUCE_SUM) / (float)P;
    }
    if (samplewise_std_normalization) { /* np.std: the root of the mean squared deviation */
        float s = 0.0f;
        for (int i = t0; i < P; i += step) s += (out[i] - mean) * (out[i] - mean);
        sd = sqrt(group_reduce(red, s, REDUCE_SUM) / (float)P);
    }
    for (int i = t0; i < P; i += step) {
        float v = out[i];
        if (samplewise_center) v -= mean;
        if (samplewise_std_normalization) v /= sd + 1e-6f;
        if (featurewise_center) v -= featurewise_mean;
        if (featurewise_std_normalization) v /= featurewise_std + 1e-6f;
        out[i] = v;
    }
}
