/* The confusion matrix of an evaluation: m[t * classes + p] counts the test images of true class t
 * that the model predicts as p (rows true, columns predicted: Keras' and scikit-learn's
 * convention), from the predicted classes the evaluation left on the device. */
#ifndef CLAUG_CONFUSION_H
#define CLAUG_CONFUSION_H

#include <stdint.h>
#include <stdio.h>

#include "claug/model/train.h"

/* m (classes x classes) from n predictions and labels; a prediction or label outside [0, classes)
 * is not counted. */
void confusion_count(int *m, const int *predicted, const uint8_t *labels, int n, int classes);
/* The matrix of t's last trainer_evaluate (one read of its predictions), NUM_CLASSES x NUM_CLASSES. */
void trainer_confusion(trainer *t, int *m);
/* The matrix as a table: a header of predicted classes' indices, a row per true class with its
 * index and name, and each row's total and accuracy (its diagonal share: the recall). */
void confusion_print(FILE *f, const int *m, int classes, const char *const *names);

#endif
