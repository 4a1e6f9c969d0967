/* Command-line parsing: help, unknown commands and options, bad values, options that do not
 * apply; each bad use exits 2 with a message naming the flag. */
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
    expect(EXIT_USAGE, "--seed expects a non-negative whole number, got '-3'", (const char *[]){"samples", "--seed", "-3", NULL});
    expect(EXIT_USAGE, "-o/--output needs a value", (const char *[]){"samples", "-o", NULL});
    expect(EXIT_USAGE, "--quiet takes no value", (const char *[]){"samples", "--quiet=yes", NULL});
    expect(EXIT_USAGE, "option -n does not apply to `devices`", (const char *[]){"devices", "-n", "3", NULL});
    expect(EXIT_USAGE, "unexpected argument 'extra'", (const char *[]){"devices", "extra", NULL});
    expect(EXIT_USAGE, "-o /nonexistent/x.png: cannot write", (const char *[]){"samples", "-n", "1", "-o", "/nonexistent/x.png", NULL});
    return check_done("test_cli");
}
