/* The gradient of training's own step (net_train_step) on a tiny model (every layer kind, a relu
 * of its own after flatten, odd sizes, dropout on) on the device against central finite
 * differences of the device's own loss. */
/* ctest: labels=kernel timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/model/net.h"
#include "tol.h"

enum { B = 3, C = 2, H = 9, W = 11, CLASSES = 10 };
static const char *MODEL = "conv4x3,relu,maxpool2,dropout0.2,conv6x2,flatten,relu,dense7,relu,dense10,softmax";
static const uint64_t SEED = 1234;
enum { STEP = 5 }; /* the training step whose dropout masks every pass uses */

/* Mean cross-entropy of the batch in n->x / n->labels for the given parameters. */
static double loss_at(net *n, const float *params, cl_mem losses, cl_mem correct) {
    net_write_params(n, params);
    cl_mem logits = net_forward(n, B, true, SEED, STEP);
    softmax_xent(&n->loss, losses, correct, NULL, NULL, logits, n->labels, 0, B, CLASSES, 1.0f, "loss");
    float l[B];
    clrt_read(n->rt, losses, 0, sizeof l, l);
    double s = 0;
    for (int i = 0; i < B; i++) s += l[i];
    return s / B;
}

/* The gradient the training step at the given parameters computes (its Adam update is not looked at). */
static void step_gradient(float *g, net *n, const float *params, cl_mem losses, cl_mem correct) {
    net_write_params(n, params);
    n->step = STEP;
    net_train_step(n, losses, correct, 0, B, 1e-3, SEED);
    clrt_read(n->rt, n->grads, 0, n->nparams * sizeof *g, g);
}

int main(void) {
    clrt *rt = clrt_open(NULL, NULL);
    conv_tuning ct;
    conv_tuning_default(&ct, rt);
    net *n = net_create(rt, MODEL, C, H, W, CLASSES, B, &ct);
    net_init_params(n, 7);
    float x[B * C * H * W];
    fill_uniform(x, B * C * H * W, 11, 0.0f, 1.0f);
    int labels[B] = {3, 9, 0};
    clrt_write(rt, n->x, 0, sizeof x, x);
    clrt_write(rt, n->labels, 0, sizeof labels, labels);
    cl_mem losses = clrt_alloc(rt, B * sizeof(float)), correct = clrt_alloc(rt, B * sizeof(float));

    /* Analytic gradient. */
    size_t np = n->nparams;
    float *p = xmalloc(np * sizeof *p), *g = xmalloc(np * sizeof *g);
    net_read_params(n, p);
    step_gradient(g, n, p, losses, correct);

    /* Finite differences over every parameter of every tensor (the model is tiny). */
    const double eps = 1e-3, atol = TOL_FD_MODEL_ATOL, rtol = TOL_FD_MODEL_RTOL;
    int checked = 0, kinks = 0, bad = 0;
    double worst = 0, l0 = loss_at(n, p, losses, correct);
    for (int i = 0; i < n->nl; i++) {
        const layer *l = &n->L[i];
        if (!l->params) continue;
        size_t ranges[2][2] = {{l->w_off, (size_t)(l->params - l->oc)}, {l->b_off, (size_t)l->oc}};
        for (int r = 0; r < 2; r++)
            for (size_t j = ranges[r][0]; j < ranges[r][0] + ranges[r][1]; j++) {
                float keep = p[j];
                p[j] = keep + (float)eps;
                double lp = loss_at(n, p, losses, correct);
                p[j] = keep - (float)eps;
                double lm = loss_at(n, p, losses, correct);
                p[j] = keep;
                double right = (lp - l0) / eps, left = (l0 - lm) / eps, central = (lp - lm) / (2 * eps);
                /* A ReLU or a max-pool switching inside [p - eps, p + eps]: the loss is not smooth
                 * there and the difference quotient means nothing. */
                if (fabs(right - left) > 0.05 * fmax(fabs(right), fabs(left)) + 1e-3) {
                    kinks++;
                    continue;
                }
                double err = fabs(central - g[j]);
                checked++;
                if (err > worst) worst = err;
                if (err > atol + rtol * fabs(central)) {
                    if (bad++ < 10)
                        fprintf(stderr, "  %s param %zu: analytic %.6g, finite difference %.6g\n", l->name,
                                j - ranges[r][0], g[j], central);
                }
            }
    }
    printf("whole-model gradient vs finite differences: %d parameters checked, %d skipped at kinks, max |error| %.3g\n",
           checked, kinks, worst);
    CHECK(bad == 0, "%d gradients off", bad);
    CHECK(kinks * 10 < checked, "too many kinks (%d of %d): the check would mean little", kinks, checked);

    /* The same gradient twice: the backward is deterministic to the bit. */
    float *g2 = xmalloc(np * sizeof *g2);
    step_gradient(g2, n, p, losses, correct);
    check_same("gradient, second run", g2, g, np * sizeof *g);

    free(p);
    free(g);
    free(g2);
    CL_CHECK(clReleaseMemObject(losses));
    CL_CHECK(clReleaseMemObject(correct));
    net_free(n);
    clrt_close(rt);
    return check_done("test_backprop");
}
