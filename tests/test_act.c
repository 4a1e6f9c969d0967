/* ReLU and bias (+ ReLU): the kernels against the C references (bit for bit: no rounding
 * choices), in place and out of place, and the references' gradients by finite differences. */
/* ctest: labels=kernel timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/ops/act.h"
#include "devbuf.h"
#include "fd.h"
#include "tol.h"

enum { N_ELEM = 3 * 5 * 7 * 7, B = 7, N = 37 };

/* Values with |v| >= 0.05, so a finite-difference step of 1e-2 never crosses ReLU's kink. */
static void fill_away_from_zero(float *x, size_t n, uint64_t seed) {
    fill_uniform(x, n, seed, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) x[i] = copysignf(0.05f + fabsf(x[i]), x[i]);
}

static void test_relu(act_kernels *k, clrt *rt) {
    float x[N_ELEM], dy[N_ELEM], got[N_ELEM], want[N_ELEM], y[N_ELEM];
    fill_uniform(x, N_ELEM, 1, -1.0f, 1.0f);
    fill_uniform(dy, N_ELEM, 2, -1.0f, 1.0f);
    cl_mem bx = upload(rt, x, sizeof x), bdy = upload(rt, dy, sizeof dy), by = clrt_alloc(rt, sizeof x);

    relu_forward(k, by, bx, N_ELEM, "relu");
    clrt_read(rt, by, 0, sizeof got, got);
    ref_relu_forward(y, x, N_ELEM);
    check_close("relu_forward vs ref", got, y, N_ELEM, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
    relu_forward(k, bx, bx, N_ELEM, "relu"); /* in place */
    clrt_read(rt, bx, 0, sizeof got, got);
    check_close("relu_forward in place vs ref", got, y, N_ELEM, TOL_EXACT_ATOL, TOL_EXACT_RTOL);

    relu_backward(k, bdy, bdy, by, N_ELEM, "relu"); /* in place */
    clrt_read(rt, bdy, 0, sizeof got, got);
    ref_relu_backward(want, dy, y, N_ELEM);
    check_close("relu_backward in place vs ref", got, want, N_ELEM, TOL_EXACT_ATOL, TOL_EXACT_RTOL);
    int zeroed = 0;
    for (int i = 0; i < N_ELEM; i++) zeroed += want[i] == 0.0f;
    CHECK(zeroed > N_ELEM / 4 && zeroed < 3 * N_ELEM / 4, "relu_backward masked %d of %d", zeroed, N_ELEM);
    release(bx);
    release(bdy);
    release(by);
}

typedef struct {
    float *x, *y, *r;
    int n;
} relu_fd;

static double relu_f(void *ctx) {
    relu_fd *c = ctx;
    ref_relu_forward(c->y, c->x, c->n);
    double f = 0;
    for (int i = 0; i < c->n; i++) f += (double)c->r[i] * c->y[i];
    return f;
}

static void test_relu_fd(void) {
    float x[N_ELEM], y[N_ELEM], r[N_ELEM], g[N_ELEM], fd[N_ELEM];
    fill_away_from_zero(x, N_ELEM, 3);
    fill_uniform(r, N_ELEM, 4, -1.0f, 1.0f);
    relu_fd c = {x, y, r, N_ELEM};
    fd_gradient(fd, x, N_ELEM, 1e-2f, relu_f, &c);
    ref_relu_forward(y, x, N_ELEM);
    ref_relu_backward(g, r, y, N_ELEM);
    check_close("ref_relu_backward vs finite differences", g, fd, N_ELEM, TOL_FD_RELU_ATOL, TOL_FD_RELU_RTOL);
}

static void test_bias_act(act_kernels *k, clrt *rt, int relu) {
    float y[B * N], bias[N], dy[B * N], got[B * N], want[B * N], db[N], gdb[N];
    fill_uniform(y, B * N, 10 + (uint64_t)relu, -1.0f, 1.0f);
    fill_uniform(bias, N, 12, -0.5f, 0.5f);
    fill_uniform(dy, B * N, 13, -1.0f, 1.0f);
    cl_mem by = upload(rt, y, sizeof y), bb = upload(rt, bias, sizeof bias), bdy = upload(rt, dy, sizeof dy),
           bdb = clrt_alloc(rt, sizeof db);

    bias_act_forward(k, by, bb, B, N, relu, "bias_act");
    clrt_read(rt, by, 0, sizeof got, got);
    ref_bias_act_forward(y, bias, B, N, relu);
    check_close(relu ? "bias_act_forward relu vs ref" : "bias_act_forward vs ref", got, y, B * N, TOL_EXACT_ATOL,
                TOL_EXACT_RTOL);

    bias_act_backward(k, bdb, bdy, by, B, N, relu, "bias_act");
    clrt_read(rt, bdb, 0, sizeof gdb, gdb);
    clrt_read(rt, bdy, 0, sizeof got, got);
    memcpy(want, dy, sizeof dy);
    ref_bias_act_backward(db, want, y, B, N, relu);
    check_close(relu ? "bias_act_backward relu db vs ref" : "bias_act_backward db vs ref", gdb, db, N, TOL_EXACT_ATOL,
                TOL_EXACT_RTOL);
    check_close(relu ? "bias_act_backward relu dy vs ref" : "bias_act_backward dy vs ref", got, want, B * N,
                TOL_EXACT_ATOL, TOL_EXACT_RTOL);
    release(by);
    release(bb);
    release(bdy);
    release(bdb);
}

typedef struct {
    float *z, *bias, *y, *r;
    int relu;
} bias_fd;

static double bias_f(void *ctx) {
    bias_fd *c = ctx;
    memcpy(c->y, c->z, sizeof(float) * B * N);
    ref_bias_act_forward(c->y, c->bias, B, N, c->relu);
    double f = 0;
    for (int i = 0; i < B * N; i++) f += (double)c->r[i] * c->y[i];
    return f;
}

/* f(z, bias) = sum r * bias_act(z + bias): df/dbias = db, df/dz = the masked dy. */
static void test_bias_act_fd(int relu) {
    float z[B * N], bias[N], y[B * N], r[B * N], dy[B * N], db[N], fdz[B * N], fdb[N];
    fill_uniform(bias, N, 20, -0.5f, 0.5f);
    fill_away_from_zero(z, B * N, 21); /* the pre-activation z + bias, away from the kink */
    for (int i = 0; i < B * N; i++) z[i] -= bias[i % N];
    fill_uniform(r, B * N, 22, -1.0f, 1.0f);
    bias_fd c = {z, bias, y, r, relu};
    fd_gradient(fdz, z, B * N, 1e-2f, bias_f, &c);
    fd_gradient(fdb, bias, N, 1e-2f, bias_f, &c);
    bias_f(&c);
    memcpy(dy, r, sizeof r);
    ref_bias_act_backward(db, dy, y, B, N, relu);
    check_close(relu ? "ref_bias_act_backward relu db vs fd" : "ref_bias_act_backward db vs fd", db, fdb, N,
                TOL_FD_LINEAR_ATOL, TOL_FD_LINEAR_RTOL);
    check_close(relu ? "ref_bias_act_backward relu dy vs fd" : "ref_bias_act_backward dy vs fd", dy, fdz, B * N,
                TOL_FD_LINEAR_ATOL, TOL_FD_LINEAR_RTOL);
}

int main(void) {
    clrt *rt = clrt_open(NULL, NULL);
    act_kernels k;
    act_init(&k, rt);
    test_relu(&k, rt);
    test_relu_fd();
    for (int relu = 0; relu <= 1; relu++) {
        test_bias_act(&k, rt, relu);
        test_bias_act_fd(relu);
    }
    act_release(&k);
    clrt_close(rt);
    return check_done("test_act");
}
