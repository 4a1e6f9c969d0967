/* Device buffers for the kernel tests. */
#ifndef CLAUG_DEVBUF_H
#define CLAUG_DEVBUF_H

#include "claug/runtime/clrt.h"

/* A new buffer holding a copy of `bytes` bytes of src (blocking). */
cl_mem upload(clrt *rt, const void *src, size_t bytes);
void release(cl_mem m);

#endif
