/* The report tests' material: two synthetic five-epoch histories with known values and the
 * report of a run around them, with a command line that holds what JSON and Markdown must
 * escape. */
#ifndef CLAUG_REPORT_FIXTURE_H
#define CLAUG_REPORT_FIXTURE_H

#include "claug/model/history.h"
#include "claug/report/report.h"
#include "json_check.h"

extern const epoch_metrics plain_epochs[5], augmented_epochs[5];
/* The command line as given (one malformed UTF-8 byte included) and as JSON must decode it. */
extern const char fixture_command[], fixture_command_decoded[];

void make_history(history *h, const char *name, const epoch_metrics *e, int n);
/* "plain" and "augmented" from the two tables above; fixture_free releases them. */
void fixture_histories(history *plain, history *augmented);
void fixture_free(history *plain, history *augmented);
/* test on the fixture's histories; returns check_done(name). */
int fixture_run(const char *name, void (*test)(const history *plain, const history *augmented));
/* A report of a run on a PoCL CPU with fixed version, date and seed (beyond 2^53). */
report make_report(const history *plain, const history *augmented);
/* The tree of text, CHECKed to be valid JSON without a NaN or infinity literal; NULL if not. */
jv *parse_json(const char *text, const char *what);

#endif
