/* report.md: the table's rows, the pictures' links, a code fence longer than the command's own
 * backticks, Markdown's active characters escaped, a missing run and a missing picture. */
/* ctest: labels=host timeout=60 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report_fixture.h"

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

int main(void) { return fixture_run("test_report_markdown", test_markdown); }
