/* Max pooling: the kernels against the C references on odd shapes (trailing rows and columns
 * dropped), ties resolved to the first maximum, every element of dx written, and the
 * reference's gradient by finite differences. */
/* ctest: labels=kernel timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/ops/pool.h"
#include "devbuf.h"
#include "fd.h"
#include "tol.h"

typedef struct {
    int B, C, H, W, S;
} shape;

static size_t in_count(shape s) { return (size_t)s.B * s.C * s.H * s.W; }
static size_t out_count(shape s) { return (size_t)s.B * s.C * (s.H / s.S) * (s.W / s.S); }

/* The window maximum and its first position, computed directly from the definition. */
static void check_against_definition(const float *y, const uint8_t *arg, const float *x, shape s) {
    int OH = s.H / s.S, OW = s.W / s.S, bad = 0;
    for (int bc = 0; bc < s.B * s.C; bc++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                float m = -INFINITY;
                int first = -1;
                for (int k = 0; k < s.S * s.S; k++) {
                    float v = x[((size_t)bc * s.H + oh * s.S + k / s.S) * s.W + ow * s.S + k % s.S];
                    if (first < 0 || v > m) m = v, first = k;
                }
                size_t o = ((size_t)bc * OH + oh) * OW + ow;
                bad += y[o] != m || arg[o] != first;
            }
    CHECK(bad == 0, "%d windows differ from their maximum / first argmax", bad);
}

static void test_shape(pool_kernels *k, clrt *rt, shape s, int ties) {
    size_t n = in_count(s), m = out_count(s);
    float *x = xmalloc(n * sizeof *x), *dy = xmalloc(m * sizeof *dy), *y = xmalloc(m * sizeof *y),
          *gy = xmalloc(m * sizeof *gy), *dx = xmalloc(n * sizeof *dx), *gdx = xmalloc(n * sizeof *gdx);
    uint8_t *arg = xmalloc(m), *garg = xmalloc(m);
    fill_uniform(x, n, 30 + (uint64_t)s.S, -1.0f, 1.0f);
    if (ties) /* three levels only: most windows hold several maxima */
        for (size_t i = 0; i < n; i++) x[i] = floorf(x[i] * 1.5f);
    fill_uniform(dy, m, 31, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) gdx[i] = NAN; /* every element must be overwritten */
    cl_mem bx = upload(rt, x, n * sizeof *x), bdy = upload(rt, dy, m * sizeof *dy), by = clrt_alloc(rt, m * sizeof *y),
           barg = clrt_alloc(rt, m), bdx = upload(rt, gdx, n * sizeof *gdx);

    pool_forward(k, by, barg, bx, s.B, s.C, s.H, s.W, s.S, "pool");
    pool_backward(k, bdx, bdy, barg, s.B, s.C, s.H, s.W, s.S, "pool");
    clrt_read(rt, by, 0, m * sizeof *gy, gy);
    clrt_read(rt, barg, 0, m, garg);
    clrt_read(rt, bdx, 0, n * sizeof *gdx, gdx);
    ref_pool_forward(y, arg, x, s.B, s.C, s.H, s.W, s.S);
    ref_pool_backward(dx, dy, arg, s.B, s.C, s.H, s.W, s.S);

    char what[96];
    snprintf(what, sizeof what, "pool%s %dx%d S=%d%s y vs ref", k->rows ? " rows" : "", s.H, s.W, s.S, ties ? " ties" : "");
    check_close(what, gy, y, m, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
    snprintf(what, sizeof what, "pool%s %dx%d S=%d%s argmax vs ref", k->rows ? " rows" : "", s.H, s.W, s.S, ties ? " ties" : "");
    check_same(what, garg, arg, m);
    snprintf(what, sizeof what, "pool%s %dx%d S=%d%s dx vs ref", k->rows ? " rows" : "", s.H, s.W, s.S, ties ? " ties" : "");
    check_close(what, gdx, dx, n, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
    check_against_definition(y, arg, x, s);

    release(bx);
    release(bdy);
    release(by);
    release(barg);
    release(bdx);
    free(x), free(dy), free(y), free(gy), free(dx), free(gdx), free(arg), free(garg);
}

typedef struct {
    float *x, *y, *r;
    uint8_t *arg;
    shape s;
} pool_fd;

static double pool_f(void *ctx) {
    pool_fd *c = ctx;
    ref_pool_forward(c->y, c->arg, c->x, c->s.B, c->s.C, c->s.H, c->s.W, c->s.S);
    double f = 0;
    for (size_t i = 0; i < out_count(c->s); i++) f += (double)c->r[i] * c->y[i];
    return f;
}

/* Distinct values 0.01 apart (a permutation of a grid): a step of 1e-3 never changes an argmax. */
static void test_fd(shape s) {
    size_t n = in_count(s), m = out_count(s);
    float *x = xmalloc(n * sizeof *x), *y = xmalloc(m * sizeof *y), *r = xmalloc(m * sizeof *r),
          *g = xmalloc(n * sizeof *g), *fd = xmalloc(n * sizeof *fd);
    uint8_t *arg = xmalloc(m);
    for (size_t i = 0; i < n; i++) x[i] = 0.01f * (float)((i * 7919) % n) - 5.0f; /* 7919 is prime, n is not */
    fill_uniform(r, m, 40, -1.0f, 1.0f);
    pool_fd c = {x, y, r, arg, s};
    fd_gradient(fd, x, n, 1e-3f, pool_f, &c);
    pool_f(&c);
    ref_pool_backward(g, r, arg, s.B, s.C, s.H, s.W, s.S);
    char what[96];
    snprintf(what, sizeof what, "ref_pool_backward %dx%d S=%d vs fd", s.H, s.W, s.S);
    check_close(what, g, fd, n, TOL_FD_PIECEWISE_ATOL, TOL_FD_PIECEWISE_RTOL);
    free(x), free(y), free(r), free(g), free(fd), free(arg);
}

int main(void) {
    clrt *rt = clrt_open(NULL, NULL);
    /* Both forwards, a window per work-item and a row (four windows at a time, then one by one),
     * on rows of 3, 5 and 12 windows, a dropped trailing column among them. */
    const shape shapes[] = {{3, 5, 7, 7, 2},  {3, 5, 9, 11, 2}, {3, 5, 9, 11, 3},
                            {3, 5, 7, 7, 3},  {2, 3, 8, 10, 2}, {2, 4, 24, 25, 2}};
    pool_kernels k;
    for (int rows = 0; rows <= 1; rows++) {
        pool_init_rows(&k, rt, rows);
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
            test_shape(&k, rt, shapes[i], 0);
            test_shape(&k, rt, shapes[i], 1);
        }
        pool_release(&k);
    }
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) test_fd(shapes[i]);
    pool_init(&k, rt);
    /* Smaller than one window: an empty output, and a backward that zeroes dx. */
    shape tiny = {2, 3, 2, 5, 3};
    float dx[2 * 3 * 2 * 5], zero[2 * 3 * 2 * 5] = {0};
    for (size_t i = 0; i < sizeof dx / sizeof *dx; i++) dx[i] = NAN;
    cl_mem bdx = upload(rt, dx, sizeof dx), none = clrt_alloc(rt, 4);
    pool_forward(&k, none, none, bdx, tiny.B, tiny.C, tiny.H, tiny.W, tiny.S, "pool");
    pool_backward(&k, bdx, none, none, tiny.B, tiny.C, tiny.H, tiny.W, tiny.S, "pool");
    clrt_read(rt, bdx, 0, sizeof dx, dx);
    check_close("pool 2x5 S=3 (empty output) dx is zero", dx, zero, sizeof dx / sizeof *dx, TOL_EXACT_ATOL,
                TOL_EXACT_RTOL);
    release(bdx);
    release(none);
    pool_release(&k);
    clrt_close(rt);
    return check_done("test_pool");
}
