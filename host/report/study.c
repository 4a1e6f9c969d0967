#include "claug/report/study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "claug/report/report.h"
#include "claug/util/json.h"
#include "claug/util/strbuf.h"

const char *const study_metric_names[STUDY_METRICS] = {"val_accuracy", "val_loss", "accuracy", "loss"};
static const char *const arm_names[2] = {"plain", "augmented"};

static double metric_of(const study_result *r, int m) {
    switch (m) {
    case STUDY_VAL_ACCURACY: return r->val_accuracy;
    case STUDY_VAL_LOSS: return r->val_loss;
    case STUDY_ACCURACY: return r->accuracy;
    default: return r->loss;
    }
}

static const study_result *find(const study_summary *s, int size, bool augmented, uint64_t seed) {
    for (int i = 0; i < s->nresults; i++)
        if (s->results[i].size == size && s->results[i].augmented == augmented && s->results[i].seed == seed)
            return &s->results[i];
    return NULL;
}

void study_size_stats_of(const study_summary *s, int size_index, study_size_stats *out) {
    int size = s->sizes[size_index], k = s->nseeds;
    double *x = xmalloc((size_t)(k ? k : 1) * sizeof *x);
    /* Seeds in the study's order, so the statistics never depend on the order cells arrived. */
    for (int arm = 0; arm < 2; arm++)
        for (int m = 0; m < STUDY_METRICS; m++) {
            int n = 0;
            for (int j = 0; j < k; j++) {
                const study_result *r = find(s, size, arm, s->seeds[j]);
                if (r) x[n++] = metric_of(r, m);
            }
            out->arm[arm][m] = sample_stats_of(x, n);
        }
    for (int m = 0; m < STUDY_METRICS + NUM_CLASSES; m++) {
        int n = 0;
        for (int j = 0; j < k; j++) {
            const study_result *p = find(s, size, false, s->seeds[j]), *a = find(s, size, true, s->seeds[j]);
            if (!p || !a) continue;
            x[n++] = m < STUDY_METRICS ? metric_of(a, m) - metric_of(p, m)
                                       : a->class_accuracy[m - STUDY_METRICS] - p->class_accuracy[m - STUDY_METRICS];
        }
        if (m < STUDY_METRICS)
            out->diff[m] = sample_stats_of(x, n);
        else
            out->class_diff[m - STUDY_METRICS] = sample_stats_of(x, n);
    }
    free(x);
}

/* ---- the sentence ---------------------------------------------------------------------------- */

/* "p = 0.003", "p < 0.001" */
static void format_p(char *buf, size_t len, double p) {
    if (p < 0.001)
        snprintf(buf, len, "p < 0.001");
    else
        snprintf(buf, len, "p = %.3g", p);
}

/* One clause: what augmentation does to a metric, given the paired differences' statistics.
 * scale 100 and unit " pp" for accuracies. A change is claimed only where the 95% interval
 * excludes zero (the paired t-test at 5%). */
static void clause(strbuf *b, const sample_stats *d, const char *what, double scale, const char *unit, int decimals) {
    char p[32];
    format_p(p, sizeof p, d->p);
    if (d->n < 2) {
        sb_printf(b, "%s %+.*f%s (one pair: no interval)", what, decimals, d->mean * scale, unit);
    } else if (d->ci_low > 0 || d->ci_high < 0) {
        sb_printf(b, "augmentation %s %s by %.*f%s (95%% CI %.*f to %.*f, %s)", d->mean > 0 ? "raises" : "lowers", what,
                  decimals, fabs(d->mean) * scale, unit, decimals, fabs(d->mean > 0 ? d->ci_low : d->ci_high) * scale,
                  decimals, fabs(d->mean > 0 ? d->ci_high : d->ci_low) * scale, p);
    } else {
        sb_printf(b, "no detectable change in %s (%+.*f%s, 95%% CI %+.*f to %+.*f, %s)", what, decimals, d->mean * scale,
                  unit, decimals, d->ci_low * scale, decimals, d->ci_high * scale, p);
    }
}

char *study_sentence(const study_size_stats *st) {
    strbuf b = {0};
    if (st->diff[STUDY_VAL_LOSS].n == 0) {
        sb_append(&b, "no complete pair of cells yet");
        return sb_take(&b);
    }
    clause(&b, &st->diff[STUDY_VAL_LOSS], "validation loss", 1, "", 3);
    sb_append(&b, "; ");
    clause(&b, &st->diff[STUDY_VAL_ACCURACY], "validation accuracy", 100, " pp", 2);
    sb_printf(&b, " (%d paired seeds)", st->diff[STUDY_VAL_LOSS].n);
    return sb_take(&b);
}

/* ---- summary.json ---------------------------------------------------------------------------- */

static void json_stats(json_writer *w, const sample_stats *s, bool test) {
    json_object_begin(w);
    json_int(json_key(w, "n"), s->n);
    json_number(json_key(w, "mean"), s->mean);
    json_number(json_key(w, "sd"), s->sd);
    json_number(json_key(w, "ci_low"), s->ci_low);
    json_number(json_key(w, "ci_high"), s->ci_high);
    if (test) {
        json_number(json_key(w, "t"), s->t);
        json_number(json_key(w, "p_value"), s->p);
    }
    json_object_end(w);
}

char *study_summary_json(const study_summary *s) {
    strbuf b = {0};
    json_writer w;
    json_init(&w, &b);
    json_object_begin(&w);
    json_string(json_key(&w, "format"), "claug-study-summary");
    json_int(json_key(&w, "version"), 1);
    json_string(json_key(&w, "model"), s->model);
    json_string(json_key(&w, "augmentation"), s->augmentation);
    json_array_begin_inline(json_key(&w, "seeds"));
    for (int j = 0; j < s->nseeds; j++) json_uint(&w, s->seeds[j]);
    json_array_end(&w);
    json_int(json_key(&w, "cells_expected"), 2L * s->nsizes * s->nseeds);
    json_int(json_key(&w, "cells_present"), s->nresults);
    json_array_begin(json_key(&w, "missing"));
    for (int i = 0; i < s->nmissing; i++) json_string(&w, s->missing[i]);
    json_array_end(&w);
    json_array_begin(json_key(&w, "devices"));
    for (int i = 0; i < s->ndevices; i++) json_string(&w, s->devices[i]);
    json_array_end(&w);
    json_array_begin(json_key(&w, "sizes"));
    for (int i = 0; i < s->nsizes; i++) {
        study_size_stats st;
        study_size_stats_of(s, i, &st);
        json_object_begin(&w);
        json_int(json_key(&w, "size"), s->sizes[i]);
        json_int(json_key(&w, "epochs"), s->epochs[i]);
        for (int arm = 0; arm < 2; arm++) {
            json_object_begin(json_key(&w, arm_names[arm]));
            for (int m = 0; m < STUDY_METRICS; m++) json_stats(json_key(&w, study_metric_names[m]), &st.arm[arm][m], false);
            json_object_end(&w);
        }
        json_object_begin(json_key(&w, "difference"));
        for (int m = 0; m < STUDY_METRICS; m++) json_stats(json_key(&w, study_metric_names[m]), &st.diff[m], true);
        json_object_end(&w);
        json_object_begin(json_key(&w, "val_accuracy_per_class_difference"));
        for (int c = 0; c < NUM_CLASSES; c++) json_stats(json_key(&w, class_names[c]), &st.class_diff[c], true);
        json_object_end(&w);
        char *sentence = study_sentence(&st);
        json_string(json_key(&w, "sentence"), sentence);
        free(sentence);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_object_end(&w);
    sb_putc(&b, '\n');
    return sb_take(&b);
}

/* ---- summary.csv: one row per (size, arm or difference, metric), a tidy table ------------------ */

static void csv_number(strbuf *b, double v) {
    if (isfinite(v))
        sb_printf(b, ",%.17g", v);
    else
        sb_append(b, ",");
}

static void csv_row(strbuf *b, int size, const char *arm, const char *metric, const sample_stats *st, bool test) {
    sb_printf(b, "%d,%s,%s,%d", size, arm, metric, st->n);
    csv_number(b, st->mean);
    csv_number(b, st->sd);
    csv_number(b, st->ci_low);
    csv_number(b, st->ci_high);
    csv_number(b, test ? st->p : NAN);
    sb_putc(b, '\n');
}

char *study_summary_csv(const study_summary *s) {
    strbuf b = {0};
    sb_append(&b, "size,arm,metric,n,mean,sd,ci_low,ci_high,p_value\n");
    for (int i = 0; i < s->nsizes; i++) {
        study_size_stats st;
        study_size_stats_of(s, i, &st);
        for (int arm = 0; arm < 2; arm++)
            for (int m = 0; m < STUDY_METRICS; m++)
                csv_row(&b, s->sizes[i], arm_names[arm], study_metric_names[m], &st.arm[arm][m], false);
        for (int m = 0; m < STUDY_METRICS; m++)
            csv_row(&b, s->sizes[i], "augmented-plain", study_metric_names[m], &st.diff[m], true);
        for (int c = 0; c < NUM_CLASSES; c++) {
            char name[64];
            snprintf(name, sizeof name, "val_accuracy[%s]", class_names[c]);
            csv_row(&b, s->sizes[i], "augmented-plain", name, &st.class_diff[c], true);
        }
    }
    return sb_take(&b);
}

/* ---- report.md and the terminal table ---------------------------------------------------------- */

/* "0.8123 ± 0.0041" (mean ± sd), "0.8123" for one seed, "-" for none. */
static void mean_sd(char *buf, size_t len, const sample_stats *st, double scale, int decimals) {
    if (st->n == 0)
        snprintf(buf, len, "-");
    else if (st->n == 1)
        snprintf(buf, len, "%.*f", decimals, st->mean * scale);
    else
        snprintf(buf, len, "%.*f ± %.*f", decimals, st->mean * scale, decimals, st->sd * scale);
}

/* "-0.30 [-1.10, 0.50] p=0.41" */
static void diff_text(char *buf, size_t len, const sample_stats *st, double scale, int decimals) {
    if (st->n == 0)
        snprintf(buf, len, "-");
    else if (st->n == 1)
        snprintf(buf, len, "%+.*f", decimals, st->mean * scale);
    else {
        char p[32];
        format_p(p, sizeof p, st->p);
        snprintf(buf, len, "%+.*f [%+.*f, %+.*f] %s", decimals, st->mean * scale, decimals, st->ci_low * scale, decimals,
                 st->ci_high * scale, p);
    }
}

/* The table's columns: validation accuracy (%), validation loss, training accuracy (%), loss. */
static const double col_scale[STUDY_METRICS] = {100, 1, 100, 1};
static const int col_decimals[STUDY_METRICS] = {2, 4, 2, 4};

void study_print_table(const study_summary *s, FILE *f) {
    fprintf(f, "%7s %6s  %-17s %-32s %-32s %-17s %-17s\n", "size", "epochs", "arm", "val_accuracy %", "val_loss",
            "accuracy %", "loss");
    for (int i = 0; i < s->nsizes; i++) {
        study_size_stats st;
        study_size_stats_of(s, i, &st);
        for (int row = 0; row < 3; row++) {
            char cell[STUDY_METRICS][64];
            for (int m = 0; m < STUDY_METRICS; m++) {
                if (row < 2)
                    mean_sd(cell[m], sizeof cell[m], &st.arm[row][m], col_scale[m], col_decimals[m]);
                else
                    diff_text(cell[m], sizeof cell[m], &st.diff[m], col_scale[m], col_decimals[m]);
            }
            char label[32];
            snprintf(label, sizeof label, "%s (n=%d)", row < 2 ? arm_names[row] : "difference",
                     row < 2 ? st.arm[row][0].n : st.diff[0].n);
            if (row == 0)
                fprintf(f, "%7d %6d  ", s->sizes[i], s->epochs[i]);
            else
                fprintf(f, "%7s %6s  ", "", "");
            /* "±" is two bytes and one column: pad by display width. */
            fprintf(f, "%-17s %-*s %-*s %-*s %-*s\n", label, 32 + (strstr(cell[0], "±") ? 1 : 0), cell[0],
                    32 + (strstr(cell[1], "±") ? 1 : 0), cell[1], 17 + (strstr(cell[2], "±") ? 1 : 0), cell[2],
                    17 + (strstr(cell[3], "±") ? 1 : 0), cell[3]);
        }
    }
    fprintf(f, "\n");
    for (int i = 0; i < s->nsizes; i++) {
        study_size_stats st;
        study_size_stats_of(s, i, &st);
        char *sentence = study_sentence(&st);
        fprintf(f, "%d images: %s.\n", s->sizes[i], sentence);
        free(sentence);
    }
    if (s->nmissing) fprintf(f, "\n%d of %d cells missing (first: %s).\n", s->nmissing, 2 * s->nsizes * s->nseeds, s->missing[0]);
}

char *study_summary_markdown(const study_summary *s) {
    strbuf b = {0};
    sb_append(&b, "# claug study: does augmentation help, and at which training-set size?\n\n");
    sb_printf(&b, "Model `%s`; augmentation `%s`; %d seeds per size and arm (paired: both arms of a seed start from "
                  "the same weights, subset and order). %d of %d cells present.\n\n",
              s->model, s->augmentation, s->nseeds, s->nresults, 2 * s->nsizes * s->nseeds);
    for (int i = 0; i < s->nsizes; i++) {
        study_size_stats st;
        study_size_stats_of(s, i, &st);
        char *sentence = study_sentence(&st);
        sb_printf(&b, "- **%d images** (%d epochs): %s.\n", s->sizes[i], s->epochs[i], sentence);
        free(sentence);
    }
    sb_append(&b, "\n![Validation accuracy and loss against training-set size](study.svg)\n\n");
    sb_append(&b, "## Final metrics (mean ± sd over seeds; difference: augmented - plain, mean [95% CI], paired t-test)\n\n");
    sb_append(&b, "| size | epochs | arm | n | val_accuracy % | val_loss | accuracy % | loss |\n");
    sb_append(&b, "|---:|---:|---|---:|---|---|---|---|\n");
    for (int i = 0; i < s->nsizes; i++) {
        study_size_stats st;
        study_size_stats_of(s, i, &st);
        for (int row = 0; row < 3; row++) {
            sb_printf(&b, "| %d | %d | %s | %d |", s->sizes[i], s->epochs[i], row < 2 ? arm_names[row] : "difference",
                      row < 2 ? st.arm[row][0].n : st.diff[0].n);
            for (int m = 0; m < STUDY_METRICS; m++) {
                char cell[64];
                if (row < 2)
                    mean_sd(cell, sizeof cell, &st.arm[row][m], col_scale[m], col_decimals[m]);
                else
                    diff_text(cell, sizeof cell, &st.diff[m], col_scale[m], col_decimals[m]);
                sb_printf(&b, " %s |", cell);
            }
            sb_putc(&b, '\n');
        }
    }
    sb_append(&b, "\n## Validation accuracy per class: augmented - plain, percentage points, mean [95% CI]\n\n| class |");
    for (int i = 0; i < s->nsizes; i++) sb_printf(&b, " %d images |", s->sizes[i]);
    sb_append(&b, "\n|---|");
    for (int i = 0; i < s->nsizes; i++) sb_append(&b, "---|");
    sb_putc(&b, '\n');
    study_size_stats *st = xmalloc((size_t)(s->nsizes ? s->nsizes : 1) * sizeof *st);
    for (int i = 0; i < s->nsizes; i++) study_size_stats_of(s, i, &st[i]);
    for (int c = 0; c < NUM_CLASSES; c++) {
        sb_printf(&b, "| %s |", class_names[c]);
        for (int i = 0; i < s->nsizes; i++) {
            char cell[64];
            diff_text(cell, sizeof cell, &st[i].class_diff[c], 100, 2);
            sb_printf(&b, " %s |", cell);
        }
        sb_putc(&b, '\n');
    }
    free(st);
    if (s->ndevices) {
        sb_append(&b, "\n## Devices\n\n");
        for (int i = 0; i < s->ndevices; i++) sb_printf(&b, "- %s\n", s->devices[i]);
    }
    if (s->nmissing) {
        sb_printf(&b, "\n## Missing cells (%d)\n\n", s->nmissing);
        for (int i = 0; i < s->nmissing; i++) sb_printf(&b, "- %s\n", s->missing[i]);
    }
    if (s->command) sb_printf(&b, "\n## Reproduce\n\n```sh\n%s\n```\n", s->command);
    return sb_take(&b);
}

bool study_summary_write(const study_summary *s, const char *dir, char *err, size_t errlen) {
    return report_write_text(dir, "summary.json", study_summary_json(s), err, errlen) &&
           report_write_text(dir, "summary.csv", study_summary_csv(s), err, errlen) &&
           report_write_text(dir, "study.svg", plot_study_svg(s), err, errlen) &&
           report_write_text(dir, "report.md", study_summary_markdown(s), err, errlen);
}
