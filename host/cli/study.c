#define _POSIX_C_SOURCE 200809L
#include "claug/cli/study.h"
#include "claug/cli/study_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claug/model/checkpoint.h"
#include "claug/model/confusion.h"
#include "claug/report/study.h"
#include "claug/tune/tuned_net.h"

/* --sizes "1000,5000,60000": ascending, distinct, each at most the training set. */
static int *parse_sizes(const char *list, int available, int *n) {
    int *sizes = xmalloc((strlen(list) / 2 + 1) * sizeof *sizes);
    *n = 0;
    for (const char *s = list;;) {
        size_t len = strcspn(s, ",");
        char tok[32];
        snprintf(tok, sizeof tok, "%.*s", (int)(len < sizeof tok ? len : sizeof tok - 1), s);
        int v;
        if (len >= sizeof tok || !parse_int(tok, 1, 100000000, &v))
            die(EXIT_USAGE, "--sizes '%s': '%.*s' is not a whole number from 1 to 100000000", list, (int)len, s);
        if (v > available) die(EXIT_USAGE, "--sizes: %d is more than the %d training images", v, available);
        if (*n && v <= sizes[*n - 1]) die(EXIT_USAGE, "--sizes '%s': sizes must be distinct and ascending", list);
        if (*n == STUDY_MAX_GRID) die(EXIT_USAGE, "--sizes: at most %d sizes", STUDY_MAX_GRID);
        sizes[(*n)++] = v;
        if (!s[len]) break;
        s += len + 1;
    }
    return sizes;
}

static void plan_from_options(plan *p, const claug_opts *o, const dataset *ds) {
    memset(p, 0, sizeof *p);
    int available = (int)ds->train_images.count;
    char *dflt = xasprintf("1000,5000,%d", available);
    p->sizes = parse_sizes(o->sizes ? o->sizes : dflt, available, &p->nsizes);
    free(dflt);
    p->epochs = xmalloc((size_t)p->nsizes * sizeof *p->epochs);
    for (int i = 0; i < p->nsizes; i++) {
        long rule = ((long)o->steps * o->batch_size + p->sizes[i] - 1) / p->sizes[i];
        p->epochs[i] = o->epochs ? o->epochs : (int)(rule < o->max_epochs ? rule : o->max_epochs);
    }
    if ((double)o->seed + o->seeds > STUDY_MAX_SEED)
        die(EXIT_USAGE, "--seed %llu: a study's seeds must stay below 2^53 (they are JSON numbers)",
            (unsigned long long)o->seed);
    p->nseeds = o->seeds;
    p->seeds = xmalloc((size_t)p->nseeds * sizeof *p->seeds);
    for (int j = 0; j < p->nseeds; j++) p->seeds[j] = o->seed + (uint64_t)j;
    int nl;
    free(model_layers(o->model ? o->model : "seed", &nl, &p->model));
    p->augmentation = aug_config_describe(&o->aug);
    p->batch_size = o->batch_size;
    p->lr = o->lr;
    p->data = dataset_fingerprint(ds);
    plan_cells(p);
}

/* DIR/study.json: written by the first process, checked by every later one (a study of other
 * options in the same DIR is refused rather than mixed in). */
static void claim_dir(const plan *p, const char *dir) {
    char *cells = xasprintf("%s/cells", dir), *path = xasprintf("%s/study.json", dir), *text = plan_json(p);
    if (!make_dirs(cells)) die(EXIT_USAGE, "--out %s: cannot create %s: %s", dir, cells, strerror(errno));
    if (access(path, F_OK) != 0) {
        if (!write_file(path, text, strlen(text))) die(EXIT_USAGE, "--out %s: cannot write %s: %s", dir, path, strerror(errno));
    } else {
        size_t len;
        char err[1024], *have = read_file(path, (size_t)64 << 20, &len, err, sizeof err);
        if (!have) die(EXIT_USAGE, "--out %s: %s", dir, err);
        if (strcmp(have, text) != 0) {
            size_t at = 0;
            while (have[at] && have[at] == text[at]) at++;
            while (at > 0 && text[at - 1] != '\n') at--;
            die(EXIT_USAGE, "--out %s holds a study of other options (%s differs at: %.60s); give the same options "
                            "to resume it, or another --out", dir, path, text + at);
        }
        free(have);
    }
    free(text);
    free(path);
    free(cells);
}

static cell_state cell_read_in(const char *dir, const cell *c, study_result *r, char **device, char *err, size_t errlen) {
    char *path = cell_path(dir, c, "json");
    cell_state st = cell_read(path, c, r, device, err, errlen);
    free(path);
    return st;
}

/* ---- the summary, from the cells present ------------------------------------------------------ */

/* Reads every cell, writes DIR's summary and prints its table; names the missing cells. */
static void collect(const plan *p, const char *dir, bool quiet) {
    study_result *res = xcalloc((size_t)p->ncells, sizeof *res);
    const char **missing = xcalloc((size_t)p->ncells, sizeof *missing), **devices = xcalloc((size_t)p->ncells, sizeof *devices);
    int nres = 0, nmissing = 0, ndevices = 0;
    for (int k = 0; k < p->ncells; k++) {
        char err[1024], *device = NULL;
        cell_state st = cell_read_in(dir, &p->cells[k], &res[nres], &device, err, sizeof err);
        if (st == CELL_BAD) fprintf(stderr, "claug: %s; counted as missing\n", err);
        if (st != CELL_DONE) {
            missing[nmissing++] = p->cells[k].name;
            continue;
        }
        nres++;
        bool seen = false;
        for (int i = 0; i < ndevices && !seen; i++) seen = strcmp(devices[i], device) == 0;
        if (seen)
            free(device);
        else
            devices[ndevices++] = device;
    }
    study_summary s = {p->model, p->augmentation, NULL, p->nsizes, p->sizes, p->epochs, p->nseeds, p->seeds,
                       res, nres, missing, nmissing, devices, ndevices};
    char err[1024];
    if (!study_summary_write(&s, dir, err, sizeof err)) die(EXIT_USAGE, "%s", err);
    if (!quiet) printf("\n");
    study_print_table(&s, stdout);
    printf("\nSummary: %s/report.md (summary.json, summary.csv, study.svg; cells in %s/cells/)\n", dir, dir);
    if (nmissing) {
        fprintf(stderr, "claug: %d of %d cells missing:", nmissing, p->ncells);
        for (int i = 0; i < nmissing; i++) fprintf(stderr, " %s", missing[i]);
        fprintf(stderr, "\n");
    }
    for (int i = 0; i < ndevices; i++) free((char *)devices[i]);
    free(devices);
    free(missing);
    free(res);
}

/* ---- training the cells ------------------------------------------------------------------------ */

typedef struct {
    clrt *rt;
    net *n;
    const dataset *ds;
    const claug_opts *o;
    const plan *p;
    const char *dir;
    char device[1024];
} runner;

static void run_cell(runner *ru, const cell *c, int nth, int count) {
    const claug_opts *o = ru->o;
    train_config tc = cli_train_config(o);
    tc.epochs = c->epochs;
    tc.seed = c->seed;
    tc.train_size = c->size;
    tc.quiet = true;
    if (!c->augmented) aug_config_default(&tc.aug);
    char *ckpt = cell_path(ru->dir, c, "ckpt"), *json = cell_path(ru->dir, c, "json");
    tc.checkpoint = ckpt;
    /* Both arms of a seed: the same initial weights, subset and order (keyed by the seed). */
    net_init_params(ru->n, c->seed);
    trainer t;
    trainer_init(&t, ru->rt, ru->n, ru->ds, c->size, c->seed);
    history h;
    history_init(&h, study_arm_name(c->augmented), c->epochs, t.nsubset, tc.batch_size);
    if (access(ckpt, F_OK) == 0) {
        char err[1024], *key = trainer_checkpoint_key(&t, &tc);
        if (!checkpoint_load(ru->n, &h, key, ckpt, err, sizeof err)) {
            fprintf(stderr, "claug: %s; starting the cell afresh\n", err);
            net_init_params(ru->n, c->seed);
        } else if (!o->quiet) {
            printf("  (resuming %s after epoch %d)\n", c->name, h.epochs);
        }
        free(key);
    }
    if (!o->quiet) {
        printf("[%d/%d] cell %d: %d images, %s, seed %llu, %d epochs ... ", nth, count, c->index, c->size,
               study_arm_name(c->augmented), (unsigned long long)c->seed, c->epochs);
        fflush(stdout);
    }
    int before = h.epochs;
    trainer_fit(&t, &tc, &h);
    /* Per class, from the last validation's predictions; a cell whose checkpoint already held every
     * epoch (killed before its file was written) evaluates the final weights once more. */
    double loss, acc, class_acc[NUM_CLASSES];
    if (h.epochs == before) trainer_evaluate(&t, tc.batch_size, &loss, &acc);
    int confusion[NUM_CLASSES * NUM_CLASSES];
    trainer_confusion(&t, confusion);
    for (int k = 0; k < NUM_CLASSES; k++) {
        int total = 0;
        for (int j = 0; j < NUM_CLASSES; j++) total += confusion[k * NUM_CLASSES + j];
        class_acc[k] = total ? (double)confusion[k * NUM_CLASSES + k] / total : 0;
    }
    char *text = cell_json(ru->p, c, &h, class_acc, confusion, ru->device, t.nsubset, (int)ru->ds->test_images.count);
    if (!write_file(json, text, strlen(text))) die(EXIT_USAGE, "cannot write %s: %s", json, strerror(errno));
    /* The cell file is in place: its checkpoint is no longer needed. */
    if (unlink(ckpt) != 0 && errno != ENOENT) die(EXIT_USAGE, "cannot remove %s: %s", ckpt, strerror(errno));
    const epoch_metrics *m = &h.epoch[h.epochs - 1];
    double seconds = 0;
    for (int e = 0; e < h.epochs; e++) seconds += h.epoch[e].train_seconds + h.epoch[e].val_seconds;
    if (!o->quiet) printf("val_accuracy: %.4f - val_loss: %.4f - %.0fs\n", m->val_accuracy, m->val_loss, seconds);
    free(text);
    history_free(&h);
    trainer_release(&t);
    free(ckpt);
    free(json);
}

/* Trains the missing cells of the shard (index mod nshards == shard); returns how many. */
static int run_shard(const claug_opts *o, const plan *p, const dataset *ds, const char *dir, int shard, int nshards) {
    int todo = 0, done = 0;
    for (int k = shard; k < p->ncells; k += nshards) {
        char err[1024], *device = NULL;
        study_result r;
        cell_state st = cell_read_in(dir, &p->cells[k], &r, &device, err, sizeof err);
        free(device);
        if (st == CELL_BAD) fprintf(stderr, "claug: %s; computing the cell again\n", err);
        todo += st != CELL_DONE;
    }
    if (!todo) return 0;
    runner ru = {.o = o, .p = p, .ds = ds, .dir = dir};
    ru.rt = clrt_open(o->device, o->kernel_dir);
    clrt_describe(ru.device, sizeof ru.device, &ru.rt->dev);
    if (!o->quiet) printf("Device %s\n", ru.device);
    tuning tu;
    char desc[2600];
    ru.n = open_tuned_net(ru.rt, p->model, 1, ds->rows, ds->cols, NUM_CLASSES, o->batch_size, &tu, desc, sizeof desc);
    if (!o->quiet) printf("Tuning: %s\n%d of the shard's cells to train\n", desc, todo);
    for (int k = shard; k < p->ncells; k += nshards) {
        char err[1024], *device = NULL;
        study_result r;
        /* Read again: another process may have finished the cell meanwhile. */
        cell_state st = cell_read_in(dir, &p->cells[k], &r, &device, err, sizeof err);
        free(device);
        if (st != CELL_DONE) run_cell(&ru, &p->cells[k], ++done, todo);
    }
    net_free(ru.n);
    clrt_close(ru.rt);
    return done;
}

/* --shard I/N, or slurm: I and N from the array job's environment. */
static void parse_shard(const char *spec, int *shard, int *nshards) {
    *shard = 0;
    *nshards = 1;
    if (!spec) return;
    if (strcmp(spec, "slurm") == 0) {
        const char *id = getenv("SLURM_ARRAY_TASK_ID"), *count = getenv("SLURM_ARRAY_TASK_COUNT"),
                   *min = getenv("SLURM_ARRAY_TASK_MIN");
        int i, n, lo = 0;
        if (!id || !count)
            die(EXIT_USAGE, "--shard slurm: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are not set (run it as a "
                            "Slurm job array: sbatch --array=0-N ...)");
        if (!parse_int(id, 0, 100000000, &i) || !parse_int(count, 1, 100000000, &n) ||
            (min && !parse_int(min, 0, 100000000, &lo)) || i < lo || i - lo >= n)
            die(EXIT_USAGE, "--shard slurm: SLURM_ARRAY_TASK_ID=%s, SLURM_ARRAY_TASK_MIN=%s, SLURM_ARRAY_TASK_COUNT=%s do "
                            "not name a task of the array", id, min ? min : "(unset)", count);
        *shard = i - lo;
        *nshards = n;
        return;
    }
    const char *slash = strchr(spec, '/');
    char first[32];
    if (!slash || (size_t)(slash - spec) >= sizeof first)
        die(EXIT_USAGE, "--shard '%s': expected I/N (0 <= I < N) or slurm", spec);
    snprintf(first, sizeof first, "%.*s", (int)(slash - spec), spec);
    if (!parse_int(slash + 1, 1, 100000000, nshards) || !parse_int(first, 0, *nshards - 1, shard))
        die(EXIT_USAGE, "--shard '%s': expected I/N with 0 <= I < N", spec);
}

static void list_cells(const plan *p, const char *dir) {
    printf("%5s %8s  %-9s %6s %6s  %s\n", "index", "size", "arm", "seed", "epochs", "file");
    for (int k = 0; k < p->ncells; k++) {
        const cell *c = &p->cells[k];
        char err[1024], *device = NULL;
        study_result r;
        cell_state st = cell_read_in(dir, c, &r, &device, err, sizeof err);
        free(device);
        printf("%5d %8d  %-9s %6llu %6d  %s/cells/%s.json%s\n", c->index, c->size, study_arm_name(c->augmented),
               (unsigned long long)c->seed, c->epochs, dir, c->name,
               st == CELL_DONE ? " (done)" : st == CELL_BAD ? " (bad: will be computed again)" : "");
    }
}

int study_main(const claug_opts *o) {
    plan p;
    if (o->collect) {
        char err[1024], *path = xasprintf("%s/study.json", o->collect);
        if (!plan_from_json(&p, path, err, sizeof err)) die(EXIT_USAGE, "--collect %s: %s", o->collect, err);
        collect(&p, o->collect, o->quiet);
        plan_free(&p);
        free(path);
        return 0;
    }
    int shard, nshards;
    parse_shard(o->shard, &shard, &nshards);
    dataset ds;
    dataset_load_or_die(&ds, o->data_dir ? o->data_dir : dataset_default_dir());
    plan_from_options(&p, o, &ds);
    const char *dir = o->out ? o->out : "study";
    if (o->list) {
        list_cells(&p, dir);
    } else {
        claim_dir(&p, dir);
        double t0 = now_seconds();
        int done = run_shard(o, &p, &ds, dir, shard, nshards);
        if (!o->quiet) printf("%d cells trained in %.0f s\n", done, now_seconds() - t0);
        if (o->shard)
            printf("Shard %d/%d done; `claug study --collect %s` writes the summary once every shard is done.\n", shard,
                   nshards, dir);
        else
            collect(&p, dir, o->quiet);
    }
    plan_free(&p);
    dataset_free(&ds);
    return 0;
}
