/* The statistics of `claug study`: mean and sample standard deviation, Student's t
 * distribution, and the paired t-test with its confidence interval. */
#ifndef CLAUG_STATS_H
#define CLAUG_STATS_H

typedef struct {
    int n;
    double mean, sd;         /* sd: sample standard deviation (n - 1); NaN when n < 2 */
    double ci_low, ci_high;  /* 95% confidence interval of the mean (Student t); NaN when n < 2 */
    double t, p;             /* t statistic against a mean of 0 and its two-sided p-value; NaN when n < 2 */
} sample_stats;

/* Regularised incomplete beta function I_x(a, b), for a, b > 0 and x in [0, 1]. */
double incomplete_beta(double x, double a, double b);
/* P(T <= t) for Student's t with df > 0 degrees of freedom. */
double student_t_cdf(double t, double df);
/* The t with P(T <= t) = p, for p in (0, 1). */
double student_t_quantile(double p, double df);
/* Mean, sd, 95% interval of the mean and the one-sample t-test of mean 0 over x[0 .. n):
 * given the paired differences, the paired t-test. With sd 0 and n >= 2 the interval is the
 * mean itself and p is 1 when the mean is 0, else 0. */
sample_stats sample_stats_of(const double *x, int n);

#endif
