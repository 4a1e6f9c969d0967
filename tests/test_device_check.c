/* tools/device-check.sh: `pack` puts the bundle with its data and every kernel test into the kit;
 * `run`, from a copy of the kit cut down to two tests and with tiny limits for the long steps,
 * runs `claug devices` and the tests (one on the bundle's data) from the unpacked bundle, stops a step at its limit and says
 * so, and leaves in its output directory the few plain files a lent machine gives back: the summary,
 * the machine's description and a tarball of every step's log. */
/* ctest: labels=bundle timeout=300 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"

/* Runs a shell command with its output into log; returns its exit status. */
static int sh(const char *cmd, const char *log) {
    char *full = xasprintf("(%s) >'%s' 2>&1", cmd, log);
    fflush(stdout);
    int status = system(full);
    printf("$ %s -> exit %d\n", cmd, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
    free(full);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static bool exists(const char *dir, const char *name) {
    char *path = xasprintf("%s/%s", dir, name);
    struct stat st;
    bool ok = stat(path, &st) == 0;
    free(path);
    return ok;
}

int main(void) {
    const char *dir = scratch_dir("device-check");
    char *bin = xstrdup(test_claug_bin()), *build = dirname(bin);
    char *kit = xasprintf("%s/kit", dir), *out = xasprintf("%s/out", dir), *log = xasprintf("%s/sh.log", dir);

    char *cmd = xasprintf("sh '%s/tools/device-check.sh' pack '%s' '%s'", test_source_dir(), build, kit);
    int rc = sh(cmd, log);
    free(cmd);
    char *text = slurp(log, NULL);
    CHECK(rc == 0 && text && strstr(text, ".tar.gz"), "pack: exit %d\n%s", rc, text ? text : "");
    free(text);
    /* Kernel tests are in the kit, others not. */
    const char *in[] = {"tests/test_conv", "tests/test_pool", "tests/test_tune_search"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) CHECK(exists(kit, in[i]), "the kit lacks %s", in[i]);
    CHECK(!exists(kit, "tests/test_bundle") && !exists(kit, "tests/test_cli"), "the kit holds tests of other labels");

    /* One quick test, and limits that stop the benchmark at once. */
    cmd = xasprintf("cd '%s/tests' && find . -name 'test_*' ! -name test_act ! -name test_prep -delete", kit);
    CHECK(sh(cmd, log) == 0, "cannot cut the kit down");
    free(cmd);
    /* The other limits are wide: under the sanitizers, with a cold program cache, the tests are slow. */
    cmd = xasprintf("cd '%s' && LIMIT_DEVICES=200 LIMIT_TEST=400 LIMIT_TESTS=400 LIMIT_BENCH=1 LIMIT_TUNE=1 "
                    "LIMIT_PROFILE=1 LIMIT_RUN=1 sh tools/device-check.sh run '%s' '%s'",
                    test_source_dir(), kit, out);
    rc = sh(cmd, log);
    free(cmd);
    CHECK(rc == 0, "run: exit %d", rc);
    char *summary_path = xasprintf("%s/summary.txt", out);
    char *summary = slurp(summary_path, NULL);
    CHECK(summary != NULL, "run wrote no %s", summary_path);
    if (summary) {
        printf("%s", summary);
        const char *want[] = {"devices                      rc 0,", "test_act                     rc 0,",
                              "test_prep                    rc 0,",
                              "bench                        rc 124 (over its limit of 1 s)",
                              "tune                         rc 124 (over its limit of 1 s)",
                              "profile                      rc 124 (over its limit of 1 s)",
                              "run                          rc 124 (over its limit of 1 s)"};
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
            CHECK(strstr(summary, want[i]), "the summary lacks '%s'", want[i]);
    }
    /* Only the plain files a lent machine gives back (at most 8, no folder), and no step's log
     * left running. The benchmark, the tuner and the run were stopped before they wrote theirs. */
    const char *allowed[] = {"summary.txt", "machine.txt", "bench.json", "roofline.svg", "tuning.txt", "logs.tar.gz"};
    DIR *d = opendir(out);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *path = xasprintf("%s/%s", out, e->d_name);
        struct stat st;
        CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode), "%s is not a plain file", path);
        bool known = false;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) known |= strcmp(e->d_name, allowed[i]) == 0;
        CHECK(known, "%s is not one of the files device-check leaves", path);
        free(path);
    }
    if (d) closedir(d);
    CHECK(exists(out, "machine.txt") && exists(out, "logs.tar.gz"), "machine.txt or logs.tar.gz is missing");
    char *logs = xasprintf("%s/logs", dir);
    cmd = xasprintf("rm -rf '%s' && mkdir '%s' && tar -xzf '%s/logs.tar.gz' -C '%s'", logs, logs, out, logs);
    CHECK(sh(cmd, log) == 0, "cannot unpack %s/logs.tar.gz", out);
    free(cmd);
    const char *in_logs[] = {"devices.log", "test_act.log", "test_prep.log", "bench.log", "tune.log",
                             "profile.log", "run.log"};
    for (size_t i = 0; i < sizeof in_logs / sizeof in_logs[0]; i++)
        CHECK(exists(logs, in_logs[i]), "logs.tar.gz lacks %s", in_logs[i]);
    char *devices_path = xasprintf("%s/devices.log", logs);
    char *devices = slurp(devices_path, NULL);
    CHECK(devices && strstr(devices, "Selected:"), "devices.log: %s", devices ? devices : "(none)");
    free(summary), free(summary_path), free(devices), free(devices_path), free(logs);
    free(bin), free(kit), free(out), free(log);
    return check_done("test_device_check");
}
