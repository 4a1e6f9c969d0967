/* The tutorial's table on the terminal, for both runs and with one missing, to the byte. */
/* ctest: labels=host timeout=60 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report_fixture.h"

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

int main(void) {
    history plain, augmented;
    fixture_histories(&plain, &augmented);
    check_table(&plain, &augmented, table_both, "table (both runs)");
    check_table(&plain, NULL, table_plain_only, "table (augmented missing)");
    fixture_free(&plain, &augmented);
    return check_done("test_report_table");
}
