/* The study's readers on the input as a file: plan_from_json (study.json) and cell_read (a cell
 * file, against a cell whose key the corpus's files carry). What they accept must keep their
 * promises: a plan that writes back to the same text, a cell's metrics in range. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claug/cli/study_files.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write_file(data, size);
    char err[1024];
    plan p;
    if (plan_from_json(&p, path, err, sizeof err)) {
        if (p.nsizes < 1 || p.nseeds < 1 || p.ncells != 2 * p.nsizes * p.nseeds) abort();
        char *again = plan_json(&p);
        if (strlen(again) != size || memcmp(again, data, size) != 0) abort();
        free(again);
        plan_free(&p);
    }
    cell c = {0, 100, 2, true, 11, "size100-seed11-augmented",
              "size=100; arm=augmented; seed=11; epochs=2; model=conv32x3,relu,flatten,dense10,softmax; "
              "batch_size=32; lr=0.001; augmentation=rotation_range=10; data=0123abcd"};
    study_result r;
    char *device = NULL;
    cell_state st = cell_read(path, &c, &r, &device, err, sizeof err);
    if (st == CELL_DONE) {
        if (!device || !(r.accuracy >= 0 && r.accuracy <= 1) || !(r.val_accuracy >= 0 && r.val_accuracy <= 1) ||
            !(r.loss >= 0) || !(r.val_loss >= 0))
            abort();
        for (int k = 0; k < NUM_CLASSES; k++)
            if (!(r.class_accuracy[k] >= 0 && r.class_accuracy[k] <= 1)) abort();
    } else if (st != CELL_BAD || !err[0]) {
        abort(); /* the file exists: it is read or refused with a reason, never "missing" */
    }
    free(device);
    return 0;
}
