/* Dropout: the kernel's mask equals the C reference's to the bit (forward, backward, in place),
 * is reproducible for one (seed, step, layer) and changes with each of them, keeps about
 * 1 - rate of the elements, and the reference's gradient matches finite differences. */
/* ctest: labels=kernel timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/ops/dropout.h"
#include "devbuf.h"
#include "fd.h"
#include "tol.h"

enum { N_SMALL = 3 * 5 * 7 * 7, N_BIG = (1 << 20) + 3 }; /* neither a multiple of 4 */

static void test_vs_ref(dropout_kernels *k, clrt *rt, float rate) {
    float x[N_SMALL], dy[N_SMALL], got[N_SMALL], want[N_SMALL];
    fill_uniform(x, N_SMALL, 50, -1.0f, 1.0f);
    fill_uniform(dy, N_SMALL, 51, -1.0f, 1.0f);
    cl_mem bx = upload(rt, x, sizeof x), bdy = upload(rt, dy, sizeof dy), by = clrt_alloc(rt, sizeof x);
    const uint64_t seed = 0x123456789abcdefULL;
    char what[80];

    dropout_forward(k, by, bx, N_SMALL, rate, seed, 17, 3, "dropout");
    clrt_read(rt, by, 0, sizeof got, got);
    ref_dropout_forward(want, x, N_SMALL, rate, seed, 17, 3);
    snprintf(what, sizeof what, "dropout_forward %.2f vs ref", (double)rate);
    check_close(what, got, want, N_SMALL, TOL_EXACT_ATOL, TOL_EXACT_RTOL);

    dropout_forward(k, bx, bx, N_SMALL, rate, seed, 17, 3, "dropout"); /* in place */
    clrt_read(rt, bx, 0, sizeof got, got);
    snprintf(what, sizeof what, "dropout_forward %.2f in place vs ref", (double)rate);
    check_close(what, got, want, N_SMALL, TOL_EXACT_ATOL, TOL_EXACT_RTOL);

    dropout_backward(k, bdy, bdy, N_SMALL, rate, seed, 17, 3, "dropout"); /* in place */
    clrt_read(rt, bdy, 0, sizeof got, got);
    ref_dropout_backward(want, dy, N_SMALL, rate, seed, 17, 3);
    snprintf(what, sizeof what, "dropout_backward %.2f in place vs ref", (double)rate);
    check_close(what, got, want, N_SMALL, TOL_EXACT_ATOL, TOL_EXACT_RTOL);

    /* The backward drops exactly the elements the forward dropped, and scales the rest alike. */
    float y[N_SMALL];
    ref_dropout_forward(y, x, N_SMALL, rate, seed, 17, 3);
    int mismatch = 0;
    for (int i = 0; i < N_SMALL; i++) mismatch += (y[i] == 0.0f) != (want[i] == 0.0f);
    CHECK(mismatch == 0, "%d elements dropped in one direction only", mismatch);
    release(bx);
    release(bdy);
    release(by);
}

/* Fraction of the elements dropped by (seed, step, layer) on the device, with the dropped set's
 * bitmap in `dropped` (n bytes). */
static double dropped_fraction(dropout_kernels *k, clrt *rt, cl_mem out, cl_mem ones, float *buf, uint8_t *dropped,
                               float rate, uint64_t seed, uint32_t step, uint32_t layer) {
    dropout_forward(k, out, ones, N_BIG, rate, seed, step, layer, "dropout");
    clrt_read(rt, out, 0, N_BIG * sizeof *buf, buf);
    size_t count = 0, wrong = 0;
    const float scale = 1.0f / (1.0f - rate);
    for (size_t i = 0; i < N_BIG; i++) {
        dropped[i] = buf[i] == 0.0f;
        count += dropped[i];
        wrong += !dropped[i] && buf[i] != scale;
    }
    CHECK(wrong == 0, "%zu kept elements are not scaled by 1 / (1 - rate)", wrong);
    return (double)count / N_BIG;
}

static double differ_fraction(const uint8_t *a, const uint8_t *b) {
    size_t d = 0;
    for (size_t i = 0; i < N_BIG; i++) d += a[i] != b[i];
    return (double)d / N_BIG;
}

static void test_statistics(dropout_kernels *k, clrt *rt) {
    const float rate = 0.3f;
    float *buf = xmalloc(N_BIG * sizeof *buf);
    for (size_t i = 0; i < N_BIG; i++) buf[i] = 1.0f;
    cl_mem ones = upload(rt, buf, N_BIG * sizeof *buf), out = clrt_alloc(rt, N_BIG * sizeof *buf);
    uint8_t *a = xmalloc(N_BIG), *b = xmalloc(N_BIG);

    double frac = dropped_fraction(k, rt, out, ones, buf, a, rate, 7, 100, 2);
    double sigma = sqrt(rate * (1.0 - rate) / N_BIG);
    printf("dropped fraction %.5f for rate %.2f (sigma %.5f)\n", frac, (double)rate, sigma);
    CHECK(fabs(frac - rate) < 5 * sigma, "dropped %.5f, rate %.2f", frac, (double)rate);

    float *want = xmalloc(N_BIG * sizeof *want), *again = xmalloc(N_BIG * sizeof *again);
    for (size_t i = 0; i < N_BIG; i++) again[i] = 1.0f;
    ref_dropout_forward(want, again, N_BIG, rate, 7, 100, 2);
    check_same("dropout 2^20+3 device vs ref", buf, want, N_BIG * sizeof *buf);
    dropped_fraction(k, rt, out, ones, again, b, rate, 7, 100, 2);
    check_same("dropout output, same (seed, step, layer)", again, buf, N_BIG * sizeof *buf);
    free(want), free(again);
    /* Independent masks differ in a fraction 2 rate (1 - rate) = 0.42 of the places. */
    const uint32_t other[3][3] = {{8, 100, 2}, {7, 101, 2}, {7, 100, 3}};
    const char *names[3] = {"seed", "step", "layer"};
    for (int v = 0; v < 3; v++) {
        dropped_fraction(k, rt, out, ones, buf, b, rate, other[v][0], other[v][1], other[v][2]);
        double d = differ_fraction(a, b), expect = 2.0 * rate * (1.0 - rate);
        printf("another %-5s: masks differ in %.4f of the places (independent: %.2f)\n", names[v], d, expect);
        CHECK(fabs(d - expect) < 0.01, "another %s: masks differ in %.4f of the places", names[v], d);
    }
    release(ones);
    release(out);
    free(buf), free(a), free(b);
}

typedef struct {
    float *x, *y, *r, rate;
} drop_fd;

static double drop_f(void *ctx) {
    drop_fd *c = ctx;
    ref_dropout_forward(c->y, c->x, N_SMALL, c->rate, 5, 6, 7);
    double f = 0;
    for (int i = 0; i < N_SMALL; i++) f += (double)c->r[i] * c->y[i];
    return f;
}

static void test_fd(float rate) {
    float x[N_SMALL], y[N_SMALL], r[N_SMALL], g[N_SMALL], fd[N_SMALL];
    fill_uniform(x, N_SMALL, 60, -1.0f, 1.0f);
    fill_uniform(r, N_SMALL, 61, -1.0f, 1.0f);
    drop_fd c = {x, y, r, rate};
    fd_gradient(fd, x, N_SMALL, 1e-2f, drop_f, &c);
    ref_dropout_backward(g, r, N_SMALL, rate, 5, 6, 7);
    char what[80];
    snprintf(what, sizeof what, "ref_dropout_backward %.2f vs fd", (double)rate);
    check_close(what, g, fd, N_SMALL, TOL_FD_LINEAR_ATOL, TOL_FD_LINEAR_RTOL);
}

int main(void) {
    clrt *rt = clrt_open(NULL, NULL);
    dropout_kernels k;
    dropout_init(&k, rt);
    const float rates[] = {0.0f, 0.25f, 0.5f};
    for (int i = 0; i < 3; i++) {
        test_vs_ref(&k, rt, rates[i]);
        test_fd(rates[i]);
    }
    /* Rate 0 is the identity. */
    float x[N_SMALL], y[N_SMALL];
    fill_uniform(x, N_SMALL, 70, -1.0f, 1.0f);
    ref_dropout_forward(y, x, N_SMALL, 0.0f, 1, 2, 3);
    check_close("ref_dropout_forward rate 0 is the identity", y, x, N_SMALL, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
    /* A million draws per mask: minutes under a simulator, where the bounds of the last, partial
     * group of four are checked on N_SMALL above. */
    if (!test_tiny()) test_statistics(&k, rt);
    dropout_release(&k);
    clrt_close(rt);
    return check_done("test_dropout");
}
