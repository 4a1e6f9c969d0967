/* `make bundle` (tools/bundle.sh) with DATA=1, unpacked in a scratch directory and run from there
 * with LD_LIBRARY_PATH and CLAUG_DATA unset: the dynamic linker resolves CLBlast and the OpenCL
 * ICD loader to the bundle's lib/ (ldd, and LD_DEBUG=libs of a real run), `claug devices` finds
 * the machine's driver through its ICD files, a tiny training runs on the bundle's own copy of
 * the data, and a damaged copy there is the file claug names. */
/* ctest: labels=bundle timeout=120 */
#define _POSIX_C_SOURCE 200809L /* unsetenv */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"

static const char *dir;

/* Runs a shell command, its stdout and stderr into dir/<name>.out and .err; returns its exit
 * status and the two texts (caller frees). */
static int sh(const char *name, char **out, char **err, const char *fmt, ...) CLAUG_PRINTF(4, 5);
static int sh(const char *name, char **out, char **err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char cmd[4096];
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *o = xasprintf("%s/%s.out", dir, name), *e = xasprintf("%s/%s.err", dir, name);
    char *full = xasprintf("(%s) >'%s' 2>'%s'", cmd, o, e);
    fflush(stdout);
    int status = system(full), rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    *out = slurp(o, NULL);
    *err = slurp(e, NULL);
    if (!*out) *out = xstrdup("");
    if (!*err) *err = xstrdup("");
    printf("$ %s -> exit %d\n", cmd, rc);
    free(full), free(o), free(e);
    return rc;
}

int main(void) {
    dir = scratch_dir("bundle");
    char *bin = xstrdup(test_claug_bin()), *build = dirname(bin), *out, *err;
    unsetenv("LD_LIBRARY_PATH");
    unsetenv("CLAUG_DATA");

    int rc = sh("make", &out, &err, "sh '%s/tools/bundle.sh' '%s' 1 '%s'", test_source_dir(), build, dir);
    CHECK(rc == 0 && strstr(out, ".tar.gz"), "bundle.sh: exit %d\n%s%s", rc, out, err);
    char tarball[2048] = "";
    sscanf(out, "%2047s", tarball);
    free(out), free(err);
    rc = sh("unpack", &out, &err, "mkdir -p '%s/unpack' && tar -xzf '%s' -C '%s/unpack' && ls -d '%s'/unpack/claug-*",
            dir, tarball, dir, dir);
    char root[2048] = "";
    sscanf(out, "%2047s", root);
    CHECK(rc == 0 && *root, "unpack: exit %d\n%s%s", rc, out, err);
    free(out), free(err);

    /* The linker's view, and what a run really loads. */
    const char *libs[] = {"libclblast.so.1", "libOpenCL.so.1"};
    rc = sh("ldd", &out, &err, "ldd '%s/bin/claug'", root);
    for (int i = 0; i < 2; i++) {
        char *want = xasprintf("%s => %s/bin/../lib/%s", libs[i], root, libs[i]);
        CHECK(rc == 0 && strstr(out, want), "ldd does not resolve %s to the bundle:\n%s", libs[i], out);
        free(want);
    }
    free(out), free(err);
    rc = sh("devices", &out, &err, "LD_DEBUG=libs '%s/bin/claug' devices", root);
    CHECK(rc == 0 && strstr(out, "Selected:"), "claug devices from the bundle: exit %d\n%s", rc, out);
    for (int i = 0; i < 2; i++) {
        char *want = xasprintf("calling init: %s/bin/../lib/%s", root, libs[i]);
        CHECK(strstr(err, want), "LD_DEBUG: %s was not loaded from the bundle", libs[i]);
        free(want);
    }
    free(out), free(err);

    /* A tiny training, on the data the bundle carries (no --data, no $CLAUG_DATA). */
    rc = sh("train", &out, &err, "'%s/bin/claug' train --train-size 200 --epochs 1 --quiet", root);
    CHECK(rc == 0 && strstr(out, "val_accuracy: "), "training from the bundle: exit %d\n%s%s", rc, out, err);
    free(out), free(err);
    rc = sh("damage", &out, &err, "truncate -s 10 '%s/share/fashion-mnist/t10k-labels-idx1-ubyte.gz' && "
                                  "'%s/bin/claug' samples -o '%s/s.png'", root, root, dir);
    char *named = xasprintf("%s/share/fashion-mnist/t10k-labels-idx1-ubyte.gz", root);
    CHECK(rc == EXIT_USAGE && strstr(err, named), "a damaged bundled data file: exit %d, want 2 naming %s: %s", rc, named,
          err);
    free(named);
    free(out), free(err);
    free(bin);
    return check_done("test_bundle");
}
