/* The charts of `claug bench --svg`: the roofline of one device, and the items of several
 * devices side by side. Hand-written SVG 1.1, as curves.svg. */
#ifndef CLAUG_PLOT_BENCH_H
#define CLAUG_PLOT_BENCH_H

#include <stddef.h>

#include "claug/bench/bench.h"

/* The roofline of one result: the FP32 peak, the memory bandwidth and the cache bandwidths it
 * measured as lines, each layer's forward and backward pass as a labelled point at its
 * arithmetic intensity and rate, and the memory-bound items without FLOPs listed beside. NULL
 * with the reason in err when the file has no roofline (one of format 1). */
char *plot_roofline_svg(const bench_file *f, char *err, size_t errlen);
/* The items of n >= 2 results: for each item of the first, the speed of every other relative to
 * it (the ratio of their rates, which allows for other batch sizes; of the times where an item
 * has no rate), a bar each on a log axis. */
char *plot_bench_compare_svg(const bench_file *f, int n);
/* `bench --svg`: the roofline of one file, the comparison of several. */
char *plot_bench_svg(const bench_file *f, int n, char *err, size_t errlen);

#endif
