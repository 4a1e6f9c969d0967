#include "svg_check.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tol.h"

double svg_attr_num(const xml_elem *e, const char *name) {
    const char *s = xml_attr(e, name);
    char *end;
    double v = s ? strtod(s, &end) : NAN;
    return s && !*end ? v : NAN;
}

/* A panel's plot area in pixels and the value ranges its axes span. */
typedef struct {
    double x, y, w, h, xmin, xmax, ymin, ymax;
} plot_frame;

static double px(const plot_frame *f, double epoch) { return f->x + (epoch - f->xmin) / (f->xmax - f->xmin) * f->w; }
static double py(const plot_frame *f, double v) { return f->y + f->h - (v - f->ymin) / (f->ymax - f->ymin) * f->h; }

int svg_find(const xml_doc *d, int parent, const char *name, const char *cls, int *out, int max) {
    int n = 0;
    for (int i = 0; i < d->count; i++) {
        if (strcmp(d->elems[i].name, name) != 0 || (parent >= 0 && !xml_within(d, i, parent))) continue;
        const char *c = xml_attr(&d->elems[i], "class");
        if (cls && (!c || strcmp(c, cls) != 0)) continue;
        if (n < max) out[n] = i;
        n++;
    }
    return n;
}

static bool has_text(const xml_doc *d, int parent, const char *cls, const char *text) {
    int idx[64], n = svg_find(d, parent, "text", cls, idx, 64);
    for (int i = 0; i < n && i < 64; i++)
        if (strcmp(d->elems[idx[i]].text, text) == 0) return true;
    return false;
}

/* Tick labels: evenly spaced at a 1, 2, 2.5 or 5 x 10^k step from the axis minimum to its
 * maximum, each drawn where the axis maps its value. */
static void check_y_ticks(const xml_doc *d, int panel, const plot_frame *f, const char *what) {
    int idx[64], n = svg_find(d, panel, "text", "tick-y", idx, 64);
    CHECK(n >= 2 && n <= 12, "%s: %d y tick labels", what, n);
    if (n < 2 || n > 64) return;
    double first = strtod(d->elems[idx[0]].text, NULL), step = strtod(d->elems[idx[1]].text, NULL) - first;
    double mant = step / pow(10, floor(log10(step) + 1e-6)); /* labels are rounded: 0.81 - 0.80 < 0.01 */
    CHECK(fabs(mant - 1) < 1e-6 || fabs(mant - 2) < 1e-6 || fabs(mant - 2.5) < 1e-6 || fabs(mant - 5) < 1e-6,
          "%s: y tick step %g is not a round number", what, step);
    CHECK(fabs(first - f->ymin) < 1e-6 * step, "%s: first y tick %g, axis from %g", what, first, f->ymin);
    for (int i = 0; i < n; i++) {
        double v = strtod(d->elems[idx[i]].text, NULL), y = svg_attr_num(&d->elems[idx[i]], "y") - 4;
        CHECK(fabs(v - (first + i * step)) < 1e-6 * step, "%s: y tick %d is %g, want %g", what, i, v, first + i * step);
        CHECK(fabs(y - py(f, v)) < TOL_SVG_COORD, "%s: y tick %g drawn at %.2f, want %.3f", what, v, y, py(f, v));
    }
    double last = strtod(d->elems[idx[n - 1]].text, NULL);
    CHECK(fabs(last - f->ymax) < 1e-6 * step, "%s: last y tick %g, axis to %g", what, last, f->ymax);
}

/* Whole epochs at a round step (1, 2, 5, 10, ...) from the first multiple to the last epoch,
 * no epoch 0; every epoch for a run of up to 11. */
static void check_x_ticks(const xml_doc *d, int panel, const plot_frame *f, int epochs, const char *what) {
    int idx[64], n = svg_find(d, panel, "text", "tick-x", idx, 64);
    if (epochs < 1) epochs = 1;
    CHECK(n >= 1 && n <= 11, "%s: %d x tick labels for %d epochs", what, n, epochs);
    if (n < 1 || n > 64) return;
    double first = strtod(d->elems[idx[0]].text, NULL);
    double step = n > 1 ? strtod(d->elems[idx[1]].text, NULL) - first : first;
    double mant = step / pow(10, floor(log10(step)));
    CHECK(mant == 1 || mant == 2 || mant == 5, "%s: x tick step %g", what, step);
    CHECK(first == step || (step == 1 && first == 1), "%s: x ticks start at %g, step %g", what, first, step);
    CHECK(epochs > 11 || step == 1, "%s: a short run must have every epoch labelled", what);
    for (int i = 0; i < n; i++) {
        double v = strtod(d->elems[idx[i]].text, NULL), x = svg_attr_num(&d->elems[idx[i]], "x");
        CHECK(v == first + i * step, "%s: x tick %d labelled %s", what, i, d->elems[idx[i]].text);
        CHECK(fabs(x - px(f, v)) < TOL_SVG_COORD, "%s: x tick %g at %.2f, want %.3f", what, v, x, px(f, v));
    }
    double last = first + (n - 1) * step;
    CHECK(last <= epochs && last + step > epochs, "%s: x ticks end at %g for %d epochs", what, last, epochs);
}

/* One curve: a marker per finite value, a polyline per stretch of two or more finite values,
 * every coordinate where the axes map (epoch, value). */
static int check_series(const xml_doc *d, int group, const plot_frame *f, const history *h, size_t off, const char *what) {
    int circles[64], lines[64], nc = svg_find(d, group, "circle", NULL, circles, 64), nl = svg_find(d, group, "polyline", NULL, lines, 64);
    int want_c = 0, want_l = 0, points = 0;
    for (int i = 0; i < h->epochs; i++) {
        double v = *(const double *)((const char *)&h->epoch[i] + off);
        if (!isfinite(v)) continue;
        if (want_c < nc && want_c < 64) {
            const xml_elem *c = &d->elems[circles[want_c]];
            double cx = svg_attr_num(c, "cx"), cy = svg_attr_num(c, "cy");
            CHECK(fabs(cx - px(f, i + 1)) < TOL_SVG_COORD && fabs(cy - py(f, v)) < TOL_SVG_COORD,
                  "%s: epoch %d marker at (%.2f, %.2f), want (%.3f, %.3f)", what, i + 1, cx, cy, px(f, i + 1), py(f, v));
            CHECK(cy >= f->y - TOL_SVG_COORD && cy <= f->y + f->h + TOL_SVG_COORD, "%s: marker outside the plot area", what);
        }
        want_c++;
        bool starts = i + 1 < h->epochs && isfinite(*(const double *)((const char *)&h->epoch[i + 1] + off)) &&
                      (i == 0 || !isfinite(*(const double *)((const char *)&h->epoch[i - 1] + off)));
        if (starts) {
            if (want_l < nl && want_l < 64) {
                const char *pts = xml_attr(&d->elems[lines[want_l]], "points");
                int k = i;
                for (const char *p = pts; p && *p; k++) {
                    char *end;
                    double x = strtod(p, &end), y = strtod(end + 1, &end);
                    double v2 = k < h->epochs ? *(const double *)((const char *)&h->epoch[k] + off) : NAN;
                    CHECK(isfinite(v2) && fabs(x - px(f, k + 1)) < TOL_SVG_COORD && fabs(y - py(f, v2)) < TOL_SVG_COORD,
                          "%s: polyline vertex for epoch %d at (%.2f, %.2f), want (%.3f, %.3f)", what, k + 1, x, y,
                          px(f, k + 1), py(f, v2));
                    points++;
                    p = end;
                    while (*p == ' ') p++;
                }
                CHECK(k == h->epochs || !isfinite(*(const double *)((const char *)&h->epoch[k] + off)),
                      "%s: polyline from epoch %d stops early at %d", what, i + 1, k);
            }
            want_l++;
        }
    }
    CHECK(nc == want_c, "%s: %d markers, want %d", what, nc, want_c);
    CHECK(nl == want_l, "%s: %d polylines, want %d", what, nl, want_l);
    return nc + points;
}

/* The two panels, in order, and the history fields each plots. */
static const struct {
    const char *key;
    size_t train, val;
} metrics[2] = {{"loss", offsetof(epoch_metrics, loss), offsetof(epoch_metrics, val_loss)},
                {"accuracy", offsetof(epoch_metrics, accuracy), offsetof(epoch_metrics, val_accuracy)}};

/* The value axis covers the data, and not much more (rounding out to whole ticks). */
static void check_value_axis(const plot_frame *f, const history *const runs[2], int m, const char *pw) {
    double lo = INFINITY, hi = -INFINITY;
    for (int r = 0; r < 2; r++)
        for (int i = 0; runs[r] && i < runs[r]->epochs; i++)
            for (int s = 0; s < 2; s++) {
                double v = *(const double *)((const char *)&runs[r]->epoch[i] + (s ? metrics[m].val : metrics[m].train));
                if (isfinite(v)) lo = fmin(lo, v), hi = fmax(hi, v);
            }
    if (hi - lo > 1e-3 * fmax(fabs(lo), fabs(hi)))
        CHECK(f->ymin <= lo && f->ymax >= hi && f->ymax - f->ymin <= 3 * (hi - lo), "%s: y axis %g..%g for data %g..%g",
              pw, f->ymin, f->ymax, lo, hi);
    /* No negative loss or accuracy, no accuracy above 1, on the axis either. */
    if (lo >= 0) CHECK(f->ymin >= 0, "%s: y axis from %g for data from %g", pw, f->ymin, lo);
    if (m == 1 && hi <= 1) CHECK(f->ymax <= 1, "%s: accuracy axis to %g", pw, f->ymax);
}

/* A series group per run and split, each checked point by point; returns the points drawn. */
static int check_panel_series(const xml_doc *d, int panel, const plot_frame *f, const history *const runs[2], int m,
                              const char *pw) {
    int groups[8], ng = svg_find(d, panel, "g", "series", groups, 8), want_groups = 0, drawn = 0;
    for (int r = 0; r < 2; r++) {
        if (!runs[r]) continue;
        want_groups += 2;
        /* Series are named by their history, escaped; XML cannot hold control characters. */
        char want_name[64];
        snprintf(want_name, sizeof want_name, "%s", runs[r]->name);
        for (char *c = want_name; *c; c++)
            if ((unsigned char)*c < 0x20) *c = ' ';
        for (int s = 0; s < 2; s++) {
            int g = -1;
            for (int i = 0; i < ng && i < 8; i++)
                if (strcmp(xml_attr(&d->elems[groups[i]], "data-run"), want_name) == 0 &&
                    strcmp(xml_attr(&d->elems[groups[i]], "data-split"), s ? "val" : "train") == 0)
                    g = groups[i];
            char sw[192];
            snprintf(sw, sizeof sw, "%s %s %s", pw, want_name, s ? "val" : "train");
            CHECK(g >= 0, "%s: series missing", sw);
            if (g >= 0) drawn += check_series(d, g, f, runs[r], s ? metrics[m].val : metrics[m].train, sw);
        }
    }
    CHECK(ng == want_groups, "%s: %d series, want %d", pw, ng, want_groups);
    return drawn;
}

/* Panel m: its frame and axes, ticks, titles and series; returns the points drawn. */
static int check_panel(const xml_doc *d, int panel, int m, const history *const runs[2], int epochs, const char *what) {
    const xml_elem *p = &d->elems[panel];
    CHECK(strcmp(xml_attr(p, "data-metric"), metrics[m].key) == 0, "%s: panel %d is not %s", what, m, metrics[m].key);
    int rect, nr = svg_find(d, panel, "rect", "plot-area", &rect, 1);
    CHECK(nr == 1, "%s: panel %s has %d plot areas", what, metrics[m].key, nr);
    if (nr != 1) return 0;
    plot_frame f = {svg_attr_num(&d->elems[rect], "x"), svg_attr_num(&d->elems[rect], "y"),
                    svg_attr_num(&d->elems[rect], "width"), svg_attr_num(&d->elems[rect], "height"),
                    svg_attr_num(p, "data-x-min"), svg_attr_num(p, "data-x-max"),
                    svg_attr_num(p, "data-y-min"), svg_attr_num(p, "data-y-max")};
    char pw[96];
    snprintf(pw, sizeof pw, "%s %s panel", what, metrics[m].key);
    CHECK(f.w > 0 && f.h > 0 && f.xmax > f.xmin && f.ymax > f.ymin, "%s: degenerate frame or axes", pw);
    CHECK(f.xmin < 1 && f.xmax > (epochs > 1 ? epochs : 1), "%s: x axis %g..%g misses epochs 1..%d", pw, f.xmin,
          f.xmax, epochs);
    check_value_axis(&f, runs, m, pw);
    check_y_ticks(d, panel, &f, pw);
    check_x_ticks(d, panel, &f, epochs, pw);
    CHECK(has_text(d, panel, "axis-title", "epoch") && has_text(d, panel, "axis-title", metrics[m].key),
          "%s: axis titles missing", pw);
    int title, nt = svg_find(d, panel, "text", "panel-title", &title, 1);
    CHECK(nt == 1 && strlen(d->elems[title].text) > 0, "%s: no panel title", pw);
    return check_panel_series(d, panel, &f, runs, m, pw);
}

void check_svg(const char *svg, const history *plain, const history *augmented, const char *what) {
    const history *const runs[2] = {plain, augmented};
    static const char *const run_label[2] = {"without augmentation", "with augmentation"};
    xml_doc d;
    char err[256];
    if (!xml_parse(&d, svg, err, sizeof err)) {
        CHECK(false, "%s: not well-formed XML: %s", what, err);
        xml_free(&d);
        return;
    }
    CHECK(strcmp(d.elems[0].name, "svg") == 0 && xml_attr(&d.elems[0], "xmlns") &&
              strcmp(xml_attr(&d.elems[0], "xmlns"), "http://www.w3.org/2000/svg") == 0,
          "%s: the root is not an SVG element", what);
    CHECK(!contains_ci(svg, "nan") && !contains_ci(svg, "inf"), "%s: holds NaN or inf", what);
    int epochs = 0, drawn = 0;
    for (int r = 0; r < 2; r++)
        if (runs[r] && runs[r]->epochs > epochs) epochs = runs[r]->epochs;

    int panels[8], np = svg_find(&d, -1, "g", "panel", panels, 8);
    CHECK(np == 2, "%s: %d panels, want 2", what, np);
    for (int m = 0; m < 2 && m < np; m++) drawn += check_panel(&d, panels[m], m, runs, epochs, what);
    int legend, nleg = svg_find(&d, -1, "g", "legend", &legend, 1);
    CHECK(nleg == 1, "%s: %d legends", what, nleg);
    for (int r = 0; r < 2 && nleg == 1; r++)
        CHECK(has_text(&d, legend, NULL, run_label[r]) == (runs[r] != NULL), "%s: legend and run '%s' disagree", what,
              run_label[r]);
    printf("%-34s well-formed, %d elements, %d markers and vertices placed within %.4f px\n", what, d.count, drawn,
           TOL_SVG_COORD);
    xml_free(&d);
}
