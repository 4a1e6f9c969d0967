/* confusion.svg: the confusion matrices of the runs' last validation side by side, rows the true
 * class and columns the predicted one (Keras' and scikit-learn's convention), each cell shaded
 * by its share of the row (so the diagonal reads as the class's accuracy) and labelled with its
 * count, in each run's colour of curves.svg. A run that is absent leaves no empty panel. */
#include <stdio.h>

#include "claug/data/dataset.h"
#include "claug/report/report.h"
#include "claug/report/svg.h"
#include "claug/util/strbuf.h"

enum {
    CELL = 36, K = NUM_CLASSES,
    NAMES_W = 96,             /* true-class names, left of each matrix */
    PANEL_W = NAMES_W + K * CELL + 34,
    TOP = 58,                 /* titles above the matrix */
    BOTTOM = 112,             /* predicted-class names (slanted) and the axis title below */
    HEIGHT = TOP + K * CELL + BOTTOM,
};

static const char *const run_key[2] = {"plain", "augmented"};
static const char *const run_title[2] = {"without augmentation", "with augmentation"};
/* curves.svg's colours of the two runs, as RGB. */
static const int run_rgb[2][3] = {{0x1f, 0x77, 0xb4}, {0xd9, 0x5f, 0x02}};

/* Matrix m of run `run` in the slot-th panel from the left. */
static void panel(strbuf *b, int slot, int run, const int *m) {
    double x0 = slot * PANEL_W + NAMES_W, y0 = TOP;
    long total = 0, right = 0;
    for (int t = 0; t < K; t++)
        for (int p = 0; p < K; p++) total += m[t * K + p], right += t == p ? m[t * K + p] : 0;
    sb_printf(b, "<g class=\"matrix\" data-run=\"%s\">\n", run_key[run]);
    char title[96];
    snprintf(title, sizeof title, "%s: %.2f%% of %ld right", run_title[run], total ? 100.0 * right / total : 0.0, total);
    svg_text(b, x0 + K * CELL / 2.0, 24, "middle", " class=\"panel-title\"", title);
    svg_text(b, x0 + K * CELL / 2.0, 44, "middle", " class=\"axis-note\"", "rows: true class, columns: predicted class");
    for (int t = 0; t < K; t++) {
        int row = 0;
        for (int p = 0; p < K; p++) row += m[t * K + p];
        svg_text(b, x0 - 6, y0 + (t + 0.5) * CELL + 4, "end", " class=\"tick-y\"", class_names[t]);
        for (int p = 0; p < K; p++) {
            int n = m[t * K + p];
            double share = row ? (double)n / row : 0, x = x0 + p * CELL, y = y0 + t * CELL;
            /* The run's colour mixed with white by the share: no transparency, any viewer agrees. */
            int rgb[3];
            for (int c = 0; c < 3; c++) rgb[c] = (int)(255 - share * (255 - run_rgb[run][c]) + 0.5);
            sb_printf(b, "<rect class=\"cell\" data-true=\"%d\" data-predicted=\"%d\" data-count=\"%d\" x=\"%.2f\" "
                         "y=\"%.2f\" width=\"%d\" height=\"%d\" fill=\"#%02x%02x%02x\" stroke=\"#dddddd\"/>\n",
                      t, p, n, x, y, CELL, CELL, rgb[0], rgb[1], rgb[2]);
            char count[16];
            snprintf(count, sizeof count, "%d", n);
            svg_text(b, x + CELL / 2.0, y + CELL / 2.0 + 4, "middle", share > 0.5 ? " class=\"count dark\"" : " class=\"count\"",
                     count);
        }
    }
    sb_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444444\"/>\n", x0, y0,
              K * CELL, K * CELL);
    for (int p = 0; p < K; p++) {
        double x = x0 + (p + 0.5) * CELL + 4, y = y0 + K * CELL + 10;
        char rot[64];
        snprintf(rot, sizeof rot, " class=\"tick-x\" transform=\"rotate(-45 %.2f %.2f)\"", x, y);
        svg_text(b, x, y, "end", rot, class_names[p]);
    }
    svg_text(b, x0 + K * CELL / 2.0, HEIGHT - 12, "middle", " class=\"axis-title\"", "predicted class");
    sb_append(b, "</g>\n");
}

char *plot_confusion_svg(const int *plain, const int *augmented) {
    const int *runs[2] = {plain, augmented};
    int width = ((plain != NULL) + (augmented != NULL)) * PANEL_W, slot = 0;
    strbuf b = {0};
    sb_printf(&b,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"13\">\n"
              "<title>Confusion matrices of the last validation, without and with augmentation</title>\n"
              "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
              "<style>.tick-x, .tick-y { font-size: 12px; fill: #333333; } .panel-title { font-size: 15px; "
              "font-weight: bold; } .axis-note { font-size: 12px; fill: #666666; } .count { font-size: 11px; "
              "fill: #222222; } .count.dark { fill: #ffffff; }</style>\n",
              width, HEIGHT, width, HEIGHT, width, HEIGHT);
    for (int r = 0; r < 2; r++)
        if (runs[r]) panel(&b, slot++, r, runs[r]);
    sb_append(&b, "</svg>\n");
    return sb_take(&b);
}
