/* Adam: the kernel against the C reference over several steps, lr_t against its formula
 * evaluated another way, and the first step's known behaviour (a step of about lr against the
 * gradient's sign, whatever its magnitude). */
/* ctest: labels=kernel timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/ops/optim.h"
#include "devbuf.h"
#include "tol.h"

enum { N = 1001, STEPS = 5 };
static const double LR = 1e-3, BETA1 = 0.9, BETA2 = 0.999;
static const float EPS = 1e-7f;

static void test_steps(optim_kernels *k, clrt *rt) {
    static float p[N], m[N], v[N], g[N], gp[N], gm[N], gv[N];
    fill_uniform(p, N, 110, -1.0f, 1.0f);
    const float still = p[0];
    memset(m, 0, sizeof m);
    memset(v, 0, sizeof v);
    cl_mem bp = upload(rt, p, sizeof p), bm = upload(rt, m, sizeof m), bv = upload(rt, v, sizeof v),
           bg = clrt_alloc(rt, sizeof g);
    for (long t = 1; t <= STEPS; t++) {
        fill_uniform(g, N, 120 + (uint64_t)t, -0.5f, 0.5f);
        g[0] = 0.0f; /* a parameter that never has a gradient never moves */
        clrt_write(rt, bg, 0, sizeof g, g);
        float lr_t = adam_lr_t(LR, BETA1, BETA2, t);
        adam_step(k, bp, bm, bv, bg, N, lr_t, (float)BETA1, (float)BETA2, EPS, "adam");
        ref_adam_step(p, m, v, g, N, lr_t, (float)BETA1, (float)BETA2, EPS);
    }
    clrt_read(rt, bp, 0, sizeof gp, gp);
    clrt_read(rt, bm, 0, sizeof gm, gm);
    clrt_read(rt, bv, 0, sizeof gv, gv);
    check_close("adam 5 steps p vs ref", gp, p, N, TOL_ADAM_P_ATOL, TOL_ADAM_P_RTOL);
    check_close("adam 5 steps m vs ref", gm, m, N, TOL_ADAM_M_ATOL, TOL_ADAM_M_RTOL);
    check_close("adam 5 steps v vs ref", gv, v, N, TOL_ADAM_V_ATOL, TOL_ADAM_V_RTOL);
    CHECK(gp[0] == still, "a parameter with zero gradients moved from %.9g to %.9g", (double)still, (double)gp[0]);
    release(bp), release(bm), release(bv), release(bg);
}

/* lr sqrt(1 - beta2^t) / (1 - beta1^t) with the powers by repeated multiplication. */
static void test_lr_t(void) {
    const long ts[] = {1, 2, 3, 10, 100, 1875, 18750};
    float got[7], want[7];
    for (int i = 0; i < 7; i++) {
        double p1 = 1, p2 = 1;
        for (long s = 0; s < ts[i]; s++) p1 *= BETA1, p2 *= BETA2;
        got[i] = adam_lr_t(LR, BETA1, BETA2, ts[i]);
        want[i] = (float)(LR * sqrt(1 - p2) / (1 - p1));
    }
    check_close("adam_lr_t vs formula", got, want, 7, TOL_ADAM_LR_ATOL, TOL_ADAM_LR_RTOL);
    /* Known value: t = 1 gives lr sqrt(0.001) / 0.1. */
    CHECK(fabsf(got[0] - 3.16227766e-4f) < 1e-10f, "lr_1 = %.9g", (double)got[0]);
}

static void test_first_step(optim_kernels *k, clrt *rt) {
    static float p[N], p0[N], m[N], v[N], g[N], step[N], want[N];
    fill_uniform(p, N, 130, -1.0f, 1.0f);
    fill_uniform(g, N, 131, -1.0f, 1.0f);
    for (int i = 0; i < N; i++) g[i] = copysignf(1e-3f + powf(fabsf(g[i]), 4.0f) * 100.0f, g[i]); /* 1e-3 .. 100 */
    memcpy(p0, p, sizeof p);
    memset(m, 0, sizeof m);
    memset(v, 0, sizeof v);
    cl_mem bp = upload(rt, p, sizeof p), bm = upload(rt, m, sizeof m), bv = upload(rt, v, sizeof v),
           bg = upload(rt, g, sizeof g);
    adam_step(k, bp, bm, bv, bg, N, adam_lr_t(LR, BETA1, BETA2, 1), (float)BETA1, (float)BETA2, EPS, "adam");
    clrt_read(rt, bp, 0, sizeof p, p);
    for (int i = 0; i < N; i++) {
        step[i] = p[i] - p0[i];
        want[i] = g[i] > 0 ? -(float)LR : (float)LR;
    }
    check_close("adam first step vs -lr sign(g)", step, want, N, TOL_ADAM_SIGN_ATOL, TOL_ADAM_SIGN_RTOL);
    release(bp), release(bm), release(bv), release(bg);
}

int main(void) {
    clrt *rt = clrt_open(NULL, NULL);
    optim_kernels k;
    optim_init(&k, rt);
    test_lr_t();
    test_steps(&k, rt);
    test_first_step(&k, rt);
    optim_release(&k);
    clrt_close(rt);
    return check_done("test_optim");
}
