/* The OpenCL sources of cl/, embedded at build time by tools/embed_kernels.cmake. */
#ifndef CLAUG_KERNELS_H
#define CLAUG_KERNELS_H

typedef struct {
    const char *name; /* file name in cl/, e.g. "conv.cl" */
    const char *text;
} claug_kernel_source;

/* Terminated by an entry whose name is NULL. */
extern const claug_kernel_source claug_kernel_sources[];

#endif
