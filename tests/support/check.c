#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "philox.h"

int check_failures = 0;

void check_report(const char *file, int line, const char *cond, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "FAIL %s:%d: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool check_close(const char *what, const float *got, const float *want, size_t n, double atol, double rtol) {
    double worst = 0, worst_excess = -1;
    size_t at = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - (double)want[i]), tol = atol + rtol * fabs((double)want[i]);
        if (!(err <= tol)) bad++; /* NaN fails too */
        if (err > worst || isnan(err)) worst = err;
        if (!(err - tol <= worst_excess)) {
            worst_excess = isnan(err) ? INFINITY : err - tol;
            at = i;
        }
    }
    printf("%-40s n=%-8zu max |error| %.3g%s\n", what, n, worst, bad ? "  FAILED" : "");
    if (bad) {
        check_failures++;
        fprintf(stderr, "FAIL %s: %zu of %zu values out of tolerance (atol %g, rtol %g); worst at %zu: got %.9g, want %.9g\n",
                what, bad, n, atol, rtol, at, (double)got[at], (double)want[at]);
    }
    return bad == 0;
}

bool check_same(const char *what, const void *got, const void *want, size_t bytes) {
    const unsigned char *a = got, *b = want;
    size_t diff = 0, first = 0;
    for (size_t i = 0; i < bytes; i++)
        if (a[i] != b[i] && diff++ == 0) first = i;
    printf("%-40s %zu bytes, %zu differ%s\n", what, bytes, diff, diff ? "  FAILED" : "");
    if (diff) {
        check_failures++;
        fprintf(stderr, "FAIL %s: %zu of %zu bytes differ, first at %zu\n", what, diff, bytes, first);
    }
    return diff == 0;
}

bool contains_ci(const char *s, const char *what) {
    for (size_t n = strlen(what); *s; s++)
        if (strncasecmp(s, what, n) == 0) return true;
    return false;
}

int check_done(const char *name) {
    if (check_failures) {
        printf("%s: %d check(s) FAILED\n", name, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

static char *slurp_fd(int fd) {
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
        n += (size_t)r;
        if (cap - n < 2) buf = xrealloc(buf, cap *= 2);
    }
    buf[n] = 0;
    return buf;
}

static const char *env_or(const char *name, const char *configured) {
    const char *v = getenv(name);
    return v && *v ? v : configured;
}

const char *test_source_dir(void) { return env_or("CLAUG_SOURCE_DIR", CLAUG_SOURCE_DIR); }
const char *test_tmp_dir(void) { return env_or("CLAUG_TEST_TMP", CLAUG_TEST_TMP); }
const char *test_claug_bin(void) { return env_or("CLAUG_BIN", CLAUG_BIN); }

int run_claug(char **out, char **err, const char *const *args) {
    char tmpl_o[] = "/tmp/claug-test-out-XXXXXX", tmpl_e[] = "/tmp/claug-test-err-XXXXXX";
    int fo = mkstemp(tmpl_o), fe = mkstemp(tmpl_e);
    if (fo < 0 || fe < 0) die(1, "mkstemp failed");
    unlink(tmpl_o);
    unlink(tmpl_e);
    size_t n = 0;
    while (args[n]) n++;
    char **argv = xcalloc(n + 2, sizeof *argv);
    argv[0] = (char *)test_claug_bin();
    for (size_t i = 0; i < n; i++) argv[i + 1] = (char *)args[i];
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fo, 1);
        dup2(fe, 2);
        execv(test_claug_bin(), argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    free(argv);
    lseek(fo, 0, SEEK_SET);
    lseek(fe, 0, SEEK_SET);
    char *o = slurp_fd(fo), *e = slurp_fd(fe);
    close(fo);
    close(fe);
    if (out) *out = o; else free(o);
    if (err) *err = e; else free(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int start_claug(const char *const *args, const char *name) {
    size_t n = 0;
    while (args[n]) n++;
    const char **argv = xcalloc(n + 2, sizeof *argv);
    argv[0] = test_claug_bin();
    for (size_t i = 0; i < n; i++) argv[i + 1] = args[i];
    char *err_name = xasprintf("%s-err", name);
    fflush(stdout); /* or the child's freopen writes the parent's pending output a second time */
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(sink_path(name), "w", stdout) || !freopen(sink_path(err_name), "w", stderr)) _exit(126);
        execv(test_claug_bin(), (char **)argv);
        _exit(127);
    }
    free(err_name);
    free(argv);
    return pid;
}

const char *scratch_dir(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", test_tmp_dir(), name);
    char *cmd = xasprintf("rm -rf '%s'", path);
    if (system(cmd) != 0) die(1, "cannot clear %s", path);
    free(cmd);
    if (!make_dirs(path)) die(1, "cannot create %s", path);
    return path;
}

bool test_tiny(void) {
    const char *v = getenv("CLAUG_TEST_TINY");
    return v && *v;
}

void fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi) {
    for (size_t i = 0; i < n; i += 4) {
        philox4 r = claug_random4(seed, 99, (uint32_t)(i >> 2), (uint32_t)(i >> 34), 0);
        for (size_t j = 0; j < 4 && i + j < n; j++) x[i + j] = lo + (hi - lo) * claug_uniform(r.v[j]);
    }
}

char *slurp(const char *path, size_t *len) {
    char err[512];
    return read_file(path, SIZE_MAX - 1, len, err, sizeof err);
}

const char *sink_path(const char *name) {
    static char path[1024];
    if (!make_dirs(test_tmp_dir())) die(1, "cannot create %s", test_tmp_dir());
    snprintf(path, sizeof path, "%s/%s-out.png", test_tmp_dir(), name);
    return path;
}
