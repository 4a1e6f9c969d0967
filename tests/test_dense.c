/* Dense layers through CLBlast against the C references (forward with and without ReLU, backward
 * with and without dx), the references' gradients by finite differences, the temporary buffer
 * reused across calls, and CLBlast's events in the profile. One test executable, because CLBlast
 * compiles its kernels once per process. */
/* ctest: labels=kernel timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#include "check.h"
#include "claug/ops/dense.h"
#include "devbuf.h"
#include "fd.h"
#include "tol.h"

typedef struct {
    int B, IN, OUT;
} shape;

typedef struct {
    float *x, *w, *b, *dy, *y; /* inputs and the output gradient, and the reference's output */
} dense_data;

static dense_data make_data(shape s, uint64_t seed) {
    dense_data d = {xmalloc((size_t)s.B * s.IN * sizeof(float)), xmalloc((size_t)s.OUT * s.IN * sizeof(float)),
                    xmalloc((size_t)s.OUT * sizeof(float)), xmalloc((size_t)s.B * s.OUT * sizeof(float)),
                    xmalloc((size_t)s.B * s.OUT * sizeof(float))};
    fill_uniform(d.x, (size_t)s.B * s.IN, seed, -1.0f, 1.0f);
    fill_uniform(d.w, (size_t)s.OUT * s.IN, seed + 1, -0.5f, 0.5f);
    fill_uniform(d.b, (size_t)s.OUT, seed + 2, -0.5f, 0.5f);
    fill_uniform(d.dy, (size_t)s.B * s.OUT, seed + 3, -1.0f, 1.0f);
    return d;
}

static void free_data(dense_data *d) { free(d->x), free(d->w), free(d->b), free(d->dy), free(d->y); }

static void test_vs_ref(dense_ctx *dc, clrt *rt, shape s, int relu, int with_dx) {
    size_t nx = (size_t)s.B * s.IN, nw = (size_t)s.OUT * s.IN, ny = (size_t)s.B * s.OUT;
    dense_data d = make_data(s, 140 + (uint64_t)relu);
    float *got = xmalloc((nw > nx ? nw : nx) * sizeof(float)), *nan = xmalloc(ny * sizeof(float)),
          *dx = xmalloc(nx * sizeof(float)), *dw = xmalloc(nw * sizeof(float)), *db = xmalloc(s.OUT * sizeof(float));
    for (size_t i = 0; i < ny; i++) nan[i] = NAN; /* beta = 0: whatever y held must not leak into it */
    cl_mem bx = upload(rt, d.x, nx * 4), bw = upload(rt, d.w, nw * 4), bb = upload(rt, d.b, (size_t)s.OUT * 4),
           by = upload(rt, nan, ny * 4), bdy = upload(rt, d.dy, ny * 4), bdx = clrt_alloc(rt, nx * 4),
           bdw = clrt_alloc(rt, nw * 4), bdb = clrt_alloc(rt, (size_t)s.OUT * 4);
    char what[96], tag[64];
    snprintf(tag, sizeof tag, "dense %dx%d->%d%s%s", s.B, s.IN, s.OUT, relu ? " relu" : "", with_dx ? "" : " no dx");

    dense_forward(dc, by, bx, bw, bb, s.B, s.IN, s.OUT, relu, "dense");
    dense_backward(dc, with_dx ? bdx : NULL, bdw, bdb, bdy, bx, bw, by, s.B, s.IN, s.OUT, relu, "dense");
    ref_dense_forward(d.y, d.x, d.w, d.b, s.B, s.IN, s.OUT, relu);
    ref_dense_backward(with_dx ? dx : NULL, dw, db, d.dy, d.x, d.w, d.y, s.B, s.IN, s.OUT, relu);

    clrt_read(rt, by, 0, ny * 4, got);
    snprintf(what, sizeof what, "%s y vs ref", tag);
    check_close(what, got, d.y, ny, TOL_GEMM_ATOL, TOL_GEMM_RTOL);
    clrt_read(rt, bdy, 0, ny * 4, got);
    snprintf(what, sizeof what, "%s masked dy vs ref", tag);
    check_close(what, got, d.dy, ny, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
    clrt_read(rt, bdb, 0, (size_t)s.OUT * 4, got);
    snprintf(what, sizeof what, "%s db vs ref", tag);
    check_close(what, got, db, (size_t)s.OUT, TOL_GEMM_ATOL, TOL_GEMM_RTOL);
    clrt_read(rt, bdw, 0, nw * 4, got);
    snprintf(what, sizeof what, "%s dW vs ref", tag);
    check_close(what, got, dw, nw, TOL_GEMM_ATOL, TOL_GEMM_RTOL);
    if (with_dx) {
        clrt_read(rt, bdx, 0, nx * 4, got);
        snprintf(what, sizeof what, "%s dx vs ref", tag);
        check_close(what, got, dx, nx, TOL_GEMM_ATOL, TOL_GEMM_RTOL);
    }
    release(bx), release(bw), release(bb), release(by), release(bdy), release(bdx), release(bdw), release(bdb);
    free_data(&d);
    free(got), free(nan), free(dx), free(dw), free(db);
}

typedef struct {
    dense_data d;
    shape s;
    int relu;
} dense_fd;

/* f = sum r * dense(x, W, b) with r = the test's dy. */
static double dense_f(void *ctx) {
    dense_fd *c = ctx;
    ref_dense_forward(c->d.y, c->d.x, c->d.w, c->d.b, c->s.B, c->s.IN, c->s.OUT, c->relu);
    double f = 0;
    for (int i = 0; i < c->s.B * c->s.OUT; i++) f += (double)c->d.dy[i] * c->d.y[i];
    return f;
}

static void test_fd(shape s, int relu) {
    const float h = 1e-3f;
    size_t nx = (size_t)s.B * s.IN, nw = (size_t)s.OUT * s.IN, ny = (size_t)s.B * s.OUT;
    dense_fd c = {make_data(s, 150), s, relu};
    /* A step moves a pre-activation by at most h (|x| <= 1, |w| <= 0.5, the bias by h): with every
     * pre-activation further than 2h from 0, no step crosses ReLU's kink. */
    ref_dense_forward(c.d.y, c.d.x, c.d.w, c.d.b, s.B, s.IN, s.OUT, 0);
    float closest = INFINITY;
    for (size_t i = 0; i < ny; i++) closest = fminf(closest, fabsf(c.d.y[i]));
    CHECK(closest > 2 * h, "a pre-activation %g is within 2h of ReLU's kink: pick another seed", (double)closest);

    float *fdx = xmalloc(nx * 4), *fdw = xmalloc(nw * 4), *fdb = xmalloc((size_t)s.OUT * 4), *dx = xmalloc(nx * 4),
          *dw = xmalloc(nw * 4), *db = xmalloc((size_t)s.OUT * 4), *dy = xmalloc(ny * 4);
    fd_gradient(fdx, c.d.x, nx, h, dense_f, &c);
    fd_gradient(fdw, c.d.w, nw, h, dense_f, &c);
    fd_gradient(fdb, c.d.b, (size_t)s.OUT, h, dense_f, &c);
    dense_f(&c);
    memcpy(dy, c.d.dy, ny * 4);
    ref_dense_backward(dx, dw, db, dy, c.d.x, c.d.w, c.d.y, s.B, s.IN, s.OUT, relu);
    check_close(relu ? "ref_dense_backward relu dx vs fd" : "ref_dense_backward dx vs fd", dx, fdx, nx,
                TOL_FD_PIECEWISE_ATOL, TOL_FD_PIECEWISE_RTOL);
    check_close(relu ? "ref_dense_backward relu dW vs fd" : "ref_dense_backward dW vs fd", dw, fdw, nw,
                TOL_FD_PIECEWISE_ATOL, TOL_FD_PIECEWISE_RTOL);
    check_close(relu ? "ref_dense_backward relu db vs fd" : "ref_dense_backward db vs fd", db, fdb, (size_t)s.OUT,
                TOL_FD_PIECEWISE_ATOL, TOL_FD_PIECEWISE_RTOL);
    free_data(&c.d);
    free(fdx), free(fdw), free(fdb), free(dx), free(dw), free(db), free(dy);
}

/* The temporary buffer grows to the largest shape's need and is then reused, not reallocated.
 * Small GEMMs take CLBlast's direct kernel, which needs no buffer; lowering the size from which
 * it takes its indirect kernels (padded and transposed copies in the temporary buffer) makes
 * these shapes need one, and checks that path's results too. */
static void test_temp_reuse(dense_ctx *dc, clrt *rt, shape big, shape small) {
    const char *name[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    const size_t value[] = {1};
    CLBLAST_CHECK(CLBlastOverrideParameters(rt->dev.device, "GemmRoutine", CLBlastPrecisionSingle, 1, name, value));
    test_vs_ref(dc, rt, big, 1, 1);
    cl_mem temp = dc->temp;
    size_t bytes = dc->temp_bytes;
    test_vs_ref(dc, rt, small, 1, 1);
    test_vs_ref(dc, rt, big, 1, 1);
    printf("CLBlast temp buffer: %zu bytes\n", bytes);
    CHECK(bytes > 0, "the indirect GEMMs asked for no temp buffer");
    CHECK(dc->temp == temp && dc->temp_bytes == bytes, "the temp buffer was reallocated (%zu -> %zu bytes)", bytes,
          dc->temp_bytes);
}

/* CLBlast's events reach the profile under the layer's tag: forward = GEMM + bias, backward =
 * bias gradient + two GEMMs. */
static void test_profile(dense_ctx *dc, clrt *rt, shape s) {
    dense_data d = make_data(s, 160);
    size_t nx = (size_t)s.B * s.IN, nw = (size_t)s.OUT * s.IN, ny = (size_t)s.B * s.OUT;
    cl_mem bx = upload(rt, d.x, nx * 4), bw = upload(rt, d.w, nw * 4), bb = upload(rt, d.b, (size_t)s.OUT * 4),
           by = clrt_alloc(rt, ny * 4), bdy = upload(rt, d.dy, ny * 4), bdx = clrt_alloc(rt, nx * 4),
           bdw = clrt_alloc(rt, nw * 4), bdb = clrt_alloc(rt, (size_t)s.OUT * 4);
    clrt_profile_begin(rt);
    dense_forward(dc, by, bx, bw, bb, s.B, s.IN, s.OUT, 1, "dense fwd");
    dense_backward(dc, bdx, bdw, bdb, bdy, bx, bw, by, s.B, s.IN, s.OUT, 1, "dense bwd");
    clrt_prof_entry *e;
    int n = clrt_profile_end(rt, &e);
    CHECK(n == 2 && strcmp(e[0].tag, "dense fwd") == 0 && e[0].count == 2 && strcmp(e[1].tag, "dense bwd") == 0 &&
              e[1].count == 3,
          "profile: %d tags, first %s x %ld", n, n ? e[0].tag : "-", n ? e[0].count : 0L);
    for (int i = 0; i < n; i++) printf("profile %-10s %ld events %.3f ms\n", e[i].tag, e[i].count, 1e3 * e[i].seconds);
    free(e);
    release(bx), release(bw), release(bb), release(by), release(bdy), release(bdx), release(bdw), release(bdb);
    free_data(&d);
}

int main(void) {
    clrt *rt = clrt_open(NULL, NULL);
    act_kernels act;
    act_init(&act, rt);
    dense_ctx dc;
    dense_init(&dc, rt, &act);
    const shape odd = {3, 37, 13}, seed_model = {32, 800, 128};
    for (int relu = 0; relu <= 1; relu++) {
        for (int with_dx = 0; with_dx <= 1; with_dx++) test_vs_ref(&dc, rt, odd, relu, with_dx);
        test_fd(odd, relu);
    }
    test_profile(&dc, rt, odd);
    /* Last: it changes CLBlast's choice of kernels. Every size takes the indirect kernels there,
     * so a tiny run needs only some shape larger than odd. */
    test_temp_reuse(&dc, rt, test_tiny() ? (shape){9, 70, 24} : seed_model, odd);
    dense_release(&dc);
    act_release(&act);
    clrt_close(rt);
    return check_done("test_dense");
}
