#include "claug/ops/dense.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>

#include "claug/util/util.h"

void dense_init(dense_ctx *d, clrt *rt, act_kernels *act) { *d = (dense_ctx){.rt = rt, .act = act}; }

void dense_release(dense_ctx *d) {
    if (d->temp) CL_CHECK(clReleaseMemObject(d->temp));
    d->temp = NULL;
    d->temp_bytes = 0;
}

/* Row-major C (m, n) = op(A) op(B), beta 0, packed leading dimensions, through the shared temp
 * buffer: grown when this shape needs more than any before (so once per set of shapes), never
 * shrunk, never allocated by CLBlast itself. Releasing the old buffer while earlier GEMMs still
 * use it is safe: OpenCL frees it after those commands complete. */
int dense_gemm(dense_ctx *d, bool ta, bool tb, size_t m, size_t n, size_t k, cl_mem a, cl_mem b, cl_mem c,
               const char *tag) {
    CLBlastTranspose ota = ta ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose otb = tb ? CLBlastTransposeYes : CLBlastTransposeNo;
    size_t lda = ta ? m : k, ldb = tb ? k : n, need = 0;
    int st = CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, ota, otb, m, n, k, 0, lda, 0, ldb, 0, n, &d->rt->queue,
                                        &need);
    if (st != CLBlastSuccess) return st;
    if (need > d->temp_bytes) {
        dense_release(d);
        d->temp = clrt_alloc(d->rt, need);
        d->temp_bytes = need;
    }
    /* Profiling: a marker before, so the span covers all of CLBlast's kernels, not its last. */
    cl_event from = d->rt->prof ? clrt_marker(d->rt) : NULL, ev = NULL;
    st = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, ota, otb, m, n, k, 1.0f, a, 0, lda, b, 0, ldb, 0.0f, c, 0, n,
                                    &d->rt->queue, &ev, d->temp);
    if (ev)
        clrt_profile_span(d->rt, from, ev, tag);
    else if (from)
        CL_CHECK(clReleaseEvent(from));
    return st;
}

void dense_forward(dense_ctx *d, cl_mem y, cl_mem x, cl_mem w, cl_mem b, int B, int IN, int OUT, int relu,
                   const char *tag) {
    /* y (B, OUT) = x (B, IN) W^T */
    CLBLAST_CHECK(dense_gemm(d, false, true, (size_t)B, (size_t)OUT, (size_t)IN, x, w, y, tag));
    bias_act_forward(d->act, y, b, B, OUT, relu, tag);
}

void dense_backward(dense_ctx *d, cl_mem dx, cl_mem dw, cl_mem db, cl_mem dy, cl_mem x, cl_mem w, cl_mem y, int B,
                    int IN, int OUT, int relu, const char *tag) {
    bias_act_backward(d->act, db, dy, y, B, OUT, relu, tag);
    /* dW (OUT, IN) = dy^T (OUT, B) x (B, IN) */
    CLBLAST_CHECK(dense_gemm(d, true, false, (size_t)OUT, (size_t)IN, (size_t)B, dy, x, dw, tag));
    /* dx (B, IN) = dy (B, OUT) W (OUT, IN) */
    if (dx) CLBLAST_CHECK(dense_gemm(d, false, false, (size_t)B, (size_t)IN, (size_t)OUT, dy, w, dx, tag));
}

void ref_dense_forward(float *y, const float *x, const float *w, const float *b, int B, int IN, int OUT, int relu) {
    for (int s = 0; s < B; s++)
        for (int o = 0; o < OUT; o++) {
            float acc = 0.0f;
            for (int i = 0; i < IN; i++) acc += x[(size_t)s * IN + i] * w[(size_t)o * IN + i];
            y[(size_t)s * OUT + o] = acc;
        }
    ref_bias_act_forward(y, b, B, OUT, relu);
}

void ref_dense_backward(float *dx, float *dw, float *db, float *dy, const float *x, const float *w, const float *y,
                        int B, int IN, int OUT, int relu) {
    ref_bias_act_backward(db, dy, y, B, OUT, relu);
    for (int o = 0; o < OUT; o++)
        for (int i = 0; i < IN; i++) {
            float acc = 0.0f;
            for (int s = 0; s < B; s++) acc += dy[(size_t)s * OUT + o] * x[(size_t)s * IN + i];
            dw[(size_t)o * IN + i] = acc;
        }
    if (!dx) return;
    for (int s = 0; s < B; s++)
        for (int i = 0; i < IN; i++) {
            float acc = 0.0f;
            for (int o = 0; o < OUT; o++) acc += dy[(size_t)s * OUT + o] * w[(size_t)o * IN + i];
            dx[(size_t)s * IN + i] = acc;
        }
}
