/* Device selection: spec parsing and matching on a fabricated device list, then the real
 * list (PoCL must be there), and the command line's answers to good and bad specs. */
/* ctest: labels=e2e timeout=60 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claug/runtime/clrt.h"

static clrt_devinfo fake(int p, int d, cl_device_type t, const char *name, const char *vendor, const char *plat,
                         const char *plat_vendor) {
    clrt_devinfo v;
    memset(&v, 0, sizeof v);
    v.platform_index = p;
    v.device_index = d;
    v.type = t;
    snprintf(v.name, sizeof v.name, "%s", name);
    snprintf(v.vendor, sizeof v.vendor, "%s", vendor);
    snprintf(v.platform_name, sizeof v.platform_name, "%s", plat);
    snprintf(v.platform_vendor, sizeof v.platform_vendor, "%s", plat_vendor);
    return v;
}

static void test_match(void) {
    clrt_devinfo devs[4] = {
        fake(0, 0, CL_DEVICE_TYPE_CPU, "pthread-haswell-AMD EPYC", "AuthenticAMD", "Portable Computing Language",
             "The pocl project"),
        fake(1, 0, CL_DEVICE_TYPE_GPU, "NVIDIA H100 80GB HBM3", "NVIDIA Corporation", "NVIDIA CUDA", "NVIDIA Corporation"),
        fake(1, 1, CL_DEVICE_TYPE_GPU, "NVIDIA GeForce RTX 4090", "NVIDIA Corporation", "NVIDIA CUDA", "NVIDIA Corporation"),
        fake(2, 0, CL_DEVICE_TYPE_GPU, "gfx1100", "Advanced Micro Devices, Inc.", "AMD Accelerated Parallel Processing",
             "Advanced Micro Devices, Inc."),
    };
    const struct {
        const char *spec;
        int want;
    } cases[] = {
        {NULL, 1},     {"", 1},        {"0:0", 0},   {"1:1", 2},     {"2:0", 3},      {"3:0", -1},     {"1:7", -1},
        {"cpu", 0},    {"GPU", 1},     {"pocl", 0},  {"POCL", 0},   {"portable", 0}, {"nvidia", 1},   {"4090", 2},
        {"gfx1100", 3}, {"advanced micro", 3}, {"amd", 0}, {"nosuch", -1}, {"1:x", -1},    {"accelerator", -1},
    };
    /* "POCL" is not a substring of any name ("Portable Computing Language",
             "The pocl project"), so it matches nothing;
     * "amd" matches AuthenticAMD first (vendor), in P:D order. */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = clrt_match(devs, 4, cases[i].spec);
        CHECK(got == cases[i].want, "spec '%s': got %d, want %d", cases[i].spec ? cases[i].spec : "(null)", got,
              cases[i].want);
    }
    /* Without a GPU the default is the first device. */
    CHECK(clrt_match(devs, 1, NULL) == 0, "default without GPU");
    CHECK(clrt_match(devs, 0, NULL) == -1, "default with no device");
    printf("device spec matching: %zu cases\n", sizeof cases / sizeof cases[0]);
}

static void test_real(void) {
    clrt_devinfo *devs;
    int n = clrt_list(&devs);
    CHECK(n > 0, "no OpenCL device found (PoCL must be installed)");
    int pocl = clrt_match(devs, n, "pocl");
    CHECK(pocl >= 0, "the PoCL device is not listed");
    free(devs);

    char *out, *err;
    int rc = run_claug(&out, &err, (const char *[]){"devices", NULL});
    CHECK(rc == 0 && strstr(out, "Portable Computing Language") && strstr(out, "0:0") && strstr(out, "compute units") &&
              strstr(out, "max work-group size") && strstr(out, "OpenCL C"),
          "claug devices: exit %d, output:\n%s", rc, out);
    free(out);
    free(err);
    rc = run_claug(&out, &err, (const char *[]){"-d", "nosuch", "devices", NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, "'nosuch' matches no OpenCL device") && strstr(err, "0:0"),
          "claug -d nosuch devices: exit %d, stderr:\n%s", rc, err);
    free(out);
    free(err);
    rc = run_claug(&out, &err, (const char *[]){"samples", "-d", "nosuch", "-o", sink_path("device"), NULL});
    CHECK(rc == EXIT_USAGE && strstr(err, "matches no OpenCL device"), "samples -d nosuch: exit %d: %s", rc, err);
    free(out);
    free(err);
    rc = run_claug(&out, &err, (const char *[]){"-d", "pocl", "samples", "-n", "3", "-o", sink_path("device"), NULL});
    CHECK(rc == 0 && strstr(out, "Portable Computing Language") && strstr(out, "Labels: [9 2 1 1 6]"),
          "claug -d pocl samples: exit %d:\n%s%s", rc, out, err);
    free(out);
    free(err);
}

int main(void) {
    test_match();
    test_real();
    return check_done("test_device");
}
