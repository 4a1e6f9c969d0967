/* The suite's short training through the command line, shared by the tests of what a training
 * produces: 2000 training images, one epoch, seed 7, quiet. */
#ifndef CLAUG_SHORT_TRAIN_H
#define CLAUG_SHORT_TRAIN_H

/* Runs `claug train` with those settings, plus --save FILE and --csv FILE when not NULL, and
 * CHECKs that it succeeds. Returns its stdout (caller frees). */
char *short_train(const char *save, const char *csv);

/* The number after the last occurrence of `name` in text ("val_accuracy: "): the last epoch's
 * value in a progress line; -1 when absent. */
double last_field(const char *text, const char *name);

#endif
