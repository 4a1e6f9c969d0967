/* Softmax cross-entropy: the kernel against the C reference (written at an offset, with and
 * without the gradient), stable for huge logits, correctness flags and predicted classes against
 * the argmax, and the
 * reference's gradient by finite differences; metrics_sum against a double-precision sum and
 * bit-identical from run to run. */
/* ctest: labels=kernel timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/ops/loss.h"
#include "devbuf.h"
#include "fd.h"
#include "philox.h"
#include "tol.h"

enum { OFFSET = 5, PAD = 3, MAXB = 40, MAXK = 10 };

static void random_labels(int *labels, int B, int K, uint64_t seed) {
    for (int b = 0; b < B; b++) labels[b] = (int)(claug_random4(seed, 98, (uint32_t)b, 0, 0).v[0] % (uint32_t)K);
}

/* Runs the kernel (with or without dlogits) and the reference on one batch and compares. */
static void compare(loss_kernels *k, clrt *rt, const float *logits, const int *labels, int B, int K,
                    const char *name) {
    const int total = OFFSET + B + PAD;
    float sentinel[OFFSET + MAXB + PAD], gl[OFFSET + MAXB + PAD], gc[OFFSET + MAXB + PAD], wl[OFFSET + MAXB + PAD],
        wc[OFFSET + MAXB + PAD], gd[MAXB * MAXK], wd[MAXB * MAXK];
    int gp[OFFSET + MAXB + PAD], wp[OFFSET + MAXB + PAD];
    for (int i = 0; i < total; i++) sentinel[i] = wl[i] = wc[i] = -7.0f, gp[i] = wp[i] = -7;
    cl_mem bl = upload(rt, sentinel, total * sizeof(float)), bc = upload(rt, sentinel, total * sizeof(float)),
           bd = clrt_alloc(rt, (size_t)B * K * sizeof(float)), bz = upload(rt, logits, (size_t)B * K * sizeof(float)),
           by = upload(rt, labels, (size_t)B * sizeof(int)), bp = upload(rt, gp, total * sizeof(int));
    const float scale = 1.0f / (float)B;
    ref_softmax_xent(wl, wc, wp, wd, logits, labels, OFFSET, B, K, scale);
    char what[96];
    for (int with_grad = 1; with_grad >= 0; with_grad--) {
        /* The predictions in the pass without the gradient: each NULL-able output once NULL. */
        softmax_xent(k, bl, bc, with_grad ? NULL : bp, with_grad ? bd : NULL, bz, by, OFFSET, B, K, scale, "xent");
        clrt_read(rt, bl, 0, total * sizeof(float), gl);
        clrt_read(rt, bc, 0, total * sizeof(float), gc);
        snprintf(what, sizeof what, "%s losses%s vs ref", name, with_grad ? "" : " (no grad)");
        /* the sentinels outside the range included */
        check_close(what, gl, wl, (size_t)total, TOL_XENT_ATOL, TOL_XENT_RTOL);
        snprintf(what, sizeof what, "%s correct%s vs ref", name, with_grad ? "" : " (no grad)");
        check_close(what, gc, wc, (size_t)total, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
        if (!with_grad) {
            clrt_read(rt, bp, 0, total * sizeof(int), gp);
            snprintf(what, sizeof what, "%s predicted vs ref", name);
            check_same(what, gp, wp, total * sizeof(int));
            continue;
        }
        clrt_read(rt, bd, 0, (size_t)B * K * sizeof(float), gd);
        snprintf(what, sizeof what, "%s dlogits vs ref", name);
        check_close(what, gd, wd, (size_t)B * K, TOL_XENT_GRAD_ATOL, TOL_XENT_GRAD_RTOL);
    }
    /* Correct means the label is the first index of the row's maximum (computed here from sorted
     * order: the largest logit, the smallest index among equals). */
    int bad = 0;
    for (int b = 0; b < B; b++) {
        int top = K - 1;
        for (int j = K - 2; j >= 0; j--)
            if (logits[b * K + j] >= logits[b * K + top]) top = j;
        bad += wc[OFFSET + b] != (top == labels[b] ? 1.0f : 0.0f) || wp[OFFSET + b] != top;
    }
    CHECK(bad == 0, "%s: %d correctness flags or predictions disagree with the argmax", name, bad);
    release(bl), release(bc), release(bd), release(bz), release(by), release(bp);
}

static void test_random(loss_kernels *k, clrt *rt, int B, int K) {
    float logits[MAXB * MAXK];
    int labels[MAXB];
    fill_uniform(logits, (size_t)B * K, 80 + (uint64_t)K, -4.0f, 4.0f);
    random_labels(labels, B, K, (uint64_t)K);
    labels[0] = 0; /* make sure a row or two is correct */
    for (int j = 1; j < K; j++) logits[j] = logits[0] - 1.0f - (float)j;
    char name[64];
    snprintf(name, sizeof name, "xent B=%d K=%d", B, K);
    compare(k, rt, logits, labels, B, K, name);
}

/* Huge logits would overflow exp without the max subtracted; ties go to the first index. */
static void test_extremes(loss_kernels *k, clrt *rt) {
    enum { B = 4, K = 10 };
    float z[B * K] = {0};
    z[0] = 1000.0f, z[1] = -1000.0f;        /* row 0, label 0: loss 0 */
    z[K] = 1000.0f, z[K + 1] = -1000.0f;    /* row 1, label 1: loss 2000 */
    z[2 * K + 3] = z[2 * K + 7] = 5.0f;     /* row 2: a tie, label the second maximum */
    z[3 * K + 3] = z[3 * K + 7] = 5.0f;     /* row 3: the same tie, label the first */
    int labels[B] = {0, 1, 7, 3};
    compare(k, rt, z, labels, B, K, "xent extremes");
    float l[B], c[B], d[B * K];
    ref_softmax_xent(l, c, NULL, d, z, labels, 0, B, K, 1.0f);
    int finite = 1;
    for (int i = 0; i < B * K; i++) finite &= isfinite(d[i]);
    CHECK(finite && isfinite(l[0]) && isfinite(l[1]), "non-finite loss or gradient for logits of +-1000");
    CHECK(l[0] == 0.0f && l[1] == 2000.0f, "losses %g and %g, want 0 and 2000", (double)l[0], (double)l[1]);
    CHECK(c[0] == 1.0f && c[1] == 0.0f && c[2] == 0.0f && c[3] == 1.0f, "correct flags %g %g %g %g", (double)c[0],
          (double)c[1], (double)c[2], (double)c[3]);
}

typedef struct {
    float *z, *losses, *correct;
    const int *labels;
    int B, K;
} xent_fd;

static double mean_loss(void *ctx) {
    xent_fd *c = ctx;
    ref_softmax_xent(c->losses, c->correct, NULL, NULL, c->z, c->labels, 0, c->B, c->K, 0.0f);
    double s = 0;
    for (int b = 0; b < c->B; b++) s += c->losses[b];
    return s / c->B;
}

static void test_fd(int B, int K) {
    float z[MAXB * MAXK], g[MAXB * MAXK], fd[MAXB * MAXK], l[MAXB], c[MAXB];
    int labels[MAXB];
    fill_uniform(z, (size_t)B * K, 90, -3.0f, 3.0f);
    random_labels(labels, B, K, 91);
    xent_fd ctx = {z, l, c, labels, B, K};
    fd_gradient(fd, z, (size_t)B * K, 1e-2f, mean_loss, &ctx);
    ref_softmax_xent(l, c, NULL, g, z, labels, 0, B, K, 1.0f / (float)B);
    char what[80];
    snprintf(what, sizeof what, "ref_softmax_xent B=%d K=%d dlogits vs fd", B, K);
    check_close(what, g, fd, (size_t)B * K, TOL_FD_XENT_ATOL, TOL_FD_XENT_RTOL);
}

static void test_metrics(loss_kernels *k, clrt *rt, int n, const char *build) {
    float *l = xmalloc((size_t)n * sizeof *l), *c = xmalloc((size_t)n * sizeof *c);
    fill_uniform(l, (size_t)n, 100 + (uint64_t)n, 0.0f, 3.0f);
    fill_uniform(c, (size_t)n, 200 + (uint64_t)n, 0.0f, 1.0f);
    double sl = 0, sc = 0;
    for (int i = 0; i < n; i++) {
        c[i] = c[i] < 0.9f ? 1.0f : 0.0f;
        sl += l[i];
        sc += c[i];
    }
    cl_mem bl = upload(rt, l, (size_t)n * sizeof *l), bc = upload(rt, c, (size_t)n * sizeof *c),
           out = clrt_alloc(rt, 2 * sizeof(float));
    float first[2], second[2], want[2] = {(float)sl, (float)sc};
    metrics_sum(k, out, bl, bc, n, "metrics");
    clrt_read(rt, out, 0, sizeof first, first);
    clrt_fill_zero(rt, out, 0, sizeof second);
    metrics_sum(k, out, bl, bc, n, "metrics");
    clrt_read(rt, out, 0, sizeof second, second);
    char what[96];
    snprintf(what, sizeof what, "metrics_sum n=%d %s vs double", n, build);
    check_close(what, first, want, 2, TOL_SUM_ATOL, TOL_SUM_RTOL); /* the count of correct ones is an exact integer */
    CHECK(first[1] == want[1], "%s: correct count %.1f, want %.1f", what, (double)first[1], (double)want[1]);
    snprintf(what, sizeof what, "metrics_sum n=%d %s run to run", n, build);
    check_same(what, second, first, sizeof first);
    release(bl), release(bc), release(out);
    free(l), free(c);
}

/* A label outside [0, K) gives a NaN loss on the device and in the reference, not a stray read. */
static void test_bad_labels(loss_kernels *k, clrt *rt) {
    enum { B = 2, K = 7 };
    float z[B * K], gl[B], gc[B], wl[B], wc[B];
    int labels[B] = {K, -1};
    fill_uniform(z, B * K, 95, -1.0f, 1.0f);
    cl_mem bl = clrt_alloc(rt, sizeof gl), bc = clrt_alloc(rt, sizeof gc), bz = upload(rt, z, sizeof z),
           by = upload(rt, labels, sizeof labels);
    softmax_xent(k, bl, bc, NULL, NULL, bz, by, 0, B, K, 1.0f, "xent");
    clrt_read(rt, bl, 0, sizeof gl, gl);
    clrt_read(rt, bc, 0, sizeof gc, gc);
    ref_softmax_xent(wl, wc, NULL, NULL, z, labels, 0, B, K, 1.0f);
    CHECK(isnan(gl[0]) && isnan(gl[1]) && isnan(wl[0]) && isnan(wl[1]), "losses for bad labels: %g %g (ref %g %g)",
          (double)gl[0], (double)gl[1], (double)wl[0], (double)wl[1]);
    CHECK(gc[0] == 0.0f && gc[1] == 0.0f && wc[0] == 0.0f && wc[1] == 0.0f, "bad labels counted correct");
    release(bl), release(bc), release(bz), release(by);
}

int main(void) {
    clrt *rt = clrt_open(NULL, NULL);
    loss_kernels k, k64;
    loss_init(&k, rt, NULL);
    loss_init(&k64, rt, "-DMETRICS_WG=64");
    test_random(&k, rt, 3, 10);
    test_random(&k, rt, 37, 7);
    test_extremes(&k, rt);
    test_bad_labels(&k, rt);
    test_fd(3, 10);
    test_fd(7, 7);
    const int sizes[] = {1, 255, 1001, 60000};
    for (int i = 0; i < 4; i++) {
        test_metrics(&k, rt, sizes[i], "default");
        test_metrics(&k64, rt, sizes[i], "WG=64");
    }
    loss_release(&k);
    loss_release(&k64);
    clrt_close(rt);
    return check_done("test_loss");
}
