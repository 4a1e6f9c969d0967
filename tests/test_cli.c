/* Command-line parsing: help, unknown commands and options, bad values, options that do not
 * apply; each bad use exits 2 with a message naming the flag. */
/* ctest: labels=e2e timeout=60 */
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void expect(int want_rc, const char *phrase, const char *const *args) {
    char *out, *err;
    int rc = run_claug(&out, &err, args);
    const char *text = want_rc == 0 ? out : err;
    CHECK(rc == want_rc && strstr(text, phrase), "claug %s ...: exit %d (want %d), output lacks '%s':\n%s%s", args[0],
          rc, want_rc, phrase, out, err);
    free(out);
    free(err);
}

int main(void) {
    expect(0, "usage: claug", (const char *[]){"--help", NULL});
    expect(0, "claug 0.", (const char *[]){"--version", NULL});
    expect(0, "usage: claug samples", (const char *[]){"samples", "--help", NULL});
    expect(0, "--device", (const char *[]){"samples", "-h", NULL});
    expect(EXIT_USAGE, "usage: claug", (const char *[]){NULL});
    expect(EXIT_USAGE, "unknown command 'fly'", (const char *[]){"fly", NULL});
    expect(EXIT_USAGE, "unknown option '--fast'", (const char *[]){"samples", "--fast", NULL});
    expect(EXIT_USAGE, "-n expects a whole number from 1 to 100, got 'many'", (const char *[]){"samples", "-n", "many", NULL});
    expect(EXIT_USAGE, "-n expects a whole number from 1 to 100, got '0'", (const char *[]){"samples", "-n", "0", NULL});
    expect(EXIT_USAGE, "-n expects a whole number from 1 to 100, got '5x'", (const char *[]){"samples", "-n5x", NULL});
    expect(EXIT_USAGE, "--seed expects a whole number from 0 to 18446744073709551615, got '-3'",
           (const char *[]){"samples", "--seed", "-3", NULL});
    /* Numbers are the whole token: no blanks, no signs where none makes sense, no other bases,
     * overflow detected. */
    expect(EXIT_USAGE, "--seed expects a whole number from 0 to 18446744073709551615, got ' -1'",
           (const char *[]){"samples", "--seed", " -1", NULL});
    expect(EXIT_USAGE, "--seed expects a whole number from 0 to 18446744073709551615, got '18446744073709551616'",
           (const char *[]){"samples", "--seed", "18446744073709551616", NULL});
    expect(EXIT_USAGE, "--seed expects a whole number from 0 to 18446744073709551615, got '0x10'",
           (const char *[]){"samples", "--seed", "0x10", NULL});
    expect(EXIT_USAGE, "--epochs expects a whole number from 1 to 100000, got ' 3'",
           (const char *[]){"train", "--epochs", " 3", NULL});
    expect(EXIT_USAGE, "--epochs expects a whole number from 1 to 100000, got '+3'",
           (const char *[]){"train", "--epochs", "+3", NULL});
    expect(EXIT_USAGE, "--batch-size expects a whole number from 1 to 8192, got '99999999999999999999'",
           (const char *[]){"train", "--batch-size", "99999999999999999999", NULL});
    expect(EXIT_USAGE, "--lr expects a learning rate from 1e-10 to 10, got 1e+300",
           (const char *[]){"train", "--lr", "1e300", NULL});
    expect(EXIT_USAGE, "--lr expects a learning rate from 1e-10 to 10, got 1e-50",
           (const char *[]){"train", "--lr", "1e-50", NULL});
    expect(EXIT_USAGE, "--lr expects a learning rate from 1e-10 to 10, got -0.001",
           (const char *[]){"train", "--lr", "-0.001", NULL});
    expect(EXIT_USAGE, "--lr expects a number, got '1e999'", (const char *[]){"train", "--lr", "1e999", NULL});
    expect(EXIT_USAGE, "--lr expects a number, got 'nan'", (const char *[]){"train", "--lr", "nan", NULL});
    expect(EXIT_USAGE, "--lr expects a number, got ' 0.001'", (const char *[]){"train", "--lr", " 0.001", NULL});
    expect(EXIT_USAGE, "--rotation-range expects a number, got 'inf'",
           (const char *[]){"train", "--rotation-range", "inf", NULL});
    expect(EXIT_USAGE, "--model: token 2 '': empty", (const char *[]){"train", "--model", "conv4x3,,,relu,flatten,dense10,softmax", NULL});
    expect(EXIT_USAGE, "--model: token 5 '': empty", (const char *[]){"train", "--model", "conv4x3,relu,flatten,dense10,", NULL});
    expect(EXIT_USAGE, "--model: token 1 'dropout 0.5': expected dropoutR",
           (const char *[]){"train", "--model", "dropout 0.5,flatten,dense10,softmax", NULL});
    expect(EXIT_USAGE, "-o/--output needs a value", (const char *[]){"samples", "-o", NULL});
    expect(EXIT_USAGE, "--quiet takes no value", (const char *[]){"samples", "--quiet=yes", NULL});
    expect(EXIT_USAGE, "option -n does not apply to `devices`", (const char *[]){"devices", "-n", "3", NULL});
    expect(EXIT_USAGE, "unexpected argument 'extra'", (const char *[]){"devices", "extra", NULL});
    expect(EXIT_USAGE, "-o /nonexistent/x.png: cannot write", (const char *[]){"samples", "-n", "1", "-o", "/nonexistent/x.png", NULL});
    return check_done("test_cli");
}
