/* The tuning record: the file round-trips and says where its values came from; a corrupt,
 * truncated, foreign or out-of-range one is ignored with a warning; CLBlast parameters it refuses
 * leave the convolution's in use. */
/* ctest: labels=kernel timeout=300 */
#define _POSIX_C_SOURCE 200809L
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/model/net.h"
#include "tuning_check.h"

/* Writes text as the device's tuning file, loads it, and expects the defaults and a warning
 * containing `why`. */
static void expect_ignored(clrt *rt, const char *text, size_t len, const char *why, const char *what) {
    char *path = tuning_path(rt);
    CHECK(write_file(path, text, len), "cannot write %s", path);
    tuning t, def;
    tuning_default(&def, rt);
    char desc[4096];
    char *err = tune_load_capturing(rt, &t, desc, sizeof desc);
    CHECK(!t.from_file && memcmp(&t.conv, &def.conv, sizeof def.conv) == 0 && t.gemm.nkernels == 0,
          "%s: the file's values were used", what);
    CHECK(strstr(err, "ignoring the tuning file") && strstr(err, path) && strstr(err, why),
          "%s: warning '%s' lacks '%s'", what, err, why);
    CHECK(strstr(desc, "convolution default parameters (run `claug tune`)") != NULL, "%s: description '%s'", what,
          desc);
    printf("%-28s ignored: %s", what, strstr(err, "ignoring") ? strstr(err, "ignoring") : err);
    free(err);
    free(path);
}

/* The text with its checksum line recomputed, as an editor who knows the format would. */
static char *resum(const char *text) {
    const char *sum = strstr(text, "checksum = ");
    size_t body = (size_t)(sum - text);
    char *out =
        xasprintf("%.*schecksum = %016llx\n", (int)body, text, (unsigned long long)fnv64(FNV64_INIT, text, body));
    return out;
}

/* ---- the file --------------------------------------------------------------------------------------- */

static void test_file(clrt *rt) {
    char *path = tuning_path(rt);
    tuning def, t;
    tuning_default(&def, rt);
    char desc[4096];
    remove(path);
    char *err = tune_load_capturing(rt, &t, desc, sizeof desc);
    CHECK(!t.from_file && memcmp(&t.conv, &def.conv, sizeof def.conv) == 0 && !*err, "no file: %s", err);
    CHECK(strstr(desc, "convolution default parameters (run `claug tune`); CLBlast default parameters (run `claug "
                       "tune`)") != NULL,
          "no file: description '%s'", desc);
    printf("no file: %s\n", desc);
    free(err);

    /* Save, load: the same values, and the line says where they came from. */
    tuning want = tune_distinctive(rt);
    CHECK(tuning_save(&want, rt, path), "cannot save %s", path);
    err = tune_load_capturing(rt, &t, desc, sizeof desc);
    CHECK(t.from_file && tune_same(&t, &want) && !*err, "round trip: values differ (warnings: %s)", err);
    char tuned_conv[1200], tuned_gemm[1200];
    snprintf(tuned_conv, sizeof tuned_conv, "convolution tuned (%s)", path);
    snprintf(tuned_gemm, sizeof tuned_gemm, "CLBlast tuned (%s)", path);
    CHECK(strstr(desc, tuned_conv) && strstr(desc, tuned_gemm), "round trip: description '%s'", desc);
    printf("round trip: %s\n", desc);
    free(err);

    char *text = tuning_format(&want, &rt->dev);
    size_t len = strlen(text);
    /* One value changed: the checksum no longer matches. */
    char *edited = xstrdup(text);
    char *tp = strstr(edited, "conv.tp = 5");
    CHECK(tp != NULL, "no conv.tp line in\n%s", text);
    if (tp) tp[10] = '7';
    expect_ignored(rt, edited, len, "checksum", "edited value");
    /* Cut short. */
    expect_ignored(rt, text, len / 2, "no checksum line", "truncated");
    expect_ignored(rt, text, len - 1, "checksum", "last byte missing");
    /* Made for another device, checksum intact. */
    clrt_devinfo other = rt->dev;
    snprintf(other.driver, sizeof other.driver, "%.200s-other", rt->dev.driver);
    char *foreign = tuning_format(&want, &other);
    expect_ignored(rt, foreign, strlen(foreign), "made for driver", "another driver");
    /* Values the kernels cannot take, or keys nobody wrote, with a valid checksum. */
    tuning bad = want;
    bad.conv.tp = 0;
    char *zero = tuning_format(&bad, &rt->dev);
    expect_ignored(rt, zero, strlen(zero), "conv.tp = 0 is outside", "tile of 0");
    bad = want;
    bad.conv.tn = 15; /* not a multiple of rn = 2 */
    char *odd = tuning_format(&bad, &rt->dev);
    expect_ignored(rt, odd, strlen(odd), "not multiples", "tiles not multiples");
    char *unknown_src =
        xasprintf("%.*sconv.turbo = 1\n%s", (int)(strstr(text, "checksum") - text), text, strstr(text, "checksum"));
    char *unknown = resum(unknown_src);
    expect_ignored(rt, unknown, strlen(unknown), "unknown key 'conv.turbo'", "unknown key");
    char *dup_src =
        xasprintf("%.*sconv.tp = 5\n%s", (int)(strstr(text, "checksum") - text), text, strstr(text, "checksum"));
    char *dup = resum(dup_src);
    expect_ignored(rt, dup, strlen(dup), "given twice", "duplicate key");
    const char *missing_at = strstr(text, "conv.splits");
    char *missing_src = xasprintf("%.*s%s", (int)(missing_at - text), text, strchr(missing_at, '\n') + 1);
    char *missing = resum(missing_src);
    expect_ignored(rt, missing, strlen(missing), "keys missing", "missing key");
    expect_ignored(rt, "garbage\n", 8, "no checksum line", "garbage");

    /* CLBlast parameters it refuses (one missing): the convolution's are still used, CLBlast runs
     * its defaults, with a warning. */
    tuning partial = want;
    partial.gemm.kernels[0].n--;
    CHECK(tuning_save(&partial, rt, path), "cannot save");
    err = tune_load_capturing(rt, &t, desc, sizeof desc);
    CHECK(t.from_file && memcmp(&t.conv, &want.conv, sizeof want.conv) == 0 && t.gemm.nkernels == 0 &&
              strstr(err, "CLBlast refused") && strstr(err, path) && strstr(err, "XgemmDirect WGD=16") &&
              strstr(desc, tuned_conv) && strstr(desc, "CLBlast default parameters (those of"),
          "refused CLBlast parameters: '%s' / '%s'", desc, err);
    printf("%-28s %s", "CLBlast refuses", err);
    free(err);
    remove(path);
    free(text), free(edited), free(foreign), free(zero), free(odd), free(unknown_src), free(unknown);
    free(dup_src), free(dup), free(missing_src), free(missing), free(path);
}

int main(void) {
    tune_test_cache("tuning-file-cache");
    clrt *rt = clrt_open(NULL, NULL);
    test_file(rt);
    clrt_close(rt);
    return check_done("test_tuning_file");
}
