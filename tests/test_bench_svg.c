/* The charts of `claug bench --svg`, drawn from hand-made result files and checked as drawings:
 * parsed as XML, every point, ceiling line, tick and bar mapped back through the log domain its
 * group declares (data-x-min ... data-y-max, in decades) and compared with the numbers of the
 * file; a file of format 1 has no roofline and says so. */
/* ctest: labels=host timeout=30 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/report/plot_bench.h"
#include "svg_check.h"
#include "tol.h"
#include "xml_check.h"

/* A device with a 400 GFLOP/s peak, 25 GB/s of memory and a 300 GB/s cache at 4 MiB, and the
 * kinds of item a run has: layer passes with FLOPs (one far below the memory line), a pooling
 * layer and the optimizer without, the ceilings' own items, a step, and a name XML must escape. */
static const char *result_a =
    "{\"format_version\": 2, \"device\": {\"name\": \"CPU <A> & co\"}, \"batch_size\": 32, \"peak_gflops\": 400,"
    " \"bandwidth_gbs\": 25,"
    " \"ceilings\": [{\"name\": \"FP32 peak (FMA chains)\", \"kind\": \"compute\", \"rate\": 400},"
    "   {\"name\": \"memory bandwidth (read)\", \"kind\": \"memory\", \"rate\": 25, \"working_set_bytes\": 1e9},"
    "   {\"name\": \"cache bandwidth (read, 4 MiB)\", \"kind\": \"cache\", \"rate\": 300, \"working_set_bytes\": 4194304}],"
    " \"items\": ["
    "  {\"name\": \"FP32 peak (FMA chains)\", \"median\": 0.025, \"rate\": 400, \"rate_unit\": \"GFLOP/s\", \"flops\": 1e10,"
    "   \"share\": 1, \"ceiling\": \"FP32 peak (FMA chains)\", \"layer\": null},"
    "  {\"name\": \"memory bandwidth (read)\", \"median\": 0.04, \"rate\": 25, \"rate_unit\": \"GB/s\", \"bytes\": 1e9,"
    "   \"share\": 1, \"ceiling\": \"memory bandwidth (read)\", \"layer\": null},"
    "  {\"name\": \"conv2d_1 forward\", \"median\": 0.0018, \"rate\": 190, \"rate_unit\": \"GFLOP/s\", \"flops\": 3.4e8,"
    "   \"bytes\": 5.2e6, \"intensity\": 65.4, \"share\": 0.475, \"ceiling\": \"FP32 peak (FMA chains)\","
    "   \"layer\": \"conv2d_1\", \"pass\": \"forward\"},"
    "  {\"name\": \"conv2d_1 input gradient\", \"median\": 0.002, \"rate\": 170, \"rate_unit\": \"GFLOP/s\","
    "   \"flops\": 3.4e8, \"bytes\": 5.2e6, \"intensity\": 65.4, \"share\": 0.425, \"layer\": \"conv2d_1\","
    "   \"pass\": \"backward\"},"
    "  {\"name\": \"conv2d_1 weight gradient\", \"median\": 0.002, \"rate\": 168, \"rate_unit\": \"GFLOP/s\","
    "   \"flops\": 3.4e8, \"bytes\": 5.2e6, \"intensity\": 65.4, \"share\": 0.42, \"layer\": \"conv2d_1\","
    "   \"pass\": \"backward\"},"
    "  {\"name\": \"conv2d forward\", \"median\": 0.0004, \"rate\": 35, \"rate_unit\": \"GFLOP/s\", \"flops\": 1.2e7,"
    "   \"bytes\": 2.9e6, \"intensity\": 4.3, \"share\": 0.09, \"layer\": \"conv2d\", \"pass\": \"forward\"},"
    "  {\"name\": \"dense_1 backward\", \"median\": 4e-5, \"rate\": 0.004, \"rate_unit\": \"GFLOP/s\", \"flops\": 1.6e5,"
    "   \"bytes\": 2e4, \"intensity\": 8, \"share\": 0.01, \"layer\": \"dense_1\", \"pass\": \"backward\"},"
    "  {\"name\": \"max_pooling2d forward\", \"median\": 1.2e-4, \"rate\": 25, \"rate_unit\": \"GB/s\", \"bytes\": 3e6,"
    "   \"share\": 0.083, \"ceiling\": \"cache bandwidth (read, 4 MiB)\", \"layer\": \"max_pooling2d\","
    "   \"pass\": \"forward\"},"
    "  {\"name\": \"adam <&>\", \"median\": 5e-5, \"rate\": 66, \"rate_unit\": \"GB/s\", \"bytes\": 3.4e6,"
    "   \"share\": 0.22, \"ceiling\": \"cache bandwidth (read, 4 MiB)\"},"
    "  {\"name\": \"training step\", \"median\": 0.01, \"rate\": 3200, \"rate_unit\": \"images/s\"}"
    " ]}";

/* The same device's items on two others: one 10x faster and missing an item, one slower, of
 * format 1 (no version: the comparison reads it) and at another batch size, where the rate's ratio
 * (0.3125) differs from the time's (0.333). */
static const char *result_b =
    "{\"format_version\": 2, \"device\": {\"name\": \"GPU B\"}, \"batch_size\": 32, \"peak_gflops\": 50000, \"items\": ["
    "  {\"name\": \"FP32 peak (FMA chains)\", \"median\": 0.0025, \"rate\": 4000, \"rate_unit\": \"GFLOP/s\"},"
    "  {\"name\": \"conv2d_1 forward\", \"median\": 0.00018, \"rate\": 1900, \"rate_unit\": \"GFLOP/s\"},"
    "  {\"name\": \"training step\", \"median\": 0.0005, \"rate\": 64000, \"rate_unit\": \"images/s\"}]}";
static const char *result_c =
    "{\"device\": {\"name\": \"old CPU\"}, \"batch_size\": 64, \"items\": ["
    "  {\"name\": \"conv2d_1 forward\", \"median\": 0.0036, \"rate\": 95, \"rate_unit\": \"GFLOP/s\"},"
    "  {\"name\": \"training step\", \"median\": 0.03, \"rate\": 1000, \"rate_unit\": \"images/s\"}]}";

static bench_file parsed(const char *name, const char *text) {
    bench_file f;
    bench_file_parse(&f, name, text, strlen(text));
    return f;
}

/* A group's plot area and its log domain. */
typedef struct {
    double x, y, w, h, xlo, xhi, ylo, yhi;
} log_frame;

static double px(const log_frame *f, double lg) { return f->x + (lg - f->xlo) / (f->xhi - f->xlo) * f->w; }
static double py(const log_frame *f, double lg) { return f->y + f->h - (lg - f->ylo) / (f->yhi - f->ylo) * f->h; }
static double lx(const log_frame *f, double x) { return f->xlo + (x - f->x) / f->w * (f->xhi - f->xlo); }
static double ly(const log_frame *f, double y) { return f->ylo + (f->y + f->h - y) / f->h * (f->yhi - f->ylo); }

static bool parse_svg(xml_doc *d, const char *svg, const char *what) {
    char err[256];
    if (!svg || !xml_parse(d, svg, err, sizeof err)) {
        CHECK(false, "%s: no SVG or not well-formed XML: %s", what, svg ? err : "(NULL)");
        if (svg) xml_free(d);
        return false;
    }
    CHECK(strcmp(d->elems[0].name, "svg") == 0 && xml_attr(&d->elems[0], "xmlns") &&
              strcmp(xml_attr(&d->elems[0], "xmlns"), "http://www.w3.org/2000/svg") == 0,
          "%s: the root is not an SVG element", what);
    CHECK(!contains_ci(svg, "nan") && !contains_ci(svg, "inf"), "%s: holds NaN or inf", what);
    return true;
}

/* The group of class `cls` with its plot area; false when it is not there once. */
static bool group_frame(const xml_doc *d, const char *cls, int *group, log_frame *f, const char *what) {
    int ng = svg_find(d, -1, "g", cls, group, 1), rect, nr = ng == 1 ? svg_find(d, *group, "rect", "plot-area", &rect, 1) : 0;
    CHECK(ng == 1 && nr == 1, "%s: %d groups of class %s, %d plot areas", what, ng, cls, nr);
    if (ng != 1 || nr != 1) return false;
    const xml_elem *g = &d->elems[*group], *r = &d->elems[rect];
    *f = (log_frame){svg_attr_num(r, "x"), svg_attr_num(r, "y"), svg_attr_num(r, "width"), svg_attr_num(r, "height"),
                     svg_attr_num(g, "data-x-min"), svg_attr_num(g, "data-x-max"), svg_attr_num(g, "data-y-min"),
                     svg_attr_num(g, "data-y-max")};
    if (!strcmp(cls, "compare")) f->ylo = 0, f->yhi = 1;
    CHECK(f->w > 0 && f->h > 0 && f->xhi > f->xlo && f->yhi > f->ylo, "%s: degenerate frame or domain", what);
    return f->w > 0 && f->h > 0 && f->xhi > f->xlo && f->yhi > f->ylo;
}

/* x ticks: each label a 1, 2 or 5 times a power of ten, drawn where the log axis puts it. */
static int check_x_ticks(const xml_doc *d, int group, const log_frame *f, const char *what) {
    int idx[64], n = svg_find(d, group, "text", "tick-x", idx, 64);
    CHECK(n >= 2 && n <= 40, "%s: %d x ticks", what, n);
    for (int i = 0; i < n && i < 64; i++) {
        double v = strtod(d->elems[idx[i]].text, NULL), lg = log10(v), m = v / pow(10, floor(lg + 1e-9));
        CHECK(v > 0 && (fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6), "%s: x tick '%s'", what,
              d->elems[idx[i]].text);
        CHECK(fabs(svg_attr_num(&d->elems[idx[i]], "x") - px(f, lg)) < TOL_SVG_COORD, "%s: x tick %g at %.2f, want %.3f",
              what, v, svg_attr_num(&d->elems[idx[i]], "x"), px(f, lg));
    }
    return n;
}

static void test_roofline(void) {
    const char *what = "roofline";
    bench_file f = parsed("a.json", result_a);
    char err[256] = "";
    char *svg = plot_roofline_svg(&f, err, sizeof err);
    xml_doc d;
    if (!parse_svg(&d, svg, what)) {
        json_value_free(f.doc);
        return;
    }
    int g;
    log_frame fr;
    if (group_frame(&d, "roofline", &g, &fr, what)) {
        /* Every layer pass with FLOPs is a point where its intensity and rate are, in the frame. */
        int points[32], np = svg_find(&d, g, "circle", "point", points, 32), want = 0, checked = 0;
        for (int i = 0; i < f.items->count; i++) {
            const json_value *it = &f.items->items[i], *ai = json_member(it, "intensity"), *layer = json_member(it, "layer");
            if (!ai || ai->type != JSON_NUMBER || !layer || layer->type != JSON_STRING) continue;
            want++;
            const char *name = json_member(it, "name")->string;
            double rate = json_member(it, "rate")->number;
            for (int k = 0; k < np && k < 32; k++) {
                const xml_elem *c = &d.elems[points[k]];
                if (strcmp(xml_attr(c, "data-item"), name) != 0) continue;
                double cx = svg_attr_num(c, "cx"), cy = svg_attr_num(c, "cy");
                CHECK(fabs(cx - px(&fr, log10(ai->number))) < TOL_SVG_COORD &&
                          fabs(cy - py(&fr, log10(rate))) < TOL_SVG_COORD,
                      "%s: %s at (%.2f, %.2f), want (%.3f, %.3f)", what, name, cx, cy, px(&fr, log10(ai->number)),
                      py(&fr, log10(rate)));
                CHECK(cx >= fr.x && cx <= fr.x + fr.w && cy >= fr.y && cy <= fr.y + fr.h, "%s: %s outside the frame",
                      what, name);
                checked++;
            }
        }
        CHECK(np == want && checked == want, "%s: %d points, %d matched, want %d", what, np, checked, want);
        int labels[32], nl = svg_find(&d, g, "text", "point-label", labels, 32);
        CHECK(nl == np, "%s: %d point labels for %d points", what, nl, np);
        for (int k = 0; k < nl && k < np && k < 32; k++)
            CHECK(strncmp(d.elems[labels[k]].text, xml_attr(&d.elems[points[k]], "data-item"),
                          strlen(xml_attr(&d.elems[points[k]], "data-item"))) == 0,
                  "%s: label '%s' is not its point's", what, d.elems[labels[k]].text);

        /* The ceilings: y = bandwidth x intensity up to the ridge with the peak, the peak flat to
         * the right edge; all inside the frame. */
        int lines[16], nc = svg_find(&d, g, "polyline", "ceiling", lines, 16), bandwidths = 0, peaks = 0;
        for (int k = 0; k < nc && k < 16; k++) {
            const xml_elem *l = &d.elems[lines[k]];
            double rate = svg_attr_num(l, "data-rate"), x0, y0, x1, y1;
            CHECK(sscanf(xml_attr(l, "points"), "%lf,%lf %lf,%lf", &x0, &y0, &x1, &y1) == 4, "%s: a ceiling's points",
                  what);
            CHECK(x0 >= fr.x - TOL_SVG_COORD && x1 <= fr.x + fr.w + TOL_SVG_COORD && x0 < x1, "%s: a ceiling outside", what);
            if (strcmp(xml_attr(l, "data-kind"), "compute") == 0) {
                peaks++;
                CHECK(fabs(ly(&fr, y0) - log10(400)) < 1e-4 && fabs(ly(&fr, y1) - log10(400)) < 1e-4 &&
                          fabs(x1 - (fr.x + fr.w)) < TOL_SVG_COORD,
                      "%s: the peak line is not at 400 GFLOP/s to the right edge", what);
                /* It starts at the highest bandwidth's ridge: 400 / 300 FLOP per byte. */
                CHECK(fabs(lx(&fr, x0) - log10(400.0 / 300)) < 1e-4, "%s: the peak starts at %g, want 4/3", what,
                      pow(10, lx(&fr, x0)));
                continue;
            }
            bandwidths++;
            for (int e = 0; e < 2; e++) {
                double xv = lx(&fr, e ? x1 : x0), yv = ly(&fr, e ? y1 : y0);
                CHECK(fabs(yv - (xv + log10(rate))) < 1e-4, "%s: %s: point %d off y = %g x", what,
                      xml_attr(l, "data-ceiling"), e, rate);
            }
            CHECK(lx(&fr, x1) <= log10(400 / rate) + 1e-4, "%s: %s runs past its ridge", what, xml_attr(l, "data-ceiling"));
        }
        CHECK(peaks == 1 && bandwidths == 2, "%s: %d peak lines, %d bandwidth lines; want 1 and 2", what, peaks,
              bandwidths);
        check_x_ticks(&d, g, &fr, what);
        int yt[32], ny = svg_find(&d, g, "text", "tick-y", yt, 32);
        CHECK(ny >= 3, "%s: %d y ticks", what, ny);
        for (int k = 0; k < ny && k < 32; k++) {
            double v = strtod(d.elems[yt[k]].text, NULL);
            CHECK(fabs(svg_attr_num(&d.elems[yt[k]], "y") - 4 - py(&fr, log10(v))) < TOL_SVG_COORD,
                  "%s: y tick %g misplaced", what, v);
        }
    }
    /* The items without FLOPs beside, escaped; not the ceilings' own, not the steps. */
    int mem[16], nm = svg_find(&d, -1, "text", "memory-item", mem, 16);
    CHECK(nm == 2, "%s: %d items without FLOPs listed, want 2", what, nm);
    for (int k = 0; k < nm && k < 16; k++)
        CHECK(!strcmp(xml_attr(&d.elems[mem[k]], "data-item"), "max_pooling2d forward") ||
                  !strcmp(xml_attr(&d.elems[mem[k]], "data-item"), "adam <&>"),
              "%s: '%s' listed", what, xml_attr(&d.elems[mem[k]], "data-item"));
    printf("%-24s well-formed, %d elements\n", what, d.count);
    xml_free(&d);
    free(svg);
    json_value_free(f.doc);

    /* A file of format 1 has no roofline: NULL and why. */
    bench_file old = parsed("old.json", result_c);
    CHECK(old.version == 1, "a file without format_version reads as version %d", old.version);
    svg = plot_roofline_svg(&old, err, sizeof err);
    CHECK(!svg && strstr(err, "old.json") && strstr(err, "format 1"), "roofline of a format 1 file: %s",
          svg ? "drawn" : err);
    free(svg);
    json_value_free(old.doc);
}

static void test_compare(void) {
    const char *what = "compare chart";
    bench_file f[3] = {parsed("a.json", result_a), parsed("b.json", result_b), parsed("c.json", result_c)};
    char *svg = plot_bench_compare_svg(f, 3);
    xml_doc d;
    if (parse_svg(&d, svg, what)) {
        int g;
        log_frame fr;
        if (group_frame(&d, "compare", &g, &fr, what)) {
            /* A bar for each item of [1] that a later file has, from speed 1 to its speed. */
            int bars[32], nb = svg_find(&d, g, "rect", "bar", bars, 32), want = 0;
            for (int j = 1; j < 3; j++)
                for (int i = 0; i < f[0].items->count; i++) {
                    const json_value *it = &f[0].items->items[i];
                    const json_value *o = bench_file_item(&f[j], json_member(it, "name")->string);
                    if (!o) continue;
                    want++;
                    /* The rates' ratio where both have a rate, else the times'. */
                    const json_value *ra = json_member(it, "rate"), *rb = json_member(o, "rate");
                    double ratio = ra && rb && ra->type == JSON_NUMBER && rb->type == JSON_NUMBER
                                       ? rb->number / ra->number
                                       : json_member(it, "median")->number / json_member(o, "median")->number;
                    bool found = false;
                    for (int k = 0; k < nb && k < 32; k++) {
                        const xml_elem *r = &d.elems[bars[k]];
                        if (strcmp(xml_attr(r, "data-item"), json_member(it, "name")->string) != 0 ||
                            svg_attr_num(r, "data-file") != j + 1)
                            continue;
                        found = true;
                        double x = svg_attr_num(r, "x"), w = svg_attr_num(r, "width"), one = px(&fr, 0),
                               end = px(&fr, log10(ratio));
                        CHECK(fabs(svg_attr_num(r, "data-ratio") - ratio) < 1e-12 * ratio &&
                                  fabs(fmin(one, end) - x) < TOL_SVG_COORD &&
                                  fabs(fabs(end - one) - w) < 2 * TOL_SVG_COORD,
                              "%s: %s of [%d]: bar %.2f..%.2f, want %.3f..%.3f (ratio %g)", what,
                              json_member(it, "name")->string, j + 1, x, x + w, fmin(one, end), fmax(one, end), ratio);
                        CHECK(x >= fr.x - TOL_SVG_COORD && x + w <= fr.x + fr.w + TOL_SVG_COORD, "%s: a bar outside", what);
                    }
                    CHECK(found, "%s: no bar for %s of [%d]", what, json_member(it, "name")->string, j + 1);
                }
            CHECK(nb == want && want == 5, "%s: %d bars, want %d (5)", what, nb, want);
            int ref, nr = svg_find(&d, g, "line", "reference", &ref, 1);
            CHECK(nr == 1 && fabs(svg_attr_num(&d.elems[ref], "x1") - px(&fr, 0)) < TOL_SVG_COORD,
                  "%s: no reference line at speed 1", what);
            check_x_ticks(&d, g, &fr, what);
        }
        int legend, nl = svg_find(&d, -1, "g", "legend", &legend, 1), texts[8],
                    nt = nl == 1 ? svg_find(&d, legend, "text", NULL, texts, 8) : 0;
        CHECK(nt == 3 && strstr(d.elems[texts[0]].text, "CPU <A> & co") && strstr(d.elems[texts[1]].text, "GPU B") &&
                  strstr(d.elems[texts[2]].text, "old CPU, batch 64"),
              "%s: the legend does not name the three files", what);
        printf("%-24s well-formed, %d elements\n", what, d.count);
        xml_free(&d);
    }
    free(svg);
    for (int j = 0; j < 3; j++) json_value_free(f[j].doc);
}

int main(void) {
    test_roofline();
    test_compare();
    return check_done("test_bench_svg");
}
