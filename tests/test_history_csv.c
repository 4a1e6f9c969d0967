/* `train --csv`: Keras CSVLogger's header and one row per epoch holding the printed metrics. */
/* ctest: labels=e2e timeout=60 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "short_train.h"
#include "tol.h"

int main(void) {
    char *csv = xasprintf("%s/history.csv", scratch_dir("history-csv"));
    char *out = short_train(NULL, csv);
    double val_loss = last_field(out, "val_loss: ");
    free(out);

    char *text = slurp(csv, NULL);
    CHECK(text && strncmp(text, "epoch,accuracy,loss,val_accuracy,val_loss\n0,", 44) == 0, "history CSV: %s",
          text ? text : "(unreadable)");
    if (text) {
        double v = atof(strrchr(text, ',') + 1);
        CHECK(v > 0 && fabs(v - val_loss) < TOL_PRINTED_4DP, "CSV val_loss %.6f vs printed %.4f", v, val_loss);
    }
    free(text);
    free(csv);
    return check_done("test_history_csv");
}
