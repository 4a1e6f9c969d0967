/* The charts of `claug bench --svg`: the roofline of one result of `bench --json`, and the items
 * of several side by side. Read from the result files themselves, so that a saved file can be
 * drawn again; both axes of the roofline and the speed axis of the comparison are logarithmic.
 * Each plot group declares its domain (log10, data-x-min ... data-y-max), so that a reader (the
 * tests) can map every coordinate back. */
#include "claug/report/plot_bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/report/svg.h"
#include "claug/util/strbuf.h"

static const char *const pass_colour[2] = {"#1f77b4", "#d95f02"}; /* forward, backward */
static const char *const file_colour[] = {"#1f77b4", "#d95f02", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
enum { FILE_COLOURS = sizeof file_colour / sizeof file_colour[0] };

static void header(strbuf *b, int w, int h, const char *title) {
    sb_printf(b,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"13\">\n"
              "<title>",
              w, h, w, h);
    svg_escaped(b, title);
    sb_printf(b,
              "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
              "<style>.tick-x, .tick-y { font-size: 12px; fill: #333333; } .chart-title { font-size: 15px; "
              "font-weight: bold; } .point-label, .bar-label, .note { font-size: 11px; fill: #333333; }</style>\n",
              w, h);
}

/* A number of a JSON object, or NaN. */
static double num(const json_value *v, const char *key) {
    const json_value *m = json_member(v, key);
    return m && m->type == JSON_NUMBER ? m->number : NAN;
}

static const char *str(const json_value *v, const char *key) {
    const json_value *m = json_member(v, key);
    return m && m->type == JSON_STRING ? m->string : NULL;
}

/* A log axis frame: the plot area in pixels, the domain in decades. */
typedef struct {
    double x, y, w, h;
    double xlo, xhi, ylo, yhi; /* log10 */
} frame;

static double map_x(const frame *f, double lg) { return f->x + (lg - f->xlo) / (f->xhi - f->xlo) * f->w; }
static double map_y(const frame *f, double lg) { return f->y + f->h - (lg - f->ylo) / (f->yhi - f->ylo) * f->h; }

/* "0.01", "1", "1000", "1e+06". */
static void decade_label(char *buf, size_t n, double lg) {
    double v = pow(10, lg);
    if (lg >= -3 && lg <= 5) snprintf(buf, n, "%.*f", lg < 0 ? (int)-lg : 0, v);
    else snprintf(buf, n, "%.0e", v);
}

/* Ticks at every decade of the domain (and at 2 and 5 times them when it spans two decades at
 * most), labelled, with grid lines inside the frame. */
static void log_ticks(strbuf *b, const frame *f, bool x_axis) {
    double lo = x_axis ? f->xlo : f->ylo, hi = x_axis ? f->xhi : f->yhi;
    bool minor = hi - lo <= 2 + 1e-9;
    for (double d = floor(lo); d <= hi + 1e-9; d++)
        for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) { /* 1, 2, 5 */
            if (m > 1 && !minor) continue;
            double lg = d + log10(m);
            if (lg < lo - 1e-9 || lg > hi + 1e-9) continue;
            char label[32];
            if (m == 1) decade_label(label, sizeof label, d);
            else snprintf(label, sizeof label, "%g", pow(10, lg));
            if (x_axis) {
                double x = map_x(f, lg), y = f->y + f->h;
                sb_printf(b, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>\n",
                          x, f->y, x, y);
                sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>\n", x, y, x,
                          y + 5);
                svg_text(b, x, y + 19, "middle", " class=\"tick-x\"", label);
            } else {
                double y = map_y(f, lg);
                sb_printf(b, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>\n",
                          f->x, y, f->x + f->w, y);
                sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>\n", f->x - 5,
                          y, f->x, y);
                svg_text(b, f->x - 8, y + 4, "end", " class=\"tick-y\"", label);
            }
        }
}

static void frame_rect(strbuf *b, const frame *f) {
    sb_printf(b, "<rect class=\"plot-area\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#ffffff\" "
                 "stroke=\"#444444\"/>\n",
              f->x, f->y, f->w, f->h);
}

static void axis_titles(strbuf *b, const frame *f, const char *xt, const char *yt) {
    svg_text(b, f->x + f->w / 2, f->y + f->h + 42, "middle", " class=\"axis-title\"", xt);
    if (!yt) return;
    double cx = f->x - 58, cy = f->y + f->h / 2;
    char rot[96];
    snprintf(rot, sizeof rot, " class=\"axis-title\" transform=\"rotate(-90 %.2f %.2f)\"", cx, cy);
    svg_text(b, cx, cy, "middle", rot, yt);
}

/* ---- the roofline -------------------------------------------------------------------------- */

enum { RW = 1000, RPLOT_W = 640, RPLOT_H = 440, RML = 80, RMT = 56, RMB = 64, LABEL_H = 12 };

/* A label's box, for placing labels apart. */
typedef struct {
    double x0, y0, x1, y1;
} box;

static bool overlaps(const box *a, const box *b) { return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1; }

/* Where a label of `chars` characters beside the point (x, y) overlaps none placed before: right
 * of the point at its height if free, else the nearest free row above or below. */
static double place_label(box *placed, int *n, double x, double y, int chars) {
    double w = 6.2 * chars;
    for (int k = 0; k < 12; k++) {
        double dy = (k + 1) / 2 * LABEL_H * (k % 2 ? 1 : -1);
        box bx = {x + 7, y + dy - 9, x + 7 + w, y + dy + 3};
        bool free_row = true;
        for (int i = 0; i < *n && free_row; i++) free_row = !overlaps(&bx, &placed[i]);
        if (free_row || k == 11) {
            placed[(*n)++] = bx;
            return y + dy;
        }
    }
    return y;
}

/* The caches' lines, told apart by their dashes (the legend names them). */
static const char *const cache_dash[] = {"6 4", "2 3", "9 3 2 3", "1 5", "12 4"};
enum { CACHE_DASHES = sizeof cache_dash / sizeof cache_dash[0] };

/* The line of bandwidth `gbs` up to its ridge with the peak, clipped to the frame; `cache`: the
 * how-manyth cache line, -1 for the memory's. */
static void bandwidth_line(strbuf *b, const frame *f, const char *name, const char *kind, double gbs, double peak,
                           int cache) {
    double lb = log10(gbs), x0 = fmax(f->xlo, f->ylo - lb), x1 = fmin(fmin(log10(peak / gbs), f->xhi), f->yhi - lb);
    if (!(x0 < x1)) return;
    sb_append(b, "<polyline class=\"ceiling\" data-ceiling=\"");
    svg_escaped(b, name);
    sb_printf(b, "\" data-kind=\"%s\" data-rate=\"%.17g\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"", kind, gbs,
              cache < 0 ? "#222222" : "#777777", cache < 0 ? "2" : "1.5");
    if (cache >= 0) sb_printf(b, " stroke-dasharray=\"%s\"", cache_dash[cache % CACHE_DASHES]);
    sb_printf(b, " points=\"%.2f,%.2f %.2f,%.2f\"/>\n", map_x(f, x0), map_y(f, x0 + lb), map_x(f, x1), map_y(f, x1 + lb));
}

/* "cache 4 MiB 300 GB/s" of "cache bandwidth (read, 4 MiB)". */
static void cache_label(char *buf, size_t n, const char *name, double gbs) {
    const char *at = strchr(name, ',');
    snprintf(buf, n, "cache%.*s: %.0f GB/s", at ? (int)strcspn(at + 1, ")") : 0, at ? at + 1 : "", gbs);
}

char *plot_roofline_svg(const bench_file *bf, char *err, size_t errlen) {
    const json_value *doc = bf->doc, *ceilings = json_member(doc, "ceilings");
    double peak = num(doc, "peak_gflops");
    if (bf->version < 2 || !ceilings || ceilings->type != JSON_ARRAY || !(peak > 0)) {
        snprintf(err, errlen, "%s: no roofline in it (a file of format %d; `claug bench --json` writes format %d)",
                 bf->path, bf->version, BENCH_FORMAT_VERSION);
        return NULL;
    }
    /* The domain: every point and every ridge, a little room around, whole decades. */
    double xlo = INFINITY, xhi = -INFINITY, ylo = log10(peak), yhi = log10(peak);
    for (int i = 0; i < ceilings->count; i++) {
        const json_value *c = &ceilings->items[i];
        double r = num(c, "rate");
        if (!str(c, "kind") || strcmp(str(c, "kind"), "compute") == 0 || !(r > 0)) continue;
        xlo = fmin(xlo, log10(peak / r));
        xhi = fmax(xhi, log10(peak / r));
    }
    int npoints = 0;
    for (int i = 0; i < bf->items->count; i++) {
        const json_value *it = &bf->items->items[i];
        double ai = num(it, "intensity"), r = num(it, "rate");
        if (!str(it, "layer") || !(ai > 0) || !(r > 0)) continue;
        npoints++;
        xlo = fmin(xlo, log10(ai)), xhi = fmax(xhi, log10(ai));
        ylo = fmin(ylo, log10(r)), yhi = fmax(yhi, log10(r));
    }
    if (!(xlo <= xhi)) xlo = xhi = 0;
    frame f = {RML, RMT, RPLOT_W, RPLOT_H, floor(xlo - 0.3), ceil(xhi + 0.3), floor(ylo - 0.3), ceil(yhi + 0.15)};
    if (f.yhi - f.ylo < 2) f.ylo = f.yhi - 2;

    char title[512];
    snprintf(title, sizeof title, "Roofline: %s, batch %d", bf->device, bf->batch);
    strbuf b = {0};
    int height = RMT + RPLOT_H + RMB + 30;
    header(&b, RW, height, title);
    svg_text(&b, RML + RPLOT_W / 2.0, 28, "middle", " class=\"chart-title\"", title);
    sb_printf(&b, "<g class=\"roofline\" data-x-min=\"%.17g\" data-x-max=\"%.17g\" data-y-min=\"%.17g\" "
                  "data-y-max=\"%.17g\">\n",
              f.xlo, f.xhi, f.ylo, f.yhi);
    frame_rect(&b, &f);
    log_ticks(&b, &f, true);
    log_ticks(&b, &f, false);
    axis_titles(&b, &f, "arithmetic intensity (FLOP per byte of least traffic)", "GFLOP/s");

    /* The ceilings: the bandwidths up to their ridges, the peak from the first ridge on. */
    double ridge = f.xhi;
    int caches = 0;
    for (int i = 0; i < ceilings->count; i++) {
        const json_value *c = &ceilings->items[i];
        const char *kind = str(c, "kind"), *name = str(c, "name");
        double r = num(c, "rate");
        if (!kind || !name || !(r > 0) || strcmp(kind, "compute") == 0) continue;
        bool memory = strcmp(kind, "memory") == 0;
        bandwidth_line(&b, &f, name, kind, r, peak, memory ? -1 : caches++);
        ridge = fmin(ridge, log10(peak / r));
    }
    const char *peak_name = "FP32 peak";
    for (int i = 0; i < ceilings->count; i++)
        if (str(&ceilings->items[i], "kind") && strcmp(str(&ceilings->items[i], "kind"), "compute") == 0 &&
            str(&ceilings->items[i], "name"))
            peak_name = str(&ceilings->items[i], "name");
    sb_append(&b, "<polyline class=\"ceiling\" data-ceiling=\"");
    svg_escaped(&b, peak_name);
    sb_printf(&b, "\" data-kind=\"compute\" data-rate=\"%.17g\" fill=\"none\" stroke=\"#222222\" stroke-width=\"2\" "
                  "points=\"%.2f,%.2f %.2f,%.2f\"/>\n",
              peak, map_x(&f, fmax(ridge, f.xlo)), map_y(&f, log10(peak)), map_x(&f, f.xhi), map_y(&f, log10(peak)));
    char label[160];
    snprintf(label, sizeof label, "FP32 peak %.0f GFLOP/s", peak);
    svg_text(&b, f.x + f.w - 6, map_y(&f, log10(peak)) - 6, "end", " class=\"ceiling-label\"", label);
    /* The memory's labelled along its line, near the frame's left or bottom edge; the caches', close
     * together, in the legend. */
    for (int i = 0; i < ceilings->count; i++) {
        const json_value *c = &ceilings->items[i];
        const char *kind = str(c, "kind");
        double r = num(c, "rate");
        if (!kind || strcmp(kind, "memory") != 0 || !(r > 0)) continue;
        double lb = log10(r), x0 = fmax(f.xlo, f.ylo - lb) + 0.08 * (f.xhi - f.xlo);
        if (x0 + lb > f.yhi || x0 > log10(peak / r)) continue;
        double px = map_x(&f, x0), py = map_y(&f, x0 + lb);
        double angle = -atan2(f.h / (f.yhi - f.ylo), f.w / (f.xhi - f.xlo)) * 180 / acos(-1.0);
        snprintf(label, sizeof label, "memory %.1f GB/s", r);
        char extra[160];
        snprintf(extra, sizeof extra, " class=\"ceiling-label\" font-size=\"11\" transform=\"rotate(%.2f %.2f %.2f)\"",
                 angle, px, py - 5);
        svg_text(&b, px, py - 5, "start", extra, label);
    }

    /* The points, each with its label placed apart from the others'. */
    box *placed = xcalloc((size_t)npoints + 1, sizeof *placed);
    int nplaced = 0;
    for (int i = 0; i < bf->items->count; i++) {
        const json_value *it = &bf->items->items[i];
        double ai = num(it, "intensity"), r = num(it, "rate");
        const char *layer = str(it, "layer"), *pass = str(it, "pass"), *name = str(it, "name");
        if (!layer || !(ai > 0) || !(r > 0)) continue;
        int p = pass && strcmp(pass, "forward") == 0 ? 0 : 1;
        double cx = map_x(&f, log10(ai)), cy = map_y(&f, log10(r));
        sb_append(&b, "<circle class=\"point\" data-item=\"");
        svg_escaped(&b, name);
        sb_printf(&b, "\" data-intensity=\"%.17g\" data-gflops=\"%.17g\" cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\" "
                      "stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
                  ai, r, cx, cy, pass_colour[p]);
        double share = num(it, "share");
        if (isfinite(share)) snprintf(label, sizeof label, "%s %.0f%%", name, 100 * share);
        else snprintf(label, sizeof label, "%s", name);
        double ly = place_label(placed, &nplaced, cx, cy, (int)strlen(label));
        /* A label moved off its point's row points back at it. */
        if (fabs(ly - cy) > 1)
            sb_printf(&b, "<line class=\"leader\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#aaaaaa\"/>\n",
                      cx + 3, cy + (ly > cy ? 3 : -3), cx + 6, ly - 4);
        svg_text(&b, cx + 7, ly, "start", " class=\"point-label\"", label);
    }
    free(placed);
    sb_append(&b, "</g>\n");

    /* Beside: the legend, then the items that move bytes without FLOPs, which have no intensity. */
    double lx = RML + RPLOT_W + 28, ly = RMT + 8;
    sb_append(&b, "<g class=\"legend\">\n");
    for (int p = 0; p < 2; p++) {
        sb_printf(&b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\"/>\n", lx + 4, ly - 4, pass_colour[p]);
        svg_text(&b, lx + 14, ly, "start", "", p ? "backward pass" : "forward pass");
        ly += 18;
    }
    for (int i = 0, k = 0; i < ceilings->count; i++) {
        const json_value *c = &ceilings->items[i];
        const char *kind = str(c, "kind"), *name = str(c, "name");
        double r = num(c, "rate");
        if (!kind || !name || strcmp(kind, "cache") != 0 || !(r > 0)) continue;
        sb_printf(&b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#777777\" stroke-width=\"1.5\" "
                      "stroke-dasharray=\"%s\"/>\n",
                  lx, ly - 4, lx + 28, ly - 4, cache_dash[k++ % CACHE_DASHES]);
        cache_label(label, sizeof label, name, r);
        svg_text(&b, lx + 34, ly, "start", " class=\"note\"", label);
        ly += 16;
    }
    svg_text(&b, lx, ly + 4, "start", " class=\"note\"", "label: the item and its share of");
    svg_text(&b, lx, ly + 18, "start", " class=\"note\"", "the roofline at its intensity");
    ly += 46;
    svg_text(&b, lx, ly, "start", " font-weight=\"bold\"", "No FLOPs: share of bandwidth");
    ly += 18;
    for (int i = 0; i < bf->items->count && ly < height - 12; i++) {
        const json_value *it = &bf->items->items[i];
        const char *name = str(it, "name"), *ceiling = str(it, "ceiling");
        double share = num(it, "share"), r = num(it, "rate");
        const char *unit = str(it, "rate_unit");
        if (isfinite(num(it, "flops")) || !unit || strcmp(unit, "GB/s") != 0 || !isfinite(share) || !ceiling ||
            strcmp(ceiling, name) == 0)
            continue;
        snprintf(label, sizeof label, "%s: %.0f%%", name, 100 * share);
        sb_append(&b, "<text class=\"memory-item\" data-item=\"");
        svg_escaped(&b, name);
        sb_printf(&b, "\" data-share=\"%.17g\" data-rate=\"%.17g\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"start\" "
                      "font-size=\"11\">",
                  share, r, lx, ly);
        svg_escaped(&b, label);
        sb_append(&b, "</text>\n");
        ly += 15;
    }
    sb_append(&b, "</g>\n</svg>\n");
    return sb_take(&b);
}

/* ---- several devices ------------------------------------------------------------------------- */

enum { CW = 1000, CML = 300, CPLOT_W = 600, CMT = 70, CMB = 64, BAR_H = 11, ROW_GAP = 7 };

/* How much faster o runs than it: the ratio of their rates where both have one in the same unit
 * (the work may differ: another batch size), else of their times; NaN without o. */
static double speed(const json_value *it, const json_value *o) {
    if (!o) return NAN;
    const char *u = str(it, "rate_unit"), *v = str(o, "rate_unit");
    double a = num(it, "rate"), b = num(o, "rate");
    if (u && v && strcmp(u, v) == 0 && a > 0 && b > 0) return b / a;
    return num(it, "median") / num(o, "median");
}

char *plot_bench_compare_svg(const bench_file *f, int n) {
    /* Rows: the first file's items that another file has too. */
    const json_value *items = f[0].items;
    int rows = 0;
    double lo = 0, hi = 0;
    for (int i = 0; i < items->count; i++) {
        const json_value *it = &items->items[i];
        bool any = false;
        for (int j = 1; j < n; j++) {
            double r = speed(it, bench_file_item(&f[j], str(it, "name")));
            if (!(r > 0) || !isfinite(r)) continue;
            any = true;
            lo = fmin(lo, log10(r)), hi = fmax(hi, log10(r));
        }
        rows += any;
    }
    double pad = 0.1 * fmax(hi - lo, 0.3);
    frame fr = {CML, CMT, CPLOT_W, 0, floor((lo - pad) * 2) / 2, ceil((hi + pad) * 2) / 2, 0, 1};
    double row_h = (n - 1) * BAR_H + ROW_GAP;
    fr.h = rows * row_h + ROW_GAP;
    int height = (int)(CMT + fr.h + CMB + 22 * (n + 1));

    strbuf b = {0};
    char title[512];
    snprintf(title, sizeof title, "Speed relative to [1] %s", f[0].device);
    header(&b, CW, height, title);
    svg_text(&b, CML + CPLOT_W / 2.0, 28, "middle", " class=\"chart-title\"", title);
    svg_text(&b, CML + CPLOT_W / 2.0, 48, "middle", " class=\"note\"",
             "each bar: the other's rate over [1]'s (or [1]'s median time over its); right of 1 is faster");
    sb_printf(&b, "<g class=\"compare\" data-x-min=\"%.17g\" data-x-max=\"%.17g\" data-files=\"%d\">\n", fr.xlo,
              fr.xhi, n);
    frame_rect(&b, &fr);
    log_ticks(&b, &fr, true);
    axis_titles(&b, &fr, "speed relative to [1]", NULL);
    double x1 = map_x(&fr, 0);
    sb_printf(&b, "<line class=\"reference\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#222222\"/>\n", x1,
              fr.y, x1, fr.y + fr.h);
    double y = fr.y + ROW_GAP;
    for (int i = 0; i < items->count; i++) {
        const json_value *it = &items->items[i];
        const char *name = str(it, "name");
        bool any = false;
        for (int j = 1; j < n && !any; j++) {
            double r = speed(it, bench_file_item(&f[j], name));
            any = r > 0 && isfinite(r);
        }
        if (!any) continue;
        svg_text(&b, fr.x - 8, y + (n - 1) * BAR_H / 2.0 + 4, "end", " class=\"row-label\" font-size=\"12\"", name);
        for (int j = 1; j < n; j++, y += BAR_H) {
            double r = speed(it, bench_file_item(&f[j], name));
            if (!(r > 0) || !isfinite(r)) continue;
            double x = map_x(&fr, log10(r));
            sb_append(&b, "<rect class=\"bar\" data-item=\"");
            svg_escaped(&b, name);
            sb_printf(&b, "\" data-file=\"%d\" data-ratio=\"%.17g\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%d\" "
                          "fill=\"%s\"/>\n",
                      j + 1, r, fmin(x, x1), y, fabs(x - x1), BAR_H - 2, file_colour[j % FILE_COLOURS]);
            char label[32];
            snprintf(label, sizeof label, "%.2fx", r);
            svg_text(&b, r >= 1 ? x + 4 : x - 4, y + BAR_H - 3, r >= 1 ? "start" : "end", " class=\"bar-label\"", label);
        }
        y += ROW_GAP;
    }
    sb_append(&b, "</g>\n<g class=\"legend\">\n");
    double ly = CMT + fr.h + CMB;
    for (int j = 0; j < n; j++, ly += 22) {
        char label[600];
        snprintf(label, sizeof label, "[%d] %s, batch %d%s", j + 1, f[j].device, f[j].batch, j ? "" : ": the reference");
        if (j) sb_printf(&b, "<rect x=\"%d\" y=\"%.2f\" width=\"14\" height=\"10\" fill=\"%s\"/>\n", CML, ly - 9,
                         file_colour[j % FILE_COLOURS]);
        svg_text(&b, CML + 20, ly, "start", "", label);
    }
    sb_append(&b, "</g>\n</svg>\n");
    return sb_take(&b);
}

char *plot_bench_svg(const bench_file *f, int n, char *err, size_t errlen) {
    return n == 1 ? plot_roofline_svg(f, err, errlen) : plot_bench_compare_svg(f, n);
}
