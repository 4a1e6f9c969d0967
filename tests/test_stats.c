/* The study's statistics against SciPy 1.10's values (scipy.stats.t.ppf / t.cdf,
 * scipy.special.betainc, scipy.stats.ttest_1samp / ttest_rel and t.interval), computed offline
 * with Debian's python3-scipy and written down here. */
/* ctest: labels=host timeout=30 */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "claug/report/stats.h"

static void close_to(const char *what, double got, double want, double rtol) {
    CHECK(fabs(got - want) <= rtol * fabs(want) + 1e-300, "%s: %.17g, SciPy %.17g (relative error %.2e)", what, got,
          want, fabs(got - want) / fabs(want));
}

int main(void) {
    static const struct {
        double df, q;
    } quantiles[] = {{1, 12.706204736432095}, {2, 4.302652729911275},  {3, 3.182446305284263},
                     {4, 2.7764451051977987}, {5, 2.5705818366147395}, {9, 2.2621571627409915},
                     {29, 2.045229642132703}, {1000, 1.9623390808264074}};
    for (size_t i = 0; i < sizeof quantiles / sizeof quantiles[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "t quantile 0.975, df %g", quantiles[i].df);
        /* SciPy's ppf is an approximation good to about 1e-10 (its cdf at its own ppf is 0.975 + 3e-11
         * at df 5), while claug inverts the cdf to the last bit: close to SciPy's value, and exact
         * against the cdf, which matches SciPy's to 1e-13 below. */
        double q = student_t_quantile(0.975, quantiles[i].df);
        close_to(what, q, quantiles[i].q, 1e-9);
        close_to(what, -student_t_quantile(0.025, quantiles[i].df), q, 1e-15);
        close_to("cdf at the quantile", student_t_cdf(q, quantiles[i].df), 0.975, 4e-15);
    }
    static const struct {
        double t, df, p;
    } cdfs[] = {{0.5, 3, 0.6742760175759246},
                {2.0, 4, 0.9419417382415922},
                {-1.3, 7, 0.11738391769618858},
                {10.0, 2, 0.9950737714883371},
                {3.5, 1, 0.9114144672170953}};
    for (size_t i = 0; i < sizeof cdfs / sizeof cdfs[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "t cdf(%g), df %g", cdfs[i].t, cdfs[i].df);
        close_to(what, student_t_cdf(cdfs[i].t, cdfs[i].df), cdfs[i].p, 1e-13);
    }
    close_to("betainc(0.3; 2.5, 0.5)", incomplete_beta(0.3, 2.5, 0.5), 0.01892712407194565, 1e-13);
    close_to("betainc(0.9; 0.5, 0.5)", incomplete_beta(0.9, 0.5, 0.5), 0.7951672353008662, 1e-13);
    close_to("betainc(0.01; 10, 3)", incomplete_beta(0.01, 10, 3), 6.480550000000002e-19, 1e-12);

    /* One-sample t-test of five differences (ttest_1samp(d, 0), t.interval(0.95, 4, ...)). */
    const double d[] = {0.012, -0.004, 0.021, 0.008, 0.015};
    sample_stats s = sample_stats_of(d, 5);
    CHECK(s.n == 5, "n %d", s.n);
    close_to("mean", s.mean, 0.010400000000000001, 1e-14);
    close_to("sd", s.sd, 0.009343446901438462, 1e-13);
    close_to("t", s.t, 2.488921616541492, 1e-12);
    close_to("p", s.p, 0.06756236679865858, 1e-11);
    close_to("ci_low", s.ci_low, -0.0012014216366446721, 1e-10);
    close_to("ci_high", s.ci_high, 0.022001421636644675, 1e-12);

    /* The paired test of augmented against plain (ttest_rel(b, a)) is the one-sample test of b - a. */
    const double a[] = {0.8312, 0.8290, 0.8355, 0.8301}, b[] = {0.8270, 0.8301, 0.8288, 0.8249};
    double diff[4];
    for (int i = 0; i < 4; i++) diff[i] = b[i] - a[i];
    s = sample_stats_of(diff, 4);
    close_to("paired t", s.t, -2.210668391010531, 1e-11);
    close_to("paired p", s.p, 0.11403048828070014, 1e-10);
    close_to("paired ci_low", s.ci_low, -0.009148445869740264, 1e-10);
    close_to("paired ci_high", s.ci_high, 0.001648445869740201, 1e-9);

    /* Edge cases: one value has no spread; equal values have no uncertainty. */
    s = sample_stats_of(d, 1);
    CHECK(s.mean == d[0] && isnan(s.sd) && isnan(s.ci_low) && isnan(s.p), "n = 1: mean %g sd %g p %g", s.mean, s.sd, s.p);
    const double same[] = {0.25, 0.25, 0.25};
    s = sample_stats_of(same, 3);
    CHECK(s.sd == 0 && s.ci_low == 0.25 && s.ci_high == 0.25 && s.p == 0, "constant: sd %g ci %g..%g p %g", s.sd,
          s.ci_low, s.ci_high, s.p);
    return check_done("stats");
}
