/* The experiment's outputs: results.json, the history CSVs, curves.svg, report.md, and the
 * tutorial's table on the terminal. */
#include "claug/report/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/data/dataset.h"
#include "claug/util/json.h"
#include "claug/util/strbuf.h"
#include "claug/util/util.h"

/* ---- the tutorial's table: one definition for the terminal and for report.md ---------------- */

static const char *const column_title[2] = {"without augmentation", "with augmentation"};

typedef enum { AS_LOSS, AS_PERCENT, AS_SECONDS, AS_RATE } cell_format;

static const epoch_metrics *last(const history *h) { return &h->epoch[h->epochs - 1]; }
static double final_loss(const history *h) { return last(h)->loss; }
static double final_val_loss(const history *h) { return last(h)->val_loss; }
static double final_accuracy(const history *h) { return last(h)->accuracy; }
static double final_val_accuracy(const history *h) { return last(h)->val_accuracy; }
static double seconds_per_epoch(const history *h) { return history_median_epoch_seconds(h); }
/* From the median epoch, like seconds per epoch, so the two rows agree. */
static double images_per_second(const history *h) {
    double s = history_median_epoch_seconds(h);
    return s > 0 ? h->train_images / s : NAN;
}

typedef struct {
    const char *label;
    double (*value)(const history *);
    cell_format format;
} table_row;

static const table_row table_rows[] = {
    {"training loss", final_loss, AS_LOSS},
    {"validation loss", final_val_loss, AS_LOSS},
    {"training accuracy", final_accuracy, AS_PERCENT},
    {"validation accuracy", final_val_accuracy, AS_PERCENT},
    {"seconds per epoch", seconds_per_epoch, AS_SECONDS},
    {"images per second", images_per_second, AS_RATE},
};
enum { TABLE_ROWS = sizeof table_rows / sizeof table_rows[0] };

/* "-" for a run that did not happen; a NaN loss is shown as such, not hidden. */
static void format_cell(char *buf, size_t n, const table_row *row, const history *h) {
    if (!h || h->epochs == 0) {
        snprintf(buf, n, "-");
        return;
    }
    double v = row->value(h);
    if (isnan(v)) snprintf(buf, n, "nan");
    else if (isinf(v)) snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else if (row->format == AS_LOSS) snprintf(buf, n, "%.4f", v);
    else if (row->format == AS_PERCENT) snprintf(buf, n, "%.2f%%", 100 * v);
    else if (row->format == AS_SECONDS) snprintf(buf, n, "%.1f", v);
    else snprintf(buf, n, "%.0f", v);
}

void report_print_table(const report *r, FILE *f) {
    const history *runs[2] = {r->plain, r->augmented};
    fprintf(f, "  %-23s%20s%20s\n", "", column_title[0], column_title[1]);
    for (int i = 0; i < TABLE_ROWS; i++) {
        char cell[2][48];
        for (int c = 0; c < 2; c++) format_cell(cell[c], sizeof cell[c], &table_rows[i], runs[c]);
        fprintf(f, "  %-23s%20s%20s\n", table_rows[i].label, cell[0], cell[1]);
    }
}

/* ---- results.json -------------------------------------------------------------------------- */

/* The runs' objects: their history, final metrics, timings and confusion matrix (rows true). */
static void json_run(json_writer *w, const history *h, const int *confusion) {
    if (!h) {
        json_null(w);
        return;
    }
    json_object_begin(w);
    json_int(json_key(w, "epochs"), h->epochs);
    json_int(json_key(w, "train_images"), h->train_images);
    json_int(json_key(w, "batch_size"), h->batch_size);
    json_array_begin(json_key(w, "history"));
    for (int i = 0; i < h->epochs; i++) {
        const epoch_metrics *e = &h->epoch[i];
        json_object_begin(w);
        json_int(json_key(w, "epoch"), i + 1);
        json_number(json_key(w, "loss"), e->loss);
        json_number(json_key(w, "accuracy"), e->accuracy);
        json_number(json_key(w, "val_loss"), e->val_loss);
        json_number(json_key(w, "val_accuracy"), e->val_accuracy);
        json_number(json_key(w, "train_seconds"), e->train_seconds);
        json_number(json_key(w, "val_seconds"), e->val_seconds);
        json_number(json_key(w, "images_per_second"), e->images_per_second);
        json_object_end(w);
    }
    json_array_end(w);
    json_key(w, "final");
    if (h->epochs > 0) {
        json_object_begin(w);
        json_number(json_key(w, "loss"), final_loss(h));
        json_number(json_key(w, "accuracy"), final_accuracy(h));
        json_number(json_key(w, "val_loss"), final_val_loss(h));
        json_number(json_key(w, "val_accuracy"), final_val_accuracy(h));
        json_object_end(w);
    } else json_null(w);
    json_number(json_key(w, "median_seconds_per_epoch"), h->epochs > 0 ? seconds_per_epoch(h) : NAN);
    json_number(json_key(w, "images_per_second"), h->epochs > 0 ? images_per_second(h) : NAN);
    json_key(w, "confusion");
    if (confusion) {
        json_array_begin(w);
        for (int t = 0; t < NUM_CLASSES; t++) {
            json_array_begin(w);
            for (int p = 0; p < NUM_CLASSES; p++) json_int(w, confusion[t * NUM_CLASSES + p]);
            json_array_end(w);
        }
        json_array_end(w);
    } else json_null(w);
    json_object_end(w);
}

char *report_json(const report *r) {
    strbuf b = {0};
    json_writer w;
    json_init(&w, &b);
    json_object_begin(&w);
    json_string(json_key(&w, "version"), r->version);
    json_string(json_key(&w, "commit"), r->commit);
    json_string(json_key(&w, "date"), r->date);
    json_string(json_key(&w, "command"), r->command_line);

    json_object_begin(json_key(&w, "config"));
    json_string(json_key(&w, "model"), r->model);
    json_int(json_key(&w, "parameters"), r->parameters);
    json_int(json_key(&w, "epochs"), r->epochs);
    json_int(json_key(&w, "batch_size"), r->batch_size);
    json_number(json_key(&w, "lr"), r->lr);
    json_uint(json_key(&w, "seed"), r->seed);
    json_int(json_key(&w, "train_size"), r->train_size);
    json_int(json_key(&w, "test_size"), r->test_size);
    json_string(json_key(&w, "augmentation"), r->augmentation);
    json_object_end(&w);

    json_object_begin(json_key(&w, "device"));
    json_string(json_key(&w, "name"), r->device_name);
    json_string(json_key(&w, "vendor"), r->device_vendor);
    json_string(json_key(&w, "type"), r->device_type);
    json_string(json_key(&w, "driver"), r->driver);
    json_string(json_key(&w, "platform"), r->platform);
    json_string(json_key(&w, "opencl_c"), r->opencl_c);
    json_uint(json_key(&w, "compute_units"), r->compute_units);
    json_string(json_key(&w, "description"), r->device);
    json_object_end(&w);
    json_string(json_key(&w, "tuning"), r->tuning);

    json_object_begin(json_key(&w, "runs"));
    json_run(json_key(&w, "plain"), r->plain, r->plain_confusion);
    json_run(json_key(&w, "augmented"), r->augmented, r->augmented_confusion);
    json_object_end(&w);
    json_object_end(&w);
    sb_putc(&b, '\n');
    return sb_take(&b);
}

/* ---- report.md ----------------------------------------------------------------------------- */

/* Text as UTF-8, a malformed byte replaced by U+FFFD. With `escape` (a paragraph or a table
 * cell) the characters Markdown would act on are backslash-escaped and line breaks, which
 * would end a table row, become spaces; without (a code block) the rest is kept as is. NULL
 * shows as "-". */
static void md_text(strbuf *b, const char *s, bool escape) {
    if (!s) s = "-";
    while (*s) {
        int n = utf8_length(s);
        if (n < 0) sb_append(b, "\xEF\xBF\xBD");
        else if (escape && (unsigned char)*s < 0x20) sb_putc(b, ' ');
        else {
            if (escape && strchr("\\`*_[]<>|~&", *s)) sb_putc(b, '\\');
            sb_append_n(b, s, (size_t)n);
        }
        s += n < 0 ? 1 : n;
    }
}

/* A relative link to a file in the run directory; percent-encoded so spaces or parentheses in
 * the name cannot end the link early. */
static void md_image(strbuf *b, const char *alt, const char *file) {
    if (!file) return;
    sb_printf(b, "![%s](", alt);
    for (const unsigned char *p = (const unsigned char *)file; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
            sb_putc(b, (char)*p);
        else sb_printf(b, "%%%02X", *p);
    }
    sb_append(b, ")\n\n");
}

static void md_setting(strbuf *b, const char *name, const char *value) {
    sb_printf(b, "| %s | ", name);
    md_text(b, value, true);
    sb_append(b, " |\n");
}

/* A fenced block whose fence is longer than any run of backticks inside, so a command with
 * backticks cannot close it. */
static void md_code_block(strbuf *b, const char *lang, const char *code) {
    int longest = 0, run = 0;
    for (const char *p = code; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    int fence = longest < 3 ? 3 : longest + 1;
    for (int i = 0; i < fence; i++) sb_putc(b, '`');
    sb_printf(b, "%s\n", lang);
    md_text(b, code, false);
    sb_putc(b, '\n');
    for (int i = 0; i < fence; i++) sb_putc(b, '`');
    sb_putc(b, '\n');
}

char *report_markdown(const report *r) {
    strbuf b = {0};
    char num[64];
    sb_append(&b, "# claug: Fashion-MNIST without and with data augmentation\n\n");
    sb_append(&b, "- Device: ");
    md_text(&b, r->device, true);
    sb_append(&b, "\n- Tuning: ");
    md_text(&b, r->tuning, true);
    sb_append(&b, "\n- Date: ");
    md_text(&b, r->date, true);
    sb_append(&b, "\n- claug ");
    md_text(&b, r->version, true);
    sb_append(&b, ", commit ");
    md_text(&b, r->commit, true);
    sb_append(&b, "\n\n## Configuration\n\n| setting | value |\n|---|---|\n");
    md_setting(&b, "model", r->model);
    snprintf(num, sizeof num, "%ld", r->parameters);
    md_setting(&b, "parameters", num);
    snprintf(num, sizeof num, "%d", r->epochs);
    md_setting(&b, "epochs", num);
    snprintf(num, sizeof num, "%d", r->batch_size);
    md_setting(&b, "batch size", num);
    snprintf(num, sizeof num, "%g", r->lr);
    md_setting(&b, "learning rate", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)r->seed);
    md_setting(&b, "seed", num);
    snprintf(num, sizeof num, "%d", r->train_size);
    md_setting(&b, "training images", num);
    snprintf(num, sizeof num, "%d", r->test_size);
    md_setting(&b, "test images", num);
    md_setting(&b, "augmentation", r->augmentation);

    const history *runs[2] = {r->plain, r->augmented};
    sb_printf(&b, "\n## Results\n\n| | %s | %s |\n|---|---:|---:|\n", column_title[0], column_title[1]);
    for (int i = 0; i < TABLE_ROWS; i++) {
        char cell[2][48];
        for (int c = 0; c < 2; c++) format_cell(cell[c], sizeof cell[c], &table_rows[i], runs[c]);
        sb_printf(&b, "| %s | %s | %s |\n", table_rows[i].label, cell[0], cell[1]);
    }
    sb_append(&b, "\nLosses and accuracies are the last epoch's; seconds per epoch is the median over the epochs "
                  "(training only), images per second the training images over that median.\n\n## Pictures\n\n");
    md_image(&b, "The first training images", r->samples_png);
    md_image(&b, "Augmentations of one training image", r->augmented_png);
    md_image(&b, "Loss and accuracy per epoch", "curves.svg");
    if (r->plain_confusion || r->augmented_confusion)
        md_image(&b, "Confusion matrices of the last validation (rows: true class, columns: predicted)", "confusion.svg");
    sb_append(&b, "## Reproduce\n\n");
    md_code_block(&b, "sh", r->command_line ? r->command_line : "claug run");
    return sb_take(&b);
}

/* ---- the run directory --------------------------------------------------------------------- */

bool report_write_text(const char *dir, const char *name, char *text, char *err, size_t errlen) {
    char *path = xasprintf("%s/%s", dir, name);
    bool ok = write_file(path, text, strlen(text));
    if (!ok) snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    free(path);
    free(text);
    return ok;
}

static bool write_csv(const char *dir, const history *h, const char *name, char *err, size_t errlen) {
    if (!h) return true;
    char *path = xasprintf("%s/%s", dir, name);
    bool ok = history_write_csv(h, path);
    if (!ok) snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    free(path);
    return ok;
}

bool report_write(const report *r, const char *dir, char *err, size_t errlen) {
    return write_csv(dir, r->plain, "history-plain.csv", err, errlen) &&
           write_csv(dir, r->augmented, "history-augmented.csv", err, errlen) &&
           report_write_text(dir, "curves.svg", plot_curves_svg(r->plain, r->augmented), err, errlen) &&
           ((!r->plain_confusion && !r->augmented_confusion) ||
            report_write_text(dir, "confusion.svg", plot_confusion_svg(r->plain_confusion, r->augmented_confusion), err,
                              errlen)) &&
           report_write_text(dir, "results.json", report_json(r), err, errlen) &&
           report_write_text(dir, "report.md", report_markdown(r), err, errlen);
}
