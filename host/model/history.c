#include "claug/model/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/util/strbuf.h"
#include "claug/util/util.h"

void history_init(history *h, const char *name, int capacity, int train_images, int batch_size) {
    memset(h, 0, sizeof *h);
    h->name = name;
    h->capacity = capacity > 0 ? capacity : 1;
    h->epoch = xcalloc((size_t)h->capacity, sizeof *h->epoch);
    h->train_images = train_images;
    h->batch_size = batch_size;
}

void history_free(history *h) {
    free(h->epoch);
    h->epoch = NULL;
    h->epochs = 0;
    h->capacity = 0;
}

void history_add(history *h, const epoch_metrics *m) {
    /* A resumed or second fit on one history adds past the epochs it was made for. */
    if (h->epochs == h->capacity) {
        h->capacity = 2 * h->capacity + 1;
        h->epoch = xrealloc(h->epoch, (size_t)h->capacity * sizeof *h->epoch);
    }
    h->epoch[h->epochs++] = *m;
}

bool history_write_csv(const history *h, const char *path) {
    strbuf b = {0};
    sb_append(&b, "epoch,accuracy,loss,val_accuracy,val_loss\n");
    for (int i = 0; i < h->epochs; i++) {
        const epoch_metrics *e = &h->epoch[i];
        sb_printf(&b, "%d,%.6f,%.6f,%.6f,%.6f\n", i, e->accuracy, e->loss, e->val_accuracy, e->val_loss);
    }
    char *text = sb_take(&b);
    bool ok = write_file(path, text, strlen(text));
    free(text);
    return ok;
}

double history_median_epoch_seconds(const history *h) {
    if (h->epochs == 0) return 0;
    double *s = xmalloc((size_t)h->epochs * sizeof *s);
    for (int i = 0; i < h->epochs; i++) s[i] = h->epoch[i].train_seconds;
    double m = median(s, h->epochs);
    free(s);
    return m;
}
