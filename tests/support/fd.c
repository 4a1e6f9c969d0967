#include "fd.h"

void fd_gradient(float *g, float *x, size_t n, float h, double (*f)(void *ctx), void *ctx) {
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i], xp = x0 + h, xm = x0 - h;
        x[i] = xp;
        double fp = f(ctx);
        x[i] = xm;
        double fm = f(ctx);
        x[i] = x0;
        g[i] = (float)((fp - fm) / ((double)xp - (double)xm));
    }
}
