#include "claug/model/confusion.h"

#include <stdlib.h>
#include <string.h>

void confusion_count(int *m, const int *predicted, const uint8_t *labels, int n, int classes) {
    memset(m, 0, (size_t)classes * classes * sizeof *m);
    for (int i = 0; i < n; i++)
        if (predicted[i] >= 0 && predicted[i] < classes && labels[i] < classes) m[labels[i] * classes + predicted[i]]++;
}

void trainer_confusion(trainer *t, int *m) {
    int n = t->test.count;
    int *predicted = xmalloc((size_t)n * sizeof *predicted);
    clrt_read(t->rt, t->predicted, 0, (size_t)n * sizeof(cl_int), predicted);
    confusion_count(m, predicted, t->ds->test_labels.data, n, NUM_CLASSES);
    free(predicted);
}

void confusion_print(FILE *f, const int *m, int classes, const char *const *names) {
    fprintf(f, "  confusion matrix (rows: true class, columns: predicted class)\n  %-14s", "");
    for (int p = 0; p < classes; p++) fprintf(f, " %5d", p);
    fprintf(f, "   total  accuracy\n");
    for (int t = 0; t < classes; t++) {
        int total = 0;
        fprintf(f, "  %d %-12s", t, names[t]);
        for (int p = 0; p < classes; p++) {
            fprintf(f, " %5d", m[t * classes + p]);
            total += m[t * classes + p];
        }
        fprintf(f, " %7d   %6.2f%%\n", total, total ? 100.0 * m[t * classes + t] / total : 0.0);
    }
}
