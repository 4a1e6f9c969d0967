/* study.svg: validation accuracy and loss against training-set size on a log axis, both arms,
 * each point the mean over seeds with its 95% interval as an error bar: curves.svg's look. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "claug/report/study.h"
#include "claug/report/svg.h"
#include "claug/util/strbuf.h"

enum { WIDTH = 1000, PANEL_W = 500, HEIGHT = 420, MARGIN_L = 76, MARGIN_R = 20, MARGIN_T = 44, MARGIN_B = 56 };
static const char *const arm_label[2] = {"without augmentation", "with augmentation"};
static const char *const arm_key[2] = {"plain", "augmented"};
static const char *const arm_colour[2] = {"#1f77b4", "#d95f02"};
static const int panel_metric[2] = {STUDY_VAL_ACCURACY, STUDY_VAL_LOSS};
static const char *const panel_title[2] = {"Validation accuracy", "Validation loss"};

typedef struct {
    double x, y, w, h;
    double xlo, xhi;          /* log10 of the sizes shown */
    double ylo, yhi, ystep;
} frame;

static double map_x(const frame *f, double size) { return f->x + (log10(size) - f->xlo) / (f->xhi - f->xlo) * f->w; }
static double map_y(const frame *f, double v) { return f->y + f->h - (v - f->ylo) / (f->yhi - f->ylo) * f->h; }

/* The x domain: the sizes' decades, widened by a quarter decade so no point sits on the frame. */
static void x_domain(const study_summary *s, frame *f) {
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < s->nsizes; i++) {
        lo = fmin(lo, log10(s->sizes[i]));
        hi = fmax(hi, log10(s->sizes[i]));
    }
    if (!(lo <= hi)) lo = 3, hi = 4;
    f->xlo = lo - 0.25;
    f->xhi = hi + 0.25;
}

static void y_domain(double lo, double hi, bool accuracy, frame *f) {
    if (!(lo <= hi)) lo = 0, hi = 1;
    double margin = fmax(fmax(0.06 * (hi - lo), 0.02 * fmax(fabs(lo), fabs(hi))), 1e-6);
    lo = fmax(lo - margin, 0);
    hi = accuracy ? fmin(hi + margin, 1) : hi + margin;
    f->ystep = svg_nice_step(hi - lo, 5);
    f->ylo = floor(lo / f->ystep + 1e-9) * f->ystep;
    f->yhi = ceil(hi / f->ystep - 1e-9) * f->ystep;
    if (f->yhi <= f->ylo) f->yhi = f->ylo + f->ystep;
}

static void axes(strbuf *b, const frame *f, const study_summary *s, int p) {
    sb_printf(b, "<rect class=\"plot-area\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#ffffff\" "
                 "stroke=\"#444444\"/>\n",
              f->x, f->y, f->w, f->h);
    char label[64];
    int ny = (int)lround((f->yhi - f->ylo) / f->ystep);
    for (int i = 0; i <= ny; i++) {
        double v = f->ylo + i * f->ystep, y = map_y(f, v);
        if (i > 0 && i < ny)
            sb_printf(b, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>\n",
                      f->x, y, f->x + f->w, y);
        sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>\n", f->x - 5, y, f->x, y);
        svg_tick_label(label, sizeof label, v, f->ystep);
        svg_text(b, f->x - 8, y + 4, "end", " class=\"tick-y\"", label);
    }
    /* Ticks at the study's sizes: on a log axis of a few sizes, they are the values to read. */
    for (int i = 0; i < s->nsizes; i++) {
        double x = map_x(f, s->sizes[i]), y = f->y + f->h;
        sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>\n", x, y, x, y + 5);
        snprintf(label, sizeof label, "%d", s->sizes[i]);
        svg_text(b, x, y + 19, "middle", " class=\"tick-x\"", label);
    }
    svg_text(b, f->x + f->w / 2, f->y + f->h + 42, "middle", " class=\"axis-title\"",
             "training-set size (images, log scale)");
    double cx = f->x - 56, cy = f->y + f->h / 2;
    char rot[96];
    snprintf(rot, sizeof rot, " class=\"axis-title\" transform=\"rotate(-90 %.2f %.2f)\"", cx, cy);
    svg_text(b, cx, cy, "middle", rot, study_metric_names[panel_metric[p]]);
    svg_text(b, f->x + f->w / 2, f->y - 16, "middle", " class=\"panel-title\"", panel_title[p]);
}

/* One arm: a line through the means, and at each size a marker with the interval's bar. The
 * arms sit 5 px either side of the size so their bars do not hide each other. */
static void arm_series(strbuf *b, const frame *f, const study_summary *s, const study_size_stats *st, int p, int arm) {
    int m = panel_metric[p];
    double dx = arm ? 5 : -5;
    sb_printf(b, "<g class=\"series\" data-arm=\"%s\">\n", arm_key[arm]);
    sb_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", arm_colour[arm]);
    bool first = true;
    for (int i = 0; i < s->nsizes; i++) {
        const sample_stats *x = &st[i].arm[arm][m];
        if (x->n == 0) continue;
        sb_printf(b, "%s%.2f,%.2f", first ? "" : " ", map_x(f, s->sizes[i]) + dx, map_y(f, x->mean));
        first = false;
    }
    sb_append(b, "\"/>\n");
    for (int i = 0; i < s->nsizes; i++) {
        const sample_stats *x = &st[i].arm[arm][m];
        if (x->n == 0) continue;
        double cx = map_x(f, s->sizes[i]) + dx;
        if (x->n >= 2)
            sb_printf(b, "<line class=\"ci\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                         "stroke-width=\"1.5\"/>\n",
                      cx, map_y(f, fmax(x->ci_low, f->ylo)), cx, map_y(f, fmin(x->ci_high, f->yhi)), arm_colour[arm]);
        sb_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\" data-size=\"%d\" data-n=\"%d\" "
                     "data-mean=\"%.17g\" data-ci-low=\"%.17g\" data-ci-high=\"%.17g\"/>\n",
                  cx, map_y(f, x->mean), arm_colour[arm], s->sizes[i], x->n, x->mean, x->ci_low, x->ci_high);
    }
    sb_append(b, "</g>\n");
}

static void panel(strbuf *b, const study_summary *s, const study_size_stats *st, int p) {
    int m = panel_metric[p];
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < s->nsizes; i++)
        for (int arm = 0; arm < 2; arm++) {
            const sample_stats *x = &st[i].arm[arm][m];
            if (x->n == 0) continue;
            lo = fmin(lo, x->n >= 2 ? x->ci_low : x->mean);
            hi = fmax(hi, x->n >= 2 ? x->ci_high : x->mean);
        }
    frame f = {p * PANEL_W + MARGIN_L, MARGIN_T, PANEL_W - MARGIN_L - MARGIN_R, HEIGHT - 40 - MARGIN_T - MARGIN_B,
               0, 0, 0, 0, 0};
    x_domain(s, &f);
    y_domain(lo, hi, m == STUDY_VAL_ACCURACY, &f);
    sb_printf(b, "<g class=\"panel\" data-metric=\"%s\" data-log10-x-min=\"%.17g\" data-log10-x-max=\"%.17g\" "
                 "data-y-min=\"%.17g\" data-y-max=\"%.17g\">\n",
              study_metric_names[m], f.xlo, f.xhi, f.ylo, f.yhi);
    axes(b, &f, s, p);
    for (int arm = 0; arm < 2; arm++) arm_series(b, &f, s, st, p, arm);
    sb_append(b, "</g>\n");
}

char *plot_study_svg(const study_summary *s) {
    study_size_stats *st = xmalloc((size_t)(s->nsizes ? s->nsizes : 1) * sizeof *st);
    for (int i = 0; i < s->nsizes; i++) study_size_stats_of(s, i, &st[i]);
    strbuf b = {0};
    sb_printf(&b,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"13\">\n"
              "<title>Validation accuracy and loss against training-set size, without and with augmentation "
              "(mean over seeds, 95%% intervals)</title>\n"
              "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
              "<style>.tick-x, .tick-y { font-size: 12px; fill: #333333; } .panel-title { font-size: 15px; "
              "font-weight: bold; }</style>\n",
              WIDTH, HEIGHT, WIDTH, HEIGHT, WIDTH, HEIGHT);
    for (int p = 0; p < 2; p++) panel(&b, s, st, p);
    sb_append(&b, "<g class=\"legend\">\n");
    for (int arm = 0; arm < 2; arm++) {
        double x = WIDTH / 2 - 230 + arm * 250, y = HEIGHT - 22;
        sb_printf(&b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2\"/>\n", x, y,
                  x + 32, y, arm_colour[arm]);
        sb_printf(&b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\"/>\n", x + 16, y, arm_colour[arm]);
        svg_text(&b, x + 40, y + 4, "start", "", arm_label[arm]);
    }
    sb_printf(&b, "</g>\n");
    sb_append(&b, "</svg>\n");
    free(st);
    return sb_take(&b);
}
