#include "devbuf.h"

cl_mem upload(clrt *rt, const void *src, size_t bytes) {
    cl_mem m = clrt_alloc(rt, bytes);
    clrt_write(rt, m, 0, bytes, src);
    return m;
}

void release(cl_mem m) { CL_CHECK(clReleaseMemObject(m)); }
