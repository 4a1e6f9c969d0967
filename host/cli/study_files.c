#define _POSIX_C_SOURCE 200809L
#include "claug/cli/study_files.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claug/util/json.h"
#include "claug/util/json_read.h"
#include "claug/util/strbuf.h"

const char *study_arm_name(bool augmented) { return augmented ? "augmented" : "plain"; }

void plan_cells(plan *p) {
    p->ncells = 2 * p->nsizes * p->nseeds;
    p->cells = xcalloc((size_t)p->ncells, sizeof *p->cells);
    int k = 0;
    for (int j = 0; j < p->nseeds; j++)
        for (int i = 0; i < p->nsizes; i++)
            for (int arm = 0; arm < 2; arm++, k++) {
                cell *c = &p->cells[k];
                *c = (cell){k, p->sizes[i], p->epochs[i], arm, p->seeds[j], NULL, NULL};
                c->name = xasprintf("size%d-seed%llu-%s", c->size, (unsigned long long)c->seed, study_arm_name(arm));
                c->key = xasprintf("size=%d; arm=%s; seed=%llu; epochs=%d; model=%s; batch_size=%d; lr=%.17g; "
                                   "augmentation=%s; data=%08lx",
                                   c->size, study_arm_name(arm), (unsigned long long)c->seed, c->epochs, p->model,
                                   p->batch_size, p->lr, arm ? p->augmentation : "none", p->data);
            }
}

void plan_free(plan *p) {
    for (int k = 0; k < p->ncells; k++) {
        free(p->cells[k].name);
        free(p->cells[k].key);
    }
    free(p->cells);
    free(p->model);
    free(p->augmentation);
    free(p->sizes);
    free(p->epochs);
    free(p->seeds);
}

/* ---- study.json: the plan, so that --collect and every shard agree on the grid ---------------- */

char *plan_json(const plan *p) {
    strbuf b = {0};
    json_writer w;
    json_init(&w, &b);
    json_object_begin(&w);
    json_string(json_key(&w, "format"), "claug-study");
    json_int(json_key(&w, "version"), 1);
    json_string(json_key(&w, "model"), p->model);
    json_string(json_key(&w, "augmentation"), p->augmentation);
    json_int(json_key(&w, "batch_size"), p->batch_size);
    json_number(json_key(&w, "lr"), p->lr);
    char data[16];
    snprintf(data, sizeof data, "%08lx", p->data);
    json_string(json_key(&w, "data"), data);
    json_array_begin_inline(json_key(&w, "sizes"));
    for (int i = 0; i < p->nsizes; i++) json_int(&w, p->sizes[i]);
    json_array_end(&w);
    json_array_begin_inline(json_key(&w, "epochs"));
    for (int i = 0; i < p->nsizes; i++) json_int(&w, p->epochs[i]);
    json_array_end(&w);
    json_array_begin_inline(json_key(&w, "seeds"));
    for (int j = 0; j < p->nseeds; j++) json_uint(&w, p->seeds[j]);
    json_array_end(&w);
    json_array_begin(json_key(&w, "cells"));
    for (int k = 0; k < p->ncells; k++) {
        const cell *c = &p->cells[k];
        json_object_begin(&w);
        json_int(json_key(&w, "index"), c->index);
        json_string(json_key(&w, "name"), c->name);
        json_int(json_key(&w, "size"), c->size);
        json_string(json_key(&w, "arm"), study_arm_name(c->augmented));
        json_uint(json_key(&w, "seed"), c->seed);
        json_int(json_key(&w, "epochs"), c->epochs);
        json_string(json_key(&w, "key"), c->key);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_object_end(&w);
    sb_putc(&b, '\n');
    return sb_take(&b);
}

static bool json_int_array(const json_value *v, int *out, int n, double lo, double hi) {
    if (!v || v->type != JSON_ARRAY || v->count != n) return false;
    for (int i = 0; i < n; i++) {
        const json_value *x = &v->items[i];
        if (x->type != JSON_NUMBER || x->number != floor(x->number) || x->number < lo || x->number > hi) return false;
        out[i] = (int)x->number;
    }
    return true;
}

/* The plan of study.json, rebuilt through plan_cells and checked by writing it out again: a
 * file that is not exactly what claug writes is refused. */
bool plan_from_json(plan *p, const char *path, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    size_t len;
    char *text = read_file(path, (size_t)64 << 20, &len, err, errlen);
    if (!text) return false;
    json_value *v = json_parse(text, len, err, errlen);
    bool ok = false;
    const json_value *model = json_member(v, "model"), *aug = json_member(v, "augmentation"),
                     *bs = json_member(v, "batch_size"), *lr = json_member(v, "lr"), *data = json_member(v, "data"),
                     *sizes = json_member(v, "sizes"), *epochs = json_member(v, "epochs"), *seeds = json_member(v, "seeds");
    if (!v || !model || model->type != JSON_STRING || !aug || aug->type != JSON_STRING || !bs || bs->type != JSON_NUMBER ||
        !lr || lr->type != JSON_NUMBER || !data || data->type != JSON_STRING || !sizes || sizes->type != JSON_ARRAY ||
        !seeds || seeds->type != JSON_ARRAY || sizes->count < 1 || seeds->count < 1) {
        if (v) fail_with(err, errlen, path, "not a claug study file (a member is missing or of the wrong type)");
        goto done;
    }
    /* The command line's bounds, checked before any conversion or allocation they size. */
    if (!(bs->number >= 1 && bs->number <= 8192 && bs->number == floor(bs->number)) || sizes->count > STUDY_MAX_GRID ||
        seeds->count > STUDY_MAX_GRID) {
        fail_with(err, errlen, path, "batch_size, sizes or seeds out of range");
        goto done;
    }
    p->model = xstrdup(model->string);
    p->augmentation = xstrdup(aug->string);
    p->batch_size = (int)bs->number;
    p->lr = lr->number;
    p->data = strtoul(data->string, NULL, 16);
    p->nsizes = sizes->count;
    p->sizes = xmalloc((size_t)p->nsizes * sizeof *p->sizes);
    p->epochs = xmalloc((size_t)p->nsizes * sizeof *p->epochs);
    p->nseeds = seeds->count;
    p->seeds = xmalloc((size_t)p->nseeds * sizeof *p->seeds);
    bool seeds_ok = true;
    for (int j = 0; j < p->nseeds; j++) {
        const json_value *x = &seeds->items[j];
        seeds_ok &= x->type == JSON_NUMBER && x->number >= 0 && x->number < STUDY_MAX_SEED && x->number == floor(x->number);
        p->seeds[j] = seeds_ok ? (uint64_t)x->number : 0;
    }
    if (!json_int_array(sizes, p->sizes, p->nsizes, 1, 1e8) || !json_int_array(epochs, p->epochs, p->nsizes, 1, 1e5) ||
        !seeds_ok) {
        fail_with(err, errlen, path, "bad sizes, epochs or seeds");
        goto done;
    }
    plan_cells(p);
    char *again = plan_json(p);
    ok = strcmp(again, text) == 0;
    if (!ok) fail_with(err, errlen, path, "altered or written by another claug version (it does not match its own grid)");
    free(again);
done:
    json_value_free(v);
    free(text);
    if (!ok) plan_free(p);
    return ok;
}

/* ---- cell files ------------------------------------------------------------------------------ */

char *cell_path(const char *dir, const cell *c, const char *ext) {
    return xasprintf("%s/cells/%s.%s", dir, c->name, ext);
}

char *cell_json(const plan *p, const cell *c, const history *h, const double *class_acc, const int *confusion,
                       const char *device, int train_images, int test_images) {
    const epoch_metrics *last = &h->epoch[h->epochs - 1];
    double seconds = 0;
    for (int e = 0; e < h->epochs; e++) seconds += h->epoch[e].train_seconds + h->epoch[e].val_seconds;
    strbuf b = {0};
    json_writer w;
    json_init(&w, &b);
    json_object_begin(&w);
    json_string(json_key(&w, "format"), "claug-study-cell");
    json_int(json_key(&w, "version"), 1);
    json_string(json_key(&w, "key"), c->key);
    json_int(json_key(&w, "size"), c->size);
    json_string(json_key(&w, "arm"), study_arm_name(c->augmented));
    json_uint(json_key(&w, "seed"), c->seed);
    json_int(json_key(&w, "epochs"), h->epochs);
    json_number(json_key(&w, "loss"), last->loss);
    json_number(json_key(&w, "accuracy"), last->accuracy);
    json_number(json_key(&w, "val_loss"), last->val_loss);
    json_number(json_key(&w, "val_accuracy"), last->val_accuracy);
    json_array_begin_inline(json_key(&w, "val_accuracy_per_class"));
    for (int k = 0; k < NUM_CLASSES; k++) json_number(&w, class_acc[k]);
    json_array_end(&w);
    /* Rows: true class, columns: predicted (model/confusion.h). */
    json_array_begin(json_key(&w, "val_confusion"));
    for (int k = 0; k < NUM_CLASSES; k++) {
        json_array_begin_inline(&w);
        for (int j = 0; j < NUM_CLASSES; j++) json_int(&w, confusion[k * NUM_CLASSES + j]);
        json_array_end(&w);
    }
    json_array_end(&w);
    json_array_begin(json_key(&w, "history"));
    for (int e = 0; e < h->epochs; e++) {
        const epoch_metrics *m = &h->epoch[e];
        json_object_begin(&w);
        json_int(json_key(&w, "epoch"), e);
        json_number(json_key(&w, "loss"), m->loss);
        json_number(json_key(&w, "accuracy"), m->accuracy);
        json_number(json_key(&w, "val_loss"), m->val_loss);
        json_number(json_key(&w, "val_accuracy"), m->val_accuracy);
        json_number(json_key(&w, "seconds"), m->train_seconds + m->val_seconds);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_number(json_key(&w, "seconds"), seconds);
    json_string(json_key(&w, "device"), device);
    json_object_begin(json_key(&w, "config"));
    json_string(json_key(&w, "model"), p->model);
    json_int(json_key(&w, "train_images"), train_images);
    json_int(json_key(&w, "test_images"), test_images);
    json_int(json_key(&w, "epochs"), c->epochs);
    json_int(json_key(&w, "batch_size"), p->batch_size);
    json_string(json_key(&w, "optimizer"), "Adam(beta_1=0.9, beta_2=0.999, epsilon=1e-7)");
    json_number(json_key(&w, "lr"), p->lr);
    json_uint(json_key(&w, "seed"), c->seed);
    json_string(json_key(&w, "augmentation"), c->augmented ? p->augmentation : "none");
    char data[16];
    snprintf(data, sizeof data, "%08lx", p->data);
    json_string(json_key(&w, "data"), data);
    json_string(json_key(&w, "claug"), CLAUG_VERSION " (commit " CLAUG_GIT_COMMIT ")");
    json_object_end(&w);
    json_object_end(&w);
    sb_putc(&b, '\n');
    return sb_take(&b);
}

static bool fraction(const json_value *v, double lo, double hi, double *out) {
    if (!v || v->type != JSON_NUMBER || !(v->number >= lo && v->number <= hi)) return false;
    *out = v->number;
    return true;
}

cell_state cell_read(const char *path, const cell *c, study_result *r, char **device, char *err, size_t errlen) {
    cell_state st = CELL_BAD;
    json_value *v = NULL;
    char *text = NULL;
    if (access(path, F_OK) != 0) {
        st = CELL_MISSING;
        goto done;
    }
    size_t len;
    if (!(text = read_file(path, (size_t)64 << 20, &len, err, errlen))) goto done;
    char perr[256];
    if (!(v = json_parse(text, len, perr, sizeof perr))) {
        fail_with(err, errlen, path, "corrupt: %s", perr);
        goto done;
    }
    const json_value *key = json_member(v, "key"), *pc = json_member(v, "val_accuracy_per_class"),
                     *dev = json_member(v, "device");
    if (!key || key->type != JSON_STRING || strcmp(key->string, c->key) != 0) {
        fail_with(err, errlen, path, "belongs to another configuration (its key is not this study's: %s)", c->key);
        goto done;
    }
    *r = (study_result){.size = c->size, .augmented = c->augmented, .seed = c->seed};
    bool ok = fraction(json_member(v, "loss"), 0, INFINITY, &r->loss) &&
              fraction(json_member(v, "accuracy"), 0, 1, &r->accuracy) &&
              fraction(json_member(v, "val_loss"), 0, INFINITY, &r->val_loss) &&
              fraction(json_member(v, "val_accuracy"), 0, 1, &r->val_accuracy) && pc && pc->type == JSON_ARRAY &&
              pc->count == NUM_CLASSES && dev && dev->type == JSON_STRING;
    for (int k = 0; ok && k < NUM_CLASSES; k++) ok = fraction(&pc->items[k], 0, 1, &r->class_accuracy[k]);
    if (!ok) {
        fail_with(err, errlen, path, "corrupt: a metric is missing or out of range");
        goto done;
    }
    *device = xstrdup(dev->string);
    st = CELL_DONE;
done:
    json_value_free(v);
    free(text);
    return st;
}
