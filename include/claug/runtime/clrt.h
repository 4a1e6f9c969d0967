/* OpenCL runtime: platforms and devices (list, select), context and queue, programs (embedded
 * or from --kernels, built with the build log on failure, cached as binaries per device and
 * driver), buffers, launches, profiling events, error names. */
#ifndef CLAUG_CLRT_H
#define CLAUG_CLRT_H

#include <CL/cl.h>
#include <stdbool.h>
#include <stdio.h>

#include "claug/util/util.h"

/* Reports file:line, the call's text and the error name, then exits with EXIT_DEVICE.
 * For calls that return an object and an error through a pointer, use a comma expression:
 *   CL_CHECK((buf = clCreateBuffer(ctx, flags, n, NULL, &err), err)); */
#define CL_CHECK(call)                                                      \
    do {                                                                    \
        cl_int clrt_err_ = (call);                                          \
        if (clrt_err_ != CL_SUCCESS) clrt_fail(__FILE__, __LINE__, #call, clrt_err_); \
    } while (0)

/* The same for CLBlast calls (CLBlastStatusCode). */
#define CLBLAST_CHECK(call)                                                 \
    do {                                                                    \
        int clrt_st_ = (int)(call);                                         \
        if (clrt_st_ != 0) clrt_fail_clblast(__FILE__, __LINE__, #call, clrt_st_); \
    } while (0)

CLAUG_NORETURN void clrt_fail_clblast(const char *file, int line, const char *call, int status);
const char *clblast_status_name(int status);
CLAUG_NORETURN void clrt_fail(const char *file, int line, const char *call, cl_int err);
/* "CL_OUT_OF_RESOURCES" for -5; "CL_UNKNOWN_ERROR" for codes it does not know. */
const char *cl_error_name(cl_int err);

typedef struct {
    int platform_index, device_index; /* the P:D of `claug devices` */
    cl_platform_id platform;
    cl_device_id device;
    char platform_name[256], platform_vendor[256], platform_version[256];
    char name[256], vendor[256], driver[256], version[256], c_version[256];
    cl_device_type type;
    cl_uint compute_units, clock_mhz, mem_align_bits;
    cl_uint vector_width_float; /* CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT */
    cl_ulong global_mem, local_mem, max_alloc;
    size_t max_wg;
} clrt_devinfo;

/* All devices of all platforms, in P:D order. Returns the count (0 when there is no platform);
 * *out is freed by the caller. */
int clrt_list(clrt_devinfo **out);
/* Index into `devs` of the device `spec` selects ("P:D", "cpu", "gpu", or a case-insensitive
 * substring of the device, platform or vendor name), or -1. A NULL or empty spec selects the
 * first GPU, else the first device. */
int clrt_match(const clrt_devinfo *devs, int n, const char *spec);
const char *clrt_type_name(cl_device_type t);
void clrt_print_devices(FILE *f, const clrt_devinfo *devs, int n);
/* One line: "0:0 pthread-haswell-AMD EPYC (CPU, AuthenticAMD, driver 3.1, OpenCL C 1.2, 2 CUs)". */
void clrt_describe(char *buf, size_t len, const clrt_devinfo *d);

typedef struct clrt_prof clrt_prof;
typedef struct clrt_built clrt_built;

typedef struct {
    clrt_devinfo dev;
    cl_context ctx;
    cl_command_queue queue; /* in order, profiling enabled */
    char *kernel_dir;       /* NULL: the sources embedded at build time */
    char *cache_dir;        /* NULL: no program cache */
    const char *extra_options; /* NULL, or appended to every program's build options
                                  (clrt_cold_begin: a -D that no driver's own cache has seen) */
    bool is_gpu;
    size_t wg_1d; /* work-group size for simple 1-D kernels: 256 on GPUs, 64 on CPUs */
    /* Build statistics, for `bench` and the cache tests. */
    double build_seconds;
    int cache_hits, cache_misses;
    clrt_prof *prof; /* non-NULL while per-kernel profiling is on */
    clrt_built *built; /* every program built, each (files, options) once: clrt_kernel_report */
    int nbuilt;
} clrt;

/* Opens the device `spec` selects (NULL: $CLAUG_DEVICE, else the default). A spec that matches
 * nothing exits EXIT_USAGE listing the devices; no platform at all exits EXIT_DEVICE saying
 * how to install PoCL. kernel_dir NULL: $CLAUG_KERNELS, else the embedded sources. */
clrt *clrt_open(const char *spec, const char *kernel_dir);
void clrt_close(clrt *rt);

/* Builds (or loads from the cache) one program from a space-separated list of files of cl/,
 * concatenated in order, e.g. "philox.h dropout.cl". A failed build prints the files, the
 * options and the log, and exits EXIT_DEVICE. */
cl_program clrt_program(clrt *rt, const char *files, const char *options);
/* The same for options that may not compile (a tuning on trial): a failed build returns NULL
 * with the build log in *log (malloc'd), else *log is NULL. */
cl_program clrt_program_try(clrt *rt, const char *files, const char *options, char **log);
cl_kernel clrt_kernel(cl_program prog, const char *name);

/* The kernels of one module (an op, the batch gather): one program, built as clrt_program builds
 * it, and the kernels it names, created in order; the program goes at once (its kernels hold
 * it). In listing mode every kernel is NULL. */
enum { CLRT_MAX_KERNELS = 8 };
typedef struct {
    clrt *rt;
    int n;
    cl_kernel k[CLRT_MAX_KERNELS]; /* k[i] is names[i] */
} clrt_kernels;
/* names: NULL-terminated, at most CLRT_MAX_KERNELS; a name may repeat, for a second kernel
 * object of one function (each keeps its own arguments). */
void clrt_kernels_init(clrt_kernels *ks, clrt *rt, const char *files, const char *options, const char *const names[]);
/* The same for options that may not compile (clrt_program_try): false, nothing held and the
 * build log in *log (malloc'd) when they do not. */
bool clrt_kernels_try(clrt_kernels *ks, clrt *rt, const char *files, const char *options, const char *const names[],
                      char **log);
/* Releases every kernel; a zeroed or already released ks is left as it is. */
void clrt_kernels_release(clrt_kernels *ks);
/* The work-group size a kernel fixes with reqd_work_group_size, so the host launches exactly
 * what the kernel was compiled for; {0, 0, 0} when it fixes none or in listing mode (k NULL). */
void clrt_kernel_wg(const clrt *rt, cl_kernel k, size_t wg[3]);
/* The text of one kernel source file (embedded, or read from kernel_dir); NULL if unknown. */
char *clrt_source(const clrt *rt, const char *file);

/* Listing mode, for the portability check (tools/portability.sh, through tools/port_programs.c),
 * for the rest of the process: clrt_program compiles nothing, writes "program<TAB>files<TAB>options"
 * (the options exactly as the compiler would get them) to f and returns an unbuilt program;
 * clrt_kernel writes "kernel<TAB>name" and returns NULL. The check then compiles what claug's own
 * initialisation code asked for, with the compilers of other vendors' stacks. */
void clrt_list_programs(FILE *f);

/* What the driver reports for one kernel on the device: the figures the portability check
 * predicts from the compilers (registers and spills show as private memory). */
typedef struct {
    char kernel[64];
    char program[512]; /* files and options */
    cl_ulong private_mem, local_mem;
    size_t wg_multiple, wg_max; /* CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, CL_KERNEL_WORK_GROUP_SIZE */
} clrt_kernel_figures;
/* The figures of every kernel of every program rt has built so far, in build order. Returns the
 * count; the caller frees *out. */
int clrt_kernel_report(clrt *rt, clrt_kernel_figures **out);
/* The same as a table, one line per kernel. */
void clrt_print_kernel_report(FILE *f, clrt *rt);

cl_mem clrt_alloc(clrt *rt, size_t bytes);
/* Sub-buffer of `parent` at a byte offset that respects the device's base address alignment
 * (see clrt_align). */
cl_mem clrt_sub(cl_mem parent, size_t offset, size_t bytes);
/* The device's sub-buffer alignment, in floats. */
size_t clrt_align_floats(const clrt *rt);
void clrt_write(clrt *rt, cl_mem buf, size_t offset, size_t bytes, const void *src);
void clrt_read(clrt *rt, cl_mem buf, size_t offset, size_t bytes, void *dst);
void clrt_fill_zero(clrt *rt, cl_mem buf, size_t offset, size_t bytes);
void clrt_finish(clrt *rt);

/* Kernel arguments: KARGS(kernel, ARG_MEM(buf), ARG_INT(n), ARG_FLOAT(x), ARG_LOCAL(bytes)). */
typedef struct {
    size_t size;
    const void *ptr;
} clrt_arg;
#define ARG_MEM(m) ((clrt_arg){sizeof(cl_mem), &(cl_mem){(m)}})
#define ARG_INT(v) ((clrt_arg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})
#define ARG_UINT(v) ((clrt_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define ARG_FLOAT(v) ((clrt_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})
#define ARG_LOCAL(bytes) ((clrt_arg){(bytes), NULL})
#define KARGS(k, ...) \
    clrt_set_args((k), (const clrt_arg[]){__VA_ARGS__}, sizeof((clrt_arg[]){__VA_ARGS__}) / sizeof(clrt_arg))
void clrt_set_args(cl_kernel k, const clrt_arg *args, size_t n);

/* Enqueues an NDRange kernel; the global size is rounded up to the local size (kernels guard
 * their index). lws NULL lets the driver choose. `tag` names the work in the profile. */
void clrt_launch(clrt *rt, cl_kernel k, cl_uint dims, const size_t *gws, const size_t *lws, const char *tag);
/* Per-kernel profiling from OpenCL events: on, then collect after the queue is finished. */
void clrt_profile_begin(clrt *rt);
/* Takes over an event of work enqueued elsewhere (CLBlast) for the profile; releases it when
 * profiling is off. */
void clrt_profile_event(clrt *rt, cl_event ev, const char *tag);
/* The same for work of several commands, of which only the last one's event is known (CLBlast
 * returns one event per call, its last kernel's): counted from the end of `from` (a marker
 * enqueued just before) to the end of `ev`. */
void clrt_profile_span(clrt *rt, cl_event from, cl_event ev, const char *tag);
/* A marker in the queue, with its event. */
cl_event clrt_marker(clrt *rt);
typedef struct {
    const char *tag;
    double seconds;
    long count;
} clrt_prof_entry;
/* Finishes the queue, sums every recorded event by tag; returns the entries (ordered by first
 * appearance) and stops profiling. The caller frees the array. */
int clrt_profile_end(clrt *rt, clrt_prof_entry **out);
/* Seconds between an event's start and end. */
double clrt_event_seconds(cl_event ev);

#endif
