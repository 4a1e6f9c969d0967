/* The experiment's outputs from two synthetic histories with known values: results.json read
 * back by a strict JSON reader, the CSV line by line, curves.svg parsed and every marker and
 * line vertex mapped back through the axis ranges it declares, report.md and the terminal
 * table against the tutorial's formatting, and report_write's directory. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "check.h"
#include "claug/model/history.h"
#include "claug/report/report.h"
#include "json_check.h"
#include "xml_check.h"

/* loss, accuracy, val_loss, val_accuracy, train_seconds, val_seconds, images_per_second */
static const epoch_metrics plain_epochs[5] = {
    {0.52, 0.81, 0.40, 0.855, 50.0, 2.5, 1200},
    {0.33, 0.88, 0.33, 0.88, 41.2, 2.1, 1456.3},
    {0.25, 0.91, NAN, 0.895, 41.0, 2.0, 1463.4}, /* a NaN breaks the validation loss curve */
    {0.18, 0.935, 0.27, 0.905, 41.4, 2.2, 1449.3},
    {0.12344, 0.9561, 0.26012, 0.914, 40.9, 2.0, 1467.0},
};
static const epoch_metrics augmented_epochs[5] = {
    {0.61, 0.77, 0.45, 0.84, 45.0, 2.4, 1333.3},
    {0.41, 0.85, 0.36, 0.87, 42.0, 2.1, INFINITY},
    {0.30, 0.89, 0.30, 0.89, 42.1, 2.0, 1425.2},
    {0.23, 0.91, 0.27, 0.90, 41.9, 2.0, 1432.0},
    {0.18764, 0.9302, 0.24881, 0.912, 42.0, 2.1, 1428.6},
};
/* The command carries what JSON must escape: quotes, a backslash, control characters, UTF-8
 * and one malformed byte (which must come back as U+FFFD). */
static const char command[] = "claug run --out \"runs/a b\" C:\\tmp\n\t\x01 caf\xc3\xa9 \xff";
static const char command_decoded[] = "claug run --out \"runs/a b\" C:\\tmp\n\t\x01 caf\xc3\xa9 \xef\xbf\xbd";

static void make_history(history *h, const char *name, const epoch_metrics *e, int n) {
    history_init(h, name, n, 60000, 32);
    for (int i = 0; i < n; i++) history_add(h, &e[i]);
}

static report make_report(const history *plain, const history *augmented) {
    return (report){
        .command_line = command,
        .device = "Intel(R) Xeon | pthread-Intel [PoCL 5.0], 2 compute units",
        .device_name = "pthread-Intel(R) Xeon(R)",
        .device_vendor = "GenuineIntel",
        .device_type = "CPU",
        .driver = "5.0+debian",
        .platform = "Portable Computing Language",
        .opencl_c = "OpenCL C 1.2 PoCL",
        .compute_units = 2,
        .tuning = "convolution tuned (/c/tuning-1.txt); CLBlast default parameters (run `claug tune`)",
        .model = "conv32x3,relu,conv32x3,relu,maxpool2,conv32x3,relu,maxpool2,flatten,dense128,relu,dense10,softmax",
        .parameters = 122634,
        .epochs = 5,
        .batch_size = 32,
        .train_size = 60000,
        .test_size = 10000,
        .lr = 0.001,
        .seed = 18446744073709551557ULL, /* beyond 2^53: must be written exactly */
        .augmentation = "rotation_range=10",
        .version = "0.1.0",
        .commit = "abc123def456",
        .date = "2024-05-01T12:00:00Z",
        .plain = plain,
        .augmented = augmented,
        .samples_png = "samples.png",
        .augmented_png = "augmented.png",
    };
}

static bool contains_ci(const char *s, const char *what) {
    for (size_t n = strlen(what); *s; s++)
        if (strncasecmp(s, what, n) == 0) return true;
    return false;
}

/* ---- results.json -------------------------------------------------------------------------- */

static void check_json_string(const jv *root, const char *path, const char *want) {
    const jv *v = jv_path(root, path);
    CHECK(v && v->type == JV_STRING && strcmp(v->string, want) == 0, "%s: got '%s', want '%s'", path,
          v && v->type == JV_STRING ? v->string : "(not a string)", want);
}

/* Exact: the writer promises numbers that read back to the same double; non-finite -> null. */
static void check_json_number(const jv *root, const char *path, double want) {
    const jv *v = jv_path(root, path);
    if (!isfinite(want)) {
        CHECK(v && v->type == JV_NULL, "%s: want null for %g", path, want);
        return;
    }
    CHECK(v && v->type == JV_NUMBER && v->number == want, "%s: got %.17g, want %.17g", path,
          v && v->type == JV_NUMBER ? v->number : NAN, want);
}

/* check_json_number at "runs.<run>.<rest>". */
static void check_run_number(const jv *root, const char *run, const char *rest, double want) {
    char path[160];
    snprintf(path, sizeof path, "runs.%s.%s", run, rest);
    check_json_number(root, path, want);
}

/* `median`: the run's median seconds per epoch, worked out by hand. */
static void check_json_run(const jv *root, const char *run, const history *h, double median) {
    char path[160];
    snprintf(path, sizeof path, "runs.%s", run);
    const jv *v = jv_path(root, path);
    if (!h) {
        CHECK(v && v->type == JV_NULL, "%s should be null", path);
        return;
    }
    const jv *hist = jv_path(v, "history");
    CHECK(hist && hist->type == JV_ARRAY && hist->count == h->epochs, "%s.history: want %d entries", path, h->epochs);
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"loss", offsetof(epoch_metrics, loss)},
        {"accuracy", offsetof(epoch_metrics, accuracy)},
        {"val_loss", offsetof(epoch_metrics, val_loss)},
        {"val_accuracy", offsetof(epoch_metrics, val_accuracy)},
        {"train_seconds", offsetof(epoch_metrics, train_seconds)},
        {"val_seconds", offsetof(epoch_metrics, val_seconds)},
        {"images_per_second", offsetof(epoch_metrics, images_per_second)},
    };
    for (int i = 0; i < h->epochs; i++) {
        char rest[64];
        snprintf(rest, sizeof rest, "history.%d.epoch", i);
        check_run_number(root, run, rest, i + 1);
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            snprintf(rest, sizeof rest, "history.%d.%s", i, fields[f].name);
            check_run_number(root, run, rest, *(const double *)((const char *)&h->epoch[i] + fields[f].off));
        }
    }
    const epoch_metrics *last = &h->epoch[h->epochs - 1];
    check_run_number(root, run, "final.loss", last->loss);
    check_run_number(root, run, "final.accuracy", last->accuracy);
    check_run_number(root, run, "final.val_loss", last->val_loss);
    check_run_number(root, run, "final.val_accuracy", last->val_accuracy);
    check_run_number(root, run, "median_seconds_per_epoch", median);
    check_run_number(root, run, "images_per_second", h->train_images / median);
}

static jv *parse_json(const char *text, const char *what) {
    char err[256];
    jv *root = jv_parse(text, err, sizeof err);
    CHECK(root != NULL, "%s is not valid JSON: %s", what, err);
    CHECK(!contains_ci(text, "nan") && !contains_ci(text, "inf"), "%s holds a NaN or infinity literal", what);
    return root;
}

static void test_json(const history *plain, const history *augmented) {
    report r = make_report(plain, augmented);
    char *text = report_json(&r);
    jv *root = parse_json(text, "report_json");
    if (root) {
        check_json_string(root, "version", "0.1.0");
        check_json_string(root, "commit", "abc123def456");
        check_json_string(root, "date", "2024-05-01T12:00:00Z");
        check_json_string(root, "command", command_decoded);
        check_json_string(root, "config.model", r.model);
        check_json_number(root, "config.parameters", 122634);
        check_json_number(root, "config.epochs", 5);
        check_json_number(root, "config.batch_size", 32);
        check_json_number(root, "config.lr", 0.001);
        check_json_number(root, "config.train_size", 60000);
        check_json_number(root, "config.test_size", 10000);
        check_json_string(root, "config.augmentation", "rotation_range=10");
        check_json_string(root, "device.name", r.device_name);
        check_json_string(root, "device.vendor", "GenuineIntel");
        check_json_string(root, "device.type", "CPU");
        check_json_string(root, "device.driver", "5.0+debian");
        check_json_string(root, "device.platform", "Portable Computing Language");
        check_json_string(root, "device.opencl_c", "OpenCL C 1.2 PoCL");
        check_json_number(root, "device.compute_units", 2);
        check_json_string(root, "tuning", r.tuning);
        check_json_string(root, "device.description", r.device);
        check_json_run(root, "plain", plain, 41.2);        /* of 50, 41.2, 41.0, 41.4, 40.9 */
        check_json_run(root, "augmented", augmented, 42.0); /* of 45, 42.0, 42.1, 41.9, 42.0 */
    }
    /* A double cannot hold this seed, so the text is checked; 0.001 in its shortest form. */
    CHECK(strstr(text, "\"seed\": 18446744073709551557") != NULL, "seed not written exactly");
    CHECK(strstr(text, "\"lr\": 0.001,") != NULL, "lr not written in its shortest form");
    printf("report_json: %zu bytes, valid, values read back exactly\n", strlen(text));
    jv_free(root);
    free(text);
}

/* A run that completed no epoch: an empty history, no final metrics. */
static void test_json_empty_run(void) {
    history empty;
    history_init(&empty, "plain", 1, 60000, 32);
    report r = make_report(&empty, NULL);
    r.command_line = NULL;
    char *text = report_json(&r);
    jv *root = parse_json(text, "report_json (empty run)");
    if (root) {
        const jv *h = jv_path(root, "runs.plain.history"), *cmd = jv_path(root, "command");
        CHECK(h && h->type == JV_ARRAY && h->count == 0, "empty run: want an empty history array");
        CHECK(jv_path(root, "runs.plain.final") && jv_path(root, "runs.plain.final")->type == JV_NULL,
              "empty run: want final null");
        CHECK(cmd && cmd->type == JV_NULL, "NULL command: want null");
    }
    jv_free(root);
    free(text);
    history_free(&empty);
}

/* ---- curves.svg ---------------------------------------------------------------------------- */

static const double coord_tol = 0.0051;

static double attr_num(const xml_elem *e, const char *name) {
    const char *s = xml_attr(e, name);
    char *end;
    double v = s ? strtod(s, &end) : NAN;
    return s && !*end ? v : NAN;
}

typedef struct {
    double x, y, w, h, xmin, xmax, ymin, ymax;
} plot_frame;

static double px(const plot_frame *f, double epoch) { return f->x + (epoch - f->xmin) / (f->xmax - f->xmin) * f->w; }
static double py(const plot_frame *f, double v) { return f->y + f->h - (v - f->ymin) / (f->ymax - f->ymin) * f->h; }

/* Children of `parent` named `name` (and with class `cls` when given), in document order. */
static int find(const xml_doc *d, int parent, const char *name, const char *cls, int *out, int max) {
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
    int idx[64], n = find(d, parent, "text", cls, idx, 64);
    for (int i = 0; i < n && i < 64; i++)
        if (strcmp(d->elems[idx[i]].text, text) == 0) return true;
    return false;
}

/* Tick labels: evenly spaced at a 1, 2, 2.5 or 5 x 10^k step from the axis minimum to its
 * maximum, each drawn where the axis maps its value. */
static void check_y_ticks(const xml_doc *d, int panel, const plot_frame *f, const char *what) {
    int idx[64], n = find(d, panel, "text", "tick-y", idx, 64);
    CHECK(n >= 2 && n <= 12, "%s: %d y tick labels", what, n);
    if (n < 2 || n > 64) return;
    double first = strtod(d->elems[idx[0]].text, NULL), step = strtod(d->elems[idx[1]].text, NULL) - first;
    double mant = step / pow(10, floor(log10(step) + 1e-6)); /* labels are rounded: 0.81 - 0.80 < 0.01 */
    CHECK(fabs(mant - 1) < 1e-6 || fabs(mant - 2) < 1e-6 || fabs(mant - 2.5) < 1e-6 || fabs(mant - 5) < 1e-6,
          "%s: y tick step %g is not a round number", what, step);
    CHECK(fabs(first - f->ymin) < 1e-6 * step, "%s: first y tick %g, axis from %g", what, first, f->ymin);
    for (int i = 0; i < n; i++) {
        double v = strtod(d->elems[idx[i]].text, NULL), y = attr_num(&d->elems[idx[i]], "y") - 4;
        CHECK(fabs(v - (first + i * step)) < 1e-6 * step, "%s: y tick %d is %g, want %g", what, i, v, first + i * step);
        CHECK(fabs(y - py(f, v)) < coord_tol, "%s: y tick %g drawn at %.2f, want %.3f", what, v, y, py(f, v));
    }
    double last = strtod(d->elems[idx[n - 1]].text, NULL);
    CHECK(fabs(last - f->ymax) < 1e-6 * step, "%s: last y tick %g, axis to %g", what, last, f->ymax);
}

/* Whole epochs at a round step (1, 2, 5, 10, ...) from the first multiple to the last epoch,
 * no epoch 0; every epoch for a run of up to 11. */
static void check_x_ticks(const xml_doc *d, int panel, const plot_frame *f, int epochs, const char *what) {
    int idx[64], n = find(d, panel, "text", "tick-x", idx, 64);
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
        double v = strtod(d->elems[idx[i]].text, NULL), x = attr_num(&d->elems[idx[i]], "x");
        CHECK(v == first + i * step, "%s: x tick %d labelled %s", what, i, d->elems[idx[i]].text);
        CHECK(fabs(x - px(f, v)) < coord_tol, "%s: x tick %g at %.2f, want %.3f", what, v, x, px(f, v));
    }
    double last = first + (n - 1) * step;
    CHECK(last <= epochs && last + step > epochs, "%s: x ticks end at %g for %d epochs", what, last, epochs);
}

/* One curve: a marker per finite value, a polyline per stretch of two or more finite values,
 * every coordinate where the axes map (epoch, value). */
static int check_series(const xml_doc *d, int group, const plot_frame *f, const history *h, size_t off, const char *what) {
    int circles[64], lines[64], nc = find(d, group, "circle", NULL, circles, 64), nl = find(d, group, "polyline", NULL, lines, 64);
    int want_c = 0, want_l = 0, points = 0;
    for (int i = 0; i < h->epochs; i++) {
        double v = *(const double *)((const char *)&h->epoch[i] + off);
        if (!isfinite(v)) continue;
        if (want_c < nc && want_c < 64) {
            const xml_elem *c = &d->elems[circles[want_c]];
            double cx = attr_num(c, "cx"), cy = attr_num(c, "cy");
            CHECK(fabs(cx - px(f, i + 1)) < coord_tol && fabs(cy - py(f, v)) < coord_tol,
                  "%s: epoch %d marker at (%.2f, %.2f), want (%.3f, %.3f)", what, i + 1, cx, cy, px(f, i + 1), py(f, v));
            CHECK(cy >= f->y - coord_tol && cy <= f->y + f->h + coord_tol, "%s: marker outside the plot area", what);
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
                    CHECK(isfinite(v2) && fabs(x - px(f, k + 1)) < coord_tol && fabs(y - py(f, v2)) < coord_tol,
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

static void check_svg(const char *svg, const history *plain, const history *augmented, const char *what) {
    const history *runs[2] = {plain, augmented};
    static const char *const run_label[2] = {"without augmentation", "with augmentation"};
    static const struct {
        const char *key;
        size_t train, val;
    } metrics[2] = {{"loss", offsetof(epoch_metrics, loss), offsetof(epoch_metrics, val_loss)},
                    {"accuracy", offsetof(epoch_metrics, accuracy), offsetof(epoch_metrics, val_accuracy)}};
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

    int panels[8], np = find(&d, -1, "g", "panel", panels, 8);
    CHECK(np == 2, "%s: %d panels, want 2", what, np);
    for (int m = 0; m < 2 && m < np; m++) {
        const xml_elem *p = &d.elems[panels[m]];
        CHECK(strcmp(xml_attr(p, "data-metric"), metrics[m].key) == 0, "%s: panel %d is not %s", what, m, metrics[m].key);
        int rect, nr = find(&d, panels[m], "rect", "plot-area", &rect, 1);
        CHECK(nr == 1, "%s: panel %s has %d plot areas", what, metrics[m].key, nr);
        if (nr != 1) continue;
        plot_frame f = {attr_num(&d.elems[rect], "x"), attr_num(&d.elems[rect], "y"), attr_num(&d.elems[rect], "width"),
                        attr_num(&d.elems[rect], "height"), attr_num(p, "data-x-min"), attr_num(p, "data-x-max"),
                        attr_num(p, "data-y-min"), attr_num(p, "data-y-max")};
        char pw[96];
        snprintf(pw, sizeof pw, "%s %s panel", what, metrics[m].key);
        CHECK(f.w > 0 && f.h > 0 && f.xmax > f.xmin && f.ymax > f.ymin, "%s: degenerate frame or axes", pw);
        CHECK(f.xmin < 1 && f.xmax > (epochs > 1 ? epochs : 1), "%s: x axis %g..%g misses epochs 1..%d", pw, f.xmin,
              f.xmax, epochs);
        /* The value axis covers the data, and not much more (rounding out to whole ticks). */
        double lo = INFINITY, hi = -INFINITY;
        for (int r = 0; r < 2; r++)
            for (int i = 0; runs[r] && i < runs[r]->epochs; i++)
                for (int s = 0; s < 2; s++) {
                    double v = *(const double *)((const char *)&runs[r]->epoch[i] + (s ? metrics[m].val : metrics[m].train));
                    if (isfinite(v)) lo = fmin(lo, v), hi = fmax(hi, v);
                }
        if (hi - lo > 1e-3 * fmax(fabs(lo), fabs(hi)))
            CHECK(f.ymin <= lo && f.ymax >= hi && f.ymax - f.ymin <= 3 * (hi - lo), "%s: y axis %g..%g for data %g..%g",
                  pw, f.ymin, f.ymax, lo, hi);
        /* No negative loss or accuracy, no accuracy above 1, on the axis either. */
        if (lo >= 0) CHECK(f.ymin >= 0, "%s: y axis from %g for data from %g", pw, f.ymin, lo);
        if (m == 1 && hi <= 1) CHECK(f.ymax <= 1, "%s: accuracy axis to %g", pw, f.ymax);
        check_y_ticks(&d, panels[m], &f, pw);
        check_x_ticks(&d, panels[m], &f, epochs, pw);
        CHECK(has_text(&d, panels[m], "axis-title", "epoch") && has_text(&d, panels[m], "axis-title", metrics[m].key),
              "%s: axis titles missing", pw);
        int title, nt = find(&d, panels[m], "text", "panel-title", &title, 1);
        CHECK(nt == 1 && strlen(d.elems[title].text) > 0, "%s: no panel title", pw);

        int groups[8], ng = find(&d, panels[m], "g", "series", groups, 8), want_groups = 0;
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
                    if (strcmp(xml_attr(&d.elems[groups[i]], "data-run"), want_name) == 0 &&
                        strcmp(xml_attr(&d.elems[groups[i]], "data-split"), s ? "val" : "train") == 0)
                        g = groups[i];
                char sw[192];
                snprintf(sw, sizeof sw, "%s %s %s", pw, want_name, s ? "val" : "train");
                CHECK(g >= 0, "%s: series missing", sw);
                if (g >= 0) drawn += check_series(&d, g, &f, runs[r], s ? metrics[m].val : metrics[m].train, sw);
            }
        }
        CHECK(ng == want_groups, "%s: %d series, want %d", pw, ng, want_groups);
    }
    int legend, nleg = find(&d, -1, "g", "legend", &legend, 1);
    CHECK(nleg == 1, "%s: %d legends", what, nleg);
    for (int r = 0; r < 2 && nleg == 1; r++)
        CHECK(has_text(&d, legend, NULL, run_label[r]) == (runs[r] != NULL), "%s: legend and run '%s' disagree", what,
              run_label[r]);
    printf("%-34s well-formed, %d elements, %d markers and vertices placed within %.4f px\n", what, d.count, drawn,
           coord_tol);
    xml_free(&d);
}

static void test_svg(const history *plain, const history *augmented) {
    char *svg = plot_curves_svg(plain, augmented);
    check_svg(svg, plain, augmented, "svg (both runs)");
    free(svg);
    svg = plot_curves_svg(plain, NULL);
    check_svg(svg, plain, NULL, "svg (augmented missing)");
    free(svg);
    svg = plot_curves_svg(NULL, augmented);
    check_svg(svg, NULL, augmented, "svg (plain missing)");
    free(svg);
    svg = plot_curves_svg(NULL, NULL);
    check_svg(svg, NULL, NULL, "svg (no runs)");
    free(svg);
}

/* One epoch: single markers centred on the x axis; a constant metric still gets a proper
 * value axis; a series with no finite value draws nothing; infinities are skipped. */
static void test_svg_edge_cases(void) {
    history one, odd;
    make_history(&one, "plain", plain_epochs, 1);
    char *svg = plot_curves_svg(&one, NULL);
    check_svg(svg, &one, NULL, "svg (one epoch)");
    xml_doc d;
    char err[256];
    if (xml_parse(&d, svg, err, sizeof err)) {
        int rect, circle;
        find(&d, -1, "rect", "plot-area", &rect, 1);
        find(&d, -1, "circle", NULL, &circle, 1);
        double centre = attr_num(&d.elems[rect], "x") + attr_num(&d.elems[rect], "width") / 2;
        CHECK(fabs(attr_num(&d.elems[circle], "cx") - centre) < coord_tol, "one epoch: marker not centred");
    }
    xml_free(&d);
    free(svg);

    epoch_metrics e[4];
    for (int i = 0; i < 4; i++) e[i] = (epoch_metrics){0.5, 0.75, NAN, 0.75, 1, 1, 1};
    e[1].loss = INFINITY;
    e[2].accuracy = -INFINITY;
    make_history(&odd, "odd <&\"'\x01 name", e, 4);
    svg = plot_curves_svg(NULL, &odd);
    check_svg(svg, NULL, &odd, "svg (constant, NaN, inf)");
    free(svg);

    /* Extremes: huge, tiny and subnormal values, a negative "accuracy" above 1 elsewhere. */
    epoch_metrics x[4] = {
        {1e300, 4.9e-324, 1e12, -3, 1, 1, 1},
        {1e-300, 0, 1e12, 1, 1, 1, 1},
        {0, 0, NAN, 0.5, 1, 1, 1},
        {-1e300, 4.9e-324, 1e12, 2, 1, 1, 1},
    };
    history extreme;
    make_history(&extreme, "extreme", x, 4);
    svg = plot_curves_svg(&extreme, NULL);
    check_svg(svg, &extreme, NULL, "svg (extreme values)");
    free(svg);
    history_free(&extreme);
    /* A long run: x ticks at a step of 5, from 5 (not 0); a loss near 0 and an accuracy near 1,
     * where the axis margin must not go below 0 or above 1. */
    history long_run;
    history_init(&long_run, "long", 37, 60000, 32);
    for (int i = 0; i < 37; i++) {
        double t = i / 36.0;
        history_add(&long_run, &(epoch_metrics){0.6 * exp(-4 * t) + 0.005, 0.84 + 0.155 * t, 0.33 + 0.04 * t * t,
                                                0.87 + 0.04 * t, 1, 1, 1});
    }
    svg = plot_curves_svg(&long_run, &one);
    check_svg(svg, &long_run, &one, "svg (37 and 1 epochs)");
    free(svg);
    history_free(&long_run);
    history_free(&one);
    history_free(&odd);
}

/* ---- the table: terminal and report.md ----------------------------------------------------- */

static const char table_both[] = "                         without augmentation   with augmentation\n"
                                 "  training loss                        0.1234              0.1876\n"
                                 "  validation loss                      0.2601              0.2488\n"
                                 "  training accuracy                    95.61%              93.02%\n"
                                 "  validation accuracy                  91.40%              91.20%\n"
                                 "  seconds per epoch                      41.2                42.0\n"
                                 "  images per second                      1456                1429\n";
static const char table_plain_only[] = "                         without augmentation   with augmentation\n"
                                       "  training loss                        0.1234                   -\n"
                                       "  validation loss                      0.2601                   -\n"
                                       "  training accuracy                    95.61%                   -\n"
                                       "  validation accuracy                  91.40%                   -\n"
                                       "  seconds per epoch                      41.2                   -\n"
                                       "  images per second                      1456                   -\n";

static void check_table(const history *plain, const history *augmented, const char *want, const char *what) {
    report r = make_report(plain, augmented);
    char *got = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&got, &len);
    report_print_table(&r, f);
    fclose(f);
    CHECK(strcmp(got, want) == 0, "%s: got\n%s\nwant\n%s", what, got, want);
    printf("%-34s %zu bytes as expected\n", what, len);
    free(got);
}

static void check_contains(const char *text, const char *want, const char *what) {
    CHECK(strstr(text, want) != NULL, "%s: missing '%s'", what, want);
}

static void test_markdown(const history *plain, const history *augmented) {
    report r = make_report(plain, augmented);
    r.command_line = "claug run --seed 7 --note ````x````";
    char *md = report_markdown(&r);
    static const char *const rows[] = {
        "| | without augmentation | with augmentation |\n|---|---:|---:|\n",
        "| training loss | 0.1234 | 0.1876 |\n",
        "| validation loss | 0.2601 | 0.2488 |\n",
        "| training accuracy | 95.61% | 93.02% |\n",
        "| validation accuracy | 91.40% | 91.20% |\n",
        "| seconds per epoch | 41.2 | 42.0 |\n",
        "| images per second | 1456 | 1429 |\n",
        "![The first training images](samples.png)",
        "![Augmentations of one training image](augmented.png)",
        "![Loss and accuracy per epoch](curves.svg)",
        /* the fence outgrows the command's own backticks */
        "\n`````sh\nclaug run --seed 7 --note ````x````\n`````\n",
        /* Markdown's active characters are escaped */
        "Intel(R) Xeon \\| pthread-Intel \\[PoCL 5.0\\], 2 compute units",
        "| augmentation | rotation\\_range=10 |\n",
        "| seed | 18446744073709551557 |\n",
        "| learning rate | 0.001 |\n",
        "- Tuning: convolution tuned (/c/tuning-1.txt); CLBlast default parameters (run \\`claug tune\\`)\n",
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) check_contains(md, rows[i], "report.md");
    free(md);

    r = make_report(plain, NULL);
    r.samples_png = NULL;
    md = report_markdown(&r);
    check_contains(md, "| training loss | 0.1234 | - |\n", "report.md (augmented missing)");
    check_contains(md, "| images per second | 1456 | - |\n", "report.md (augmented missing)");
    CHECK(!strstr(md, "samples.png"), "report.md links a picture it was not given");
    /* The malformed byte of the command is replaced in the code block too. */
    CHECK(!strchr(md, '\xff') && strstr(md, "caf\xc3\xa9 \xef\xbf\xbd\n"), "report.md: command not cleaned up");
    free(md);
    printf("report.md: table rows, links, code fence and escaping as expected\n");
}

/* ---- report_write -------------------------------------------------------------------------- */

static char *read_in(const char *dir, const char *name) {
    char *path = xasprintf("%s/%s", dir, name);
    char *text = slurp(path, NULL);
    free(path);
    return text;
}

static void check_file(const char *dir, const char *name, char *want) {
    char *got = read_in(dir, name);
    CHECK(got != NULL, "%s/%s was not written", dir, name);
    CHECK(!got || strcmp(got, want) == 0, "%s/%s differs from what the report function returns", dir, name);
    free(got);
    free(want);
}

static void test_write(const history *plain, const history *augmented) {
    report r = make_report(plain, augmented);
    char err[512] = "";
    const char *dir = scratch_dir("report-both");
    CHECK(report_write(&r, dir, err, sizeof err), "report_write: %s", err);
    /* Keras CSVLogger: epochs from 0, fixed columns, 6 decimals; "nan" as Python writes it. */
    char *csv = read_in(dir, "history-plain.csv");
    const char *want = "epoch,accuracy,loss,val_accuracy,val_loss\n"
                       "0,0.810000,0.520000,0.855000,0.400000\n"
                       "1,0.880000,0.330000,0.880000,0.330000\n"
                       "2,0.910000,0.250000,0.895000,nan\n"
                       "3,0.935000,0.180000,0.905000,0.270000\n"
                       "4,0.956100,0.123440,0.914000,0.260120\n";
    CHECK(csv && strcmp(csv, want) == 0, "history-plain.csv:\n%s\nwant\n%s", csv ? csv : "(missing)", want);
    free(csv);
    csv = read_in(dir, "history-augmented.csv");
    want = "epoch,accuracy,loss,val_accuracy,val_loss\n"
           "0,0.770000,0.610000,0.840000,0.450000\n"
           "1,0.850000,0.410000,0.870000,0.360000\n"
           "2,0.890000,0.300000,0.890000,0.300000\n"
           "3,0.910000,0.230000,0.900000,0.270000\n"
           "4,0.930200,0.187640,0.912000,0.248810\n";
    CHECK(csv && strcmp(csv, want) == 0, "history-augmented.csv:\n%s\nwant\n%s", csv ? csv : "(missing)", want);
    free(csv);
    check_file(dir, "results.json", report_json(&r));
    check_file(dir, "report.md", report_markdown(&r));
    check_file(dir, "curves.svg", plot_curves_svg(plain, augmented));

    r = make_report(plain, NULL);
    dir = scratch_dir("report-plain-only");
    CHECK(report_write(&r, dir, err, sizeof err), "report_write (augmented missing): %s", err);
    char *path = xasprintf("%s/history-augmented.csv", dir);
    struct stat st;
    CHECK(stat(path, &st) != 0, "history-augmented.csv written for a run that did not happen");
    free(path);
    char *json = read_in(dir, "results.json");
    jv *root = json ? parse_json(json, "results.json (augmented missing)") : NULL;
    CHECK(root && jv_path(root, "runs.augmented") && jv_path(root, "runs.augmented")->type == JV_NULL,
          "results.json: runs.augmented should be null");
    jv_free(root);
    free(json);
    char *md = read_in(dir, "report.md");
    CHECK(md && strstr(md, "| validation accuracy | 91.40% | - |\n"), "report.md (augmented missing): no '-' column");
    free(md);
    char *svg = read_in(dir, "curves.svg");
    CHECK(svg != NULL, "curves.svg (augmented missing) not written");
    if (svg) check_svg(svg, plain, NULL, "written curves.svg (plain only)");
    free(svg);

    /* A directory that does not exist: false, and the message names the file. */
    char *missing = xasprintf("%s/no-such-dir", scratch_dir("report-fail"));
    err[0] = 0;
    CHECK(!report_write(&r, missing, err, sizeof err), "report_write into a missing directory succeeded");
    CHECK(strstr(err, "no-such-dir/history-plain.csv") != NULL, "error does not name the file: '%s'", err);
    printf("report_write: all files, none for a missing run; failure says: %s\n", err);
    free(missing);
}

int main(void) {
    history plain, augmented;
    make_history(&plain, "plain", plain_epochs, 5);
    make_history(&augmented, "augmented", augmented_epochs, 5);
    test_json(&plain, &augmented);
    test_json(&plain, NULL);
    test_json_empty_run();
    test_svg(&plain, &augmented);
    test_svg_edge_cases();
    check_table(&plain, &augmented, table_both, "table (both runs)");
    check_table(&plain, NULL, table_plain_only, "table (augmented missing)");
    test_markdown(&plain, &augmented);
    test_write(&plain, &augmented);
    history_free(&plain);
    history_free(&augmented);
    return check_done("test_report");
}
