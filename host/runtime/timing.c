#define _POSIX_C_SOURCE 200809L
#include "claug/runtime/timing.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void clrt_timer_init(clrt_timer *t, clrt *rt) {
    t->rt = rt;
    clrt_kernels_init(&t->ks, rt, "timing.cl", "", (const char *const[]){"timing_mark", NULL});
}

void clrt_timer_release(clrt_timer *t) { clrt_kernels_release(&t->ks); }

static double event_time(cl_event ev, cl_profiling_info what) {
    cl_ulong t;
    CL_CHECK(clGetEventProfilingInfo(ev, what, sizeof t, &t, NULL));
    return 1e-9 * (double)t;
}

double clrt_timer_bracket(clrt_timer *t, void (*enqueue)(void *ctx), void *ctx) {
    clrt *rt = t->rt;
    cl_int err;
    cl_event gate, ev[2];
    size_t one = 1;
    CL_CHECK((gate = clCreateUserEvent(rt->ctx, &err), err));
    CL_CHECK(clEnqueueNDRangeKernel(rt->queue, t->ks.k[0], 1, NULL, &one, &one, 1, &gate, &ev[0]));
    enqueue(ctx);
    CL_CHECK(clEnqueueNDRangeKernel(rt->queue, t->ks.k[0], 1, NULL, &one, &one, 0, NULL, &ev[1]));
    CL_CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
    CL_CHECK(clWaitForEvents(1, &ev[1]));
    double s = event_time(ev[1], CL_PROFILING_COMMAND_START) - event_time(ev[0], CL_PROFILING_COMMAND_END);
    CL_CHECK(clReleaseEvent(ev[0]));
    CL_CHECK(clReleaseEvent(ev[1]));
    CL_CHECK(clReleaseEvent(gate));
    return s > 0 ? s : 0;
}

void clrt_cold_begin(clrt *rt, clrt_cold *c) {
    const char *tmp = getenv("TMPDIR");
    c->dir = xasprintf("%s/claug-cold-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(c->dir)) die(EXIT_USAGE, "cannot create a temporary directory %s: %s", c->dir, strerror(errno));
    snprintf(c->nonce, sizeof c->nonce, "-DCLAUG_COLD_NONCE=%ld_%.0f", (long)getpid(), 1e6 * now_seconds());
    c->own_cache = rt->cache_dir;
    rt->cache_dir = c->dir;
    rt->extra_options = c->nonce;
}

/* The cache directory holds files only. */
static void remove_dir(const char *path) {
    DIR *dir = opendir(path);
    if (!dir) return;
    for (struct dirent *e; (e = readdir(dir));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *f = xasprintf("%s/%s", path, e->d_name);
        unlink(f);
        free(f);
    }
    closedir(dir);
    rmdir(path);
}

void clrt_cold_end(clrt *rt, clrt_cold *c) {
    rt->extra_options = NULL;
    rt->cache_dir = c->own_cache;
    remove_dir(c->dir);
    free(c->dir);
    c->dir = NULL;
}
