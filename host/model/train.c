#define _POSIX_C_SOURCE 200809L
#include "claug/model/train.h"
#include "claug/model/checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "philox.h"

/* Every CHECKPOINT steps the epoch's running metrics are summed on the device and read back
 * without blocking. The host waits for nothing but these reads, two checkpoints behind the
 * steps it enqueues: the device always has work queued, the queue never grows past two
 * checkpoints (a driver's queue never fills up), and the progress line lags by a few steps. */
enum { CHECKPOINT = 16 };
/* The progress line is redrawn at most this often, on a terminal. */
#define REFRESH_SECONDS 0.25

int choose_subset(int *out, const uint8_t *labels, int count, int want, uint64_t seed) {
    int *cls = xmalloc((size_t)count * sizeof *cls), n = 0;
    for (int c = 0; c < NUM_CLASSES; c++) {
        int m = 0;
        for (int i = 0; i < count; i++)
            if (labels[i] == c) cls[m++] = i;
        int take = want / NUM_CLASSES + (c < want % NUM_CLASSES);
        if (take > m) take = m;
        /* A partial Fisher-Yates: the first `take` of a seeded permutation of the class. */
        for (int j = 0; j < take; j++) {
            philox4 r = claug_random4(seed, CLAUG_STREAM_SUBSET, (uint32_t)c, (uint32_t)j, 0);
            int k = j + (int)(((uint64_t)r.v[0] * (uint64_t)(m - j)) >> 32);
            int tmp = cls[j];
            cls[j] = cls[k];
            cls[k] = tmp;
            out[n++] = cls[j];
        }
    }
    free(cls);
    /* Sorted, so that the subset is a set: its order comes from each epoch's shuffle. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
            int tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
    return n;
}

void shuffle_order(int *order, int n, uint64_t seed, uint32_t epoch) {
    for (int j = n - 1; j > 0; j--) {
        philox4 r = claug_random4(seed, CLAUG_STREAM_SHUFFLE, epoch, (uint32_t)j, 0);
        int k = (int)(((uint64_t)r.v[0] * (uint64_t)(j + 1)) >> 32);
        int tmp = order[j];
        order[j] = order[k];
        order[k] = tmp;
    }
}

void trainer_init(trainer *t, clrt *rt, net *n, const dataset *ds, int train_size, uint64_t seed) {
    memset(t, 0, sizeof *t);
    t->rt = rt;
    t->n = n;
    t->ds = ds;
    devset_upload(&t->train, rt, &ds->train_images, &ds->train_labels);
    devset_upload(&t->test, rt, &ds->test_images, &ds->test_labels);
    batcher_init(&t->gather, rt);
    augment_init(&t->aug, rt);
    aug_config none; /* until trainer_fit fits its configuration */
    aug_config_default(&none);
    prep_init(&t->prep, rt, &none, NULL, NULL, 0, ds->rows * ds->cols);
    int count = (int)ds->train_images.count;
    t->subset = xmalloc((size_t)count * sizeof *t->subset);
    if (train_size <= 0 || train_size >= count) {
        for (int i = 0; i < count; i++) t->subset[i] = i;
        t->nsubset = count;
    } else {
        t->nsubset = choose_subset(t->subset, ds->train_labels.data, count, train_size, seed);
    }
    t->order_host = xmalloc((size_t)t->nsubset * sizeof *t->order_host);
    t->order = clrt_alloc(rt, (size_t)t->nsubset * sizeof(cl_int));
    int ntest = (int)ds->test_images.count, most = t->nsubset > ntest ? t->nsubset : ntest;
    int *ident = xmalloc((size_t)ntest * sizeof *ident);
    for (int i = 0; i < ntest; i++) ident[i] = i;
    t->test_order = clrt_alloc(rt, (size_t)ntest * sizeof(cl_int));
    clrt_write(rt, t->test_order, 0, (size_t)ntest * sizeof(cl_int), ident);
    free(ident);
    t->losses = clrt_alloc(rt, (size_t)most * sizeof(float));
    t->correct = clrt_alloc(rt, (size_t)most * sizeof(float));
    t->predicted = clrt_alloc(rt, (size_t)ntest * sizeof(cl_int));
    t->sums[0] = clrt_alloc(rt, 2 * sizeof(float));
    t->sums[1] = clrt_alloc(rt, 2 * sizeof(float));
}

void trainer_release(trainer *t) {
    cl_mem ms[] = {t->order, t->test_order, t->losses, t->correct, t->predicted, t->sums[0], t->sums[1]};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        if (ms[i]) CL_CHECK(clReleaseMemObject(ms[i]));
    batcher_release(&t->gather);
    augment_release(&t->aug);
    prep_release(&t->prep);
    devset_release(&t->train);
    devset_release(&t->test);
    free(t->subset);
    free(t->order_host);
}

/* ---- progress, as Keras prints it ---------------------------------------------------------- */

static void format_bar(char *buf, size_t len, int done, int total) {
    int width = 30, filled = total ? (int)((long)width * done / total) : width, o = 0;
    buf[o++] = '[';
    for (int i = 0; i < width; i++) buf[o++] = i < filled - 1 ? '=' : i == filled - 1 ? (done < total ? '>' : '=') : '.';
    buf[o++] = ']';
    buf[o] = 0;
    (void)len;
}

static void format_per_step(char *buf, size_t len, double seconds) {
    if (seconds >= 1)
        snprintf(buf, len, "%.0fs/step", seconds);
    else if (seconds >= 1e-3)
        snprintf(buf, len, "%.0fms/step", seconds * 1e3);
    else
        snprintf(buf, len, "%.0fus/step", seconds * 1e6);
}

static void progress_running(int done, int total, double elapsed, double loss, double acc) {
    char bar[40];
    format_bar(bar, sizeof bar, done, total);
    double eta = done ? elapsed / done * (total - done) : 0;
    int w = snprintf(NULL, 0, "%d", total);
    printf("\r%*d/%d %s - ETA: %.0fs - loss: %.4f - accuracy: %.4f ", w, done, total, bar, eta, loss, acc);
    fflush(stdout);
}

static void progress_final(bool tty, int total, const epoch_metrics *m) {
    char bar[40], per[32];
    format_bar(bar, sizeof bar, total, total);
    format_per_step(per, sizeof per, m->train_seconds / total);
    printf("%s%d/%d %s - %.0fs %s - loss: %.4f - accuracy: %.4f - val_loss: %.4f - val_accuracy: %.4f\n",
           tty ? "\r" : "", total, total, bar, m->train_seconds + m->val_seconds, per, m->loss, m->accuracy, m->val_loss,
           m->val_accuracy);
    fflush(stdout);
}

static void print_profile(clrt *rt, double wall) {
    clrt_prof_entry *e;
    int n = clrt_profile_end(rt, &e);
    double total = 0;
    for (int i = 0; i < n; i++) total += e[i].seconds;
    for (int i = 1; i < n; i++) /* by time, largest first */
        for (int j = i; j > 0 && e[j - 1].seconds < e[j].seconds; j--) {
            clrt_prof_entry tmp = e[j];
            e[j] = e[j - 1];
            e[j - 1] = tmp;
        }
    printf("  kernel time by layer (OpenCL profiling events), %.2f s of %.2f s wall:\n", total, wall);
    for (int i = 0; i < n; i++)
        printf("    %-34s %8.3f s %5.1f%%  %7ld launches\n", e[i].tag, e[i].seconds, 100 * e[i].seconds / total,
               e[i].count);
    free(e);
}

/* ---- the loops ----------------------------------------------------------------------------- */

/* Reads the sums of losses and correct flags over [0, count) (blocking). */
static void read_sums(trainer *t, int count, double *loss, double *acc) {
    float s[2];
    metrics_sum(&t->n->loss, t->sums[0], t->losses, t->correct, count, "metrics");
    clrt_read(t->rt, t->sums[0], 0, sizeof s, s);
    *loss = (double)s[0] / count;
    *acc = (double)s[1] / count;
}

void trainer_evaluate(trainer *t, int batch_size, double *loss, double *accuracy) {
    net *n = t->n;
    int count = t->test.count;
    for (int first = 0; first < count; first += batch_size) {
        int B = count - first < batch_size ? count - first : batch_size;
        prep_batch(&t->prep, &t->aug, &t->gather, n->x, n->labels, &t->test, t->test_order, first, B, false, 0, 0,
                   "standardize");
        net_predict_step(n, t->losses, t->correct, t->predicted, first, B);
    }
    read_sums(t, count, loss, accuracy);
}

static void fit_epoch(trainer *t, const train_config *c, int epoch, epoch_metrics *m) {
    net *n = t->n;
    clrt *rt = t->rt;
    int N = t->nsubset, B = c->batch_size, steps = (N + B - 1) / B;
    bool tty = !c->quiet && isatty(fileno(stdout));
    memcpy(t->order_host, t->subset, (size_t)N * sizeof(int));
    shuffle_order(t->order_host, N, c->seed, (uint32_t)epoch);
    clrt_write(rt, t->order, 0, (size_t)N * sizeof(int), t->order_host);
    if (c->profile) clrt_profile_begin(rt);

    double t0 = now_seconds(), last_refresh = t0;
    /* Checkpoint k sums into t->sums[k % 2] and reads that into got[k % 2]. */
    cl_event read[2] = {NULL, NULL};
    float got[2][2];
    int upto[2] = {0, 0};
    for (int s = 0; s < steps; s++) {
        int first = s * B, bs = N - first < B ? N - first : B;
        prep_batch(&t->prep, &t->aug, &t->gather, n->x, n->labels, &t->train, t->order, first, bs, true, c->seed,
                   (uint32_t)epoch, "augment");
        net_train_step(n, t->losses, t->correct, first, bs, c->lr, c->seed);
        if ((s + 1) % CHECKPOINT != 0 || s + 1 == steps) continue;

        int k = (s + 1) / CHECKPOINT % 2;
        if (read[k]) { /* the checkpoint before last: long done on a device kept busy */
            CL_CHECK(clWaitForEvents(1, &read[k]));
            CL_CHECK(clReleaseEvent(read[k]));
            read[k] = NULL;
            double now = now_seconds();
            if (tty && now - last_refresh >= REFRESH_SECONDS) {
                int seen = upto[k] * B;
                progress_running(upto[k], steps, now - t0, got[k][0] / seen, got[k][1] / seen);
                last_refresh = now;
            }
        }
        metrics_sum(&n->loss, t->sums[k], t->losses, t->correct, first + bs, "metrics");
        CL_CHECK(clEnqueueReadBuffer(rt->queue, t->sums[k], CL_FALSE, 0, sizeof got[k], got[k], 0, NULL, &read[k]));
        upto[k] = s + 1;
    }
    for (int k = 0; k < 2; k++)
        if (read[k]) {
            CL_CHECK(clWaitForEvents(1, &read[k]));
            CL_CHECK(clReleaseEvent(read[k]));
        }
    read_sums(t, N, &m->loss, &m->accuracy);
    m->train_seconds = now_seconds() - t0;
    m->images_per_second = N / m->train_seconds;
    if (c->profile) print_profile(rt, m->train_seconds);

    double t1 = now_seconds();
    trainer_evaluate(t, B, &m->val_loss, &m->val_accuracy);
    m->val_seconds = now_seconds() - t1;
    if (!c->quiet) progress_final(tty, steps, m);
}

char *trainer_checkpoint_key(const trainer *t, const train_config *c) {
    return checkpoint_key(t->n, c, t->nsubset, dataset_fingerprint(t->ds));
}

void trainer_fit(trainer *t, const train_config *c, history *h) {
    /* datagen.fit on the training subset, once per training; validation standardizes alike. */
    prep_release(&t->prep);
    prep_init(&t->prep, t->rt, &c->aug, t->ds->train_images.data, t->subset, t->nsubset, t->ds->rows * t->ds->cols);
    char *key = c->checkpoint ? trainer_checkpoint_key(t, c) : NULL;
    for (int e = h->epochs; e < c->epochs; e++) {
        if (!c->quiet) {
            printf("Epoch %d/%d\n", e + 1, c->epochs);
            fflush(stdout);
        }
        epoch_metrics m;
        memset(&m, 0, sizeof m);
        fit_epoch(t, c, e, &m);
        history_add(h, &m);
        char err[1024];
        if (key && !checkpoint_save(t->n, h, key, c->checkpoint, err, sizeof err)) die(EXIT_USAGE, "%s", err);
    }
    free(key);
}
