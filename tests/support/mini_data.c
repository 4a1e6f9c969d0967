#include "mini_data.h"

#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "claug/data/dataset.h"

const char *mini_data(const char *name, int ntrain, int ntest) {
    static char path[1024];
    snprintf(path, sizeof path, "%s", scratch_dir(name));
    char *cmd = xasprintf("sh '%s/tests/scripts/mini_data.sh' '%s' '%s' %d %d", test_source_dir(), dataset_default_dir(),
                          path, ntrain, ntest);
    if (system(cmd) != 0) die(1, "%s failed", cmd);
    free(cmd);
    return path;
}
