/* A short training through the command line clears a bar well above chance. */
/* ctest: labels=e2e timeout=60 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "short_train.h"

int main(void) {
    char *out = short_train(NULL, NULL);
    double val_acc = last_field(out, "val_accuracy: "), val_loss = last_field(out, "val_loss: ");
    printf("2000 images, 1 epoch: val_loss %.4f, val_accuracy %.4f\n", val_loss, val_acc);
    CHECK(val_acc > 0.6, "val_accuracy %.4f does not clear 0.6 (chance is 0.1)", val_acc);
    free(out);
    return check_done("test_train_converges");
}
