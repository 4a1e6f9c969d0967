#include "claug/report/stats.h"

#include <float.h>
#include <math.h>

/* The continued fraction of I_x(a, b) (modified Lentz), which converges fast for
 * x < (a + 1) / (a + b + 2); the other side comes from I_x(a, b) = 1 - I_{1-x}(b, a). */
static double beta_fraction(double x, double a, double b) {
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = 1 / (fabs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + num * d;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = 1 + num / c;
        if (fabs(c) < tiny) c = tiny;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + num * d;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = 1 + num / c;
        if (fabs(c) < tiny) c = tiny;
        double step = d * c;
        h *= step;
        if (fabs(step - 1) < 4 * DBL_EPSILON) break;
    }
    return h;
}

double incomplete_beta(double x, double a, double b) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(x, a, b) / a;
    return 1 - front * beta_fraction(1 - x, b, a) / b;
}

double student_t_cdf(double t, double df) {
    if (isinf(t)) return t > 0 ? 1 : 0;
    /* P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2). */
    double tail = 0.5 * incomplete_beta(df / (df + t * t), df / 2, 0.5);
    return t > 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double df) {
    if (p == 0.5) return 0;
    if (p < 0.5) return -student_t_quantile(1 - p, df);
    /* Bracket, then bisect: the CDF is monotone, and 200 halvings reach double precision
     * from any bracket the doubling finds. */
    double lo = 0, hi = 1;
    while (student_t_cdf(hi, df) < p && hi < 1e300) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 4 * DBL_EPSILON * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (student_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

sample_stats sample_stats_of(const double *x, int n) {
    sample_stats s = {n, NAN, NAN, NAN, NAN, NAN, NAN};
    if (n < 1) return s;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += x[i];
    s.mean = sum / n;
    if (n < 2) return s;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - s.mean) * (x[i] - s.mean);
    s.sd = sqrt(ss / (n - 1));
    double se = s.sd / sqrt((double)n), q = student_t_quantile(0.975, n - 1);
    s.ci_low = s.mean - q * se;
    s.ci_high = s.mean + q * se;
    if (se == 0) {
        s.t = s.mean == 0 ? 0 : copysign(INFINITY, s.mean);
        s.p = s.mean == 0 ? 1 : 0;
    } else {
        s.t = s.mean / se;
        s.p = 2 * student_t_cdf(-fabs(s.t), n - 1);
    }
    return s;
}
