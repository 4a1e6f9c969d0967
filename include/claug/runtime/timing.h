/* Device timing by markers, for work whose own events do not cover it (a CLBlast call enqueues
 * several kernels and returns the last one's event), and cold builds, for measuring what a first
 * start compiles. Used by the tuner and the benchmark. */
#ifndef CLAUG_TIMING_H
#define CLAUG_TIMING_H

#include "claug/runtime/clrt.h"

/* The marker kernel of cl/timing.cl. */
typedef struct {
    clrt *rt;
    clrt_kernels ks; /* timing_mark */
} clrt_timer;

void clrt_timer_init(clrt_timer *t, clrt *rt);
void clrt_timer_release(clrt_timer *t);
/* Device seconds of the work `enqueue` puts on the queue, from the end of a marker kernel before
 * it to the start of one after it, so that a call enqueuing several kernels (CLBlast's padded
 * GEMMs) is timed whole. A user event holds the queue until everything is enqueued, so the host's
 * time inside the call (a library compiling its kernels) is not counted. */
double clrt_timer_bracket(clrt_timer *t, void (*enqueue)(void *ctx), void *ctx);

/* Every program rt builds between clrt_cold_begin and clrt_cold_end is built cold: into a program
 * cache of its own (a new temporary directory), with a -D option never seen before, so that no
 * driver's own cache (PoCL's, NVIDIA's) can answer either. The option changes no code. The
 * temporary cache is removed at the end and rt's own put back; the driver's keeps its entries
 * (about 2 MB a run in PoCL's). */
typedef struct {
    char *dir, *own_cache;
    char nonce[96];
} clrt_cold;
void clrt_cold_begin(clrt *rt, clrt_cold *c);
void clrt_cold_end(clrt *rt, clrt_cold *c);

#endif
