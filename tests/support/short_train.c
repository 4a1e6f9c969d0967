#include "short_train.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

char *short_train(const char *save, const char *csv) {
    const char *args[16] = {"train", "--train-size", "2000", "--epochs", "1", "--seed", "7", "--quiet"};
    int n = 8;
    if (save) args[n++] = "--save", args[n++] = save;
    if (csv) args[n++] = "--csv", args[n++] = csv;
    args[n] = NULL;
    char *out, *err;
    int rc = run_claug(&out, &err, args);
    CHECK(rc == 0, "train: exit %d\n%s%s", rc, out, err);
    free(err);
    return out;
}

double last_field(const char *text, const char *name) {
    const char *p = NULL;
    for (const char *q = strstr(text, name); q; q = strstr(q + 1, name)) p = q;
    return p ? atof(p + strlen(name)) : -1;
}
