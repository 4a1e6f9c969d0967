/* claug against another framework, as llm.c checks itself against PyTorch: the seed model on one
 * batch of training images and on one of augmented images, from the same weights, against the
 * state tools/pytorch_reference.py wrote with PyTorch in float64 (tests/data/reference_state.bin,
 * layout in tests/data/README.md): the logits, the loss, every gradient, and the losses of the
 * first Adam steps. The augmented batch is first drawn again by claug's augmentation kernel, as
 * training draws it, and must match the pixels PyTorch was fed. */
/* ctest: labels=kernel,e2e timeout=60 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/data/augment.h"
#include "claug/data/batch.h"
#include "claug/data/dataset.h"
#include "claug/model/net.h"
#include "tol.h"

static char STATE[1024]; /* tests/data/reference_state.bin, set by main */
enum { MAX_B = 8 };

/* ---- reading the state file --------------------------------------------------------------- */

typedef struct {
    const uint8_t *p, *end;
} cursor;

static const uint8_t *take(cursor *c, size_t bytes) {
    if ((size_t)(c->end - c->p) < bytes) die(EXIT_USAGE, "%s: truncated", STATE);
    const uint8_t *at = c->p;
    c->p += bytes;
    return at;
}

static uint32_t u32(cursor *c) { return get_le32(take(c, 4)); }

static double f64(cursor *c) {
    uint64_t bits = u32(c);
    bits |= (uint64_t)u32(c) << 32;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* n floats, copied out (the file's floats need not be aligned). Caller frees. */
static float *floats(cursor *c, size_t n) {
    float *v = xmalloc(n * sizeof *v);
    const uint8_t *at = take(c, n * 4);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = get_le32(at + 4 * i);
        memcpy(&v[i], &bits, sizeof bits);
    }
    return v;
}

static char *text(cursor *c) {
    uint32_t n = u32(c);
    char *s = xmalloc((size_t)n + 1);
    memcpy(s, take(c, n), n);
    s[n] = 0;
    return s;
}

typedef struct {
    int B, C, H, W, classes, steps;
    uint64_t weight_seed;
    double lr;
    char *model;
} state_header;

/* ---- the weights: the generator tools/pytorch_reference.py runs ------------------------- */

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Kernels U(-l, l) with Glorot's l, biases U(-0.1, 0.1), one stream over the tensors in order;
 * every step but the product l * (2u - 1) exact in double, so Python rounds it the same. */
static float *reference_weights(const net *n, uint64_t seed) {
    float *p = xcalloc(n->nparams, sizeof *p);
    uint64_t s = seed;
    for (int i = 0; i < n->nl; i++) {
        const layer *l = &n->L[i];
        if (!l->params) continue;
        long weights = l->params - l->oc, rf = l->kind == LAYER_CONV ? (long)l->size * l->size : 1;
        double fan_in = (double)(weights / l->oc), fan_out = (double)(l->oc * rf);
        double limit = sqrt(6.0 / (fan_in + fan_out));
        for (long j = 0; j < weights; j++)
            p[l->w_off + (size_t)j] = (float)(limit * (2.0 * ((double)(splitmix64(&s) >> 40) / 16777216.0) - 1.0));
        for (long j = 0; j < l->oc; j++)
            p[l->b_off + (size_t)j] = (float)(0.1 * (2.0 * ((double)(splitmix64(&s) >> 40) / 16777216.0) - 1.0));
    }
    return p;
}

/* ---- the batch's pixels ------------------------------------------------------------------- */

/* The augmentation of the state: the flags tools/pytorch_reference.py passes to `claug augment`
 * (--rotation-range 10 --width-shift-range 0.1 --zoom-range 0.1 --horizontal-flip), set as the
 * command line sets them. */
static aug_config state_augmentation(void) {
    aug_config c;
    aug_config_default(&c);
    c.rotation_range = 10.0f;
    c.width_shift_range = 0.1f;
    c.zoom_lo = 1.0f - 0.1f;
    c.zoom_hi = 1.0f + 0.1f;
    c.horizontal_flip = 1;
    return c;
}

/* The batch's images as claug's training gathers them: x (B, P) and labels (B), plain or with
 * the augmentation drawn for (seed, epoch, dataset index). */
static void gather(float *x, int *labels, clrt *rt, const devset *d, const int *index, int B, const aug_config *aug,
                   uint64_t seed, uint32_t epoch) {
    int P = d->rows * d->cols;
    cl_mem order = clrt_alloc(rt, (size_t)B * sizeof(int)), bx = clrt_alloc(rt, (size_t)B * P * sizeof(float)),
           by = clrt_alloc(rt, (size_t)B * sizeof(int));
    clrt_write(rt, order, 0, (size_t)B * sizeof(int), index);
    if (aug) {
        augmenter a;
        augment_init(&a, rt);
        augment_gather(&a, bx, by, d, order, 0, B, aug, seed, epoch, "augment");
        augment_release(&a);
    } else {
        batcher b;
        batcher_init(&b, rt);
        batcher_gather(&b, bx, by, d, order, 0, B);
        batcher_release(&b);
    }
    clrt_read(rt, bx, 0, (size_t)B * P * sizeof(float), x);
    clrt_read(rt, by, 0, (size_t)B * sizeof(int), labels);
    CL_CHECK(clReleaseMemObject(order));
    CL_CHECK(clReleaseMemObject(bx));
    CL_CHECK(clReleaseMemObject(by));
}

/* ---- one batch ---------------------------------------------------------------------------- */

/* want (rows, cols) = dy^T x, from dy (B, rows) and x (B, cols), summed in double. */
static float *outer_sum(const float *dy, const float *x, int B, int rows, int cols) {
    float *w = xmalloc((size_t)rows * cols * sizeof *w);
    for (int r = 0; r < rows; r++)
        for (int k = 0; k < cols; k++) {
            double s = 0;
            for (int b = 0; b < B; b++) s += (double)dy[b * rows + r] * x[b * cols + k];
            w[(size_t)r * cols + k] = (float)s;
        }
    return w;
}

/* Tensor `name`'s gradient out of claug's gradient buffer g: its offset and length. */
static bool find_tensor(const net *n, const char *name, size_t *off, size_t *len) {
    for (int i = 0; i < n->nl; i++) {
        const layer *l = &n->L[i];
        if (!l->params) continue;
        char kernel[48], bias[48];
        snprintf(kernel, sizeof kernel, "%s/kernel", l->name);
        snprintf(bias, sizeof bias, "%s/bias", l->name);
        if (strcmp(name, kernel) == 0) *off = l->w_off, *len = (size_t)(l->params - l->oc);
        else if (strcmp(name, bias) == 0) *off = l->b_off, *len = (size_t)l->oc;
        else continue;
        return true;
    }
    return false;
}

static double max_abs(const float *v, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)v[i]));
    return m;
}

/* Every gradient tensor of the state against claug's gradient buffer g. */
static void check_gradients(cursor *c, const net *n, const float *g, int B, const char *batch) {
    uint32_t tensors = u32(c), covered = 0;
    for (uint32_t t = 0; t < tensors; t++) {
        char *name = text(c), what[96];
        uint32_t kind = u32(c);
        size_t off = 0, len = 0;
        float *want;
        if (kind == 0) {
            len = u32(c);
            want = floats(c, len);
        } else { /* the product dy^T x, stored as its factors */
            uint32_t rows = u32(c), cols = u32(c);
            float *dy = floats(c, (size_t)B * rows), *x = floats(c, (size_t)B * cols);
            want = outer_sum(dy, x, B, (int)rows, (int)cols);
            len = (size_t)rows * cols;
            free(dy);
            free(x);
        }
        size_t got_len = 0;
        CHECK(find_tensor(n, name, &off, &got_len) && got_len == len, "%s: tensor %s (%zu values) is not claug's",
              batch, name, len);
        snprintf(what, sizeof what, "%s d%s", batch, name);
        if (got_len == len) {
            check_close(what, g + off, want, len, TOL_REF_GRAD_ATOL * max_abs(want, len), TOL_REF_GRAD_RTOL);
            covered += (uint32_t)len;
        }
        free(want);
        free(name);
    }
    CHECK(covered == (uint32_t)n->param_count, "%s: the state covers %u of %ld parameters", batch, covered, n->param_count);
}

static double mean(const float *v, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return s / n;
}

/* One batch of the state: its pixels, then the model from the reference weights on it. */
static void check_batch(cursor *c, const state_header *h, net *n, const devset *d) {
    int B = h->B, P = h->C * h->H * h->W, index[MAX_B], labels[MAX_B], got_labels[MAX_B];
    char *name = text(c), *augmentation = text(c);
    uint64_t aug_seed = u32(c);
    uint32_t aug_epoch = u32(c);
    for (int b = 0; b < B; b++) {
        uint32_t i = u32(c);
        if (i >= (uint32_t)d->count) die(EXIT_USAGE, "%s: image index %u of %d training images", STATE, i, d->count);
        index[b] = (int)i;
    }
    for (int b = 0; b < B; b++) labels[b] = (int)u32(c);
    float *x = floats(c, (size_t)B * P), *want_logits = floats(c, (size_t)B * h->classes);
    float *want_losses = floats(c, (size_t)h->steps), *got_x = xmalloc((size_t)B * P * sizeof *got_x);
    char what[96];

    aug_config aug = state_augmentation();
    char *described = aug_config_describe(&aug);
    CHECK(!*augmentation || strcmp(described, augmentation) == 0, "%s: the state's augmentation is %s, the test's %s",
          name, augmentation, described);
    gather(got_x, got_labels, n->rt, d, index, B, *augmentation ? &aug : NULL, aug_seed, aug_epoch);
    snprintf(what, sizeof what, "%s pixels vs claug's gather", name);
    if (*augmentation) check_close(what, got_x, x, (size_t)B * P, TOL_AUGMENT_ATOL, TOL_AUGMENT_RTOL);
    else check_close(what, got_x, x, (size_t)B * P, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
    CHECK(memcmp(got_labels, labels, (size_t)B * sizeof(int)) == 0, "%s: labels differ from the dataset's", name);

    /* PyTorch's pixels go in, so that the model is compared on exactly what PyTorch saw. */
    float *w = reference_weights(n, h->weight_seed), *g = xmalloc(n->nparams * sizeof *g);
    float *got_logits = xmalloc((size_t)B * h->classes * sizeof *got_logits), step_losses[16], l[MAX_B];
    net_write_params(n, w);
    net_reset_optimizer(n);
    clrt_write(n->rt, n->x, 0, (size_t)B * P * sizeof(float), x);
    clrt_write(n->rt, n->labels, 0, (size_t)B * sizeof(int), labels);
    clrt_read(n->rt, net_forward(n, B, false, 0, 0), 0, (size_t)B * h->classes * sizeof(float), got_logits);
    snprintf(what, sizeof what, "%s logits", name);
    check_close(what, got_logits, want_logits, (size_t)B * h->classes, TOL_REF_LOGITS_ATOL, TOL_REF_LOGITS_RTOL);

    cl_mem losses = clrt_alloc(n->rt, (size_t)B * sizeof(float)), correct = clrt_alloc(n->rt, (size_t)B * sizeof(float));
    for (int s = 0; s < h->steps; s++) {
        net_train_step(n, losses, correct, 0, B, h->lr, 0);
        clrt_read(n->rt, losses, 0, (size_t)B * sizeof(float), l);
        step_losses[s] = (float)mean(l, B);
        if (s == 0) clrt_read(n->rt, n->grads, 0, n->nparams * sizeof *g, g);
    }
    snprintf(what, sizeof what, "%s loss", name);
    check_close(what, step_losses, want_losses, 1, TOL_REF_LOSS_ATOL, TOL_REF_LOSS_RTOL);
    check_gradients(c, n, g, B, name);
    snprintf(what, sizeof what, "%s losses of Adam steps 1..%d", name, h->steps - 1);
    check_close(what, step_losses + 1, want_losses + 1, (size_t)h->steps - 1, TOL_REF_STEPS_ATOL, TOL_REF_STEPS_RTOL);
    printf("%s: loss %.6f (PyTorch %.6f), after %d Adam steps %.6f (PyTorch %.6f)\n", name, (double)step_losses[0],
           (double)want_losses[0], h->steps - 1, (double)step_losses[h->steps - 1], (double)want_losses[h->steps - 1]);

    CL_CHECK(clReleaseMemObject(losses));
    CL_CHECK(clReleaseMemObject(correct));
    free(described), free(name), free(augmentation), free(x), free(got_x), free(want_logits), free(want_losses);
    free(w), free(g), free(got_logits);
}

int main(void) {
    snprintf(STATE, sizeof STATE, "%s/tests/data/reference_state.bin", test_source_dir());
    size_t len;
    uint8_t *bytes = (uint8_t *)slurp(STATE, &len);
    if (!bytes) die(EXIT_USAGE, "%s: cannot read (tools/pytorch_reference.py --write-state makes it)", STATE);
    cursor c = {bytes, bytes + len};
    if (memcmp(take(&c, 8), "CLAUGREF", 8) != 0 || u32(&c) != 1) die(EXIT_USAGE, "%s: not a version 1 state", STATE);
    state_header h = {.B = (int)u32(&c), .C = (int)u32(&c), .H = (int)u32(&c), .W = (int)u32(&c)};
    h.classes = (int)u32(&c);
    h.steps = (int)u32(&c);
    h.weight_seed = u32(&c);
    h.lr = f64(&c);
    h.model = text(&c);
    if (h.B < 1 || h.B > MAX_B || h.steps < 1 || h.steps > 16 || h.C != IMAGE_CHANNELS || h.H != IMAGE_SIDE || h.W != IMAGE_SIDE ||
        h.classes != NUM_CLASSES)
        die(EXIT_USAGE, "%s: shapes the test does not know", STATE);

    dataset ds;
    dataset_load_or_die(&ds, dataset_default_dir());
    clrt *rt = clrt_open(NULL, NULL);
    devset d;
    devset_upload(&d, rt, &ds.train_images, &ds.train_labels);
    conv_tuning ct;
    conv_tuning_default(&ct, rt);
    net *n = net_create(rt, h.model, h.C, h.H, h.W, h.classes, h.B, &ct);
    CHECK(strcmp(n->spec, MODEL_SEED) == 0, "the state's model is not the seed model: %s", h.model);
    for (uint32_t b = 0, batches = u32(&c); b < batches; b++) check_batch(&c, &h, n, &d);
    CHECK(c.p == c.end, "%s: %zu bytes after the last batch", STATE, (size_t)(c.end - c.p));

    net_free(n);
    devset_release(&d);
    clrt_close(rt);
    dataset_free(&ds);
    free(h.model);
    free(bytes);
    return check_done("test_reference");
}
