/* report_write's directory: Keras CSVLogger's history files line by line, the other files equal
 * to what the report functions return, nothing for a run that did not happen, and a directory
 * that does not exist refused with the file named. */
/* ctest: labels=host timeout=60 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "report_fixture.h"
#include "svg_check.h"

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

int main(void) { return fixture_run("test_report_write", test_write); }
