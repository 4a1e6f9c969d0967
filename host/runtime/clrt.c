#define _POSIX_C_SOURCE 200809L
#include "claug/runtime/clrt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "claug/runtime/kernels.h"

/* ---- errors ---------------------------------------------------------------------------------- */

const char *cl_error_name(cl_int err) {
    switch (err) {
#define E(x) case x: return #x;
        E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
        E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
        E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
        E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
        E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
        E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
        E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) E(CL_INVALID_VALUE)
        E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT)
        E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_HOST_PTR)
        E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) E(CL_INVALID_IMAGE_SIZE)
        E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM)
        E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION)
        E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
        E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE)
        E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST)
        E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
        E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
        E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
        E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "CL_UNKNOWN_ERROR";
    }
}

void clrt_fail(const char *file, int line, const char *call, cl_int err) {
    die(EXIT_DEVICE, "%s:%d: OpenCL call failed: %s: %s (%d)", file, line, call, cl_error_name(err), (int)err);
}

const char *clblast_status_name(int status) {
    switch (status) {
    case -2050: return "CLBlastInsufficientMemoryTemp";
    case -2049: return "CLBlastInvalidBatchCount";
    case -2048: return "CLBlastInvalidOverrideKernel";
    case -2047: return "CLBlastMissingOverrideParameter";
    case -2046: return "CLBlastInvalidLocalMemUsage";
    case -2045: return "CLBlastNoHalfPrecision";
    case -2044: return "CLBlastNoDoublePrecision";
    case -2043: return "CLBlastInvalidVectorScalar";
    case -2042: return "CLBlastInsufficientMemoryScalar";
    case -2041: return "CLBlastDatabaseError";
    case -2040: return "CLBlastUnknownError";
    case -2039: return "CLBlastUnexpectedError";
    case -1024: return "CLBlastNotImplemented";
    case -1022: return "CLBlastInvalidMatrixA";
    case -1021: return "CLBlastInvalidMatrixB";
    case -1020: return "CLBlastInvalidMatrixC";
    case -1019: return "CLBlastInvalidVectorX";
    case -1018: return "CLBlastInvalidVectorY";
    case -1017: return "CLBlastInvalidDimension";
    case -1016: return "CLBlastInvalidLeadDimA";
    case -1015: return "CLBlastInvalidLeadDimB";
    case -1014: return "CLBlastInvalidLeadDimC";
    case -1013: return "CLBlastInvalidIncrementX";
    case -1012: return "CLBlastInvalidIncrementY";
    case -1011: return "CLBlastInsufficientMemoryA";
    case -1010: return "CLBlastInsufficientMemoryB";
    case -1009: return "CLBlastInsufficientMemoryC";
    case -1008: return "CLBlastInsufficientMemoryX";
    case -1007: return "CLBlastInsufficientMemoryY";
    case -4: return "CLBlastTempBufferAllocFailure (CL_MEM_OBJECT_ALLOCATION_FAILURE)";
    /* The others in (-100, 0) are OpenCL's own codes. */
    default: return status < 0 && status > -100 ? cl_error_name(status) : "unknown CLBlast status";
    }
}

void clrt_fail_clblast(const char *file, int line, const char *call, int status) {
    die(EXIT_DEVICE, "%s:%d: CLBlast call failed: %s: %s (%d)", file, line, call, clblast_status_name(status), status);
}

/* ---- devices ----------------------------------------------------------------------------------- */

static void dev_string(cl_device_id d, cl_device_info what, char *buf, size_t len) {
    buf[0] = 0;
    CL_CHECK(clGetDeviceInfo(d, what, len, buf, NULL));
    buf[len - 1] = 0;
}

static void plat_string(cl_platform_id p, cl_platform_info what, char *buf, size_t len) {
    buf[0] = 0;
    CL_CHECK(clGetPlatformInfo(p, what, len, buf, NULL));
    buf[len - 1] = 0;
}

int clrt_list(clrt_devinfo **out) {
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    *out = NULL;
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no driver */ || np == 0) return 0;
    CL_CHECK(err);
    cl_platform_id *plats = xcalloc(np, sizeof *plats);
    CL_CHECK(clGetPlatformIDs(np, plats, NULL));
    int n = 0, cap = 0;
    clrt_devinfo *devs = NULL;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        err = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (err == CL_DEVICE_NOT_FOUND || nd == 0) continue;
        CL_CHECK(err);
        cl_device_id *ids = xcalloc(nd, sizeof *ids);
        CL_CHECK(clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL));
        for (cl_uint d = 0; d < nd; d++) {
            if (n == cap) devs = xrealloc(devs, (size_t)(cap = cap ? 2 * cap : 4) * sizeof *devs);
            clrt_devinfo *v = &devs[n++];
            memset(v, 0, sizeof *v);
            v->platform_index = (int)p;
            v->device_index = (int)d;
            v->platform = plats[p];
            v->device = ids[d];
            plat_string(plats[p], CL_PLATFORM_NAME, v->platform_name, sizeof v->platform_name);
            plat_string(plats[p], CL_PLATFORM_VENDOR, v->platform_vendor, sizeof v->platform_vendor);
            plat_string(plats[p], CL_PLATFORM_VERSION, v->platform_version, sizeof v->platform_version);
            dev_string(ids[d], CL_DEVICE_NAME, v->name, sizeof v->name);
            dev_string(ids[d], CL_DEVICE_VENDOR, v->vendor, sizeof v->vendor);
            dev_string(ids[d], CL_DRIVER_VERSION, v->driver, sizeof v->driver);
            dev_string(ids[d], CL_DEVICE_VERSION, v->version, sizeof v->version);
            dev_string(ids[d], CL_DEVICE_OPENCL_C_VERSION, v->c_version, sizeof v->c_version);
            CL_CHECK(clGetDeviceInfo(ids[d], CL_DEVICE_TYPE, sizeof v->type, &v->type, NULL));
            CL_CHECK(clGetDeviceInfo(ids[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof v->compute_units, &v->compute_units, NULL));
            CL_CHECK(clGetDeviceInfo(ids[d], CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof v->clock_mhz, &v->clock_mhz, NULL));
            CL_CHECK(clGetDeviceInfo(ids[d], CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof v->mem_align_bits, &v->mem_align_bits, NULL));
            CL_CHECK(clGetDeviceInfo(ids[d], CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof v->vector_width_float,
                                     &v->vector_width_float, NULL));
            CL_CHECK(clGetDeviceInfo(ids[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof v->global_mem, &v->global_mem, NULL));
            CL_CHECK(clGetDeviceInfo(ids[d], CL_DEVICE_LOCAL_MEM_SIZE, sizeof v->local_mem, &v->local_mem, NULL));
            CL_CHECK(clGetDeviceInfo(ids[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof v->max_alloc, &v->max_alloc, NULL));
            CL_CHECK(clGetDeviceInfo(ids[d], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof v->max_wg, &v->max_wg, NULL));
        }
        free(ids);
    }
    free(plats);
    *out = devs;
    return n;
}

static bool contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return n == 0;
}

int clrt_match(const clrt_devinfo *devs, int n, const char *spec) {
    if (!spec || !*spec) {
        for (int i = 0; i < n; i++)
            if (devs[i].type & CL_DEVICE_TYPE_GPU) return i;
        return n > 0 ? 0 : -1;
    }
    int p, d, used = 0;
    if (sscanf(spec, "%d:%d%n", &p, &d, &used) == 2 && spec[used] == 0) {
        for (int i = 0; i < n; i++)
            if (devs[i].platform_index == p && devs[i].device_index == d) return i;
        return -1;
    }
    cl_device_type want = 0;
    if (strcasecmp(spec, "gpu") == 0) want = CL_DEVICE_TYPE_GPU;
    if (strcasecmp(spec, "cpu") == 0) want = CL_DEVICE_TYPE_CPU;
    if (strcasecmp(spec, "accelerator") == 0) want = CL_DEVICE_TYPE_ACCELERATOR;
    for (int i = 0; i < n; i++) {
        if (want ? (devs[i].type & want) != 0
                 : contains_nocase(devs[i].name, spec) || contains_nocase(devs[i].platform_name, spec) ||
                       contains_nocase(devs[i].vendor, spec) || contains_nocase(devs[i].platform_vendor, spec))
            return i;
    }
    return -1;
}

const char *clrt_type_name(cl_device_type t) {
    if (t & CL_DEVICE_TYPE_GPU) return "GPU";
    if (t & CL_DEVICE_TYPE_CPU) return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    return "other";
}

void clrt_describe(char *buf, size_t len, const clrt_devinfo *d) {
    snprintf(buf, len, "%d:%d %s (%s, %s, %s, driver %s, %s, %u compute units)", d->platform_index,
             d->device_index, d->name, clrt_type_name(d->type), d->vendor, d->platform_name, d->driver,
             d->c_version, d->compute_units);
}

void clrt_print_devices(FILE *f, const clrt_devinfo *devs, int n) {
    int last_p = -1;
    for (int i = 0; i < n; i++) {
        const clrt_devinfo *d = &devs[i];
        if (d->platform_index != last_p) {
            fprintf(f, "Platform %d: %s (%s, %s)\n", d->platform_index, d->platform_name, d->platform_vendor,
                    d->platform_version);
            last_p = d->platform_index;
        }
        fprintf(f, "  %d:%d  %s\n", d->platform_index, d->device_index, d->name);
        fprintf(f, "        type %s, vendor %s, driver %s\n", clrt_type_name(d->type), d->vendor, d->driver);
        fprintf(f, "        %s, %s\n", d->version, d->c_version);
        fprintf(f, "        %u compute units at %u MHz, global memory %.1f GiB (max allocation %.1f GiB), "
                   "local memory %lu KiB, max work-group size %zu\n",
                d->compute_units, d->clock_mhz, (double)d->global_mem / (1 << 30), (double)d->max_alloc / (1 << 30),
                (unsigned long)(d->local_mem >> 10), d->max_wg);
    }
}

static const char *no_platform_help =
    "no OpenCL platform found. claug needs an OpenCL driver; any CPU works through PoCL:\n"
    "    sudo apt-get install pocl-opencl-icd\n"
    "(GPU drivers: the vendor's OpenCL ICD, e.g. nvidia-opencl-icd, mesa-opencl-icd or intel-opencl-icd.)";

clrt *clrt_open(const char *spec, const char *kernel_dir) {
    if (!spec) spec = getenv("CLAUG_DEVICE");
    if (!kernel_dir) kernel_dir = getenv("CLAUG_KERNELS");
    if (kernel_dir && !*kernel_dir) kernel_dir = NULL;
    clrt_devinfo *devs;
    int n = clrt_list(&devs);
    if (n == 0) die(EXIT_DEVICE, "%s", no_platform_help);
    int i = clrt_match(devs, n, spec);
    if (i < 0) {
        fprintf(stderr, "claug: --device '%s' matches no OpenCL device. The devices are:\n", spec);
        clrt_print_devices(stderr, devs, n);
        fprintf(stderr, "Select one with -d P:D, -d cpu, -d gpu, or part of its name (e.g. -d pocl).\n");
        exit(EXIT_USAGE);
    }
    clrt *rt = xcalloc(1, sizeof *rt);
    rt->dev = devs[i];
    free(devs);
    rt->is_gpu = (rt->dev.type & CL_DEVICE_TYPE_GPU) != 0;
    rt->wg_1d = rt->is_gpu ? 256 : 64;
    if (rt->wg_1d > rt->dev.max_wg) rt->wg_1d = rt->dev.max_wg;
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)rt->dev.platform, 0};
    CL_CHECK((rt->ctx = clCreateContext(props, 1, &rt->dev.device, NULL, NULL, &err), err));
    CL_CHECK((rt->queue = clCreateCommandQueue(rt->ctx, rt->dev.device, CL_QUEUE_PROFILING_ENABLE, &err), err));
    if (kernel_dir) rt->kernel_dir = xstrdup(kernel_dir);

    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *dir = xdg && *xdg ? xasprintf("%s/claug", xdg) : home && *home ? xasprintf("%s/.cache/claug", home) : NULL;
    if (dir && make_dirs(dir)) {
        rt->cache_dir = dir;
    } else {
        if (dir) warn("cannot use the program cache %s (%s); kernels are compiled at every start", dir, strerror(errno));
        free(dir);
    }
    return rt;
}

/* A program clrt_program built, kept for clrt_kernel_report. */
struct clrt_built {
    cl_program prog;
    char *files, *options;
};

void clrt_close(clrt *rt) {
    if (!rt) return;
    CL_CHECK(clFinish(rt->queue));
    CL_CHECK(clReleaseCommandQueue(rt->queue));
    for (int i = 0; i < rt->nbuilt; i++) {
        CL_CHECK(clReleaseProgram(rt->built[i].prog));
        free(rt->built[i].files);
        free(rt->built[i].options);
    }
    free(rt->built);
    CL_CHECK(clReleaseContext(rt->ctx));
    free(rt->kernel_dir);
    free(rt->cache_dir);
    free(rt->prof);
    free(rt);
}

/* ---- programs and their cache ---------------------------------------------------------------- */

/* Non-NULL in listing mode (clrt_list_programs): a mode of the whole process, because
 * clrt_kernel has no clrt to ask. */
static FILE *program_list;

void clrt_list_programs(FILE *f) { program_list = f; }

/* Keeps each distinct program (files, options) for clrt_kernel_report. */
static void remember(clrt *rt, cl_program prog, const char *files, const char *options) {
    for (int i = 0; i < rt->nbuilt; i++)
        if (strcmp(rt->built[i].files, files) == 0 && strcmp(rt->built[i].options, options) == 0) return;
    rt->built = xrealloc(rt->built, (size_t)(rt->nbuilt + 1) * sizeof *rt->built);
    CL_CHECK(clRetainProgram(prog));
    rt->built[rt->nbuilt++] = (clrt_built){prog, xstrdup(files), xstrdup(options)};
}

char *clrt_source(const clrt *rt, const char *file) {
    if (rt->kernel_dir) {
        char *path = xasprintf("%s/%s", rt->kernel_dir, file);
        char err[1024];
        char *text = read_file(path, MAX_TEXT_FILE, NULL, err, sizeof err);
        if (!text) die(EXIT_USAGE, "--kernels: %s", err);
        free(path);
        return text;
    }
    for (const claug_kernel_source *s = claug_kernel_sources; s->name; s++)
        if (strcmp(s->name, file) == 0) return xstrdup(s->text);
    return NULL;
}

/* Cache entry: "CLAUGPB1", u32 key length, key, u32 crc32 of the binary, u32 binary length,
 * binary; all little-endian. The key holds everything the binary depends on, and is compared
 * in full, so a hash collision or a stale entry can never be trusted. */
#define MAX_CACHE_ENTRY ((size_t)1 << 30)
static const char cache_magic[8] = {'C', 'L', 'A', 'U', 'G', 'P', 'B', '1'};

static unsigned char *cache_load(const char *path, const char *key, size_t *bin_len) {
    size_t len;
    char err[1024];
    /* A missing or unreadable entry is simply rebuilt. */
    unsigned char *f = (unsigned char *)read_file(path, MAX_CACHE_ENTRY, &len, err, sizeof err);
    if (!f) return NULL;
    size_t klen = strlen(key), pos = 8 + 4 + klen;
    unsigned char *bin = NULL;
    if (len >= pos + 8 && memcmp(f, cache_magic, 8) == 0 && get_le32(f + 8) == klen &&
        memcmp(f + 12, key, klen) == 0) {
        uint32_t crc = get_le32(f + pos), n = get_le32(f + pos + 4);
        if (len == pos + 8 + n && n > 0 && crc32(0L, f + pos + 8, n) == crc) {
            bin = xmalloc(n);
            memcpy(bin, f + pos + 8, n);
            *bin_len = n;
        }
    }
    free(f);
    return bin;
}

static void cache_store(const char *path, const char *key, const unsigned char *bin, size_t n) {
    size_t klen = strlen(key), len = 8 + 4 + klen + 8 + n;
    unsigned char *f = xmalloc(len), *p = f;
    memcpy(p, cache_magic, 8);
    put_le32(p + 8, (uint32_t)klen);
    memcpy(p + 12, key, klen);
    p += 12 + klen;
    put_le32(p, (uint32_t)crc32(0L, bin, (uInt)n));
    put_le32(p + 4, (uint32_t)n);
    memcpy(p + 8, bin, n);
    if (!write_file(path, f, len)) warn("cannot write the program cache entry %s: %s", path, strerror(errno));
    free(f);
}

static bool build(clrt *rt, cl_program prog, const char *options) {
    cl_int err = clBuildProgram(prog, 1, &rt->dev.device, options, NULL, NULL);
    if (err == CL_SUCCESS) return true;
    if (err != CL_BUILD_PROGRAM_FAILURE && err != CL_INVALID_BINARY && err != CL_INVALID_BUILD_OPTIONS)
        clrt_fail(__FILE__, __LINE__, "clBuildProgram", err);
    return false;
}

static char *build_log(clrt *rt, cl_program prog) {
    size_t n = 0;
    clGetProgramBuildInfo(prog, rt->dev.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
    char *log = xcalloc(n + 1, 1);
    clGetProgramBuildInfo(prog, rt->dev.device, CL_PROGRAM_BUILD_LOG, n, log, NULL);
    return log;
}

cl_program clrt_program(clrt *rt, const char *files, const char *options) {
    char *log;
    cl_program prog = clrt_program_try(rt, files, options, &log);
    if (prog) return prog;
    char *opts = xasprintf("-cl-std=CL1.2 %s%s%s", options ? options : "", rt->extra_options ? " " : "",
                           rt->extra_options ? rt->extra_options : "");
    fprintf(stderr, "claug: OpenCL program build failed (CL_BUILD_PROGRAM_FAILURE)\n  files: %s (from %s)\n"
                    "  options: %s\n  device: %s, driver %s\n--- build log ---\n%s\n-----------------\n",
            files, rt->kernel_dir ? rt->kernel_dir : "embedded sources", opts, rt->dev.name, rt->dev.driver, log);
    exit(EXIT_DEVICE);
}

cl_program clrt_program_try(clrt *rt, const char *files, const char *options, char **log) {
    *log = NULL;
    double t0 = now_seconds();
    /* Sources, in order. */
    char *list = xstrdup(files), *save = NULL;
    const char *texts[16];
    size_t nt = 0;
    for (char *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (nt == 16) die(EXIT_DEVICE, "clrt_program: too many files in '%s'", files);
        texts[nt] = clrt_source(rt, tok);
        if (!texts[nt]) die(EXIT_DEVICE, "no kernel source named %s is embedded", tok);
        nt++;
    }
    free(list);
    /* -cl-std=CL1.2 keeps every kernel within what all vendors' compilers accept. */
    char *opts = xasprintf("-cl-std=CL1.2 %s%s%s", options ? options : "", rt->extra_options ? " " : "",
                           rt->extra_options ? rt->extra_options : "");
    if (program_list) {
        fprintf(program_list, "program\t%s\t%s\n", files, opts);
        cl_int err;
        cl_program prog;
        CL_CHECK((prog = clCreateProgramWithSource(rt->ctx, (cl_uint)nt, texts, NULL, &err), err));
        for (size_t i = 0; i < nt; i++) free((void *)texts[i]);
        free(opts);
        return prog;
    }

    uint64_t h = FNV64_INIT;
    for (size_t i = 0; i < nt; i++) h = fnv64(h, texts[i], strlen(texts[i]) + 1);
    char *key = xasprintf("claug program v1\n%s\n%s\n%s\n%s\n%s\n%s\nsources %016llx", rt->dev.platform_version,
                          rt->dev.name, rt->dev.vendor, rt->dev.driver, files, opts, (unsigned long long)h);
    char *path = NULL;
    if (rt->cache_dir)
        path = xasprintf("%s/%016llx.bin", rt->cache_dir, (unsigned long long)fnv64(FNV64_INIT, key, strlen(key)));

    cl_program prog = NULL;
    cl_int err;
    size_t bin_len = 0;
    unsigned char *bin = path ? cache_load(path, key, &bin_len) : NULL;
    if (bin) {
        cl_int status;
        const unsigned char *b = bin;
        prog = clCreateProgramWithBinary(rt->ctx, 1, &rt->dev.device, &bin_len, &b, &status, &err);
        if (err != CL_SUCCESS || status != CL_SUCCESS || !build(rt, prog, opts)) {
            /* A binary the driver rejects is rebuilt from source, never trusted. */
            if (prog) CL_CHECK(clReleaseProgram(prog));
            prog = NULL;
        }
        free(bin);
    }
    if (prog) {
        rt->cache_hits++;
    } else {
        rt->cache_misses++;
        CL_CHECK((prog = clCreateProgramWithSource(rt->ctx, (cl_uint)nt, texts, NULL, &err), err));
        if (!build(rt, prog, opts)) {
            *log = build_log(rt, prog);
            CL_CHECK(clReleaseProgram(prog));
            for (size_t i = 0; i < nt; i++) free((void *)texts[i]);
            free(opts);
            free(key);
            free(path);
            return NULL;
        }
        if (path) {
            size_t n = 0;
            CL_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof n, &n, NULL));
            if (n > 0) {
                unsigned char *out = xmalloc(n);
                CL_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof out, &out, NULL));
                cache_store(path, key, out, n);
                free(out);
            }
        }
    }
    for (size_t i = 0; i < nt; i++) free((void *)texts[i]);
    remember(rt, prog, files, opts);
    free(opts);
    free(key);
    free(path);
    rt->build_seconds += now_seconds() - t0;
    return prog;
}

cl_kernel clrt_kernel(cl_program prog, const char *name) {
    if (program_list) {
        fprintf(program_list, "kernel\t%s\n", name);
        return NULL;
    }
    cl_int err;
    cl_kernel k;
    k = clCreateKernel(prog, name, &err);
    if (err != CL_SUCCESS) die(EXIT_DEVICE, "clCreateKernel(\"%s\") failed: %s (%d)", name, cl_error_name(err), err);
    return k;
}

/* Creates the named kernels of p into ks, then lets p go. */
static void kernels_of(clrt_kernels *ks, clrt *rt, cl_program p, const char *files, const char *const names[]) {
    memset(ks, 0, sizeof *ks);
    ks->rt = rt;
    for (; names[ks->n]; ks->n++) {
        if (ks->n == CLRT_MAX_KERNELS) die(EXIT_DEVICE, "%s: more than %d kernels", files, CLRT_MAX_KERNELS);
        ks->k[ks->n] = clrt_kernel(p, names[ks->n]);
    }
    CL_CHECK(clReleaseProgram(p));
}

void clrt_kernels_init(clrt_kernels *ks, clrt *rt, const char *files, const char *options, const char *const names[]) {
    kernels_of(ks, rt, clrt_program(rt, files, options), files, names);
}

bool clrt_kernels_try(clrt_kernels *ks, clrt *rt, const char *files, const char *options, const char *const names[],
                      char **log) {
    cl_program p = clrt_program_try(rt, files, options, log);
    if (!p) {
        memset(ks, 0, sizeof *ks);
        return false;
    }
    kernels_of(ks, rt, p, files, names);
    return true;
}

void clrt_kernels_release(clrt_kernels *ks) {
    for (int i = 0; i < ks->n; i++)
        if (ks->k[i]) CL_CHECK(clReleaseKernel(ks->k[i]));
    ks->n = 0;
}

void clrt_kernel_wg(const clrt *rt, cl_kernel k, size_t wg[3]) {
    wg[0] = wg[1] = wg[2] = 0;
    if (k)
        CL_CHECK(clGetKernelWorkGroupInfo(k, rt->dev.device, CL_KERNEL_COMPILE_WORK_GROUP_SIZE, 3 * sizeof *wg, wg,
                                          NULL));
}

int clrt_kernel_report(clrt *rt, clrt_kernel_figures **out) {
    int n = 0;
    *out = NULL;
    for (int i = 0; i < rt->nbuilt; i++) {
        const clrt_built *b = &rt->built[i];
        cl_uint nk = 0;
        CL_CHECK(clCreateKernelsInProgram(b->prog, 0, NULL, &nk));
        cl_kernel *ks = xcalloc(nk ? nk : 1, sizeof *ks);
        CL_CHECK(clCreateKernelsInProgram(b->prog, nk, ks, NULL));
        *out = xrealloc(*out, (size_t)(n + (int)nk + 1) * sizeof **out);
        for (cl_uint j = 0; j < nk; j++) {
            clrt_kernel_figures *f = &(*out)[n++];
            cl_device_id d = rt->dev.device;
            memset(f, 0, sizeof *f);
            CL_CHECK(clGetKernelInfo(ks[j], CL_KERNEL_FUNCTION_NAME, sizeof f->kernel, f->kernel, NULL));
            snprintf(f->program, sizeof f->program, "%s %s", b->files, b->options);
            CL_CHECK(clGetKernelWorkGroupInfo(ks[j], d, CL_KERNEL_PRIVATE_MEM_SIZE, sizeof f->private_mem,
                                              &f->private_mem, NULL));
            CL_CHECK(clGetKernelWorkGroupInfo(ks[j], d, CL_KERNEL_LOCAL_MEM_SIZE, sizeof f->local_mem, &f->local_mem,
                                              NULL));
            CL_CHECK(clGetKernelWorkGroupInfo(ks[j], d, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                              sizeof f->wg_multiple, &f->wg_multiple, NULL));
            CL_CHECK(clGetKernelWorkGroupInfo(ks[j], d, CL_KERNEL_WORK_GROUP_SIZE, sizeof f->wg_max, &f->wg_max,
                                              NULL));
            CL_CHECK(clReleaseKernel(ks[j]));
        }
        free(ks);
    }
    return n;
}

void clrt_print_kernel_report(FILE *f, clrt *rt) {
    clrt_kernel_figures *k;
    int n = clrt_kernel_report(rt, &k);
    fprintf(f, "\nKernels as the driver built them (compare with tools/portability.sh):\n");
    fprintf(f, "  %-20s %12s %10s %9s %8s  %s\n", "kernel", "private B", "local B", "wg mult", "wg max", "program");
    for (int i = 0; i < n; i++)
        fprintf(f, "  %-20s %12llu %10llu %9zu %8zu  %s\n", k[i].kernel, (unsigned long long)k[i].private_mem,
                (unsigned long long)k[i].local_mem, k[i].wg_multiple, k[i].wg_max, k[i].program);
    free(k);
}

/* ---- buffers and launches -------------------------------------------------------------------- */

cl_mem clrt_alloc(clrt *rt, size_t bytes) {
    cl_int err;
    cl_mem m;
    CL_CHECK((m = clCreateBuffer(rt->ctx, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err), err));
    return m;
}

size_t clrt_align_floats(const clrt *rt) {
    size_t a = rt->dev.mem_align_bits / 8 / sizeof(float);
    return a ? a : 1;
}

cl_mem clrt_sub(cl_mem parent, size_t offset, size_t bytes) {
    cl_int err;
    cl_mem m;
    cl_buffer_region r = {offset, bytes};
    CL_CHECK((m = clCreateSubBuffer(parent, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r, &err), err));
    return m;
}

void clrt_write(clrt *rt, cl_mem buf, size_t offset, size_t bytes, const void *src) {
    CL_CHECK(clEnqueueWriteBuffer(rt->queue, buf, CL_TRUE, offset, bytes, src, 0, NULL, NULL));
}

void clrt_read(clrt *rt, cl_mem buf, size_t offset, size_t bytes, void *dst) {
    CL_CHECK(clEnqueueReadBuffer(rt->queue, buf, CL_TRUE, offset, bytes, dst, 0, NULL, NULL));
}

void clrt_fill_zero(clrt *rt, cl_mem buf, size_t offset, size_t bytes) {
    const cl_float zero = 0;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, buf, &zero, sizeof zero, offset, bytes, 0, NULL, NULL));
}

void clrt_finish(clrt *rt) { CL_CHECK(clFinish(rt->queue)); }

void clrt_set_args(cl_kernel k, const clrt_arg *args, size_t n) {
    for (size_t i = 0; i < n; i++) {
        cl_int err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].ptr);
        if (err != CL_SUCCESS) {
            char name[128] = "?";
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
            die(EXIT_DEVICE, "clSetKernelArg(%s, %zu) failed: %s (%d)", name, i, cl_error_name(err), err);
        }
    }
}

/* ---- profiling ---------------------------------------------------------------------------------- */

struct clrt_prof {
    size_t n, cap;
    struct {
        cl_event from; /* NULL: the span of `ev` itself; else from the end of `from` to the end of `ev` */
        cl_event ev;
        const char *tag;
    } *ev;
};

void clrt_launch(clrt *rt, cl_kernel k, cl_uint dims, const size_t *gws, const size_t *lws, const char *tag) {
    size_t g[3];
    for (cl_uint i = 0; i < dims; i++) g[i] = lws ? (gws[i] + lws[i] - 1) / lws[i] * lws[i] : gws[i];
    cl_event ev = NULL;
    cl_int err = clEnqueueNDRangeKernel(rt->queue, k, dims, NULL, g, lws, 0, NULL, rt->prof ? &ev : NULL);
    if (err != CL_SUCCESS) {
        char name[128] = "?";
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        die(EXIT_DEVICE, "clEnqueueNDRangeKernel(%s, global %zu x %zu x %zu, local %zu x %zu x %zu) failed: %s (%d)",
            name, g[0], dims > 1 ? g[1] : 1, dims > 2 ? g[2] : 1, lws ? lws[0] : 0, lws && dims > 1 ? lws[1] : 0,
            lws && dims > 2 ? lws[2] : 0, cl_error_name(err), err);
    }
    if (ev) clrt_profile_event(rt, ev, tag);
}

void clrt_profile_begin(clrt *rt) {
    if (!rt->prof) rt->prof = xcalloc(1, sizeof *rt->prof);
}

void clrt_profile_span(clrt *rt, cl_event from, cl_event ev, const char *tag) {
    if (!rt->prof) {
        if (from) CL_CHECK(clReleaseEvent(from));
        CL_CHECK(clReleaseEvent(ev));
        return;
    }
    clrt_prof *p = rt->prof;
    if (p->n == p->cap) p->ev = xrealloc(p->ev, (p->cap = p->cap ? 2 * p->cap : 1024) * sizeof *p->ev);
    p->ev[p->n].from = from;
    p->ev[p->n].ev = ev;
    p->ev[p->n].tag = tag;
    p->n++;
}

void clrt_profile_event(clrt *rt, cl_event ev, const char *tag) { clrt_profile_span(rt, NULL, ev, tag); }

cl_event clrt_marker(clrt *rt) {
    cl_event ev;
    CL_CHECK(clEnqueueMarkerWithWaitList(rt->queue, 0, NULL, &ev));
    return ev;
}

double clrt_event_seconds(cl_event ev) {
    cl_ulong t0, t1;
    CL_CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL));
    CL_CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL));
    return t1 > t0 ? 1e-9 * (double)(t1 - t0) : 0.0;
}

int clrt_profile_end(clrt *rt, clrt_prof_entry **out) {
    clrt_prof *p = rt->prof;
    *out = NULL;
    if (!p) return 0;
    clrt_finish(rt);
    clrt_prof_entry *e = NULL;
    int n = 0;
    for (size_t i = 0; i < p->n; i++) {
        int j = 0;
        while (j < n && strcmp(e[j].tag, p->ev[i].tag) != 0) j++;
        if (j == n) {
            e = xrealloc(e, (size_t)(n + 1) * sizeof *e);
            e[n++] = (clrt_prof_entry){p->ev[i].tag, 0.0, 0};
        }
        if (p->ev[i].from) {
            cl_ulong t0, t1;
            CL_CHECK(clGetEventProfilingInfo(p->ev[i].from, CL_PROFILING_COMMAND_END, sizeof t0, &t0, NULL));
            CL_CHECK(clGetEventProfilingInfo(p->ev[i].ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL));
            e[j].seconds += t1 > t0 ? 1e-9 * (double)(t1 - t0) : 0.0;
            CL_CHECK(clReleaseEvent(p->ev[i].from));
        } else {
            e[j].seconds += clrt_event_seconds(p->ev[i].ev);
        }
        e[j].count++;
        CL_CHECK(clReleaseEvent(p->ev[i].ev));
    }
    free(p->ev);
    free(p);
    rt->prof = NULL;
    *out = e;
    return n;
}
