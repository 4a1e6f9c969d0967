/* curves.svg: loss and accuracy per epoch, two panels side by side, train (solid) and
 * validation (dashed) for each run present. Hand-written SVG 1.1, so any browser opens it
 * and nothing beyond libc is needed. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "claug/report/report.h"
#include "claug/report/svg.h"
#include "claug/util/strbuf.h"

/* Layout in SVG user units (pixels). */
enum {
    WIDTH = 1000, PANEL_W = 500, PANEL_H = 360,             /* two panels side by side */
    MARGIN_L = 76, MARGIN_R = 20, MARGIN_T = 44, MARGIN_B = 56, /* plot area inside a panel */
    LEGEND_ROW = 24,                                        /* one legend row per run, below */
    Y_TICKS = 5, X_TICKS = 10                               /* roughly how many ticks */
};

enum { RUNS = 2 };
static const char *const run_key[RUNS] = {"plain", "augmented"};
static const char *const run_label[RUNS] = {"without augmentation", "with augmentation"};
static const char *const run_colour[RUNS] = {"#1f77b4", "#d95f02"};

typedef struct {
    const char *key, *title, *axis_title;
    size_t train, val;      /* offsets into epoch_metrics */
    double least, greatest; /* the metric's natural bounds, which the axis margin stays within */
} metric;
static const metric metrics[2] = {
    {"loss", "Loss per epoch", "loss", offsetof(epoch_metrics, loss), offsetof(epoch_metrics, val_loss), 0, INFINITY},
    {"accuracy", "Accuracy per epoch", "accuracy", offsetof(epoch_metrics, accuracy),
     offsetof(epoch_metrics, val_accuracy), 0, 1},
};

static double field(const history *h, int i, size_t off) {
    return *(const double *)((const char *)&h->epoch[i] + off);
}

/* Finite values beyond 1e300 are skipped like NaN: they would overflow the axis arithmetic,
 * and a loss that large is a diverged run either way. */
static bool plottable(double v) { return isfinite(v) && fabs(v) <= 1e300; }

typedef struct {
    double lo, hi, step; /* the domain shown and the tick spacing */
} axis;

typedef struct {
    double x, y, w, h; /* plot area, pixels */
    axis ax, ay;
} frame;

static double map_x(const frame *f, double v) { return f->x + (v - f->ax.lo) / (f->ax.hi - f->ax.lo) * f->w; }
static double map_y(const frame *f, double v) { return f->y + f->h - (v - f->ay.lo) / (f->ay.hi - f->ay.lo) * f->h; }

/* A value axis for data in [lo, hi] (lo > hi: no data), widened to whole ticks after a margin
 * so no marker sits on the frame. The margin scales with the span and with the values, so a
 * flat curve gets a sensible range too, and is at least 1e-6 so the tick step stays a normal
 * number; it does not reach past the metric's bounds (no negative loss, no accuracy above 1). */
static axis value_axis(double lo, double hi, const metric *m) {
    if (lo > hi) {
        lo = 0;
        hi = 1;
    }
    double margin = fmax(fmax(0.04 * (hi - lo), 0.02 * fmax(fabs(lo), fabs(hi))), 1e-6);
    lo -= lo >= m->least ? fmin(margin, lo - m->least) : margin;
    hi += hi <= m->greatest ? fmin(margin, m->greatest - hi) : margin;
    double step = svg_nice_step(hi - lo, Y_TICKS);
    /* The epsilon keeps 0.3 / 0.1 = 2.9999999999999996 from adding a tick below the data. */
    return (axis){floor(lo / step + 1e-9) * step, ceil(hi / step - 1e-9) * step, step};
}

/* Whole-number epoch ticks: 1, 2, 5, 10, 20, ... whichever first gives at most X_TICKS steps. */
static long epoch_step(int n) {
    static const int mult[] = {1, 2, 5};
    for (long decade = 1;; decade *= 10)
        for (int i = 0; i < 3; i++)
            if ((n - 1) / (mult[i] * decade) <= X_TICKS) return mult[i] * decade;
}

/* Epochs 1..n with a little room on each side so the end markers do not sit on the frame;
 * one epoch is centred. */
static axis epoch_axis(int n) {
    if (n < 1) n = 1;
    double pad = n > 1 ? 0.03 * (n - 1) : 0.5;
    return (axis){1 - pad, n + pad, (double)epoch_step(n)};
}

/* Decimals that show a tick step exactly (0.25 -> 2); 0 for whole steps. */
static void axes(strbuf *b, const frame *f, const metric *m) {
    sb_printf(b, "<rect class=\"plot-area\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#ffffff\" "
                 "stroke=\"#444444\"/>\n",
              f->x, f->y, f->w, f->h);
    char label[64];
    int ny = (int)lround((f->ay.hi - f->ay.lo) / f->ay.step);
    for (int i = 0; i <= ny; i++) {
        double v = f->ay.lo + i * f->ay.step, y = map_y(f, v);
        if (i > 0 && i < ny)
            sb_printf(b, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>\n",
                      f->x, y, f->x + f->w, y);
        sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>\n", f->x - 5, y, f->x, y);
        svg_tick_label(label, sizeof label, v, f->ay.step);
        svg_text(b, f->x - 8, y + 4, "end", " class=\"tick-y\"", label);
    }
    for (double v = ceil(f->ax.lo / f->ax.step) * f->ax.step; v <= f->ax.hi; v += f->ax.step) {
        if (v < 1) continue; /* there is no epoch 0 */
        double x = map_x(f, v), y = f->y + f->h;
        sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>\n", x, y, x, y + 5);
        snprintf(label, sizeof label, "%.0f", v);
        svg_text(b, x, y + 19, "middle", " class=\"tick-x\"", label);
    }
    svg_text(b, f->x + f->w / 2, f->y + f->h + 42, "middle", " class=\"axis-title\"", "epoch");
    double cx = f->x - 56, cy = f->y + f->h / 2;
    char rot[96];
    snprintf(rot, sizeof rot, " class=\"axis-title\" transform=\"rotate(-90 %.2f %.2f)\"", cx, cy);
    svg_text(b, cx, cy, "middle", rot, m->axis_title);
    svg_text(b, f->x + f->w / 2, f->y - 16, "middle", " class=\"panel-title\"", m->title);
}

/* One curve: a polyline per stretch of plottable values (a NaN breaks the line rather than
 * bridging it) and a marker per value; validation markers are hollow. */
static void series(strbuf *b, const frame *f, const history *h, int run, size_t off, bool val) {
    const char *colour = run_colour[run];
    sb_append(b, "<g class=\"series\" data-run=\"");
    svg_escaped(b, h->name ? h->name : run_key[run]);
    sb_printf(b, "\" data-split=\"%s\">\n", val ? "val" : "train");
    for (int i = 0; i < h->epochs;) {
        int j = i;
        while (j < h->epochs && plottable(field(h, j, off))) j++;
        if (j - i >= 2) {
            sb_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", colour,
                      val ? " stroke-dasharray=\"7 4\"" : "");
            for (int k = i; k < j; k++)
                sb_printf(b, "%s%.2f,%.2f", k > i ? " " : "", map_x(f, k + 1), map_y(f, field(h, k, off)));
            sb_append(b, "\"/>\n");
        }
        i = j > i ? j : i + 1;
    }
    for (int k = 0; k < h->epochs; k++) {
        double v = field(h, k, off);
        if (!plottable(v)) continue;
        sb_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                  map_x(f, k + 1), map_y(f, v), val ? "#ffffff" : colour, colour);
    }
    sb_append(b, "</g>\n");
}

static void panel(strbuf *b, int index, const history *const runs[RUNS]) {
    const metric *m = &metrics[index];
    double lo = INFINITY, hi = -INFINITY;
    int epochs = 0;
    for (int r = 0; r < RUNS; r++) {
        if (!runs[r]) continue;
        if (runs[r]->epochs > epochs) epochs = runs[r]->epochs;
        for (int i = 0; i < runs[r]->epochs; i++)
            for (int s = 0; s < 2; s++) {
                double v = field(runs[r], i, s ? m->val : m->train);
                if (!plottable(v)) continue;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
    }
    frame f = {index * PANEL_W + MARGIN_L, MARGIN_T, PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B,
               epoch_axis(epochs), value_axis(lo, hi, m)};
    /* The domain goes into the file so a reader (the tests) can map coordinates back. */
    sb_printf(b, "<g class=\"panel\" data-metric=\"%s\" data-x-min=\"%.17g\" data-x-max=\"%.17g\" "
                 "data-y-min=\"%.17g\" data-y-max=\"%.17g\">\n",
              m->key, f.ax.lo, f.ax.hi, f.ay.lo, f.ay.hi);
    axes(b, &f, m);
    for (int r = 0; r < RUNS; r++)
        if (runs[r]) {
            series(b, &f, runs[r], r, m->train, false);
            series(b, &f, runs[r], r, m->val, true);
        }
    sb_append(b, "</g>\n");
}

static void legend_sample(strbuf *b, double x, double y, int run, bool val) {
    const char *c = run_colour[run];
    sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", x, y,
              x + 32, y, c, val ? " stroke-dasharray=\"7 4\"" : "");
    sb_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>\n", x + 16,
              y, val ? "#ffffff" : c, c);
    svg_text(b, x + 40, y + 4, "start", "", val ? "validation" : "training");
}

static void legend(strbuf *b, const history *const runs[RUNS]) {
    sb_append(b, "<g class=\"legend\">\n");
    double y = PANEL_H + LEGEND_ROW / 2;
    for (int r = 0; r < RUNS; r++) {
        if (!runs[r]) continue;
        svg_text(b, WIDTH / 2 - 60, y + 4, "end", " font-weight=\"bold\"", run_label[r]);
        legend_sample(b, WIDTH / 2 - 40, y, r, false);
        legend_sample(b, WIDTH / 2 + 80, y, r, true);
        y += LEGEND_ROW;
    }
    sb_append(b, "</g>\n");
}

char *plot_curves_svg(const history *plain, const history *augmented) {
    const history *const runs[RUNS] = {plain, augmented};
    int rows = (plain != NULL) + (augmented != NULL);
    int height = PANEL_H + rows * LEGEND_ROW + 8;
    strbuf b = {0};
    sb_printf(&b,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"13\">\n"
              "<title>Loss and accuracy per epoch, without and with augmentation</title>\n"
              "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
              "<style>.tick-x, .tick-y { font-size: 12px; fill: #333333; } .panel-title { font-size: 15px; font-weight: bold; }"
              "</style>\n",
              WIDTH, height, WIDTH, height, WIDTH, height);
    for (int m = 0; m < 2; m++) panel(&b, m, runs);
    legend(&b, runs);
    sb_append(&b, "</svg>\n");
    return sb_take(&b);
}
