/* Program building: the binary cache (a second build is a hit; corrupt or truncated entries are
 * rebuilt, never trusted), kernels loaded from --kernels DIR, and a failed build's report. */
/* ctest: labels=e2e timeout=60 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/data/batch.h"
#include "claug/runtime/clrt.h"

static char cache_root[1024];

/* The one cache entry in the cache directory. */
static char *entry_path(void) {
    char *dir = xasprintf("%s/claug", cache_root), *found = NULL;
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, ".bin")) {
            free(found);
            found = xasprintf("%s/%s", dir, e->d_name);
            n++;
        }
    if (d) closedir(d);
    CHECK(n == 1, "%d cache entries in %s, want 1", n, dir);
    free(dir);
    return found;
}

/* Builds data.cl's program and runs its kernel on a tiny batch, so a bad program would show. */
static void build_and_use(const char *what, int want_hits, int want_misses) {
    clrt *rt = clrt_open(NULL, NULL);
    double t0 = now_seconds();
    batcher b;
    batcher_init(&b, rt);
    double dt = now_seconds() - t0;
    printf("%-34s %.3f s (hits %d, misses %d)\n", what, dt, rt->cache_hits, rt->cache_misses);
    CHECK(rt->cache_hits == want_hits && rt->cache_misses == want_misses, "%s: hits %d misses %d, want %d %d", what,
          rt->cache_hits, rt->cache_misses, want_hits, want_misses);
    uint8_t pix[4] = {0, 51, 102, 255}, lab[1] = {3};
    idx_array im = {1, 2, 2, pix}, lb = {1, 1, 1, lab};
    devset d;
    devset_upload(&d, rt, &im, &lb);
    int order[1] = {0}, y;
    cl_mem ob = clrt_alloc(rt, sizeof order), x = clrt_alloc(rt, 4 * sizeof(float)), yb = clrt_alloc(rt, sizeof(int));
    clrt_write(rt, ob, 0, sizeof order, order);
    batcher_gather(&b, x, yb, &d, ob, 0, 1);
    float got[4];
    clrt_read(rt, x, 0, sizeof got, got);
    clrt_read(rt, yb, 0, sizeof y, &y);
    CHECK(got[0] == 0.0f && got[3] == 1.0f && got[1] == 51 * (1.0f / 255.0f) && y == 3, "%s: kernel output wrong", what);
    clReleaseMemObject(ob);
    clReleaseMemObject(x);
    clReleaseMemObject(yb);
    devset_release(&d);
    batcher_release(&b);
    clrt_close(rt);
}

static void test_cache(void) {
    snprintf(cache_root, sizeof cache_root, "%s", scratch_dir("cache"));
    setenv("XDG_CACHE_HOME", cache_root, 1);
    unsetenv("CLAUG_KERNELS");
    build_and_use("cold build (compile)", 0, 1);
    build_and_use("warm build (from the cache)", 1, 0);

    char *path = entry_path();
    size_t len;
    char *bytes = slurp(path, &len);
    CHECK(bytes && len > 200, "cache entry unreadable");
    /* Flip one byte inside the binary: the CRC no longer matches. */
    bytes[len - len / 3] ^= 0x40;
    write_file(path, bytes, len);
    build_and_use("corrupt entry (rebuilt)", 0, 1);
    build_and_use("after the rebuild (from the cache)", 1, 0);
    /* Cut short. */
    write_file(path, bytes, len / 2);
    build_and_use("truncated entry (rebuilt)", 0, 1);
    /* Garbage of the right size. */
    memset(bytes, 'x', len);
    write_file(path, bytes, len);
    build_and_use("garbage entry (rebuilt)", 0, 1);
    free(bytes);
    free(path);
}

static void copy_file(const char *from, const char *to, const char *append) {
    size_t n;
    char *text = slurp(from, &n);
    CHECK(text != NULL, "cannot read %s", from);
    char *all = xasprintf("%s%s", text ? text : "", append);
    CHECK(write_file(to, all, strlen(all)), "cannot write %s", to);
    free(text);
    free(all);
}

static void test_kernel_dir(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", scratch_dir("kernels"));
    char *from = xasprintf("%s/cl/data.cl", test_source_dir()), *to = xasprintf("%s/data.cl", dir);
    char *out, *err;
    /* A copy of the real source works from disk. */
    copy_file(from, to, "\n");
    int rc = run_claug(&out, &err, (const char *[]){"--kernels", dir, "samples", "-n", "2", "-o", sink_path("cache"), NULL});
    CHECK(rc == 0, "--kernels with a good copy: exit %d: %s", rc, err);
    free(out);
    free(err);
    /* A syntax error: exit 3 with the file, the options and the compiler's log. */
    copy_file(from, to, "\n__kernel void broken(void) { this is not C; }\n");
    rc = run_claug(&out, &err, (const char *[]){"--kernels", dir, "samples", "-n", "2", "-o", sink_path("cache"), NULL});
    CHECK(rc == EXIT_DEVICE && strstr(err, "build failed") && strstr(err, "data.cl") && strstr(err, "-cl-std=CL1.2") &&
              strstr(err, "build log") && strstr(err, "error"),
          "broken kernel: exit %d, stderr:\n%s", rc, err);
    printf("broken kernel -> exit %d, %zu bytes of report\n", rc, strlen(err));
    free(out);
    free(err);
    /* A directory without the file: exit 2 naming it. */
    remove(to);
    rc = run_claug(&out, &err, (const char *[]){"--kernels", dir, "samples", "-o", sink_path("cache"), NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, to), "missing kernel file: exit %d: %s", rc, err);
    free(out);
    free(err);
    free(from);
    free(to);
}

int main(void) {
    test_cache();
    test_kernel_dir();
    return check_done("test_cache");
}
